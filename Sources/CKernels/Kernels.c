// The few loops Swift cannot vectorise well without target flags: an int8
// scan wants AVX2's byte multiplies, which the x86-64 baseline Swift builds
// for does not have. Each kernel has a portable body and, on x86-64, an AVX2
// one chosen once at run time.
#include "CKernels.h"
#include <math.h>
#include <stdatomic.h>

/// Quantises row `r`'s values from `j` on (the AVX2 body's tail, or all of
/// them) onto the running sums, then stores its scale, residual and norm.
static inline void quantize_rest(const float *row, size_t j, size_t d, float scale, float inverse, int8_t *q,
                                 double lost, double kept, size_t r, float *scales, float *residuals, float *norms) {
    for (; j < d; j++) {
        float v = nearbyintf(row[j] * inverse);
        if (v > 127) v = 127;
        if (v < -127) v = -127;
        q[j] = (int8_t)v;
        double e = (double)row[j] - (double)scale * (double)v;
        lost += e * e;
        kept += (double)v * (double)v;
    }
    scales[r] = scale;
    residuals[r] = (float)sqrt(lost);
    if (norms) norms[r] = (float)((double)scale * sqrt(kept));
}

static void quantize_rows_i8_portable(const float *x, size_t first, size_t last, size_t d,
                                      int8_t *out, float *scales, float *residuals, float *norms) {
    for (size_t r = first; r < last; r++) {
        const float *row = x + r * d;
        float largest = 0;
        for (size_t j = 0; j < d; j++) {
            float a = fabsf(row[j]);
            if (a > largest) largest = a;
        }
        float scale = largest > 0 ? largest / 127.0f : 1.0f;
        float inverse = 1.0f / scale;
        quantize_rest(row, 0, d, scale, inverse, out + r * d, 0, 0, r, scales, residuals, norms);
    }
}

static void scores_i8_portable(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                               const int8_t *query, float *out) {
    for (size_t r = first; r < last; r++) {
        const int8_t *row = q + r * d;
        int32_t sum = 0;
        for (size_t j = 0; j < d; j++) sum += (int32_t)query[j] * (int32_t)row[j];
        out[r - first] = scales[r] * (float)sum;
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

// 32 products per step in integers: |row| (unsigned) times the query byte
// carrying the row's sign gives the signed product, summed in pairs to int16
// (at most 2·127·127, no saturation) and then to int32.
__attribute__((target("avx2")))
static void scores_i8_avx2(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                           const int8_t *query, float *out) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t r = first; r < last; r++) {
        const int8_t *row = q + r * d;
        __m256i acc = _mm256_setzero_si256();
        size_t j = 0;
        for (; j + 32 <= d; j += 32) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(row + j));
            __m256i b = _mm256_loadu_si256((const __m256i *)(query + j));
            __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(a), _mm256_sign_epi8(b, a));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        }
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
        int32_t sum = _mm_cvtsi128_si32(s);
        for (; j < d; j++) sum += (int32_t)query[j] * (int32_t)row[j];
        out[r - first] = scales[r] * (float)sum;
    }
}

