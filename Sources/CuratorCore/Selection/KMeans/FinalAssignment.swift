import CKernels

/// The last step of the K-Means runs of a group: every candidate, in every
/// run, is given a cluster and its exact squared distance to that cluster's
/// centroid in the full vectors, from which come the representatives and
/// the inertia.
///
/// The Lloyd steps before ran on a sample of the candidates (and, for long
/// vectors, on their projections). Two passes over all candidates finish
/// the runs with one more Lloyd step on all of them:
/// 1. Per block of rows, one GEMM against the centroids of every run gives
///    each row's two nearest (`VectorKernels.topTwo`), on the leading
///    `rankingDimensions` principal axes when the rows are projections; the
///    row joins the nearest's cluster, and its full vector is added to that
///    cluster's sum in the same pass (the block is at hand: the full matrix
///    is read once for the sums, not once more per thread).
/// 2. Each cluster's centroid becomes the full mean of its members, and each
///    row takes whichever of its two is nearer that mean, by exact distance
///    on the full vectors.
/// The mean update is worth its pass: means of a quarter of the rows instead
/// cost more inertia than the whole subspace ranking. A row whose true
/// nearest is not among its two only counts a larger distance, so the
/// inertia never flatters a run (see `KMeansSampler` for how often).
final class FinalAssignment {
    /// Per run, per working row: the cluster, and the exact squared distance
    /// from the full vector to the cluster's centroid.
    let labels: UnsafeMutablePointer<Int32>
    let squared: UnsafeMutablePointer<Float>
    /// Per working row: the squared length of its full vector.
    let rowNorms: UnsafeMutablePointer<Float>
    /// Every run's centroids in the full vectors, `runs * k` rows.
    private(set) var centroids: [Float]

    private let rows: CandidateRows
    private let full: CandidateRows
    private let isCandidate: [Bool]
    private let runs: Int
    private let k: Int
    private let alternatives: UnsafeMutablePointer<Int32>
    /// The length of the centroids the runs hand in (the subspace's rank,
    /// or the full dimension): at least `rows.dimension`, which may hold
    /// only the leading axes the ranking needs.
    private let reducedDimension: Int
    private let blockRows = 256

    /// Assigns every candidate of `full` (`rows`, the same working rows or
    /// their projections onto `subspace` or onto its leading axes) for each
    /// run's `centroids` (`runs` × `k` rows of `reducedDimension`, the
    /// subspace's rank or the full dimension; nil: `rows.dimension`),
    /// calling `onChunk` with the fraction done between blocks (it may throw
    /// to cancel).
    init(rows: CandidateRows, full: CandidateRows, subspace: PrincipalSubspace?, rankingDimensions: Int,
         isCandidate: [Bool], runs: Int, k: Int, centroids reduced: [Float], reducedDimension: Int? = nil,
         onChunk: (Double) throws -> Void) throws {
        self.reducedDimension = reducedDimension ?? rows.dimension
        precondition(rankingDimensions <= rows.dimension && rows.dimension <= self.reducedDimension)
        self.rows = rows
        self.full = full
        self.isCandidate = isCandidate
        self.runs = runs
        self.k = k
        let entries = max(1, runs * rows.count)
        labels = .allocate(capacity: entries)
        squared = .allocate(capacity: entries)
        alternatives = .allocate(capacity: entries)
        rowNorms = .allocate(capacity: max(1, rows.count))
        centroids = []
        // Fully initialised from here: when a pass throws (cancelled), deinit frees the buffers.
        try BLAS.withSingleThreadedCalls {
            let (sums, counts) = try nearestTwo(reduced: reduced, ranking: rankingDimensions) { try onChunk(0.8 * $0) }
            centroids = means(sums: sums, counts: counts, reduced: reduced, subspace: subspace)
            try decide { try onChunk(0.8 + 0.2 * $0) }
        }
    }

    deinit {
        labels.deallocate(); squared.deallocate(); rowNorms.deallocate(); alternatives.deallocate()
    }

