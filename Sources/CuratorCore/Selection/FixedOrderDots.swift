import CKernels

/// Dot products of rows with vectors, both given by pointer, each summed
/// in one fixed order whatever the shape of the call (CKernels/DotProducts.c).
/// FPS computes every distance through this, in its passes and in its lazy
/// steps alike, so a row's distance to a pick is the same float however it
/// was reached, and a near-tie cannot be decided one way in a pass and the
/// other in a lazy step (OpenBLAS's sgemm sums small shapes in another order
/// than large ones).
enum FixedOrderDots {
    /// `out[j · ldo + i]` = `rows[i]` · `vectors[j]`, for i < `count`, j < `m`
    /// (vectors anywhere in memory: a float32 matrix's picks are read in place).
    @inline(__always)
    static func products(rows: UnsafePointer<UnsafePointer<Float>?>, count: Int,
                         vectors: UnsafePointer<UnsafePointer<Float>?>, m: Int, dimension: Int,
                         into out: UnsafeMutablePointer<Float>, ldo: Int) {
        guard count > 0, m > 0 else { return }
        curator_f32_dots_far_pointed(rows, count, vectors, m, dimension, out, ldo)
    }
}
