/// Principal component analysis, the project's one: the `rank` directions in
/// which a set of vectors varies most (their leading principal axes, from
/// LAPACK's symmetric eigensolver on their covariance), and the projection
/// onto those directions.
///
/// Clustering uses it to rank centroids cheaply: CLIP embeddings keep most of
/// their variation in a small share of their dimensions, so distances between
/// the projections order candidate centroids almost as the full distances do,
/// for a fraction of the arithmetic (see `KMeansSampler`). The 2-D maps use
/// its first two axes (`Projection2D`: the PCA map and UMAP's start layout).
struct PrincipalSubspace {
    /// Row-major `dimension × rank`: column j is the j-th principal axis, unit
    /// length, the axis of largest variance first.
    let basis: [Float]
    /// The length of the vectors projected.
    let dimension: Int
    /// The number of axes, the length of the projections.
    let rank: Int
    /// The mean of the vectors the axes were found from.
    let mean: [Float]
    /// The variance along each axis (vᵀCv), the largest first.
    let variances: [Float]
    /// The share of the vectors' variance along the axes (0…1).
    let retainedVariance: Double

    /// The leading `rank` axes of the covariance of `sample` (pointers to
    /// `dimension`-long vectors); nil when the eigensolver is unavailable or
    /// the sample is too small to tell `rank` directions apart.
    init?(sample: [UnsafePointer<Float>], dimension d: Int, rank p: Int) {
        let s = sample.count
        guard p > 0, p < d, s > p else { return nil }
        var mean = [Double](repeating: 0, count: d)
        for row in sample { for t in 0..<d { mean[t] += Double(row[t]) } }
        let centred = UnsafeMutablePointer<Float>.allocate(capacity: s * d)
        defer { centred.deallocate() }
        var total = 0.0
        for (i, row) in sample.enumerated() {
            for t in 0..<d {
                let v = row[t] - Float(mean[t] / Double(s))
                centred[i * d + t] = v
                total += Double(v * v)
            }
        }
        var covariance = [Float](repeating: 0, count: d * d)
        covariance.withUnsafeMutableBufferPointer { c in
            BLAS.gemmOnCores(transposeA: true, m: d, n: d, k: s, alpha: 1 / Float(s), a: centred, lda: d,
                             b: centred, ldb: d, c: c.baseAddress!, ldc: d)
        }
        self.init(covariance: covariance, totalVariance: total / Double(s),
                  mean: mean.map { Float($0 / Double(s)) }, dimension: d, rank: p)
    }

    /// The leading `rank` axes (at most `dimension`) of all the rows of
    /// `matrix`, its covariance computed in place (XᵀX/n − mean·meanᵀ, no
    /// centred copy of the matrix); nil when the matrix is empty or the
    /// eigensolver is unavailable.
    init?(rowsOf matrix: EmbeddingMatrix, rank: Int) {
        let n = matrix.rows, d = matrix.dimension
        guard n > 0, d > 0, rank > 0 else { return nil }
        let x = UnsafePointer(matrix.storage.baseAddress!)
        // mean = Xᵀ·1 / n
        var mean = [Float](repeating: 0, count: d)
        let ones = [Float](repeating: 1, count: n)
        BLAS.gemv(transpose: true, m: n, n: d, alpha: 1 / Float(n), a: x, lda: d, x: ones, y: &mean)
        var covariance = [Float](repeating: 0, count: d * d)
        BLAS.gemm(transposeA: true, m: d, n: d, k: n, alpha: 1 / Float(n), a: x, lda: d, b: x, ldb: d,
                  c: &covariance, ldc: d)
        var total = 0.0
        for i in 0..<d {
            for j in 0..<d { covariance[i * d + j] -= mean[i] * mean[j] }
            total += Double(covariance[i * d + i])
        }
        self.init(covariance: covariance, totalVariance: total, mean: mean, dimension: d, rank: min(rank, d))
    }

    /// The leading `p` eigenvectors of the `d × d` covariance and the
    /// variance along each (both ways of computing the covariance end here).
    private init?(covariance: [Float], totalVariance: Double, mean: [Float], dimension d: Int, rank p: Int) {
        guard let basis = BLAS.leadingEigenvectors(ofSymmetric: covariance, n: d, count: p) else { return nil }
        // Variance along each axis: vᵀCv; the total is the covariance's trace.
        var product = [Float](repeating: 0, count: d * p)
        BLAS.gemm(m: d, n: p, k: d, a: covariance, lda: d, b: basis, ldb: p, c: &product, ldc: p)
        var variances = [Double](repeating: 0, count: p)
        for e in 0..<(d * p) { variances[e % p] += Double(basis[e] * product[e]) }
        let retained = variances.reduce(0, +)
        self.basis = basis
        self.mean = mean
        self.variances = variances.map { Float($0) }
        dimension = d
        rank = p
        retainedVariance = totalVariance > 0 ? min(1, retained / totalVariance) : 1
    }

    /// Writes the projections of `count` row-major vectors at `x` to `y`
    /// (`count × rank`): one GEMM.
    func project(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        basis.withUnsafeBufferPointer { b in
            BLAS.gemm(m: count, n: rank, k: dimension, a: x, lda: dimension, b: b.baseAddress!, ldb: rank,
                      c: y, ldc: rank)
        }
    }

    /// Writes into `x` (`dimension` long) the vector whose projection is
    /// `y` and which has nothing outside the axes: basis · y.
    func lift(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        basis.withUnsafeBufferPointer { b in
            BLAS.gemv(m: dimension, n: rank, a: b.baseAddress!, lda: rank, x: y, y: x)
        }
    }
}