    /// Pass 1: each row's two nearest centroids per run, on the first
    /// `ranking` coordinates of the rows (the leading principal axes, where
    /// most of the variation is); the member sums (full vectors) and counts
    /// of the nearest, taken in the same pass while the block is at hand,
    /// so the full matrix is read once here and once by `decide`.
    private func nearestTwo(reduced: [Float], ranking: Int, onChunk: (Double) throws -> Void) throws -> ([Float], [Int]) {
        let p = rows.dimension, q = reducedDimension, d = full.dimension, wn = rows.count, width = runs * k
        var half = [Float](repeating: 0, count: width)
        reduced.withUnsafeBufferPointer { c in
            for j in 0..<width { half[j] = 0.5 * MapKernels.dot(c.baseAddress! + j * q, c.baseAddress! + j * q, ranking) }
        }
        let threads = max(1, min(activeCoreCount, (wn + blockRows - 1) / blockRows))
        let scores = UncheckedSendable(UnsafeMutablePointer<Float>.allocate(capacity: threads * blockRows * k))
        defer { scores.value.deallocate() }
        // Each thread sums the members of every run over its own blocks;
        // the threads' sums are added in thread order afterwards, so a
        // machine gives the same floats every time.
        let members = (0..<threads).map { _ in MemberSums(width: width, dimension: d) }
        // Rows summed at a time into every run's sums: they stay in the
        // core's first-level cache while each run adds them.
        let sumRows = max(16, (64 << 10) / max(1, d * 4))
        let state = UncheckedSendable(self)
        let centroids = UncheckedSendable(reduced), offsets = UncheckedSendable(half)
        try forEachRowBlock(count: wn, blockRows: blockRows, threads: threads, onChunk: onChunk) { t, block in
            let this = state.value
            let out = scores.value + t * this.blockRows * this.k
            let scratch = this.rows.makeScratch(rows: block.count)
            defer { scratch.deallocate() }
            let x = this.rows.rows(block.lowerBound, block.count, into: scratch)
            // One GEMM per run, whose block × k scores stay in the core's cache.
            centroids.value.withUnsafeBufferPointer { c in
                offsets.value.withUnsafeBufferPointer { h in
                    for r in 0..<this.runs {
                        BLAS.gemm(transposeB: true, m: block.count, n: this.k, k: ranking,
                                  a: x, lda: p,
                                  b: c.baseAddress! + r * this.k * q, ldb: q, c: out, ldc: this.k)
                        for i in block where this.isCandidate[i] {
                            let two = VectorKernels.topTwo(out + (i - block.lowerBound) * this.k,
                                                           minus: h.baseAddress! + r * this.k, count: this.k)
                            this.labels[r * wn + i] = Int32(truncatingIfNeeded: two.first)
                            this.alternatives[r * wn + i] = Int32(truncatingIfNeeded: two.second)
                        }
                    }
                }
            }
            // The block's full vectors (widened once when the matrix is float16) into every run's sums.
            let fullScratch = this.full.makeScratch(rows: block.count)
            defer { fullScratch.deallocate() }
            let vectors = this.full.rows(block.lowerBound, block.count, into: fullScratch) - block.lowerBound * d
            let own = members[t]
            for start in Swift.stride(from: block.lowerBound, to: block.upperBound, by: sumRows) {
                let part = start..<min(block.upperBound, start + sumRows)
                for r in 0..<this.runs {
                    for i in part where this.isCandidate[i] {
                        own.add(vectors + i * d, to: r * this.k + Int(this.labels[r * wn + i]))
                    }
                }
            }
        }
        var sums = [Float](repeating: 0, count: width * d)
        var counts = [Int](repeating: 0, count: width)
        sums.withUnsafeMutableBufferPointer { s in
            for m in members {
                for j in 0..<width { counts[j] += m.counts[j] }
                VectorKernels.accumulate(m.sums, into: s.baseAddress!, count: width * d)
            }
        }
        return (sums, counts)
    }

    /// One thread's member sums and counts, every run's clusters.
    private final class MemberSums {
        let sums: UnsafeMutablePointer<Float>
        var counts: [Int]
        let dimension: Int

