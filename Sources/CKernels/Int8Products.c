// Approximate similarities of many rows against many others in int8, for the
// map's neighbour search: AVX-512 VNNI multiplies 64 byte pairs per
// instruction where float32 FMAs multiply 16, so scoring a list's candidates
// costs about a third of the float32 GEMM. The scores only choose which
// candidates to score again exactly; nothing here is a final similarity.
//
// VNNI multiplies unsigned by signed bytes: the candidates are stored as
// their int8 values plus 128 (unsigned), and 128 × the query's byte sum is
// taken off afterwards. Candidates are packed 16 to a 64-byte step (4 bytes
// of each), the layout whose one load feeds 16 lanes; queries stay row-major
// and 4 of their bytes are broadcast per step.
#include "CKernels.h"
#include <math.h>
#include <stdatomic.h>
#include <string.h>

/// Rounds row `row` (d values) to int8 at `scale` = its largest magnitude / 127.
static float quantize_row(const float *row, size_t d, int8_t *out) {
    float largest = 0;
    for (size_t j = 0; j < d; j++) largest = fmaxf(largest, fabsf(row[j]));
    float scale = largest > 0 ? largest / 127.0f : 1.0f;
    float inverse = 1.0f / scale;
    for (size_t j = 0; j < d; j++) {
        float v = nearbyintf(row[j] * inverse);
        out[j] = (int8_t)fmaxf(-127.0f, fminf(127.0f, v));
    }
    return scale;
}

size_t curator_i8_padded_dimension(size_t d) { return (d + 3) / 4 * 4; }

size_t curator_i8_padded_count(size_t count) { return (count + 31) / 32 * 32; }

/// A row quantiser: quantize_row, or its AVX-512 twin where the processor has it.
typedef float (*row_quantizer)(const float *row, size_t d, int8_t *out);

/// Queries row-major with zero padding to a multiple of 4, and each one's
/// 128 × byte sum (what the unsigned candidates add to the VNNI products).
static void quantize_queries(const float *x, size_t count, size_t d, int8_t *out, float *scales, int32_t *offsets,
                             row_quantizer quantize) {
    size_t d4 = curator_i8_padded_dimension(d);
    for (size_t r = 0; r < count; r++) {
        int8_t *q = out + r * d4;
        memset(q + d, 0, d4 - d);
        scales[r] = quantize(x + r * d, d, q);
        int32_t sum = 0;
        for (size_t j = 0; j < d; j++) sum += q[j];
        offsets[r] = 128 * sum;
    }
}

/// Candidates as unsigned bytes (int8 + 128), 16 rows to a 64-byte step, 4
/// bytes of each; the rows past `count` up to the padded count are zero with scale 0.
static void pack_candidates(const float *x, size_t count, size_t d, uint8_t *panels, float *scales,
                            row_quantizer quantize) {
    size_t d4 = curator_i8_padded_dimension(d), padded = curator_i8_padded_count(count), steps = d4 / 4;
    int8_t row[d4];
    for (size_t r = 0; r < padded; r++) {
        memset(row, 0, d4);
        scales[r] = r < count ? quantize(x + r * d, d, row) : 0;
        uint8_t *panel = panels + (r / 16) * steps * 64 + (r % 16) * 4;
        // Each 4 bytes, shifted to unsigned (x + 128 is x ^ 0x80 on a byte), go to their step's slot of this row's lane.
        for (size_t t = 0; t < steps; t++) {
            uint32_t four;
            memcpy(&four, row + 4 * t, 4);
            four ^= 0x80808080u;
            memcpy(panel + t * 64, &four, 4);
        }
    }
}

