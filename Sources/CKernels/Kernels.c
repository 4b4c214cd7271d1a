// The few loops Swift cannot vectorise well without target flags: an int8
// scan wants AVX2's byte multiplies, which the x86-64 baseline Swift builds
// for does not have. Each kernel has a portable body and, on x86-64, an AVX2
// one chosen once at run time.
#include "CKernels.h"
#include <math.h>

void curator_quantize_rows_i8(const float *x, size_t first, size_t last, size_t d,
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
        double lost = 0, kept = 0;
        int8_t *q = out + r * d;
        for (size_t j = 0; j < d; j++) {
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

void curator_scores_i8(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                       const int8_t *query, float *out) {
    static int avx2 = -1;
    if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2");
    if (avx2) scores_i8_avx2(q, scales, first, last, d, query, out);
    else scores_i8_portable(q, scales, first, last, d, query, out);
}
#else
void curator_scores_i8(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                       const int8_t *query, float *out) {
    scores_i8_portable(q, scales, first, last, d, query, out);
}
#endif
