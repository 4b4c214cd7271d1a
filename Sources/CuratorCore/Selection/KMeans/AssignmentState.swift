import CKernels
import Foundation

/// Lloyd steps on every working row (the candidates, or the refinement
/// sample of them) for all iterations of a group at once. The
/// first pass computes every distance (one GEMM per block of rows against the
/// centroids of every run) and remembers, per run and row, its `listLength`
/// nearest centroids, a lower bound on the distance to every centroid but the
/// nearest, and one on every unlisted centroid. After a step, each run's
/// `hotCount` centroids that moved most get exact distances to every row (a
/// GEMM as wide as a tenth of the first pass's); the other moves were at most
/// `largestShift`, so the bounds drop by that (Hamerly's bound, made useful by
/// taking out the few centroids that move far: the largest moves are 10 to 20
/// times the typical one). Then per row: its own centroid's exact distance
/// within the bound on all others settles it (one dot product); else the
/// nearest listed centroid within the bound on the unlisted ones does
/// (`listLength` dot products); else the row is gathered and multiplied
/// against its run's centroids, which renews its list. Member sums are kept
/// in doubles and updated only by rows that change cluster, so a step costs
/// in proportion to what moves (on the benchmark 5 % of row-iterations are
/// recomputed in the first bounded step, 3 % in the later ones).
final class AssignmentState {
    let rows: CandidateRows
    let isCandidate: [Bool]
    let runs: Int
    let k: Int
    let dimension: Int
    /// Centroids remembered per run and row (all of them when `k` is smaller).
    let listLength: Int
    /// Every run's centroids, `runs * k` rows of `dimension`.
    var centroids: [Float]
    /// Per run, per working row: the nearest centroid and the exact squared distance to it.
    let labels: UnsafeMutablePointer<Int32>
    let squared: UnsafeMutablePointer<Float>
    /// Per run, per working row: `listLength` centroids, and a lower bound on
    /// the distance to every centroid not among them.
    let lists: UnsafeMutablePointer<Int32>
    let outside: UnsafeMutablePointer<Float>
    /// Per run, per working row: a lower bound on the distance to every
    /// centroid but its nearest.
    let second: UnsafeMutablePointer<Float>
    /// Per working row: its squared length.
    let rowNorms: UnsafeMutablePointer<Float>
    /// Per run: the `hotCount` centroids that moved most in the last step
    /// (their exact distances are computed for every row, one GEMM per block),
    /// and the largest move of any other centroid, by which the bounds drop.
    let hotCount: Int
    var hot: [Int]
    var hotCentroids: [Float]
    var largestShift: [Float]
    /// Per centroid: the sum and number of its members.
    var sums: [Double]
    var counts: [Int]
    /// Row-runs recomputed in the last pass (the rest were settled by their lists).
    var recomputed = 0
    let blockRows = 256

    init(rows: CandidateRows, isCandidate: [Bool], runs: Int, k: Int, listLength: Int, hotCount: Int,
         centroids: [Float]) {
        self.rows = rows
        self.isCandidate = isCandidate
        self.runs = runs
        self.k = k
        dimension = rows.dimension
        self.listLength = max(1, min(listLength, k))
        self.hotCount = min(k, max(1, hotCount))
        hot = []
        hotCentroids = []
        self.centroids = centroids
        let entries = max(1, runs * rows.count)
        labels = .allocate(capacity: entries)
        squared = .allocate(capacity: entries)
        lists = .allocate(capacity: entries * self.listLength)
        outside = .allocate(capacity: entries)
        second = .allocate(capacity: entries)
        rowNorms = .allocate(capacity: max(1, rows.count))
        largestShift = [Float](repeating: 0, count: runs)
        sums = [Double](repeating: 0, count: runs * k * rows.dimension)
        counts = [Int](repeating: 0, count: runs * k)
    }

    deinit {
        labels.deallocate(); squared.deallocate(); lists.deallocate(); outside.deallocate(); second.deallocate()
        rowNorms.deallocate()
    }

    /// Every run's centroids moved to the means of their members (one
    /// without members stays), as `moveCentroidsToMeans` would, without
    /// touching the state.
    func memberMeans() -> [Float] {
        var means = centroids
        let d = dimension
        for j in 0..<(runs * k) where counts[j] > 0 {
            let scale = 1 / Double(counts[j])
            for t in 0..<d { means[j * d + t] = Float(sums[j * d + t] * scale) }
        }
        return means
    }