static void products_portable(const int8_t *queries, const float *qscales, const int32_t *qoffsets, size_t m, size_t d,
                              const uint8_t *panels, const float *cscales, size_t n, float *out, size_t ldo) {
    size_t d4 = curator_i8_padded_dimension(d), steps = d4 / 4;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            const uint8_t *panel = panels + (j / 16) * steps * 64 + (j % 16) * 4;
            int32_t sum = 0;
            for (size_t t = 0; t < steps; t++)
                for (int b = 0; b < 4; b++) sum += (int32_t)panel[t * 64 + b] * (int32_t)queries[i * d4 + 4 * t + b];
            out[i * ldo + j] = qscales[i] * cscales[j] * (float)(sum - qoffsets[i]);
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

/// `rows` (at most 8) queries against 32 candidates (two panels of 16):
/// 16 accumulators stay in registers through the whole dimension.
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline))
static inline void block_vnni(int rows, const int8_t *q, size_t d4, const uint8_t *b0, const uint8_t *b1, size_t steps,
                              const float *qscales, const int32_t *qoffsets, const float *cscales, float *out, size_t ldo) {
    __m512i acc0[8], acc1[8];
    for (int r = 0; r < rows; r++) { acc0[r] = _mm512_setzero_si512(); acc1[r] = _mm512_setzero_si512(); }
    for (size_t t = 0; t < steps; t++) {
        __m512i v0 = _mm512_load_si512((const void *)(b0 + 64 * t)), v1 = _mm512_load_si512((const void *)(b1 + 64 * t));
        for (int r = 0; r < rows; r++) {
            int32_t four;
            memcpy(&four, q + r * d4 + 4 * t, 4);
            __m512i a = _mm512_set1_epi32(four);
            acc0[r] = _mm512_dpbusd_epi32(acc0[r], v0, a);
            acc1[r] = _mm512_dpbusd_epi32(acc1[r], v1, a);
        }
    }
    __m512 s0 = _mm512_loadu_ps(cscales), s1 = _mm512_loadu_ps(cscales + 16);
    for (int r = 0; r < rows; r++) {
        __m512i offset = _mm512_set1_epi32(qoffsets[r]);
        __m512 scale = _mm512_set1_ps(qscales[r]);
        __m512 f0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc0[r], offset));
        __m512 f1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc1[r], offset));
        _mm512_storeu_ps(out + r * ldo, _mm512_mul_ps(f0, _mm512_mul_ps(scale, s0)));
        _mm512_storeu_ps(out + r * ldo + 16, _mm512_mul_ps(f1, _mm512_mul_ps(scale, s1)));
    }
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void products_vnni(const int8_t *queries, const float *qscales, const int32_t *qoffsets, size_t m, size_t d,
                          const uint8_t *panels, const float *cscales, size_t n, float *out, size_t ldo) {
    size_t d4 = curator_i8_padded_dimension(d), steps = d4 / 4;
    // A pair of panels (32 candidates, 16 KB at 512 dimensions) stays in L1
    // while every query passes over it.
    for (size_t j = 0; j < n; j += 32) {
        const uint8_t *b0 = panels + (j / 16) * steps * 64, *b1 = b0 + steps * 64;
        size_t i = 0;
        for (; i + 8 <= m; i += 8)
            block_vnni(8, queries + i * d4, d4, b0, b1, steps, qscales + i, qoffsets + i, cscales + j, out + i * ldo + j, ldo);
        const int8_t *q = queries + i * d4;
        const float *qs = qscales + i;
        const int32_t *qo = qoffsets + i;
        float *o = out + i * ldo + j;
        // Each count its own unrolled copy, with its accumulators in registers.
        switch (m - i) {
        case 7: block_vnni(7, q, d4, b0, b1, steps, qs, qo, cscales + j, o, ldo); break;
        case 6: block_vnni(6, q, d4, b0, b1, steps, qs, qo, cscales + j, o, ldo); break;
        case 5: block_vnni(5, q, d4, b0, b1, steps, qs, qo, cscales + j, o, ldo); break;
        case 4: block_vnni(4, q, d4, b0, b1, steps, qs, qo, cscales + j, o, ldo); break;
        case 3: block_vnni(3, q, d4, b0, b1, steps, qs, qo, cscales + j, o, ldo); break;
        case 2: block_vnni(2, q, d4, b0, b1, steps, qs, qo, cscales + j, o, ldo); break;
        case 1: block_vnni(1, q, d4, b0, b1, steps, qs, qo, cscales + j, o, ldo); break;
        default: break;
        }
    }
}

