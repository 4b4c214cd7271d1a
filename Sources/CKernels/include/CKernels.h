#ifndef CURATOR_KERNELS_H
#define CURATOR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Quantises rows [first, last) of a row-major float32 matrix (`d` columns)
/// to int8 with one scale per row (largest magnitude / 127, rounded to
/// nearest): out[r·d + j] = round(x[r·d + j] / scales[r]). residuals[r] gets
/// the L2 norm of what the quantisation lost, x_r − scales[r]·q_r, and
/// norms[r] (unless NULL) the L2 norm of scales[r]·q_r, so a caller can bound
/// the error of any dot product with the quantised row, even against a
/// quantised query.
void curator_quantize_rows_i8(const float *x, size_t first, size_t last, size_t d,
                              int8_t *out, float *scales, float *residuals, float *norms);

/// out[r − first] = scales[r] · Σ_j query[j] · q[r·d + j] for rows [first,
/// last) of an int8 matrix and an int8 query (the sum exact, in integers):
/// the approximate scores of a scan, still to be multiplied by the query's
/// own scale. Uses AVX2 when the processor has it (checked once), plain C
/// otherwise.
void curator_scores_i8(const int8_t *q, const float *scales, size_t first, size_t last, size_t d,
                       const int8_t *query, float *out);

/// Widens `count` IEEE float16 values (as their bit patterns) to float32,
/// exactly; F16C when the processor has it (checked once), plain C otherwise.
void curator_f16_to_f32(const uint16_t *in, float *out, size_t count);

/// Rounds `count` float32 values to float16 (nearest, ties to even; beyond
/// 65504 becomes infinity); F16C when the processor has it.
void curator_f32_to_f16(const float *in, uint16_t *out, size_t count);

/// The plain C bodies of the two conversions, for tests that compare them with F16C's.
void curator_f16_to_f32_portable(const uint16_t *in, float *out, size_t count);
void curator_f32_to_f16_portable(const float *in, uint16_t *out, size_t count);

/// int8 similarities for the map's neighbour search (Int8Products.c): each
/// row rounded to int8 at its own scale (largest magnitude / 127), products
/// summed exactly in integers, then scaled back. Approximate: they choose
/// candidates to score again in float32.
///
/// Rows are padded with zeros to `curator_i8_padded_dimension(d)` bytes, and
/// candidates to `curator_i8_padded_count(count)` (whole pairs of 16-row panels).
size_t curator_i8_padded_dimension(size_t d);
size_t curator_i8_padded_count(size_t count);

/// Quantises `count` float32 rows (`d` columns) to `out` (count × padded
/// dimension bytes), with each row's scale and 128 × its byte sum (what the
/// products take off again for the candidates' unsigned bytes).
void curator_i8_quantize_queries(const float *x, size_t count, size_t d, int8_t *out, float *scales, int32_t *offsets);

/// Quantises `count` float32 rows into panels (padded count × padded
/// dimension bytes, 64-byte aligned) and their scales (padded count; 0 for padding).
void curator_i8_pack_candidates(const float *x, size_t count, size_t d, uint8_t *panels, float *scales);

/// out[i·ldo + j] ≈ query i · candidate j for m queries and n candidates
/// (n a multiple of 32): AVX-512 VNNI when the processor has it, plain C otherwise.
void curator_i8_products(const int8_t *queries, const float *qscales, const int32_t *qoffsets, size_t m, size_t d,
                         const uint8_t *panels, const float *cscales, size_t n, float *out, size_t ldo);

/// The plain C body of `curator_i8_products`, for tests that compare the two.
void curator_i8_products_portable(const int8_t *queries, const float *qscales, const int32_t *qoffsets, size_t m, size_t d,
                                  const uint8_t *panels, const float *cscales, size_t n, float *out, size_t ldo);

/// Whether the processor has AVX-512 VNNI (checked once): without it the
/// products are slower than float32's GEMM, and the search uses that instead.
int curator_i8_has_vnni(void);

/// bfloat16 products for the image towers' linear layers (BFloat16GEMM.c):
/// C += bf16(A) · bf16(W)ᵀ, each operand rounded to bfloat16 (nearest, ties
/// to even), products and sums in float32. W (n × k, a Linear layer's out ×
/// in) is rounded and packed once by `curator_bf16_pack_weights`; A (m × k)
/// is rounded before each product by `curator_bf16_round_rows`.
///
/// Whether the processor has AVX512_BF16 (with AVX512BW and VL), checked once.
/// Without it every function below runs a plain C body (exact, but far slower
/// than float32's BLAS): callers use float32 instead.
int curator_bf16_supported(void);

/// k padded to an even count (the packed weights' depth), and the distance
/// between rounded rows of A (a little more, so rows do not alias in the cache).
size_t curator_bf16_padded_depth(size_t k);
size_t curator_bf16_row_stride(size_t k);

/// The uint16 values one panel of 32 packed columns takes (32 × padded k), and
/// a whole packed n × k matrix (whole panels). Panel p of a packed matrix
/// starts p × curator_bf16_panel_values(k) values in, so the panels from
/// column 32q on are themselves the packed matrix of W's rows from 32q.
size_t curator_bf16_panel_values(size_t k);
size_t curator_bf16_packed_values(size_t n, size_t k);

