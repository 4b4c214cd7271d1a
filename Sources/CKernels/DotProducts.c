// Float32 dot products of rows (given by pointer, anywhere in memory) with a
// few vectors (contiguous, or by pointer too), for farthest point sampling: its passes over the
// matrix and its lazy steps over scattered rows both compute every distance
// here, so one row and one pick give the same float whichever way it was
// reached. (OpenBLAS's sgemm does not: its small-matrix kernel sums in
// another order than its blocked one, so the same product differed between
// a lazy step's small GEMM and a pass's, and a near-tie could go either
// way.) Rows are read in place: nothing is packed or gathered, which is what
// the small GEMMs of the lazy steps spent most of their time on.
//
// The order of every sum is fixed: 16 lane sums over the vector in steps of
// 16 (fused multiply-add, zero past the end), then lanes i and i + 8, i and
// i + 4, i and i + 2, i and i + 1 added pairwise. The portable body and the
// AVX-512 one follow it exactly, so they give the same floats.
#include "CKernels.h"
#include <math.h>
#include <stdatomic.h>

/// The fixed order for one product.
static float dot_portable(const float *a, const float *b, size_t d) {
    float lane[16] = {0};
    size_t k = 0;
    for (; k + 16 <= d; k += 16)
        for (int i = 0; i < 16; i++) lane[i] = fmaf(a[k + i], b[k + i], lane[i]);
    for (int i = 0; k + (size_t)i < d; i++) lane[i] = fmaf(a[k + i], b[k + i], lane[i]);
    float s[8], t[4], u[2];
    for (int i = 0; i < 8; i++) s[i] = lane[i] + lane[i + 8];
    for (int i = 0; i < 4; i++) t[i] = s[i] + s[i + 4];
    for (int i = 0; i < 2; i++) u[i] = t[i] + t[i + 2];
    return u[0] + u[1];
}

/// The portable body over vectors given by pointer (`vectors[j]`), or
/// contiguous (`contiguous + j · d`) when `vectors` is NULL.
static void dots_portable(const float *const *rows, size_t g, const float *const *vectors, const float *contiguous,
                          size_t m, size_t d, float *out, size_t ldo) {
    for (size_t j = 0; j < m; j++) {
        const float *v = vectors ? vectors[j] : contiguous + j * d;
        for (size_t i = 0; i < g; i++) out[j * ldo + i] = dot_portable(rows[i], v, d);
    }
}

void curator_f32_dots_portable(const float *const *rows, size_t g, const float *vectors, size_t m, size_t d,
                               float *out, size_t ldo) {
    dots_portable(rows, g, NULL, vectors, m, d, out, ldo);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AVX512_INLINE __attribute__((target("avx512f"), always_inline)) static inline

/// Sixteen lane-sum vectors reduced at once in the fixed order: lane
/// 4 (a mod 4) + a / 4 of the result holds the sum of v[a].
AVX512_INLINE __m512 reduce16(const __m512 v[16]) {
    __m512 s[8], t[4], u[2];
    for (int k = 0; k < 8; k++)   // lanes i and i + 8
        s[k] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0x44),
                             _mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0xEE));
    for (int k = 0; k < 4; k++)   // i and i + 4
        t[k] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * k], s[2 * k + 1], 0x88),
                             _mm512_shuffle_f32x4(s[2 * k], s[2 * k + 1], 0xDD));
    for (int k = 0; k < 2; k++)   // i and i + 2
        u[k] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * k], t[2 * k + 1], 0x44),
                             _mm512_shuffle_ps(t[2 * k], t[2 * k + 1], 0xEE));
    return _mm512_add_ps(_mm512_shuffle_ps(u[0], u[1], 0x88), _mm512_shuffle_ps(u[0], u[1], 0xDD));   // i and i + 1
}