int curator_i8_has_vnni(void) {
    // Worker threads ask at once: the cached answer is atomic.
    static atomic_int vnni = -1;
    int supported = atomic_load_explicit(&vnni, memory_order_relaxed);
    if (supported < 0) {
        supported = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") ? 1 : 0;
        atomic_store_explicit(&vnni, supported, memory_order_relaxed);
    }
    return supported;
}

/// quantize_row with AVX-512: the same bytes (round to nearest even, as
/// nearbyintf in the default mode), 16 values per step.
__attribute__((target("avx512f,avx512bw")))
static float quantize_row_avx512(const float *row, size_t d, int8_t *out) {
    __m512 widest = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= d; j += 16) widest = _mm512_max_ps(widest, _mm512_abs_ps(_mm512_loadu_ps(row + j)));
    float largest = _mm512_reduce_max_ps(widest);
    for (; j < d; j++) largest = fmaxf(largest, fabsf(row[j]));
    float scale = largest > 0 ? largest / 127.0f : 1.0f;
    float inverse = 1.0f / scale;
    const __m512 inverses = _mm512_set1_ps(inverse), high = _mm512_set1_ps(127.0f), low = _mm512_set1_ps(-127.0f);
    for (j = 0; j + 16 <= d; j += 16) {
        __m512 v = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(row + j), inverses),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v = _mm512_max_ps(_mm512_min_ps(v, high), low);
        _mm_storeu_si128((__m128i *)(out + j), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)));
    }
    for (; j < d; j++) out[j] = (int8_t)fmaxf(-127.0f, fminf(127.0f, nearbyintf(row[j] * inverse)));
    return scale;
}

void curator_i8_quantize_queries(const float *x, size_t count, size_t d, int8_t *out, float *scales, int32_t *offsets) {
    quantize_queries(x, count, d, out, scales, offsets, curator_i8_has_vnni() ? quantize_row_avx512 : quantize_row);
}

void curator_i8_pack_candidates(const float *x, size_t count, size_t d, uint8_t *panels, float *scales) {
    pack_candidates(x, count, d, panels, scales, curator_i8_has_vnni() ? quantize_row_avx512 : quantize_row);
}

void curator_i8_products(const int8_t *queries, const float *qscales, const int32_t *qoffsets, size_t m, size_t d,
                         const uint8_t *panels, const float *cscales, size_t n, float *out, size_t ldo) {
    if (curator_i8_has_vnni()) products_vnni(queries, qscales, qoffsets, m, d, panels, cscales, n, out, ldo);
    else products_portable(queries, qscales, qoffsets, m, d, panels, cscales, n, out, ldo);
}
#else
int curator_i8_has_vnni(void) { return 0; }

void curator_i8_quantize_queries(const float *x, size_t count, size_t d, int8_t *out, float *scales, int32_t *offsets) {
    quantize_queries(x, count, d, out, scales, offsets, quantize_row);
}

void curator_i8_pack_candidates(const float *x, size_t count, size_t d, uint8_t *panels, float *scales) {
    pack_candidates(x, count, d, panels, scales, quantize_row);
}

void curator_i8_products(const int8_t *queries, const float *qscales, const int32_t *qoffsets, size_t m, size_t d,
                         const uint8_t *panels, const float *cscales, size_t n, float *out, size_t ldo) {
    products_portable(queries, qscales, qoffsets, m, d, panels, cscales, n, out, ldo);
}
#endif

void curator_i8_products_portable(const int8_t *queries, const float *qscales, const int32_t *qoffsets, size_t m, size_t d,
                                  const uint8_t *panels, const float *cscales, size_t n, float *out, size_t ldo) {
    products_portable(queries, qscales, qoffsets, m, d, panels, cscales, n, out, ldo);
}
