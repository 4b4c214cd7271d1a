/// The `rank` directions in which a set of vectors varies most (their leading
/// principal axes), estimated from a sample of them, and the projection onto
/// those directions.
///
/// Clustering uses it to rank centroids cheaply: CLIP embeddings keep most of
/// their variation in a small share of their dimensions, so distances between
/// the projections order candidate centroids almost as the full distances do,
/// for a fraction of the arithmetic (see `KMeansSampler`).
struct PrincipalSubspace {
    /// Row-major `dimension × rank`: column j is the j-th principal axis, unit
    /// length, the axis of largest variance first.
    let basis: [Float]
    /// The length of the vectors projected.
    let dimension: Int
    /// The number of axes, the length of the projections.
    let rank: Int
    /// The share of the sample's variance along the axes (0…1).
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
        guard let basis = BLAS.leadingEigenvectors(ofSymmetric: covariance, n: d, count: p) else { return nil }
        // Variance along each axis: vᵀCv, summed; the sample's total is its trace.
        var retained = 0.0
        var product = [Float](repeating: 0, count: d * p)
        BLAS.gemm(m: d, n: p, k: d, a: covariance, lda: d, b: basis, ldb: p, c: &product, ldc: p)
        for e in 0..<(d * p) { retained += Double(basis[e] * product[e]) }
        self.basis = basis
        dimension = d
        rank = p
        retainedVariance = total > 0 ? min(1, retained / (total / Double(s))) : 1
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