// The portable loop above, eight values per step: the same int8 values and
// scales (rounding to nearest even, as nearbyintf does in the default mode),
// the residual and kept lengths summed in double in another order.
__attribute__((target("avx2")))
static void quantize_rows_i8_avx2(const float *x, size_t first, size_t last, size_t d,
                                  int8_t *out, float *scales, float *residuals, float *norms) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    const __m256 high = _mm256_set1_ps(127.0f), low = _mm256_set1_ps(-127.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (size_t r = first; r < last; r++) {
        const float *row = x + r * d;
        __m256 widest = _mm256_setzero_ps();
        size_t j = 0;
        for (; j + 8 <= d; j += 8) widest = _mm256_max_ps(widest, _mm256_andnot_ps(signBit, _mm256_loadu_ps(row + j)));
        float lanes[8];
        _mm256_storeu_ps(lanes, widest);
        float largest = 0;
        for (int l = 0; l < 8; l++) if (lanes[l] > largest) largest = lanes[l];
        for (; j < d; j++) {
            float a = fabsf(row[j]);
            if (a > largest) largest = a;
        }
        float scale = largest > 0 ? largest / 127.0f : 1.0f;
        float inverse = 1.0f / scale;
        const __m256 inverses = _mm256_set1_ps(inverse);
        const __m256d scales4 = _mm256_set1_pd((double)scale);
        __m256d lost4 = _mm256_setzero_pd(), kept4 = _mm256_setzero_pd();
        int8_t *q = out + r * d;
        j = 0;
        for (; j + 32 <= d; j += 32) {
            __m256i packed[4];
            for (int part = 0; part < 4; part++) {
                __m256 value = _mm256_loadu_ps(row + j + 8 * part);
                __m256 v = _mm256_round_ps(_mm256_mul_ps(value, inverses), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                v = _mm256_max_ps(_mm256_min_ps(v, high), low);
                packed[part] = _mm256_cvtps_epi32(v);
                for (int half = 0; half < 2; half++) {
                    __m256d vd = _mm256_cvtps_pd(half ? _mm256_extractf128_ps(v, 1) : _mm256_castps256_ps128(v));
                    __m256d xd = _mm256_cvtps_pd(half ? _mm256_extractf128_ps(value, 1) : _mm256_castps256_ps128(value));
                    __m256d e = _mm256_sub_pd(xd, _mm256_mul_pd(scales4, vd));
                    lost4 = _mm256_add_pd(lost4, _mm256_mul_pd(e, e));
                    kept4 = _mm256_add_pd(kept4, _mm256_mul_pd(vd, vd));
                }
            }
            __m256i words = _mm256_packs_epi16(_mm256_packs_epi32(packed[0], packed[1]), _mm256_packs_epi32(packed[2], packed[3]));
            _mm256_storeu_si256((__m256i *)(q + j), _mm256_permutevar8x32_epi32(words, order));
        }
        double sums[4], keptSums[4];
        _mm256_storeu_pd(sums, lost4);
        _mm256_storeu_pd(keptSums, kept4);
        double lost = (sums[0] + sums[1]) + (sums[2] + sums[3]);
        double kept = (keptSums[0] + keptSums[1]) + (keptSums[2] + keptSums[3]);
        quantize_rest(row, j, d, scale, inverse, q, lost, kept, r, scales, residuals, norms);
    }
}

void curator_scores_i8(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                       const int8_t *query, float *out) {
    // Worker threads call this at once: the cached answer is atomic so that
    // their first calls do not race (ThreadSanitizer reported the plain int).
    static atomic_int avx2 = -1;
    int supported = atomic_load_explicit(&avx2, memory_order_relaxed);
    if (supported < 0) {
        supported = __builtin_cpu_supports("avx2") ? 1 : 0;
        atomic_store_explicit(&avx2, supported, memory_order_relaxed);
    }
    if (supported) scores_i8_avx2(q, scales, first, last, d, query, out);
    else scores_i8_portable(q, scales, first, last, d, query, out);
}

void curator_quantize_rows_i8(const float *x, size_t first, size_t last, size_t d,
                              int8_t *out, float *scales, float *residuals, float *norms) {
    static int avx2 = -1;
    if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2");
    if (avx2) quantize_rows_i8_avx2(x, first, last, d, out, scales, residuals, norms);
    else quantize_rows_i8_portable(x, first, last, d, out, scales, residuals, norms);
}
#else
void curator_quantize_rows_i8(const float *x, size_t first, size_t last, size_t d,
                              int8_t *out, float *scales, float *residuals, float *norms) {
    quantize_rows_i8_portable(x, first, last, d, out, scales, residuals, norms);
}

void curator_scores_i8(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                       const int8_t *query, float *out) {
    scores_i8_portable(q, scales, first, last, d, query, out);
}
#endif
