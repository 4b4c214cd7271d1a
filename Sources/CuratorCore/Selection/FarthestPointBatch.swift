/// Up to `runs` FPS iterations advancing in lockstep over the working rows.
///
/// One step is one parallel pass over the rows in blocks small enough to stay
/// in cache: each block's dot products with the step's new picks come from one
/// small GEMM, and while they are hot every run's minimum distances for the
/// block are lowered and their maxima found. Runs whose pick was computed
/// before read it from `SparseColumnCache` instead.
final class FarthestPointBatch {
    let rows: CandidateRows
    let runs: Int
    let count: Int
    let n: Int
    let dimension: Int
    /// Per run, per working row: the minimum cosine distance (float32 `1 − dot`)
    /// to the picked set; −∞ for picked, included and non-candidate rows.
    let distances: UnsafeMutableBufferPointer<Float>
    /// The vectors of the step's new picks, gathered for the GEMM.
    let pickVectors: UnsafeMutableBufferPointer<Float>
    let columnCapacity: Int
    let blockRows = 256
    let threads: Int
    var cache: SparseColumnCache

    init(rows: CandidateRows, runs: Int, count: Int, cacheBudgetBytes: Int) {
        self.rows = rows
        self.runs = runs
        self.count = count
        n = rows.count
        dimension = rows.dimension
        columnCapacity = max(runs, 32)
        threads = max(1, min(activeCoreCount, n / 1024))
        distances = .allocate(capacity: max(1, runs * n))
        pickVectors = .allocate(capacity: max(1, columnCapacity * dimension))
        cache = SparseColumnCache(budgetBytes: runs > 1 ? cacheBudgetBytes : 0)
    }

    deinit {
        distances.deallocate()
        pickVectors.deallocate()
    }

    @inline(__always) func distances(of run: Int) -> UnsafeMutablePointer<Float> {
        distances.baseAddress! + run * n
    }

    /// What one step asks of the pass: per run, the column of its new pick
    /// (an index into the gathered picks) or −1 to only find its maximum.
    struct StepPlan {
        var columnOfRun: [Int]
        var columns: Int
        /// Whether to collect sparse cache entries for the new columns.
        var collect: Bool
    }

    /// Per thread: the result of its share of a pass.
    final class ThreadPart {
        var best: [Float]
        var bestBlock: [Int]
        var entries: [[Int32]]
        var values: [[Float]]
        var overflow: [Bool]
        init(runs: Int, columns: Int) {
            best = [Float](repeating: -.infinity, count: runs)
            bestBlock = [Int](repeating: -1, count: runs)
            entries = [[Int32]](repeating: [], count: columns)
            values = [[Float]](repeating: [], count: columns)
            overflow = [Bool](repeating: false, count: columns)
        }
    }

    /// Gathers the vectors of album rows `picks` (at most `columnCapacity`).
    func gather(_ picks: ArraySlice<Int>) {
        for (j, row) in picks.enumerated() {
            (pickVectors.baseAddress! + j * dimension).update(from: rows.matrix.row(row), count: dimension)
        }
    }