        init(width: Int, dimension: Int) {
            self.dimension = dimension
            sums = .allocate(capacity: max(1, width * dimension))
            sums.initialize(repeating: 0, count: width * dimension)
            counts = [Int](repeating: 0, count: width)
        }

        deinit { sums.deallocate() }

        @inline(__always) func add(_ x: UnsafePointer<Float>, to column: Int) {
            counts[column] += 1
            VectorKernels.accumulate(x, into: sums + column * dimension, count: dimension)
        }
    }

    /// The full mean of each cluster's members; a cluster without members
    /// keeps its centroid, lifted from the subspace when there is one.
    private func means(sums: [Float], counts: [Int], reduced: [Float], subspace: PrincipalSubspace?) -> [Float] {
        let p = reducedDimension, d = full.dimension
        var means = sums
        means.withUnsafeMutableBufferPointer { m in
            reduced.withUnsafeBufferPointer { c in
                for j in 0..<(runs * k) {
                    let mean = m.baseAddress! + j * d
                    if counts[j] > 0 {
                        BLAS.scale(d, alpha: 1 / Float(counts[j]), mean)
                    } else if let subspace {
                        subspace.lift(c.baseAddress! + j * p, into: mean)
                    } else {
                        mean.update(from: c.baseAddress! + j * d, count: d)
                    }
                }
            }
        }
        return means
    }

    /// Pass 2: each row's nearer, by exact full distance to the means, of its two.
    private func decide(onChunk: (Double) throws -> Void) throws {
        let d = full.dimension, wn = rows.count, width = runs * k
        var norms = [Float](repeating: 0, count: width)
        centroids.withUnsafeBufferPointer { c in
            for j in 0..<width { norms[j] = BLAS.dot(d, c.baseAddress! + j * d, c.baseAddress! + j * d) }
        }
        let threads = max(1, min(activeCoreCount, (wn + blockRows - 1) / blockRows))
        let state = UncheckedSendable(self), centroidNorms = UncheckedSendable(norms)
        try forEachRowBlock(count: wn, blockRows: blockRows, threads: threads, onChunk: onChunk) { _, block in
            let this = state.value
            let scratch = this.full.makeScratch(rows: block.count)
            defer { scratch.deallocate() }
            // The block's rows as float32 (widened once when the matrix is float16), indexed by row.
            let rows = this.full.rows(block.lowerBound, block.count, into: scratch) - block.lowerBound * d
            // Both products of a row in one call (`curator_f32_dots`: the row
            // read once, no BLAS call per product; 300,000 `sdot` calls were
            // most of this pass at 30,000 rows).
            let vectors = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: 2)
            let products = UnsafeMutablePointer<Float>.allocate(capacity: 2)
            defer { vectors.deallocate(); products.deallocate() }
            this.centroids.withUnsafeBufferPointer { cb in
                let c = cb.baseAddress!
                for i in block where this.isCandidate[i] {
                    let x = rows + i * d
                    vectors[0] = UnsafePointer(x)
                    curator_f32_dots(vectors, 1, x, 1, d, products, 1)
                    this.rowNorms[i] = products[0]
                }
                // Run by run over the block (which stays in the core's cache):
                // one run's centroids at a time, not every run's for each row.
                for r in 0..<this.runs {
                    for i in block where this.isCandidate[i] {
                        let x = rows + i * d
                        let norm = this.rowNorms[i]
                        let index = r * wn + i
                        var label = Int(this.labels[index])
                        let other = Int(this.alternatives[index])
                        vectors[0] = UnsafePointer(c + (r * this.k + label) * d)
                        vectors[1] = UnsafePointer(c + (r * this.k + max(0, other)) * d)
                        curator_f32_dots(vectors, other >= 0 ? 2 : 1, x, 1, d, products, 1)
                        var best = max(0, norm + centroidNorms.value[r * this.k + label] - 2 * products[0])
                        if other >= 0 {
                            let distance = max(0, norm + centroidNorms.value[r * this.k + other] - 2 * products[1])
                            if distance < best || (distance == best && other < label) { best = distance; label = other }
                        }
                        this.labels[index] = Int32(truncatingIfNeeded: label)
                        this.squared[index] = best
                    }
                }
            }
        }
    }
}