/// Rounds W (n rows of k values, row stride ldw) into `packed`
/// (curator_bf16_packed_values(n, k) values, ideally 64-byte aligned), with
/// `scratch` (curator_bf16_pack_scratch_values(k) values) for a panel's rounded rows.
size_t curator_bf16_pack_scratch_values(size_t k);
void curator_bf16_pack_weights(const float *w, size_t n, size_t k, size_t ldw, uint16_t *packed, uint16_t *scratch);

/// Rounds A (m rows of k values, row stride lda) to m rows of bfloat16
/// values, curator_bf16_row_stride(k) apart, in `out` (k odd: a zero after each).
void curator_bf16_round_rows(const float *a, size_t m, size_t k, size_t lda, uint16_t *out);

/// c[i·ldc + j] += Σ_k a[i][k] · w[j][k] for i < m, j < n, from rows rounded by
/// curator_bf16_round_rows and weights packed by curator_bf16_pack_weights.
void curator_bf16_gemm(size_t m, size_t n, size_t k, const uint16_t *a, const uint16_t *packed, float *c, size_t ldc);

/// The plain C body of `curator_bf16_gemm`, for tests that compare the two.
void curator_bf16_gemm_portable(size_t m, size_t n, size_t k, const uint16_t *a, const uint16_t *packed, float *c, size_t ldc);

/// One float32 value rounded to bfloat16 (nearest, ties to even; subnormals
/// become zero and NaN stays NaN, as the AVX512_BF16 conversion does).
uint16_t curator_bf16_round(float f);

/// A bfloat16 value as float32 (exact: its bits are a float's top half).
float curator_bf16_widen(uint16_t h);

/// The covariance of K-Means' principal-axes sample in bfloat16
/// (BFloat16Gram.c): XᵀX over s rows of d values, each centred value rounded
/// to bfloat16, products and sums in float32. The centred rows are packed
/// once (32 features to a panel, the rows in pairs) and every 32 × 32 block
/// of the result reads two panels.
///
/// The pairs of rows of a packed sample of s rows, and its uint16 values.
size_t curator_bf16_gram_pairs(size_t s);
size_t curator_bf16_gram_packed_values(size_t s, size_t d);

/// Packs rows `first` ..< `first + count` of the sample (`count` rows of d
/// values at x, row stride ldx), less `mean`, rounded to bfloat16; `first`
/// is even, and an odd count's last row (the sample's last) is paired with
/// the zero row that pads an odd s.
void curator_bf16_gram_pack(const float *x, size_t count, size_t d, size_t ldx, const float *mean, size_t first,
                            size_t s, uint16_t *packed);

/// c[i·ldc + j] = alpha · Σ_r x[r][32·bi + i] · x[r][32·bj + j] for the
/// block's features below d (at most 32 × 32), from a packed sample.
void curator_bf16_gram_block(const uint16_t *packed, size_t s, size_t d, size_t bi, size_t bj, float alpha, float *c,
                             size_t ldc);

/// The plain C body of `curator_bf16_gram_block`, for tests that compare the two.
void curator_bf16_gram_block_portable(const uint16_t *packed, size_t s, size_t d, size_t bi, size_t bj, float alpha,
                                      float *c, size_t ldc);


/// out[j·ldo + i] = rows[i] · vectors[j] for i < g, j < m (`vectors`
/// row-major, m × d), every product summed in one fixed order whatever the
/// shape and wherever the rows lie (DotProducts.c), so the same row and
/// vector always give the same float: AVX-512 when the processor has it
/// (checked once), plain C otherwise, with equal results.
void curator_f32_dots(const float *const *rows, size_t g, const float *vectors, size_t m, size_t d, float *out, size_t ldo);

/// `curator_f32_dots`, the same floats, for rows far from the core (many,
/// or scattered over a matrix bigger than the cache): each tile fetches the
/// next tile's rows into L2 while it sums (FPS's passes and lazy steps).
void curator_f32_dots_far(const float *const *rows, size_t g, const float *vectors, size_t m, size_t d, float *out,
                          size_t ldo);

/// `curator_f32_dots_far` with each vector given by pointer (`vectors[j]`,
/// anywhere in memory, as the rows are): the same floats as the contiguous
/// form, without copying vectors that already lie in a matrix.
void curator_f32_dots_far_pointed(const float *const *rows, size_t g, const float *const *vectors, size_t m, size_t d,
                                  float *out, size_t ldo);

/// The plain C body of `curator_f32_dots`, for tests that compare the two.
void curator_f32_dots_portable(const float *const *rows, size_t g, const float *vectors, size_t m, size_t d,
                               float *out, size_t ldo);

/// Whether `curator_f32_dots` uses AVX-512 here (checked once).
int curator_f32_dots_has_avx512(void);

/// The `keep` largest of scores[j] − offsets[j] over j < n into `values` and
/// `labels` (room for `keep`): largest first, the lower index first among
/// equal values; returns how many (min(keep, n)). K-Means' lists of nearest
/// centroids (Largest.c): AVX-512 where the processor has it, the same lists
/// either way.
size_t curator_largest(size_t keep, const float *scores, const float *offsets, size_t n, float *values,
                       int32_t *labels);

/// The plain C body of `curator_largest`, for tests that compare the two.
size_t curator_largest_portable(size_t keep, const float *scores, const float *offsets, size_t n, float *values,
                                int32_t *labels);

/// The cores this process may use: those its affinity mask allows, at most
/// its cgroup's CPU quota (rounded up), at least 1.
int curator_active_cores(void);

#endif