/// A tile of NR rows × NP vectors (NR · NP ≤ 16), its lane sums in registers
/// through the whole dimension. Inlined with constant sizes, one copy each.
/// With `fetch`, the `ahead` rows of the next tile are fetched into L2
/// meanwhile, at the same pace: the rows are scattered (a lazy step's) or many (a pass's) and
/// come from L3 or memory, where the hardware's prefetcher, seeing only
/// short runs of lines, fetches them late. (10,000 × 768, random rows from
/// 512: 2 vectors 69 → 40 ns a product, 4: 40 → 20, 8: 30 → 17; one vector,
/// 16 rows a tile already in flight, unchanged.)
AVX512_INLINE void tile(const float *const *rows, const float *const *vectors, size_t d, float *out, size_t ldo,
                        const int NR, const int NP, const float *const *ahead, int aheadCount, const int fetch) {
    __m512 acc[16];
    for (int a = 0; a < 16; a++) acc[a] = _mm512_setzero_ps();
    size_t k = 0;
    for (; k + 16 <= d; k += 16) {
        __m512 r[16], p[4];
        for (int i = 0; i < NR; i++) r[i] = _mm512_loadu_ps(rows[i] + k);
        if (fetch)
            for (int i = 0; i < aheadCount; i++) _mm_prefetch((const char *)(ahead[i] + k), _MM_HINT_T1);
        for (int j = 0; j < NP; j++) p[j] = _mm512_loadu_ps(vectors[j] + k);
        for (int i = 0; i < NR; i++)
            for (int j = 0; j < NP; j++) acc[i * NP + j] = _mm512_fmadd_ps(r[i], p[j], acc[i * NP + j]);
    }
    if (k < d) {
        __mmask16 mask = (__mmask16)((1u << (d - k)) - 1);
        __m512 r[16], p[4];
        for (int i = 0; i < NR; i++) r[i] = _mm512_maskz_loadu_ps(mask, rows[i] + k);
        for (int j = 0; j < NP; j++) p[j] = _mm512_maskz_loadu_ps(mask, vectors[j] + k);
        for (int i = 0; i < NR; i++)
            for (int j = 0; j < NP; j++) acc[i * NP + j] = _mm512_fmadd_ps(r[i], p[j], acc[i * NP + j]);
    }
    float w[16];
    _mm512_storeu_ps(w, reduce16(acc));
    for (int i = 0; i < NR; i++)
        for (int j = 0; j < NP; j++) {
            int a = i * NP + j;
            out[j * ldo + i] = w[4 * (a % 4) + a / 4];
        }
}

/// The rows of the tile after the one at `i` (NR rows at most), or none.
#define AHEAD(NR) (g - i <= (size_t)(NR) ? 0 : (int)(g - i - (NR) < (size_t)(NR) ? g - i - (NR) : (size_t)(NR)))
#define TILE(NR, NP) \
    case (NR): tile(rows + i, v, d, out + j * ldo + i, ldo, NR, NP, rows + i + (NR), AHEAD(NR), fetch); break;

/// Every tile of the call; `fetch` (a constant in each copy) fetches the
/// next tile's rows ahead. Without it nothing is fetched, which K-Means'
/// calls need: their "rows" are a few centroids, already in cache, and
/// fetching cost them (1,000,000 × 512, 200 × 20: 8.5 → 9.8 s).
/// The tiles' vectors j ..< j + 4 (fewer at the end): `vectors + j` when
/// given by pointer, else pointers into the contiguous block, made in `slots`.
AVX512_INLINE const float *const *vectors_from(const float *const *vectors, const float *contiguous, size_t j,
                                               size_t m, size_t d, const float *slots[4]) {
    if (vectors) return vectors + j;
    for (size_t a = 0; a < 4 && j + a < m; a++) slots[a] = contiguous + (j + a) * d;
    return slots;
}

