// The covariance of a sample for K-Means' principal axes in bfloat16: XᵀX
// over s rows of d values, from one packed copy of the centred sample.
// VDPBF16PS does 32 multiply-adds per instruction where a float32 FMA does
// 16 (see BFloat16GEMM.c); the axes only rank centroids, and rounding each
// centred value to 8 significant bits moves the covariance far less than
// drawing another 4,096 rows would.
//
// Packed layout: features go 32 to a panel (padded with zeros); a panel
// holds, for each pair p of rows (2p, 2p + 1; an odd count is padded with a
// zero row), the 32 features' two values side by side: 64 values, two
// 16-lane vectors. That is BFloat16GEMM.c's weight panel with the rows of
// the sample as its depth, so one panel serves as both operands: a
// broadcast pair of feature i against the vectors of features j.
#include "CKernels.h"
#include <string.h>

#define PANEL 32
/// Features of panel I per register tile (8 × 2 accumulators).
#define TILE 8

size_t curator_bf16_gram_pairs(size_t s) { return (s + 1) / 2; }

size_t curator_bf16_gram_packed_values(size_t s, size_t d) {
    return (d + PANEL - 1) / PANEL * curator_bf16_gram_pairs(s) * 2 * PANEL;
}

/// Rows 2p and 2p + 1 (`second` NULL: a zero row), centred and rounded, into pair p of every panel.
static void pack_pair_portable(const float *first, const float *second, size_t d, const float *mean, size_t p,
                               size_t pairs, uint16_t *packed) {
    size_t panels = (d + PANEL - 1) / PANEL;
    for (size_t panel = 0; panel < panels; panel++) {
        uint16_t *out = packed + (panel * pairs + p) * 2 * PANEL;
        for (size_t f = 0; f < PANEL; f++) {
            size_t j = panel * PANEL + f;
            out[2 * f] = j < d ? curator_bf16_round(first[j] - mean[j]) : 0;
            out[2 * f + 1] = j < d && second ? curator_bf16_round(second[j] - mean[j]) : 0;
        }
    }
}

typedef void (*PackPair)(const float *, const float *, size_t, const float *, size_t, size_t, uint16_t *);

static void pack(const float *x, size_t count, size_t d, size_t ldx, const float *mean, size_t first, size_t s,
                 uint16_t *packed, PackPair pair) {
    size_t pairs = curator_bf16_gram_pairs(s), r = 0;
    // `first` is even: rows go in pairs, and an odd count's last row pairs with a zero row.
    for (; r < count; r += 2) {
        size_t row = first + r;
        const float *second = r + 1 < count ? x + (r + 1) * ldx : NULL;
        pair(x + r * ldx, second, d, mean, row / 2, pairs, packed);
    }
}

static void block_portable(const uint16_t *packed, size_t s, size_t d, size_t bi, size_t bj, float alpha, float *c,
                           size_t ldc) {
    size_t pairs = curator_bf16_gram_pairs(s);
    const uint16_t *a = packed + bi * pairs * 2 * PANEL, *b = packed + bj * pairs * 2 * PANEL;
    for (size_t i = 0; i < PANEL && bi * PANEL + i < d; i++)
        for (size_t j = 0; j < PANEL && bj * PANEL + j < d; j++) {
            float sum = 0;
            for (size_t p = 0; p < pairs; p++) {
                const uint16_t *u = a + p * 2 * PANEL + 2 * i, *v = b + p * 2 * PANEL + 2 * j;
                sum += curator_bf16_widen(u[1]) * curator_bf16_widen(v[1]);
                sum += curator_bf16_widen(u[0]) * curator_bf16_widen(v[0]);
            }
            c[i * ldc + j] = alpha * sum;
        }
}

void curator_bf16_gram_block_portable(const uint16_t *packed, size_t s, size_t d, size_t bi, size_t bj, float alpha,
                                      float *c, size_t ldc) {
    block_portable(packed, s, d, bi, bj, alpha, c, ldc);
}

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

