#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 2-D map of embeddings by principal component analysis: each vector
/// placed by its coordinates along the two directions in which the album
/// varies most. Used for report maps when no UMAP layout is available.
///
/// The covariance (d×d) comes from one GEMM over the matrix in place; the
/// two leading eigenvectors from seeded subspace (block power) iteration
/// with Rayleigh–Ritz, so the result is the same for the same seed.
public struct Projection2D: Sendable {
    /// One point per row of the matrix, centred on the mean.
    public let points: [SIMD2<Float>]
    /// The variance along each axis (the two largest covariance eigenvalues).
    public let variances: SIMD2<Float>
    /// The iterations the eigenvector search took.
    public let iterations: Int

    /// Projects the rows of `matrix` onto its two principal axes. Each axis
    /// is oriented so its largest-magnitude component is positive.
    public static func principalComponents(of matrix: EmbeddingMatrix, seed: UInt64 = 0,
                                           maxIterations: Int = 300, tolerance: Double = 1e-6) -> Projection2D {
        let n = matrix.rows, d = matrix.dimension
        guard n > 0, d > 0 else {
            return Projection2D(points: Array(repeating: .zero, count: n), variances: .zero, iterations: 0)
        }
        let x = UnsafePointer(matrix.storage.baseAddress!)

        // mean = Xᵀ·1 / n
        var mean = [Float](repeating: 0, count: d)
        let ones = [Float](repeating: 1, count: n)
        BLAS.gemv(transpose: true, m: n, n: d, alpha: 1 / Float(n), a: x, lda: d, x: ones, y: &mean)

        // covariance = XᵀX / n − mean·meanᵀ
        var covariance = [Float](repeating: 0, count: d * d)
        BLAS.gemm(transposeA: true, m: d, n: d, k: n, alpha: 1 / Float(n), a: x, lda: d, b: x, ldb: d,
                  c: &covariance, ldc: d)
        for i in 0..<d {
            for j in 0..<d { covariance[i * d + j] -= mean[i] * mean[j] }
        }

        // Subspace iteration on a d×2 basis V (row-major: V[i*2 + column]).
        var random = SplitMix64(seed: seed)
        var basis = (0..<(2 * d)).map { _ in Float(random.nextUnit() * 2 - 1) }
        orthonormalize(&basis, d: d, random: &random)
        var product = [Float](repeating: 0, count: 2 * d)
        var iterations = 0
        while iterations < maxIterations {
            iterations += 1
            BLAS.gemm(m: d, n: 2, k: d, a: covariance, lda: d, b: basis, ldb: 2, c: &product, ldc: 2)
            if !orthonormalize(&product, d: d, random: &random) { break }
            // Converged when the new basis lies in the old one's span.
            let residual = distanceOutsideSpan(of: product, from: basis, d: d)
            swap(&basis, &product)
            if residual < tolerance { break }
        }

        // Rayleigh–Ritz: diagonalise H = VᵀCV (2×2) and rotate V to match.
        BLAS.gemm(m: d, n: 2, k: d, a: covariance, lda: d, b: basis, ldb: 2, c: &product, ldc: 2)
        var h = (0.0, 0.0, 0.0)  // h11, h12, h22
        for i in 0..<d {
            let v1 = Double(basis[2 * i]), v2 = Double(basis[2 * i + 1])
            h.0 += v1 * Double(product[2 * i])
            h.1 += v1 * Double(product[2 * i + 1])
            h.2 += v2 * Double(product[2 * i + 1])
        }
        let angle = 0.5 * atan2(2 * h.1, h.0 - h.2)
        let (c, s) = (cos(angle), sin(angle))
        let lambda1 = c * c * h.0 + 2 * c * s * h.1 + s * s * h.2
        let lambda2 = s * s * h.0 - 2 * c * s * h.1 + c * c * h.2
        var axes = [Float](repeating: 0, count: 2 * d)
        for i in 0..<d {
            let v1 = Double(basis[2 * i]), v2 = Double(basis[2 * i + 1])
            axes[2 * i] = Float(c * v1 + s * v2)
            axes[2 * i + 1] = Float(-s * v1 + c * v2)
        }
        var variances = SIMD2(Float(lambda1), Float(lambda2))
        if lambda2 > lambda1 {
            for i in 0..<d { axes.swapAt(2 * i, 2 * i + 1) }
            variances = SIMD2(Float(lambda2), Float(lambda1))
        }
        for column in 0..<2 {
            var largest: Float = 0
            for i in 0..<d where abs(axes[2 * i + column]) > abs(largest) { largest = axes[2 * i + column] }
            if largest < 0 { for i in 0..<d { axes[2 * i + column] = -axes[2 * i + column] } }
        }

        // points = X·axes − mean·axes
        var coordinates = [Float](repeating: 0, count: 2 * n)
        BLAS.gemm(m: n, n: 2, k: d, a: x, lda: d, b: axes, ldb: 2, c: &coordinates, ldc: 2)
        var offset = SIMD2<Float>.zero
        for i in 0..<d { offset += mean[i] * SIMD2(axes[2 * i], axes[2 * i + 1]) }
        let points = (0..<n).map { SIMD2(coordinates[2 * $0], coordinates[2 * $0 + 1]) - offset }
        return Projection2D(points: points, variances: variances, iterations: iterations)
    }

    /// Gram–Schmidt on the two columns of a d×2 row-major basis. A column
    /// that vanishes (rank below 2) is replaced by a random direction
    /// orthogonal to the first. Returns false when the first column vanishes.
    @discardableResult
    private static func orthonormalize(_ v: inout [Float], d: Int, random: inout SplitMix64) -> Bool {
        func norm(_ column: Int) -> Double {
            var sum = 0.0
            for i in 0..<d { sum += Double(v[2 * i + column]) * Double(v[2 * i + column]) }
            return sum.squareRoot()
        }
        func scale(_ column: Int, _ factor: Double) {
            for i in 0..<d { v[2 * i + column] = Float(Double(v[2 * i + column]) * factor) }
        }
        func removeFirst() {
            var dot = 0.0
            for i in 0..<d { dot += Double(v[2 * i]) * Double(v[2 * i + 1]) }
            for i in 0..<d { v[2 * i + 1] -= Float(dot) * v[2 * i] }
        }
        let n1 = norm(0)
        guard n1 > 1e-30, n1.isFinite else { return false }
        scale(0, 1 / n1)
        let before = norm(1)
        removeFirst()
        var n2 = norm(1)
        if !(n2 > 1e-6 * max(before, 1e-30)) || !n2.isFinite {
            for i in 0..<d { v[2 * i + 1] = Float(random.nextUnit() * 2 - 1) }
            removeFirst()
            n2 = norm(1)
        }
        if n2 > 1e-30, n2.isFinite { scale(1, 1 / n2) } else { for i in 0..<d { v[2 * i + 1] = 0 } }
        return true
    }

    /// The norm of the part of the new basis outside the old basis' span.
    private static func distanceOutsideSpan(of new: [Float], from old: [Float], d: Int) -> Double {
        var total = 0.0
        for column in 0..<2 {
            var a = 0.0, b = 0.0
            for i in 0..<d {
                a += Double(old[2 * i]) * Double(new[2 * i + column])
                b += Double(old[2 * i + 1]) * Double(new[2 * i + column])
            }
            var residual = 0.0
            for i in 0..<d {
                let r = Double(new[2 * i + column]) - a * Double(old[2 * i]) - b * Double(old[2 * i + 1])
                residual += r * r
            }
            total = max(total, residual.squareRoot())
        }
        return total
    }
}
