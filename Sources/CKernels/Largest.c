// The few largest of scores[j] − offsets[j] with their indices, for K-Means'
// lists of nearest centroids (a list per row and run, renewed from a row of
// a GEMM): largest first, the lower index first among equal values, as an
// insertion in index order leaves them. The result is defined by the values
// alone, so the AVX-512 body and the plain one give the same lists.
//
// The AVX-512 body first keeps each of 16 lanes' best two values; the
// count-th largest of those 32 (each a different entry, so at least count
// entries reach it) is a threshold, and one compare per 16 entries finds the
// few that reach it, which alone are inserted (on 100 centroids about a
// dozen). Swift's SIMD compiles to 4-wide
// SSE on Linux's baseline x86-64, where the same idea took 2–3 times as long.
#include "CKernels.h"
#include <math.h>
#include <stdatomic.h>

/// Inserts (v, label) into the `filled` largest so far (at most keep), after any equal value.
static inline size_t insert(float v, int32_t label, size_t keep, size_t filled, float *values, int32_t *labels) {
    if (filled == keep && !(v > values[keep - 1])) return filled;
    size_t p = filled == keep ? keep - 1 : filled;
    if (filled < keep) filled++;
    while (p > 0 && values[p - 1] < v) {
        values[p] = values[p - 1];
        labels[p] = labels[p - 1];
        p--;
    }
    values[p] = v;
    labels[p] = label;
    return filled;
}

size_t curator_largest_portable(size_t keep, const float *scores, const float *offsets, size_t n, float *values,
                                int32_t *labels) {
    if (keep > n) keep = n;
    size_t filled = 0;
    if (keep == 0) return 0;
    for (size_t j = 0; j < n; j++) filled = insert(scores[j] - offsets[j], (int32_t)j, keep, filled, values, labels);
    return filled;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

static int has_avx512(void) {
    // Worker threads ask at once: the cached answer is atomic.
    static atomic_int supported = -1;
    int answer = atomic_load_explicit(&supported, memory_order_relaxed);
    if (answer < 0) {
        answer = __builtin_cpu_supports("avx512f") ? 1 : 0;
        atomic_store_explicit(&supported, answer, memory_order_relaxed);
    }
    return answer;
}

__attribute__((target("avx512f")))
static size_t largest_avx512(size_t keep, const float *scores, const float *offsets, size_t n, float *values,
                             int32_t *labels) {
    __m512 best = _mm512_set1_ps(-INFINITY), next = best;
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512 v = _mm512_sub_ps(_mm512_loadu_ps(scores + j), _mm512_loadu_ps(offsets + j));
        __mmask16 beatsBest = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
        __mmask16 beatsNext = _mm512_cmp_ps_mask(v, next, _CMP_GT_OQ);
        next = _mm512_mask_mov_ps(next, beatsNext, v);
        next = _mm512_mask_mov_ps(next, beatsBest, best);
        best = _mm512_mask_mov_ps(best, beatsBest, v);
    }
    // The keep-th largest of the 32 lane values (each a different entry, as
    // n >= 32): the largest that at least keep of them reach, a floor that
    // at least keep entries reach. Counted without branches: inserting the
    // 32 took most of the time.
    float lanes[32];
    _mm512_storeu_ps(lanes, best);
    _mm512_storeu_ps(lanes + 16, next);
    float floor = -INFINITY;
    for (int e = 0; e < 32; e++) {
        __m512 c = _mm512_set1_ps(lanes[e]);
        int reach = __builtin_popcount(_mm512_cmp_ps_mask(best, c, _CMP_GE_OQ))
            + __builtin_popcount(_mm512_cmp_ps_mask(next, c, _CMP_GE_OQ));
        floor = reach >= (int)keep && lanes[e] > floor ? lanes[e] : floor;
    }
    __m512 threshold = _mm512_set1_ps(floor);
    size_t filled = 0;
    for (j = 0; j + 16 <= n; j += 16) {
        __m512 v = _mm512_sub_ps(_mm512_loadu_ps(scores + j), _mm512_loadu_ps(offsets + j));
        unsigned mask = _mm512_cmp_ps_mask(v, threshold, _CMP_GE_OQ);
        while (mask) {
            unsigned e = (unsigned)__builtin_ctz(mask);
            mask &= mask - 1;
            filled = insert(scores[j + e] - offsets[j + e], (int32_t)(j + e), keep, filled, values, labels);
        }
    }
    for (; j < n; j++) {
        float v = scores[j] - offsets[j];
        if (v >= floor) filled = insert(v, (int32_t)j, keep, filled, values, labels);
    }
    return filled;
}

size_t curator_largest(size_t keep, const float *scores, const float *offsets, size_t n, float *values,
                       int32_t *labels) {
    if (keep > n) keep = n;
    if (keep == 0) return 0;
    if (keep <= 16 && n >= 32 && has_avx512()) return largest_avx512(keep, scores, offsets, n, values, labels);
    return curator_largest_portable(keep, scores, offsets, n, values, labels);
}
#else
size_t curator_largest(size_t keep, const float *scores, const float *offsets, size_t n, float *values,
                       int32_t *labels) {
    return curator_largest_portable(keep, scores, offsets, n, values, labels);
}
#endif
