// The image towers' linear layers in bfloat16: C += bf16(A) · bf16(W)ᵀ with
// float32 products and sums. AVX512_BF16's VDPBF16PS does 32 multiply-adds
// per instruction where a float32 FMA does 16, and on Zen 4 both issue once a
// cycle, so the GEMM's bound doubles (measured: 232 against 116 GFLOP/s per
// core). Each product of two bfloat16 values is exact in float32; what is
// lost is the rounding of each operand to 8 significant bits, which keeps
// the towers' embeddings within cosine 0.9999 of float32's (see
// CLIPPrecision). The weights are rounded and packed once, at model load;
// the activations are rounded row by row before each product.
//
// Layout of packed weights (W is n × k, out × in, as a Linear layer stores
// it): k is padded with a zero to an even count of pairs; columns (W's rows)
// go 32 to a panel, padded with zero rows; a panel holds, for each pair p,
// the 32 columns' two values (2p, 2p + 1) side by side: 128 bytes, two
// 16-lane vectors whose one VDPBF16PS with a broadcast pair of A feeds 16
// outputs. Rounded activations are row-major, curator_bf16_row_stride(k) apart.
#include "CKernels.h"
#include <stdatomic.h>
#include <string.h>

/// Columns of W per panel, and rows of A per register tile (2 × 12 accumulators).
#define PANEL 32
#define TILE_ROWS 12
/// Pairs of k per pass: a panel's 128 pairs (16 KB) stay in L1 while every tile of rows passes over them.
#define DEPTH_PAIRS 128

size_t curator_bf16_padded_depth(size_t k) { return (k + 1) & ~(size_t)1; }

/// One 64-byte line more than the padded row: rows of 1,024 or 4,096 values
/// would otherwise start at multiples of 4 KB, and the 12 rows a tile reads
/// at once would all fall into the same sets of the 8-way L1 cache.
size_t curator_bf16_row_stride(size_t k) { return curator_bf16_padded_depth(k) + 32; }

size_t curator_bf16_panel_values(size_t k) { return PANEL * curator_bf16_padded_depth(k); }

size_t curator_bf16_packed_values(size_t n, size_t k) { return (n + PANEL - 1) / PANEL * curator_bf16_panel_values(k); }

uint16_t curator_bf16_round(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7fffffff) > 0x7f800000) return (uint16_t)((bits >> 16) | 0x40);  // NaN stays a quiet NaN
    if ((bits & 0x7f800000) == 0) return (uint16_t)((bits >> 16) & 0x8000);      // subnormals become zero, as VCVTNE2PS2BF16 does
    bits += 0x7fff + ((bits >> 16) & 1);                                           // nearest, ties to even
    return (uint16_t)(bits >> 16);
}

float curator_bf16_widen(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

size_t curator_bf16_pack_scratch_values(size_t k) { return PANEL * curator_bf16_row_stride(k); }

void curator_bf16_pack_weights(const float *w, size_t n, size_t k, size_t ldw, uint16_t *packed, uint16_t *rounded) {
    size_t kp = curator_bf16_padded_depth(k), pairs = kp / 2, panels = (n + PANEL - 1) / PANEL;
    size_t stride = curator_bf16_row_stride(k);
    // A panel's rows are rounded as activations are (curator_bf16_round_rows:
    // AVX512_BF16's conversion where there is one, the same values), then
    // each row's pairs, one 32-bit word each, go to their places in the
    // panel: the scalar rounding was most of a ViT-L/14's load.
    for (size_t panel = 0; panel < panels; panel++) {
        uint16_t *out = packed + panel * pairs * 2 * PANEL;
        size_t columns = n - panel * PANEL < PANEL ? n - panel * PANEL : PANEL;
        curator_bf16_round_rows(w + panel * PANEL * ldw, columns, k, ldw, rounded);
        for (size_t p = 0; p < pairs; p++) {
            uint32_t *line = (uint32_t *)(out + p * 2 * PANEL);
            for (size_t c = 0; c < columns; c++) memcpy(line + c, rounded + c * stride + 2 * p, 4);
            for (size_t c = columns; c < PANEL; c++) line[c] = 0;
        }
    }
}

static void round_rows_portable(const float *a, size_t m, size_t k, size_t lda, uint16_t *out) {
    size_t stride = curator_bf16_row_stride(k);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < k; j++) out[i * stride + j] = curator_bf16_round(a[i * lda + j]);
        if (k % 2) out[i * stride + k] = 0;
    }
}

static void gemm_portable(size_t m, size_t n, size_t k, const uint16_t *a, const uint16_t *packed, float *c, size_t ldc) {
    size_t kp = curator_bf16_row_stride(k), pairs = curator_bf16_padded_depth(k) / 2;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            const uint16_t *panel = packed + (j / PANEL) * pairs * 2 * PANEL + (j % PANEL) * 2;
            float sum = 0;
            for (size_t p = 0; p < pairs; p++)
                sum += curator_bf16_widen(a[i * kp + 2 * p]) * curator_bf16_widen(panel[p * 2 * PANEL])
                     + curator_bf16_widen(a[i * kp + 2 * p + 1]) * curator_bf16_widen(panel[p * 2 * PANEL + 1]);
            c[i * ldc + j] += sum;
        }
    }
}

void curator_bf16_gemm_portable(size_t m, size_t n, size_t k, const uint16_t *a, const uint16_t *packed, float *c, size_t ldc) {
    gemm_portable(m, n, k, a, packed, c, ldc);
}

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>