    /// One pass over the rows for `plan`; returns per run its largest distance
    /// and the first working row holding it (nil when all are −∞), and fills
    /// the cache with the collected columns of `fresh`.
    func pass(_ plan: StepPlan, fresh: [Int]) -> [Int?] {
        let blocks = (n + blockRows - 1) / blockRows
        let parts = (0..<threads).map { _ in ThreadPart(runs: runs, columns: plan.columns) }
        let limit = n / 4
        parallelFor(threads) { t in
            let part = parts[t]
            let firstBlock = blocks * t / threads, endBlock = blocks * (t + 1) / threads
            let products = UnsafeMutablePointer<Float>.allocate(capacity: max(1, plan.columns * blockRows))
            let thresholds = UnsafeMutablePointer<Float>.allocate(capacity: blockRows)
            defer { products.deallocate(); thresholds.deallocate() }
            for block in firstBlock..<endBlock {
                let start = block * blockRows
                let b = min(blockRows, n - start)
                if plan.columns > 0 {
                    BLAS.gemm(transposeB: true, m: plan.columns, n: b, k: dimension,
                              a: pickVectors.baseAddress!, lda: dimension,
                              b: rows.base + start * dimension, ldb: dimension, c: products, ldc: blockRows)
                }
                for r in 0..<runs {
                    let d = distances(of: r) + start
                    let j = plan.columnOfRun[r]
                    let blockBest = j >= 0
                        ? VectorKernels.lowerToCosineDistance(d, dots: products + j * blockRows, count: b)
                        : VectorKernels.maximum(d, count: b)
                    if blockBest > part.best[r] {
                        part.best[r] = blockBest
                        part.bestBlock[r] = block
                    }
                }
                guard plan.collect else { continue }
                // An entry can matter later only if it is below some run's minimum now.
                thresholds.update(from: distances(of: 0) + start, count: b)
                for r in 1..<runs {
                    VectorKernels.raiseToMaximum(thresholds, distances(of: r) + start, count: b)
                }
                for j in 0..<plan.columns where !part.overflow[j] {
                    let dots = products + j * blockRows
                    for i in 0..<b {
                        let d = 1 - dots[i]
                        if d < thresholds[i] {
                            part.entries[j].append(Int32(truncatingIfNeeded: start + i))
                            part.values[j].append(d)
                        }
                    }
                    if part.entries[j].count > limit {
                        part.overflow[j] = true
                        part.entries[j] = []
                        part.values[j] = []
                    }
                }
            }
        }
        if plan.collect {
            for (j, row) in fresh.enumerated() where !parts.contains(where: { $0.overflow[j] }) {
                var indices: [Int32] = []
                var values: [Float] = []
                for part in parts {
                    indices.append(contentsOf: part.entries[j])
                    values.append(contentsOf: part.values[j])
                }
                if indices.count <= limit { cache.insert(row: row, indices: indices, values: values) }
            }
        }
        return (0..<runs).map { r in
            var best: Float = -.infinity
            var block = -1
            for part in parts where part.best[r] > best {
                best = part.best[r]
                block = part.bestBlock[r]
            }
            guard block >= 0 else { return nil }
            let start = block * blockRows
            return VectorKernels.firstIndex(of: best, in: distances(of: r) + start, count: n - start).map { $0 + start }
        }
    }

    func run(include: [Int], starts: [Int?], onStep: (Int) throws -> Void) throws -> [[Int]] {
        // Every run starts from the same state: the included rows picked.
        let first = distances(of: 0)
        distances.initialize(repeating: .infinity)
        var next = [Int?](repeating: nil, count: runs)
        let solo = StepPlan(columnOfRun: [0] + [Int](repeating: -1, count: runs - 1), columns: 1, collect: false)
        for row in include {
            gather([row])
            _ = pass(solo, fresh: [])
        }
        rows.maskNonCandidates(first, with: -.infinity)
        for row in include { if let local = rows.localRow(row) { first[local] = -.infinity } }
        for r in 1..<max(1, runs) { distances(of: r).update(from: first, count: n) }
        let farthest = VectorKernels.firstArgmax(first, count: n)
        for r in 0..<runs {
            next[r] = starts[r].flatMap { rows.localRow($0) } ?? farthest
        }

        var picks = [[Int]](repeating: [], count: runs)
        for r in 0..<runs { picks[r].reserveCapacity(count) }
        for step in 0..<count {
            try onStep(step)
            var fresh: [Int] = []
            var freshIndex: [Int: Int] = [:]
            var plan = StepPlan(columnOfRun: [Int](repeating: -1, count: runs), columns: 0, collect: false)
            var cached: [(run: Int, row: Int)] = []
            for r in 0..<runs {
                guard let local = next[r] else { continue }
                picks[r].append(local)
                distances(of: r)[local] = -.infinity
                let row = rows.albumRow(local)
                if let j = freshIndex[row] {
                    plan.columnOfRun[r] = j
                } else if cache.contains(row) {
                    cached.append((r, row))
                } else {
                    freshIndex[row] = fresh.count
                    plan.columnOfRun[r] = fresh.count
                    fresh.append(row)
                }
            }
            if step == count - 1 { break }   // the last picks need no distances
            plan.columns = fresh.count
            plan.collect = !fresh.isEmpty && runs > 1
            if !cached.isEmpty {
                let cacheView = cache
                parallelFor(cached.count) { k in
                    cacheView.apply(row: cached[k].row, to: self.distances(of: cached[k].run))
                }
            }
            // More new picks than the gather buffer holds (huge batches): pass in chunks.
            var nextPicks: [Int?] = []
            var offset = 0
            repeat {
                let end = min(fresh.count, offset + columnCapacity)
                gather(fresh[offset..<end])
                var chunk = plan
                chunk.columns = end - offset
                chunk.columnOfRun = plan.columnOfRun.map { j in j >= offset && j < end ? j - offset : -1 }
                nextPicks = pass(chunk, fresh: Array(fresh[offset..<end]))
                offset = end
            } while offset < fresh.count
            next = nextPicks
        }
        return picks.map { $0.map(rows.albumRow) }
    }
}