    /// Moves every centroid with members to their mean (one without members
    /// stays), then picks each run's hot centroids and the largest other move.
    func moveCentroidsToMeans() {
        let d = dimension
        var shift = [Float](repeating: 0, count: runs * k)
        centroids.withUnsafeMutableBufferPointer { c in
            for j in 0..<(runs * k) where counts[j] > 0 {
                let scale = 1 / Double(counts[j])
                var moved: Float = 0
                for t in 0..<d {
                    let mean = Float(sums[j * d + t] * scale)
                    let step = mean - c[j * d + t]
                    moved += step * step
                    c[j * d + t] = mean
                }
                shift[j] = moved.squareRoot()
            }
        }
        hot = []
        hot.reserveCapacity(runs * hotCount)
        for r in 0..<runs {
            let order = (0..<k).sorted { shift[r * k + $0] != shift[r * k + $1] ? shift[r * k + $0] > shift[r * k + $1] : $0 < $1 }
            hot += order.prefix(hotCount)
            largestShift[r] = hotCount < k ? shift[r * k + order[hotCount]] : 0
        }
        hotCentroids = [Float](repeating: 0, count: runs * hotCount * d)
        centroids.withUnsafeBufferPointer { c in
            hotCentroids.withUnsafeMutableBufferPointer { h in
                for r in 0..<runs {
                    for q in 0..<hotCount {
                        (h.baseAddress! + (r * hotCount + q) * d).update(from: c.baseAddress! + (r * k + hot[r * hotCount + q]) * d, count: d)
                    }
                }
            }
        }
    }

    /// One thread's scratch buffers and its changes to the member sums.
    final class Worker {
        var sums: [Float]
        var counts: [Int]
        var changed = 0
        var recomputed = 0
        let scores: UnsafeMutablePointer<Float>
        let gathered: UnsafeMutablePointer<Float>
        let pending: UnsafeMutablePointer<Int>
        let topValues: UnsafeMutablePointer<Float>
        let topLabels: UnsafeMutablePointer<Int32>
        /// A block of rows widened to float32, when the rows are a float16 matrix's.
        let rowScratch: UnsafeMutablePointer<Float>
        /// Centroids (`listLength` at most) and their products with a row.
        let vectors: UnsafeMutablePointer<UnsafePointer<Float>?>
        let products: UnsafeMutablePointer<Float>

        init(width: Int, dimension: Int, blockRows: Int, scoreColumns: Int, listLength: Int) {
            sums = [Float](repeating: 0, count: width * dimension)
            counts = [Int](repeating: 0, count: width)
            scores = .allocate(capacity: blockRows * scoreColumns)
            gathered = .allocate(capacity: blockRows * dimension)
            pending = .allocate(capacity: blockRows)
            topValues = .allocate(capacity: listLength + 1)
            topLabels = .allocate(capacity: listLength + 1)
            rowScratch = .allocate(capacity: blockRows * dimension)
            vectors = .allocate(capacity: max(1, listLength))
            products = .allocate(capacity: max(1, listLength))
        }

        deinit {
            scores.deallocate(); gathered.deallocate(); pending.deallocate(); topValues.deallocate(); topLabels.deallocate()
            rowScratch.deallocate(); vectors.deallocate(); products.deallocate()
        }

        @inline(__always) func add(_ x: UnsafePointer<Float>, to centroid: Int, _ d: Int) {
            counts[centroid] += 1
            sums.withUnsafeMutableBufferPointer { VectorKernels.accumulate(x, into: $0.baseAddress! + centroid * d, count: d) }
        }

        @inline(__always) func move(_ x: UnsafePointer<Float>, from old: Int, to new: Int, _ d: Int) {
            counts[old] -= 1
            counts[new] += 1
            sums.withUnsafeMutableBufferPointer { s in
                VectorKernels.subtract(x, from: s.baseAddress! + old * d, count: d)
                VectorKernels.accumulate(x, into: s.baseAddress! + new * d, count: d)
            }
            changed += 1
        }
    }