AVX512_INLINE void dots_avx512(const float *const *rows, size_t g, const float *const *vectors, const float *contiguous,
                               size_t m, size_t d, float *out, size_t ldo, const int fetch) {
    const float *slots[4];
    // Four vectors at a time over four rows at a time: the rows stay in L1
    // while the vectors (a few hundred KB at most) stream from L2.
    size_t m4 = m / 4 * 4;
    for (size_t i = 0; i < g; i += 4) {
        for (size_t j = 0; j < m4; j += 4) {
            const float *const *v = vectors_from(vectors, contiguous, j, m, d, slots);
            switch (g - i < 4 ? g - i : 4) { TILE(1, 4) TILE(2, 4) TILE(3, 4) TILE(4, 4) }
        }
    }
    if (m4 == m) return;
    // The last one to three vectors, over more rows at a time so a tile
    // still has (nearly) 16 sums.
    size_t j = m4;
    const float *const *v = vectors_from(vectors, contiguous, j, m, d, slots);
    switch (m - m4) {
    case 3:
        for (size_t i = 0; i < g; i += 5)
            switch (g - i < 5 ? g - i : 5) { TILE(1, 3) TILE(2, 3) TILE(3, 3) TILE(4, 3) TILE(5, 3) }
        break;
    case 2:
        for (size_t i = 0; i < g; i += 8)
            switch (g - i < 8 ? g - i : 8) {
                TILE(1, 2) TILE(2, 2) TILE(3, 2) TILE(4, 2) TILE(5, 2) TILE(6, 2) TILE(7, 2) TILE(8, 2)
            }
        break;
    default:
        for (size_t i = 0; i < g; i += 16)
            switch (g - i < 16 ? g - i : 16) {
                TILE(1, 1) TILE(2, 1) TILE(3, 1) TILE(4, 1) TILE(5, 1) TILE(6, 1) TILE(7, 1) TILE(8, 1)
                TILE(9, 1) TILE(10, 1) TILE(11, 1) TILE(12, 1) TILE(13, 1) TILE(14, 1) TILE(15, 1) TILE(16, 1)
            }
    }
}

__attribute__((target("avx512f")))
static void dots_avx512_near(const float *const *rows, size_t g, const float *const *vectors, const float *contiguous,
                             size_t m, size_t d, float *out, size_t ldo) {
    dots_avx512(rows, g, vectors, contiguous, m, d, out, ldo, 0);
}

__attribute__((target("avx512f")))
static void dots_avx512_far(const float *const *rows, size_t g, const float *const *vectors, const float *contiguous,
                            size_t m, size_t d, float *out, size_t ldo) {
    dots_avx512(rows, g, vectors, contiguous, m, d, out, ldo, 1);
}

int curator_f32_dots_has_avx512(void) {
    static atomic_int known = -1;
    int v = atomic_load_explicit(&known, memory_order_relaxed);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512f") ? 1 : 0;
        atomic_store_explicit(&known, v, memory_order_relaxed);
    }
    return v;
}
#else
int curator_f32_dots_has_avx512(void) { return 0; }
#endif

/// The AVX-512 body when the processor has it (fetching ahead or not), else the portable one.
static void dots(const float *const *rows, size_t g, const float *const *vectors, const float *contiguous, size_t m,
                 size_t d, float *out, size_t ldo, int fetch) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (curator_f32_dots_has_avx512()) {
        if (fetch) dots_avx512_far(rows, g, vectors, contiguous, m, d, out, ldo);
        else dots_avx512_near(rows, g, vectors, contiguous, m, d, out, ldo);
        return;
    }
#endif
    dots_portable(rows, g, vectors, contiguous, m, d, out, ldo);
}

void curator_f32_dots(const float *const *rows, size_t g, const float *vectors, size_t m, size_t d, float *out, size_t ldo) {
    dots(rows, g, NULL, vectors, m, d, out, ldo, 0);
}

void curator_f32_dots_far(const float *const *rows, size_t g, const float *vectors, size_t m, size_t d, float *out,
                          size_t ldo) {
    dots(rows, g, NULL, vectors, m, d, out, ldo, 1);
}

void curator_f32_dots_far_pointed(const float *const *rows, size_t g, const float *const *vectors, size_t m, size_t d,
                                  float *out, size_t ldo) {
    dots(rows, g, vectors, NULL, m, d, out, ldo, 1);
}
