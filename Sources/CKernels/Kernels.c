// The few loops Swift cannot vectorise well without target flags: an int8
// scan wants AVX2's widening loads, which the x86-64 baseline Swift builds
// for does not have. Each kernel has a portable body and, on x86-64, an AVX2
// one chosen once at run time.
#include "CKernels.h"
#include <math.h>

void curator_quantize_rows_i8(const float *x, size_t first, size_t last, size_t d,
                              int8_t *out, float *scales, float *residuals) {
    for (size_t r = first; r < last; r++) {
        const float *row = x + r * d;
        float largest = 0;
        for (size_t j = 0; j < d; j++) {
            float a = fabsf(row[j]);
            if (a > largest) largest = a;
        }
        float scale = largest > 0 ? largest / 127.0f : 1.0f;
        float inverse = 1.0f / scale;
        double lost = 0;
        int8_t *q = out + r * d;
        for (size_t j = 0; j < d; j++) {
            float v = nearbyintf(row[j] * inverse);
            if (v > 127) v = 127;
            if (v < -127) v = -127;
            q[j] = (int8_t)v;
            double e = (double)row[j] - (double)scale * (double)v;
            lost += e * e;
        }
        scales[r] = scale;
        residuals[r] = (float)sqrt(lost);
    }
}

static void scores_i8_portable(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                               const float *query, float *out) {
    for (size_t r = first; r < last; r++) {
        const int8_t *row = q + r * d;
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        size_t j = 0;
        for (; j + 8 <= d; j += 8)
            for (int k = 0; k < 8; k++) acc[k] += query[j + k] * (float)row[j + k];
        float sum = 0;
        for (; j < d; j++) sum += query[j] * (float)row[j];
        for (int k = 0; k < 8; k++) sum += acc[k];
        out[r - first] = scales[r] * sum;
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static void scores_i8_avx2(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                           const float *query, float *out) {
    for (size_t r = first; r < last; r++) {
        const int8_t *row = q + r * d;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        size_t j = 0;
        for (; j + 16 <= d; j += 16) {
            __m128i bytes = _mm_loadu_si128((const __m128i *)(row + j));
            __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
            __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(bytes, 8)));
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(query + j), lo, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(query + j + 8), hi, a1);
        }
        __m256 a = _mm256_add_ps(a0, a1);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        float sum = _mm_cvtss_f32(s);
        for (; j < d; j++) sum += query[j] * (float)row[j];
        out[r - first] = scales[r] * sum;
    }
}

void curator_scores_i8(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                       const float *query, float *out) {
    static int avx2 = -1;
    if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2) scores_i8_avx2(q, scales, first, last, d, query, out);
    else scores_i8_portable(q, scales, first, last, d, query, out);
}
#else
void curator_scores_i8(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                       const float *query, float *out) {
    scores_i8_portable(q, scales, first, last, d, query, out);
}
#endif