    /// Renews the list of one row and run from its dot products `scores` with
    /// the run's `k` centroids (halved squared lengths `half`): the nearest
    /// maximise `x·c − ½‖c‖²`, first index on ties. Returns the nearest.
    @inline(__always)
    func renew(_ index: Int, norm: Float, scores: UnsafePointer<Float>, half: UnsafePointer<Float>,
               worker: Worker) -> Int {
        let values = worker.topValues, labels = worker.topLabels
        let keep = VectorKernels.largest(listLength + 1, of: scores, minus: half, count: k, values: values, labels: labels)
        let list = lists + index * listLength
        for q in 0..<listLength { list[q] = labels[q] }
        outside[index] = keep > listLength ? max(0, norm - 2 * values[listLength]).squareRoot() : .infinity
        second[index] = keep > 1 ? max(0, norm - 2 * values[1]).squareRoot() : .infinity
        self.labels[index] = labels[0]
        squared[index] = max(0, norm - 2 * values[0])
        return Int(labels[0])
    }

    /// One pass over every candidate for every run; `full` computes every
    /// distance (the first pass, which also starts the member sums).
    /// Leaves every label and squared distance exact. Returns how many labels
    /// changed over all runs (every candidate for a full pass).
    func pass(full: Bool, onChunk: (Double) throws -> Void) throws -> Int {
        let d = dimension
        let wn = rows.count
        let width = runs * k
        var half = [Float](repeating: 0, count: width)
        centroids.withUnsafeBufferPointer { c in
            for j in 0..<width { half[j] = 0.5 * BLAS.dot(d, c.baseAddress! + j * d, c.baseAddress! + j * d) }
        }
        let threads = max(1, min(activeCoreCount, wn / blockRows))
        let workers = (0..<threads).map { _ in
            Worker(width: width, dimension: d, blockRows: blockRows, scoreColumns: full ? k : k + runs * hotCount,
                   listLength: listLength)
        }
        try centroids.withUnsafeBufferPointer { cb in
            try half.withUnsafeBufferPointer { hb in
                let c = cb.baseAddress!, h = hb.baseAddress!
                try forEachRowBlock(count: wn, blockRows: blockRows, threads: threads, onChunk: onChunk) { t, block in
                    if full {
                        self.fullBlock(start: block.lowerBound, rows: block.count, centroids: c, half: h, worker: workers[t])
                    } else {
                        self.listedBlock(start: block.lowerBound, rows: block.count, centroids: c, half: h, worker: workers[t])
                    }
                }
            }
        }
        var changed = 0
        recomputed = 0
        for w in workers {
            changed += w.changed
            recomputed += w.recomputed
            for j in 0..<width { counts[j] += w.counts[j] }
            for e in 0..<(width * d) { sums[e] += Double(w.sums[e]) }
        }
        return full ? rows.candidates.count : changed
    }

    /// Every distance of a block of rows to every run's centroids (one GEMM).
    private func fullBlock(start: Int, rows b: Int, centroids c: UnsafePointer<Float>, half: UnsafePointer<Float>,
                           worker: Worker) {
        let d = dimension, wn = rows.count
        let x = rows.rows(start, b, into: worker.rowScratch)
        for i in 0..<b where isCandidate[start + i] { rowNorms[start + i] = MapKernels.dot(x + i * d, x + i * d, d) }
        // One GEMM per run: its block × k scores stay in the core's cache for
        // the lists (one product against every run's centroids would write
        // and read back megabytes).
        for r in 0..<runs {
            BLAS.gemm(transposeB: true, m: b, n: k, k: d, a: x, lda: d, b: c + r * k * d, ldb: d, c: worker.scores, ldc: k)
            for i in 0..<b where isCandidate[start + i] {
                let label = renew(r * wn + start + i, norm: rowNorms[start + i], scores: worker.scores + i * k,
                                  half: half + r * k, worker: worker)
                worker.add(x + i * d, to: r * k + label, d)
            }
        }
        worker.recomputed += b * runs
    }

