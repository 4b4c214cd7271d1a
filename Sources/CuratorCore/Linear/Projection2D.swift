/// A 2-D map of embeddings by principal component analysis: each vector
/// placed by its coordinates along the two directions in which the album
/// varies most (`PrincipalSubspace`'s first two axes). Used for the PCA map
/// (`a:map{source = "pca"}`) and as UMAP's start layout.
public struct Projection2D: Sendable {
    /// One point per row of the matrix, centred on the mean.
    public let points: [SIMD2<Float>]
    /// The variance along each axis (the two largest covariance eigenvalues).
    public let variances: SIMD2<Float>

    /// Projects the rows of `matrix` onto its two principal axes. Each axis
    /// is oriented so its largest-magnitude component is positive, so the
    /// same vectors always give the same map. Throws `LibraryUnavailable`
    /// when the loaded BLAS library has no LAPACK eigensolver.
    public static func principalComponents(of matrix: EmbeddingMatrix) throws(LibraryUnavailable) -> Projection2D {
        let n = matrix.rows, d = matrix.dimension
        guard n > 0, d > 0 else {
            return Projection2D(points: Array(repeating: .zero, count: n), variances: .zero)
        }
        try BLAS.require()
        guard let pca = PrincipalSubspace(rowsOf: matrix, rank: 2) else {
            throw LibraryUnavailable(description: "the PCA map needs LAPACK's symmetric eigensolver (ssyevr), which the loaded BLAS library lacks")
        }
        let p = pca.rank
        var variances = SIMD2<Float>.zero
        for column in 0..<p { variances[column] = max(0, pca.variances[column]) }
        // No spread (every vector the same): no direction to follow.
        guard variances.x > 0 else {
            return Projection2D(points: Array(repeating: .zero, count: n), variances: variances)
        }
        // The axes as d×2 (a single axis when d is 1), each oriented.
        var axes = [Float](repeating: 0, count: 2 * d)
        for i in 0..<d { for column in 0..<p { axes[2 * i + column] = pca.basis[i * p + column] } }
        for column in 0..<2 {
            var largest: Float = 0
            for i in 0..<d where abs(axes[2 * i + column]) > abs(largest) { largest = axes[2 * i + column] }
            if largest < 0 { for i in 0..<d { axes[2 * i + column] = -axes[2 * i + column] } }
        }
        // points = X·axes − mean·axes
        var coordinates = [Float](repeating: 0, count: 2 * n)
        BLAS.gemm(m: n, n: 2, k: d, a: matrix.storage.baseAddress!, lda: d, b: axes, ldb: 2, c: &coordinates, ldc: 2)
        var offset = SIMD2<Float>.zero
        for i in 0..<d { offset += pca.mean[i] * SIMD2(axes[2 * i], axes[2 * i + 1]) }
        let points = (0..<n).map { SIMD2(coordinates[2 * $0], coordinates[2 * $0 + 1]) - offset }
        return Projection2D(points: points, variances: variances)
    }
}