int curator_bf16_supported(void) {
    // Worker threads ask at once: the cached answer is atomic.
    static atomic_int supported = -1;
    int answer = atomic_load_explicit(&supported, memory_order_relaxed);
    if (answer < 0) {
        answer = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") ? 1 : 0;
        atomic_store_explicit(&supported, answer, memory_order_relaxed);
    }
    return answer;
}

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

BF16_TARGET
static void round_rows_avx512(const float *a, size_t m, size_t k, size_t lda, uint16_t *out) {
    size_t kp = curator_bf16_padded_depth(k), stride = curator_bf16_row_stride(k);
    for (size_t i = 0; i < m; i++) {
        const float *row = a + i * lda;
        uint16_t *dst = out + i * stride;
        size_t j = 0;
        for (; j + 32 <= k; j += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + j + 16), _mm512_loadu_ps(row + j));
            _mm512_storeu_si512((void *)(dst + j), (__m512i)v);
        }
        if (j < kp) {
            // The tail and the padding zero: masked loads read nothing past the row.
            size_t left = k - j;
            __mmask16 low = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
            __mmask16 high = left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0;
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high, row + j + 16), _mm512_maskz_loadu_ps(low, row + j));
            _mm512_mask_storeu_epi16(dst + j, (__mmask32)((1ull << (kp - j)) - 1), (__m512i)v);
        }
    }
}

/// `rows` (at most TILE_ROWS) rows of A against one panel over `pairs`
/// pairs of k: 2 × rows accumulators stay in registers, then C += them,
/// masked to the panel's real columns.
BF16_TARGET __attribute__((always_inline))
static inline void tile(int rows, const uint16_t *a, size_t kp, const uint16_t *b, size_t pairs,
                        float *c, size_t ldc, __mmask16 m0, __mmask16 m1) {
    __m512 acc0[TILE_ROWS], acc1[TILE_ROWS];
    // Fully unrolled (rows is a constant in every copy), so the accumulators live in registers.
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); }
    for (size_t p = 0; p < pairs; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(b + p * 2 * PANEL));
        __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + p * 2 * PANEL + PANEL));
#pragma clang loop unroll(full)
        for (int r = 0; r < rows; r++) {
            int32_t two;
            memcpy(&two, a + r * kp + 2 * p, 4);
            __m512bh x = (__m512bh)_mm512_set1_epi32(two);
            acc0[r] = _mm512_dpbf16_ps(acc0[r], x, b0);
            acc1[r] = _mm512_dpbf16_ps(acc1[r], x, b1);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++) {
        float *out = c + r * ldc;
        _mm512_mask_storeu_ps(out, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, out), acc0[r]));
        _mm512_mask_storeu_ps(out + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, out + 16), acc1[r]));
    }
}

BF16_TARGET
static void gemm_avx512(size_t m, size_t n, size_t k, const uint16_t *a, const uint16_t *packed, float *c, size_t ldc) {
    size_t kp = curator_bf16_row_stride(k), pairs = curator_bf16_padded_depth(k) / 2, panels = (n + PANEL - 1) / PANEL;
    for (size_t p0 = 0; p0 < pairs; p0 += DEPTH_PAIRS) {
        size_t depth = pairs - p0 < DEPTH_PAIRS ? pairs - p0 : DEPTH_PAIRS;
        for (size_t panel = 0; panel < panels; panel++) {
            const uint16_t *b = packed + (panel * pairs + p0) * 2 * PANEL;
            size_t j = panel * PANEL, cols = n - j < PANEL ? n - j : PANEL;
            __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
            __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
            const uint16_t *rows = a + 2 * p0;
            float *out = c + j;
            size_t i = 0;
            for (; i + TILE_ROWS <= m; i += TILE_ROWS)
                tile(TILE_ROWS, rows + i * kp, kp, b, depth, out + i * ldc, ldc, m0, m1);
            const uint16_t *ra = rows + i * kp;
            float *rc = out + i * ldc;
            // Each count its own unrolled copy, with its accumulators in registers.
            switch (m - i) {
            case 11: tile(11, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 10: tile(10, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 9: tile(9, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 8: tile(8, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 7: tile(7, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 6: tile(6, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 5: tile(5, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 4: tile(4, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 3: tile(3, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 2: tile(2, ra, kp, b, depth, rc, ldc, m0, m1); break;
            case 1: tile(1, ra, kp, b, depth, rc, ldc, m0, m1); break;
            default: break;
            }
        }
    }
}

void curator_bf16_round_rows(const float *a, size_t m, size_t k, size_t lda, uint16_t *out) {
    if (curator_bf16_supported()) round_rows_avx512(a, m, k, lda, out);
    else round_rows_portable(a, m, k, lda, out);
}

void curator_bf16_gemm(size_t m, size_t n, size_t k, const uint16_t *a, const uint16_t *packed, float *c, size_t ldc) {
    if (curator_bf16_supported()) gemm_avx512(m, n, k, a, packed, c, ldc);
    else gemm_portable(m, n, k, a, packed, c, ldc);
}
#else
int curator_bf16_supported(void) { return 0; }

void curator_bf16_round_rows(const float *a, size_t m, size_t k, size_t lda, uint16_t *out) {
    round_rows_portable(a, m, k, lda, out);
}

void curator_bf16_gemm(size_t m, size_t n, size_t k, const uint16_t *a, const uint16_t *packed, float *c, size_t ldc) {
    gemm_portable(m, n, k, a, packed, c, ldc);
}
#endif