    /// A block of rows after a step: per run, each row's listed centroids
    /// settle it when the nearest of them is within the bound on all others;
    /// the rest are gathered and multiplied against that run's centroids.
    private func listedBlock(start: Int, rows b: Int, centroids c: UnsafePointer<Float>, half: UnsafePointer<Float>,
                             worker: Worker) {
        let d = dimension, wn = rows.count
        let x = rows.rows(start, b, into: worker.rowScratch)
        let hotWidth = runs * hotCount
        // Hot scores go past the recompute scores (b × k) in the worker's buffer.
        let hotScores = worker.scores + blockRows * k
        // Local copies: every read of a class's `var` would be checked for exclusive access.
        let hot = self.hot, largestShift = self.largestShift
        let vectors = worker.vectors, products = worker.products
        hotCentroids.withUnsafeBufferPointer { h in
            BLAS.gemm(transposeB: true, m: b, n: hotWidth, k: d, a: x, lda: d, b: h.baseAddress!, ldb: d,
                      c: hotScores, ldc: hotWidth)
        }
        for r in 0..<runs {
            let base = r * k
            let shift = largestShift[r]
            var m = 0
            for i in 0..<b where isCandidate[start + i] {
                let index = r * wn + start + i
                let xi = x + i * d
                let norm = rowNorms[start + i]
                let old = Int(labels[index])
                let list = lists + index * listLength
                // Centroids that are not hot moved at most `shift`; a hot one's distance is exact.
                // Compared squared (a bound at or below 0 cannot be beaten), one root at the end.
                let othersBound = second[index] - shift, unlistedBound = outside[index] - shift
                var othersSquared = othersBound > 0 ? othersBound * othersBound : -1
                var unlistedSquared = unlistedBound > 0 ? unlistedBound * unlistedBound : -1
                var othersHot = false, unlistedHot = false
                let hotRow = hotScores + i * hotWidth + r * hotCount
                for q in 0..<hotCount {
                    let j = hot[r * hotCount + q]
                    let squared = max(0, norm + 2 * half[base + j] - 2 * hotRow[q])
                    if squared < othersSquared && j != old { othersSquared = squared; othersHot = true }
                    if squared < unlistedSquared && !(0..<listLength).contains(where: { list[$0] == j }) {
                        unlistedSquared = squared; unlistedHot = true
                    }
                }
                let others = othersHot ? min(othersBound, othersSquared.squareRoot()) : othersBound
                let unlisted = unlistedHot ? min(unlistedBound, unlistedSquared.squareRoot()) : unlistedBound
                outside[index] = unlisted
                // Hamerly's test: the row's own centroid, exactly, against the bound on all others.
                // Products by `curator_f32_dots` (AVX-512 where there is
                // one; this pass's main cost was its dot products).
                vectors[0] = UnsafePointer(c + (base + old) * d)
                curator_f32_dots(vectors, 1, xi, 1, d, products, 1)
                let own = max(0, norm + 2 * half[base + old] - 2 * products[0])
                if own.squareRoot() <= others {
                    squared[index] = own
                    second[index] = others
                    continue
                }
                // The listed centroids, exactly, against the bound on the unlisted ones.
                for q in 0..<listLength { vectors[q] = UnsafePointer(c + (base + Int(list[q])) * d) }
                curator_f32_dots(vectors, listLength, xi, 1, d, products, 1)
                var best = Float.infinity, next = Float.infinity, label = -1
                for q in 0..<listLength {
                    let j = Int(list[q])
                    let sq = j == old ? own : max(0, norm + 2 * half[base + j] - 2 * products[q])
                    if sq < best || (sq == best && j < label) {
                        next = best; best = sq; label = j
                    } else if sq < next {
                        next = sq
                    }
                }
                if best.squareRoot() <= unlisted {
                    labels[index] = Int32(label)
                    squared[index] = best
                    second[index] = min(next.squareRoot(), unlisted)
                    if label != old { worker.move(xi, from: base + old, to: base + label, d) }
                } else {
                    worker.pending[m] = i
                    m += 1
                }
            }
            guard m > 0 else { continue }
            worker.recomputed += m
            for q in 0..<m {
                (worker.gathered + q * d).update(from: x + worker.pending[q] * d, count: d)
            }
            BLAS.gemm(transposeB: true, m: m, n: k, k: d, a: worker.gathered, lda: d, b: c + base * d, ldb: d,
                      c: worker.scores, ldc: k)
            for q in 0..<m {
                let i = worker.pending[q]
                let index = r * wn + start + i
                let old = Int(labels[index])
                let label = renew(index, norm: rowNorms[start + i], scores: worker.scores + q * k, half: half + base,
                                  worker: worker)
                if label != old { worker.move(x + i * d, from: base + old, to: base + label, d) }
            }
        }
    }
}
