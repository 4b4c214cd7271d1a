import Foundation

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
    ///
    /// When `rank` is well under the dimension (K-Means on CLIP's 512 or
    /// 768) the axes come from randomized subspace iteration on the
    /// covariance (`subspaceIteration`) rather than from LAPACK's eigensolver
    /// on all of it, which on 768 dimensions cost more than the Lloyd steps
    /// of a 10,000-row clustering.
    init?(sample: [UnsafePointer<Float>], dimension d: Int, rank p: Int) {
        let s = sample.count
        guard p > 0, p < d, s > p else { return nil }
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: s * d)
        defer { rows.deallocate() }
        for (i, row) in sample.enumerated() { (rows + i * d).update(from: row, count: d) }
        self.init(centring: rows, count: s, dimension: d, rank: p)
    }

    /// `init(sample:dimension:rank:)` for a sample already copied into one
    /// row-major `count × dimension` block, which is centred in place (its
    /// contents are lost): no second copy of the sample. `powerSteps` is
    /// `subspaceIteration`'s.
    init?(centring rows: UnsafeMutablePointer<Float>, count s: Int, dimension d: Int, rank p: Int,
          powerSteps: Int = 2) {
        guard p > 0, p < d, s > p else { return nil }
        // The mean: float sums over blocks of rows, added up in doubles
        // (vectorised; a double per element cost a third of the covariance's time).
        var sum = [Double](repeating: 0, count: d)
        var partial = [Float](repeating: 0, count: d)
        let block = 64
        partial.withUnsafeMutableBufferPointer { part in
            for start in stride(from: 0, to: s, by: block) {
                part.update(repeating: 0)
                for i in start..<min(s, start + block) {
                    VectorKernels.accumulate(rows + i * d, into: part.baseAddress!, count: d)
                }
                for t in 0..<d { sum[t] += Double(part[t]) }
            }
        }
        let mean = sum.map { Float($0 / Double(s)) }
        var total = 0.0
        mean.withUnsafeBufferPointer { m in
            for i in 0..<s {
                let row = rows + i * d
                VectorKernels.subtract(m.baseAddress!, from: row, count: d)
                total += Double(MapKernels.dot(row, row, d))
            }
        }
        var covariance = [Float](repeating: 0, count: d * d)
        covariance.withUnsafeMutableBufferPointer { c in
            BLAS.gramOnCores(transposed: true, rows: s, depth: d, alpha: 1 / Float(s), a: rows, lda: d,
                             c: c.baseAddress!, ldc: d)
        }
        self.init(covariance: covariance, totalVariance: total / Double(s), mean: mean, dimension: d, rank: p,
                  powerSteps: powerSteps)
    }

    /// Rows whose covariance `init(rowsOf:rank:)` reads: past twice this
    /// many, every n / `sampledRows`-th row, which finds the leading axes as
    /// well as all of them do (a million rows' covariance is a minute of GEMM).
    static let sampledRows = 32_768

    /// The leading `rank` axes (at most `dimension`) of the rows of `matrix`
    /// (every one, or evenly spaced ones past `2 × sampledRows`), its
    /// covariance computed in place (XᵀX/n − mean·meanᵀ, no centred copy of
    /// the matrix); nil when the matrix is empty or the eigensolver is
    /// unavailable.
    init?(rowsOf matrix: EmbeddingMatrix, rank: Int) {
        let n = matrix.rows, d = matrix.dimension
        guard n > 0, d > 0, rank > 0 else { return nil }
        let x = UnsafePointer(matrix.storage.baseAddress!)
        let step = max(1, n / Self.sampledRows)
        let m = (n + step - 1) / step
        // mean = Xᵀ·1 / m over the rows read
        var mean = [Float](repeating: 0, count: d)
        let ones = [Float](repeating: 1, count: m)
        BLAS.gemv(transpose: true, m: m, n: d, alpha: 1 / Float(m), a: x, lda: step * d, x: ones, y: &mean)
        var covariance = [Float](repeating: 0, count: d * d)
        BLAS.gemm(transposeA: true, m: d, n: d, k: m, alpha: 1 / Float(m), a: x, lda: step * d, b: x, ldb: step * d,
                  c: &covariance, ldc: d)
        var total = 0.0
        for i in 0..<d {
            for j in 0..<d { covariance[i * d + j] -= mean[i] * mean[j] }
            total += Double(covariance[i * d + i])
        }
        self.init(covariance: covariance, totalVariance: total, mean: mean, dimension: d, rank: min(rank, d),
                  powerSteps: 0)
    }

    /// The leading `p` eigenvectors of the `d × d` covariance and the
    /// variance along each (both ways of computing the covariance end here).
    /// With `powerSteps` above 0, by subspace iteration with that many steps
    /// when the rank leaves room for its spare columns (LAPACK otherwise,
    /// and should the iteration fail).
    init?(covariance: [Float], totalVariance: Double, mean: [Float], dimension d: Int, rank p: Int,
          powerSteps: Int) {
        let width = min(d, p + max(16, p / 4))
        let found = (powerSteps > 0 && 2 * width <= d
            ? Self.subspaceIteration(covariance, dimension: d, rank: p, width: width, steps: powerSteps) : nil)
            ?? BLAS.leadingEigenvectors(ofSymmetric: covariance, n: d, count: p)
        guard let basis = found else { return nil }
        // Variance along each axis: vᵀCv; the total is the covariance's trace.
        var product = [Float](repeating: 0, count: d * p)
        covariance.withUnsafeBufferPointer { cb in
            basis.withUnsafeBufferPointer { b in
                product.withUnsafeMutableBufferPointer { out in
                    BLAS.gemmOnCores(m: d, n: p, k: d, a: cb.baseAddress!, lda: d, b: b.baseAddress!, ldb: p,
                                     c: out.baseAddress!, ldc: p)
                }
            }
        }
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

    /// The leading `rank` eigenvectors of the symmetric `d × d` matrix `c`
    /// (row-major `d × rank`, largest first), from `width` seeded random
    /// columns multiplied by `c` twice in each of `steps` steps, each step
    /// ending in a re-orthonormalisation, then the Rayleigh–Ritz vectors of
    /// the subspace they span. The spare columns make the leading `rank`
    /// converge where eigenvalues decay slowly, as they do for embeddings.
    ///
    /// The Gaussian start is orthogonal within about 1/√d already and needs
    /// no orthonormalisation. (Random signs, cheaper to draw, cost 0.3 % of
    /// inertia on the benchmark's 85,491 rows, k 100.) Two products between
    /// re-orthonormalisations (C² rather than C) halve the eigensolves of
    /// the Gram matrices (a third of the axes' time on 10,000 × 768): the
    /// rotation keeps the span however unequal the columns' lengths, and the
    /// last step's second round makes the basis orthonormal (to 3·10⁻⁵). On
    /// the benchmark's 85,491 × 768, whose eigenvalues fall 250-fold over the
    /// 160 columns, four seeds at k 100 gave the inertia of four single
    /// products within 0.13 % (−0.03 % on average). Two steps find the axes
    /// of a slowly decaying spectrum to within a few parts in a thousand;
    /// K-Means takes one (`KMeansSampler.axisPowerSteps`).
    static func subspaceIteration(_ c: [Float], dimension d: Int, rank p: Int, width q: Int, steps: Int = 2) -> [Float]? {
        var random = Xoshiro256StarStar(seed: 0x5CA_1AB1E, stream: UInt64(d) << 16 | UInt64(q))
        // Gaussian columns, two values per Box–Muller draw: the uniforms in
        // order, then their logarithms and angles on every core (2.5 ms on
        // one core at 768 × 160, while the other waited).
        let pairs = (d * q + 1) / 2
        var uniforms = [Double](repeating: 0, count: 2 * pairs)
        for e in 0..<(2 * pairs) { uniforms[e] = random.nextDouble() }
        var basis = [Float](repeating: 0, count: d * q)
        uniforms.withUnsafeBufferPointer { u in
            basis.withUnsafeMutableBufferPointer { b in
                let shared = UncheckedSendable((u.baseAddress!, b.baseAddress!))
                let parts = max(1, min(activeCoreCount, pairs / 4096))
                parallelFor(parts) { part in
                    let (u, b) = shared.value
                    for pair in (part * pairs / parts)..<((part + 1) * pairs / parts) {
                        let radius = (-2 * Foundation.log(max(u[2 * pair], 0x1.0p-53))).squareRoot()
                        let angle = 2 * Double.pi * u[2 * pair + 1]
                        b[2 * pair] = Float(radius * Foundation.cos(angle))
                        if 2 * pair + 1 < d * q { b[2 * pair + 1] = Float(radius * Foundation.sin(angle)) }
                    }
                }
            }
        }
        var once = [Float](repeating: 0, count: d * q), twice = [Float](repeating: 0, count: d * q)
        func multiply(_ x: [Float], into y: inout [Float]) {
            c.withUnsafeBufferPointer { cb in
                x.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer { out in
                        BLAS.gemmOnCores(m: d, n: q, k: d, a: cb.baseAddress!, lda: d, b: b.baseAddress!, ldb: q,
                                         c: out.baseAddress!, ldc: q)
                    }
                }
            }
        }
        let steps = max(1, steps)
        for step in 0..<steps {
            multiply(basis, into: &once)
            multiply(once, into: &twice)
            guard let next = orthonormalColumns(twice, rows: d, columns: q, rounds: step == steps - 1 ? 2 : 1) else { return nil }
            basis = next
        }
        // Rayleigh–Ritz: the eigenvectors of Qᵀ C Q, taken back through Q.
        var cq = [Float](repeating: 0, count: d * q)
        multiply(basis, into: &cq)
        var small = [Float](repeating: 0, count: q * q)
        BLAS.gemm(transposeA: true, m: q, n: q, k: d, a: basis, lda: q, b: cq, ldb: q, c: &small, ldc: q)
        symmetrize(&small, n: q)
        guard let ritz = BLAS.leadingEigenvectors(ofSymmetric: small, n: q, count: p) else { return nil }
        var axes = [Float](repeating: 0, count: d * p)
        BLAS.gemm(m: d, n: p, k: q, a: basis, lda: q, b: ritz, ldb: p, c: &axes, ldc: p)
        return axes
    }

    /// An orthonormal basis (row-major `rows × columns`) of the span of the
    /// columns of `y`: rotated by the eigenvectors of YᵀY, whose columns are
    /// then orthogonal, and each scaled to unit length. One round in single
    /// precision leaves the columns only roughly orthogonal when their lengths
    /// differ widely, which the power steps tolerate; the basis the axes come
    /// from gets a second. Nil when the columns are dependent.
    static func orthonormalColumns(_ y: [Float], rows d: Int, columns q: Int, rounds: Int) -> [Float]? {
        var current = y
        for _ in 0..<rounds {
            var gram = [Float](repeating: 0, count: q * q)
            BLAS.gemm(transposeA: true, m: q, n: q, k: d, a: current, lda: q, b: current, ldb: q, c: &gram, ldc: q)
            symmetrize(&gram, n: q)
            guard let rotation = BLAS.leadingEigenvectors(ofSymmetric: gram, n: q, count: q) else { return nil }
            var rotated = [Float](repeating: 0, count: d * q)
            BLAS.gemm(m: d, n: q, k: q, a: current, lda: q, b: rotation, ldb: q, c: &rotated, ldc: q)
            // Column lengths row by row (each column's sum in the same order
            // as a walk down it, without a cache line per element).
            var norms = [Float](repeating: 0, count: q)
            for i in 0..<d { for j in 0..<q { norms[j] += rotated[i * q + j] * rotated[i * q + j] } }
            guard norms.allSatisfy({ $0 > 1e-30 && $0.isFinite }) else { return nil }
            let scales = norms.map { 1 / $0.squareRoot() }
            for i in 0..<d { for j in 0..<q { rotated[i * q + j] *= scales[j] } }
            current = rotated
        }
        return current
    }

    /// Makes the `n × n` matrix `m` exactly symmetric by averaging each pair
    /// of mirrored entries. A product like QᵀCQ or YᵀY is symmetric only up to
    /// the GEMM's rounding, and the eigensolver reads one triangle: averaging
    /// keeps what both triangles carry instead of dropping one.
    static func symmetrize(_ m: inout [Float], n: Int) {
        for i in 0..<n {
            for j in 0..<i {
                let v = 0.5 * (m[i * n + j] + m[j * n + i])
                m[i * n + j] = v
                m[j * n + i] = v
            }
        }
    }

    /// The same subspace cut to its leading `count` axes (all of them when
    /// `count` is not smaller): projections onto it are the first `count`
    /// coordinates of projections onto this one (up to rounding).
    func leading(_ count: Int) -> PrincipalSubspace {
        guard count < rank, count > 0 else { return self }
        var cut = [Float](repeating: 0, count: dimension * count)
        for i in 0..<dimension { for j in 0..<count { cut[i * count + j] = basis[i * rank + j] } }
        let kept = variances.prefix(count).reduce(0) { $0 + Double($1) }
        let all = variances.reduce(0) { $0 + Double($1) }
        return PrincipalSubspace(basis: cut, dimension: dimension, rank: count, mean: mean,
                                 variances: Array(variances.prefix(count)),
                                 retainedVariance: all > 0 ? retainedVariance * kept / all : retainedVariance)
    }

    private init(basis: [Float], dimension: Int, rank: Int, mean: [Float], variances: [Float], retainedVariance: Double) {
        self.basis = basis
        self.dimension = dimension
        self.rank = rank
        self.mean = mean
        self.variances = variances
        self.retainedVariance = retainedVariance
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