BF16_TARGET
static void block_avx512(const uint16_t *packed, size_t s, size_t d, size_t bi, size_t bj, float alpha, float *c,
                         size_t ldc) {
    size_t pairs = curator_bf16_gram_pairs(s);
    const uint16_t *a = packed + bi * pairs * 2 * PANEL, *b = packed + bj * pairs * 2 * PANEL;
    size_t rows = d - bi * PANEL < PANEL ? d - bi * PANEL : PANEL;
    size_t cols = d - bj * PANEL < PANEL ? d - bj * PANEL : PANEL;
    __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
    __m512 scale = _mm512_set1_ps(alpha);
    for (size_t i0 = 0; i0 < rows; i0 += TILE) {
        __m512 acc0[TILE], acc1[TILE];
#pragma clang loop unroll(full)
        for (int r = 0; r < TILE; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); }
        for (size_t p = 0; p < pairs; p++) {
            const uint16_t *bp = b + p * 2 * PANEL, *ap = a + p * 2 * PANEL + 2 * i0;
            __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)bp);
            __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(bp + PANEL));
#pragma clang loop unroll(full)
            for (int r = 0; r < TILE; r++) {
                int32_t two;
                memcpy(&two, ap + 2 * r, 4);
                __m512bh x = (__m512bh)_mm512_set1_epi32(two);
                acc0[r] = _mm512_dpbf16_ps(acc0[r], x, b0);
                acc1[r] = _mm512_dpbf16_ps(acc1[r], x, b1);
            }
        }
        for (size_t r = 0; r < TILE && i0 + r < rows; r++) {
            float *out = c + (i0 + r) * ldc;
            _mm512_mask_storeu_ps(out, m0, _mm512_mul_ps(acc0[r], scale));
            _mm512_mask_storeu_ps(out + 16, m1, _mm512_mul_ps(acc1[r], scale));
        }
    }
}

/// `pack_pair_portable` sixteen features at a time: both rows rounded by
/// VCVTNEPS2BF16 and interleaved into one 64-byte line of pairs.
BF16_TARGET
static void pack_pair_avx512(const float *first, const float *second, size_t d, const float *mean, size_t p,
                             size_t pairs, uint16_t *packed) {
    size_t panels = (d + PANEL - 1) / PANEL;
    for (size_t panel = 0; panel < panels; panel++) {
        uint16_t *out = packed + (panel * pairs + p) * 2 * PANEL;
        for (size_t h = 0; h < 2; h++) {
            size_t j = panel * PANEL + h * 16;
            __mmask16 m = j >= d ? 0 : d - j >= 16 ? 0xffff : (__mmask16)((1u << (d - j)) - 1);
            __m512 centre = _mm512_maskz_loadu_ps(m, mean + j);
            __m512 a = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, first + j), centre);
            __m512 b = second ? _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, second + j), centre) : _mm512_setzero_ps();
            __m512i low = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(a));
            __m512i high = _mm512_slli_epi32(_mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(b)), 16);
            _mm512_storeu_si512((void *)(out + 2 * h * 16), _mm512_or_si512(low, high));
        }
    }
}

void curator_bf16_gram_pack(const float *x, size_t count, size_t d, size_t ldx, const float *mean, size_t first,
                            size_t s, uint16_t *packed) {
    pack(x, count, d, ldx, mean, first, s, packed, curator_bf16_supported() ? pack_pair_avx512 : pack_pair_portable);
}

void curator_bf16_gram_block(const uint16_t *packed, size_t s, size_t d, size_t bi, size_t bj, float alpha, float *c,
                             size_t ldc) {
    if (curator_bf16_supported()) block_avx512(packed, s, d, bi, bj, alpha, c, ldc);
    else block_portable(packed, s, d, bi, bj, alpha, c, ldc);
}
#else
void curator_bf16_gram_pack(const float *x, size_t count, size_t d, size_t ldx, const float *mean, size_t first,
                            size_t s, uint16_t *packed) {
    pack(x, count, d, ldx, mean, first, s, packed, pack_pair_portable);
}

void curator_bf16_gram_block(const uint16_t *packed, size_t s, size_t d, size_t bi, size_t bj, float alpha, float *c,
                             size_t ldc) {
    block_portable(packed, s, d, bi, bj, alpha, c, ldc);
}
#endif
