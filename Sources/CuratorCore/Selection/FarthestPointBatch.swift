/// Up to `runs` FPS iterations advancing in lockstep over the working rows.
///
/// A pass is one parallel sweep over the rows in blocks small enough to stay
/// in cache: each block's dot products with the new picks of every run come
/// from one small GEMM, and while they are hot each run's minimum distances
/// for the block are lowered and their maxima found.
///
/// Most steps need no pass. A run's new pick is first kept pending; its next
/// pick is then found lazily: the stored minima are upper bounds, so only the
/// rows whose bound reaches the current maximum have their distance to the
/// pending picks computed, newest picks first, a few at a time, each row only
/// until it falls below what the maximum can be; until the maximum is exact —
/// the same argmax, ties included, as an eager update. Every distance, in a
/// pass or a lazy step, comes from `FixedOrderDots`, so the same row and pick
/// give the same float either way.
/// When that would touch too many rows, or too many picks are pending, one
/// pass applies the pending picks of the runs that need it, and of the runs
/// holding at most `passJoinLimit` (by default all). Rows a run picks that
/// some other run picked before come from `SparseColumnCache` instead.
///
/// With `ties`, every row within its tolerance of a run's maximum is made
/// exact too, and when another row lies there besides the maximum (seen from
/// values each step computes anyway: the lazy step's top rows, the pass's
/// block maxima) those rows are settled on exact values (`TieSettling`).
/// Without such a near-tie, nothing more is done.
final class FarthestPointBatch {
    let rows: CandidateRows
    let runs: Int
    let count: Int
    let n: Int
    let dimension: Int
    /// Per run, per working row: an upper bound of the minimum cosine distance
    /// (float32 `1 − dot`) to the picked set, exact once the run's pending picks
    /// are applied; −∞ for picked, included and non-candidate rows.
    let distances: UnsafeMutableBufferPointer<Float>
    let blockRows = 256
    /// The cores the engine may use at most.
    let cores: Int
    /// The threads a pass is split over.
    let threads: Int
    /// Picks a run may hold pending before a pass applies them.
    let maxPending: Int
    /// Rows a lazy step may evaluate before it gives up for a pass. Each
    /// evaluated row costs at most one dot product per pending pick, where a
    /// pass costs one per pending pick for every row (of every run joining
    /// it): up to 65,536 rows, every row may be evaluated, so a lazy step
    /// never costs more than the pass it saves; past that, a sixteenth of
    /// the rows. (At 10,000 × 768, 5 runs of 200, a sixteenth made 6 passes
    /// applying 437 columns in all, for 0.118 s of CPU; all rows, 3 passes
    /// and 15 columns, 0.082 s. 85k and 1M passed the same columns either
    /// way. A fixed 4,096 made the 1M × 512 benchmark fall back on passes
    /// late in its runs: 308 columns over the matrix in all; 59 now.)
    let lazyLimit: Int
    /// Rows a lazy step gathers for one GEMM at most (its scratch per thread).
    let gatherRows: Int
    /// A pass another run needs also applies the pending picks of each run
    /// that has at most this many.
    let passJoinLimit: Int
    var cache: SparseColumnCache
    /// Per run: album rows picked but not yet applied to `distances`.
    var pending: [[Int]]
    /// Per run, `maxPending` slots: where the vector of each pending row
    /// lies, in the matrix itself when it is float32 (a copy cost a page
    /// fault per 4 KiB on its first use: 370 of them, about 0.3 ms, in
    /// 5 × 100 picks at 10,000 × 768), else in `pendingCopies`.
    let pendingVectors: UnsafeMutableBufferPointer<UnsafePointer<Float>?>
    /// Float32 copies of the pending rows of a float16 matrix, `maxPending`
    /// slots of `dimension` per run (a token allocation for a float32 one).
    let pendingCopies: UnsafeMutableBufferPointer<Float>
    /// Per run, per working row: which of the run's pending picks its stored
    /// distance already includes, an interval of their indices (`Included`);
    /// the distance is exact when that is all of them.
    let applied: UnsafeMutableBufferPointer<UInt32>
    /// Pending picks a lazy step applies at a time at most, newest first
    /// (`firstLazyChunk`, then 8): a row stops as soon as it falls below what
    /// the maximum can be, and the newest picks, made in the emptiest places,
    /// are the likeliest to bring it there.
    let lazyChunk = 8
    /// The newest pending picks a lazy step applies first, together. Most
    /// rows fall below the maximum with the newest pick alone, but reading a
    /// row (from L3 or memory: a lazy step's rows are scattered over the
    /// matrix) costs more than its products with a few picks once the next
    /// rows are fetched ahead (`curator_f32_dots_far`), and a row that does not
    /// fall needs the older picks read again. (5 runs, two cores, CPU: at
    /// 10,000 × 768, 1, 1, 2, 4, 8 at a time against 4, 8: 0.033 → 0.028 s
    /// for 100 picks, 0.084 → 0.065 s for 200, with 9 % and 6 % more
    /// products; at 30,000, 0.033 → 0.031 s and 0.081 → 0.071 s; 2, 6 or 8
    /// first were no better than 4.)
    let firstLazyChunk = 4
    /// Per run: the rows that can hold its maximum (see `LazyRun`). One
    /// object per run in an array never mutated after `init`, because the
    /// lazy steps of different runs update them on different threads at
    /// once: a shared `[[Int]]` written by element from two threads races on
    /// the outer buffer (copy-on-write, release of the old one), which
    /// ThreadSanitizer reported here.
    let lazyRuns: [LazyRun]
    let scratch: [LazyScratch]
    /// What the run cost, for benchmarks and tests.
    var statistics = FarthestPointStatistics()
    /// A run stops before a pick whose minimum distance to the picked set is
    /// below this (`count="auto"`): everything left is that close to a pick.
    let stopBelow: Float
    /// Near-ties are settled on exact values (`TieSettling`), or nil: the
    /// first row at the float32 maximum wins.
    let ties: TieSettling?
    /// `ties`' tolerance (0 without): every row within it of a run's maximum
    /// is made exact before the run picks.
    let tieMargin: Float
    /// Per run, set by the last `pass`: whether a row other than the one it
    /// returned lies within `tieMargin` of the run's maximum.
    private var passNearTie: [Bool]

    /// `threads` bounds the cores its passes and lazy steps use (by default
    /// all): an engine given one core runs wholly on the calling thread, so
    /// that several can advance side by side (`FarthestPointSampler`).
    init(rows: CandidateRows, runs: Int, count: Int, cacheBudgetBytes: Int, stopBelow: Float = -.infinity,
         lazyLimit limit: Int? = nil, passJoinLimit: Int = .max, ties: TieSettling? = nil, threads cores: Int? = nil) {
        self.passJoinLimit = passJoinLimit
        self.ties = ties
        tieMargin = ties?.tolerance ?? 0
        passNearTie = [Bool](repeating: false, count: runs)
        self.rows = rows
        self.stopBelow = stopBelow
        self.runs = runs
        self.count = count
        n = rows.count
        dimension = rows.dimension
        let cores = max(1, min(activeCoreCount, cores ?? activeCoreCount))
        self.cores = cores
        threads = max(1, min(cores, n / 1024))
        lazyLimit = max(1, limit ?? max(n / 16, min(n, 65_536)))
        gatherRows = min(lazyLimit, 1024)
        maxPending = max(1, min(count, 256))
        distances = .allocate(capacity: max(1, runs * n))
        pendingVectors = .allocate(capacity: max(1, runs * maxPending))
        pendingCopies = .allocate(capacity: rows.matrix.precision == .float32 ? 1 : max(1, runs * maxPending * rows.dimension))
        applied = .allocate(capacity: max(1, runs * n))
        applied.initialize(repeating: 0)
        lazyRuns = (0..<runs).map { _ in LazyRun() }
        let widens = rows.needsScratch
        cache = SparseColumnCache(budgetBytes: runs > 1 ? cacheBudgetBytes : 0)
        pending = [[Int]](repeating: [], count: runs)
        let (gatherRows, lazyChunk, dimension) = (gatherRows, lazyChunk, dimension)
        scratch = (0..<max(1, min(cores, runs))).map { _ in
            LazyScratch(rows: gatherRows, picks: lazyChunk, dimension: dimension, widens: widens)
        }
    }

    deinit {
        distances.deallocate()
        pendingVectors.deallocate()
        pendingCopies.deallocate()
        applied.deallocate()
    }

    /// Where run `r`'s pending vectors start.
    @inline(__always) func pendingVectors(of run: Int) -> UnsafeMutablePointer<UnsafePointer<Float>?> {
        pendingVectors.baseAddress! + run * maxPending
    }

    /// Where album row `row`'s vector reads as float32: in place when the
    /// matrix is float32, else widened into slot `slot` of `copies` (slots
    /// of `dimension` floats). Passes and lazy steps both reach picks so.
    @inline(__always) private func pickVector(_ row: Int, copies: UnsafeMutablePointer<Float>, slot: Int) -> UnsafePointer<Float> {
        guard rows.matrix.precision != .float32 else { return UnsafePointer(rows.matrix.row(row)) }
        let copy = copies + slot * dimension
        rows.matrix.copyRow(row, into: copy)
        return UnsafePointer(copy)
    }

    @inline(__always) func distances(of run: Int) -> UnsafeMutablePointer<Float> {
        distances.baseAddress! + run * n
    }

    /// One run's lazy-step state: the rows that can hold its maximum — every
    /// other row's stored distance is below `floor` (distances only ever
    /// decrease, so this stays true until the maximum itself drops below the
    /// floor). Touched only by the thread stepping that run.
    final class LazyRun {
        var topRows: [Int] = []
        var floor: Float = .infinity
        /// Whether the last pick found without a pass has another row
        /// within the tie margin of it (then `TieSettling` decides).
        var nearTie = false
        /// Rows of this run that were near a tie: how far their exact scores went.
        var nearest: [Int: TieSettling.Nearest] = [:]
        /// Dot products its lazy steps computed (statistics).
        var products = 0
    }

    /// The pending picks a row's stored distance includes: indices
    /// `low..<high`, packed in one `UInt32` (`maxPending` ≤ 256 fits 16 bits).
    struct Included {
        var low: Int
        var high: Int
        @inline(__always) init(low: Int, high: Int) { (self.low, self.high) = (low, high) }
        @inline(__always) init(_ packed: UInt32) { (low, high) = (Int(packed & 0xFFFF), Int(packed >> 16)) }
        @inline(__always) var packed: UInt32 { UInt32(low) | UInt32(high) << 16 }
        /// Whether these are all of `total` pending picks.
        @inline(__always) func isAll(_ total: Int) -> Bool { low == 0 && high == total }
        @inline(__always) func covers(_ start: Int, _ end: Int) -> Bool { low <= start && end <= high }
        /// After a lazy step applied every pick from `start` up to `total`
        /// (those it had already included, skipped): one interval again, the
        /// older one dropped when the two do not meet (a row may then get
        /// some picks applied twice later, which changes nothing).
        @inline(__always) func extended(down start: Int, total: Int) -> Included {
            start <= high ? Included(low: min(start, low), high: total) : Included(low: start, high: total)
        }
    }

    /// Per thread buffers of the lazy steps.
    final class LazyScratch {
        /// Float16 rows widened to float32 (only for a float16 album matrix).
        let gathered: UnsafeMutablePointer<Float>
        let products: UnsafeMutablePointer<Float>
        let pointers: UnsafeMutablePointer<UnsafePointer<Float>?>
        let needing: UnsafeMutablePointer<UnsafePointer<Float>?>
        let needingIndex: UnsafeMutablePointer<Int32>
        let alive: UnsafeMutablePointer<Int32>
        var candidates: [Int] = []
        init(rows: Int, picks: Int, dimension: Int, widens: Bool) {
            gathered = .allocate(capacity: widens ? rows * dimension : 1)
            products = .allocate(capacity: rows * picks)
            pointers = .allocate(capacity: rows)
            needing = .allocate(capacity: rows)
            needingIndex = .allocate(capacity: rows)
            alive = .allocate(capacity: rows)
            candidates.reserveCapacity(rows)
        }
        deinit {
            gathered.deallocate()
            products.deallocate()
            pointers.deallocate()
            needing.deallocate()
            needingIndex.deallocate()
            alive.deallocate()
        }
    }

    /// Per thread: its share of a pass.
    final class ThreadPart {
        var best: [Float]
        var bestBlock: [Int]
        /// Per run: the largest block maximum of the blocks other than `bestBlock`.
        var second: [Float]
        var entries: [[Int32]]
        var values: [[Float]]
        var overflow: [Bool]
        init(runs: Int, columns: Int) {
            best = [Float](repeating: -.infinity, count: runs)
            bestBlock = [Int](repeating: -1, count: runs)
            second = [Float](repeating: -.infinity, count: runs)
            entries = [[Int32]](repeating: [], count: columns)
            values = [[Float]](repeating: [], count: columns)
            overflow = [Bool](repeating: false, count: columns)
        }
    }

    /// One pass applying `columnsOfRun[r]` (indices into `picks`, album rows) to
    /// each run; returns per run the first working row holding its largest
    /// distance (nil when all are −∞, or when the run has no columns: it
    /// takes no part). With `collect`, keeps the columns of `picks` in the
    /// cache for runs that pick the same rows later.
    func pass(picks: [Int], columnsOfRun: [[Int]], collect: Bool) -> [Int?] {
        let m = picks.count
        let d = dimension
        let pickVectors = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: max(1, m))
        let copies = UnsafeMutablePointer<Float>.allocate(capacity: rows.matrix.precision == .float32 ? 1 : max(1, m * d))
        defer { pickVectors.deallocate(); copies.deallocate() }
        for (j, row) in picks.enumerated() { pickVectors[j] = pickVector(row, copies: copies, slot: j) }
        statistics.passes += 1
        statistics.columns += m
        let blocks = (n + blockRows - 1) / blockRows
        let parts = (0..<threads).map { _ in ThreadPart(runs: runs, columns: m) }
        let limit = n / 4
        parallelFor(threads) { t in
            let part = parts[t]
            let firstBlock = blocks * t / threads, endBlock = blocks * (t + 1) / threads
            let products = UnsafeMutablePointer<Float>.allocate(capacity: max(1, m * blockRows))
            let thresholds = UnsafeMutablePointer<Float>.allocate(capacity: blockRows)
            let pointers = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: blockRows)
            let rowScratch = rows.makeScratch(rows: blockRows)
            defer { products.deallocate(); thresholds.deallocate(); pointers.deallocate(); rowScratch.deallocate() }
            for block in firstBlock..<endBlock {
                let start = block * blockRows
                let b = min(blockRows, n - start)
                if m > 0 {
                    let first = rows.rows(start, b, into: rowScratch)
                    for i in 0..<b { pointers[i] = first + i * d }
                    FixedOrderDots.products(rows: pointers, count: b, vectors: pickVectors, m: m, dimension: d,
                                            into: products, ldo: blockRows)
                }
                for r in 0..<runs where !columnsOfRun[r].isEmpty {
                    let dist = distances(of: r) + start
                    var blockBest = -Float.infinity
                    for j in columnsOfRun[r] {
                        blockBest = VectorKernels.lowerToCosineDistance(dist, dots: products + j * blockRows, count: b)
                    }
                    if blockBest > part.best[r] {
                        part.second[r] = max(part.second[r], part.best[r])
                        part.best[r] = blockBest
                        part.bestBlock[r] = block
                    } else if blockBest > part.second[r] {
                        part.second[r] = blockBest
                    }
                }
                guard collect else { continue }
                // An entry can matter later only if it is below some run's current minimum.
                thresholds.update(from: distances(of: 0) + start, count: b)
                for r in 1..<runs {
                    VectorKernels.raiseToMaximum(thresholds, distances(of: r) + start, count: b)
                }
                for j in 0..<m where !part.overflow[j] {
                    let dots = products + j * blockRows
                    for i in 0..<b {
                        let value = 1 - dots[i]
                        if value < thresholds[i] {
                            part.entries[j].append(Int32(truncatingIfNeeded: start + i))
                            part.values[j].append(value)
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
        if collect {
            for (j, row) in picks.enumerated() where !parts.contains(where: { $0.overflow[j] }) {
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
            passNearTie[r] = false
            guard !columnsOfRun[r].isEmpty else { return nil }
            var best: Float = -.infinity, second: Float = -.infinity
            var block = -1
            for part in parts {
                if part.best[r] > best {
                    second = max(second, best)
                    best = part.best[r]
                    block = part.bestBlock[r]
                } else {
                    second = max(second, part.best[r])
                }
                second = max(second, part.second[r])
            }
            guard block >= 0 else { return nil }
            let start = block * blockRows
            let dist = distances(of: r)
            if tieMargin > 0 {
                // Another row near the maximum: in another block (its maximum is
                // known) or in the maximum's own block (scanned: one block).
                let low = best - tieMargin
                var near = 0
                for i in start..<min(n, start + blockRows) where dist[i] >= low { near += 1 }
                passNearTie[r] = second >= low || near > 1
            }
            return VectorKernels.firstIndex(of: best, in: dist + start, count: n - start).map { $0 + start }
        }
    }

    enum LazyOutcome { case pick(Int), exhausted, needsPass }

    /// The next pick of run `r` without a pass: rows whose bound reaches the
    /// current maximum get the pending picks they miss applied (`evaluate`),
    /// until the maximum and every row that could tie with it are exact. Only
    /// the run's top rows are looked at; they are rebuilt when the maximum
    /// falls below their floor.
    func lazyNext(run r: Int, scratch: LazyScratch) -> LazyOutcome {
        let dist = distances(of: r)
        let applied = self.applied.baseAddress! + r * n
        let total = pending[r].count
        var evaluations = 0
        var slack: Float = 0
        var rebuilt = false
        let state = lazyRuns[r]
        // Rows outside the top rows are below the floor: with ties, they must be out of the tie margin too.
        let margin = tieMargin
        while true {
            // The maximum of the top rows, dropping those now below the floor
            // (distances only fall: they cannot come back; later scans skip them).
            var top = -Float.infinity
            let lowest = state.floor
            let kept = state.topRows.withUnsafeMutableBufferPointer { rows -> Int in
                var kept = 0
                for i in 0..<rows.count {
                    let row = rows[i], value = dist[row]
                    guard value >= lowest else { continue }
                    rows[kept] = row
                    kept += 1
                    if value > top { top = value }
                }
                return kept
            }
            state.topRows.removeLast(state.topRows.count - kept)
            if top - margin < state.floor || state.topRows.isEmpty {
                guard !rebuilt else { return .needsPass }
                switch rebuildTopRows(run: r) {
                case .built: rebuilt = true
                case .exhausted: return .exhausted
                case .tooMany: return .needsPass
                }
                continue
            }
            guard top < .infinity else { return .needsPass }   // nothing applied yet: no bounds to use
            // Done when every row at the maximum (within the tie margin) is exact: then
            // the first index wins, or the exact values settle a near-tie. Else bring
            // the rows within `slack` of it up to date. (Top rows are ascending.)
            let low = top - margin
            var pick = -1, near = 0, stale = false
            for row in state.topRows where dist[row] >= low {
                if !Included(applied[row]).isAll(total) { stale = true; break }
                if pick < 0 && dist[row] == top { pick = row }
                near += 1
            }
            if !stale {
                state.nearTie = near > 1
                return pick >= 0 ? .pick(pick) : .exhausted
            }
            slack = slack == 0 ? max(abs(top) * 0.001, margin) : slack * 2
            let floor = top - slack
            guard floor.isFinite else { return .needsPass }
            // An exact distance is a lower bound of the maximum: a row more than the
            // tie margin below it can neither be the pick nor tie with it (at it,
            // with a lower index, it still can be the pick).
            var known = -Float.infinity
            scratch.candidates.removeAll(keepingCapacity: true)
            for row in state.topRows where dist[row] >= floor {
                if Included(applied[row]).isAll(total) { known = max(known, dist[row]) } else { scratch.candidates.append(row) }
            }
            let bar = max(floor, known - margin)
            if bar > floor { scratch.candidates.removeAll { dist[$0] < bar } }
            evaluations += scratch.candidates.count
            if evaluations > lazyLimit { return .needsPass }
            evaluate(run: r, bar: bar, total: total, scratch: scratch)
        }
    }

    /// Applies to each of `scratch.candidates` the pending picks of run `r`
    /// it misses, up to `lazyChunk` at a time from the newest, until it falls below
    /// `bar` (then what is left cannot make it the maximum) or has them all.
    /// Rows of a chunk share one `FixedOrderDots` call, read in place.
    private func evaluate(run r: Int, bar: Float, total: Int, scratch: LazyScratch) {
        let d = dimension
        let dist = distances(of: r)
        let applied = self.applied.baseAddress! + r * n
        let vectors = pendingVectors(of: r)
        let candidates = scratch.candidates
        var first = 0
        while first < candidates.count {
            let g = min(gatherRows, candidates.count - first)
            for k in 0..<g {
                let row = candidates[first + k]
                if let inPlace = rows.workingRow(row) {
                    scratch.pointers[k] = inPlace
                } else {
                    rows.copyWorkingRow(row, into: scratch.gathered + k * d)
                    scratch.pointers[k] = UnsafePointer(scratch.gathered + k * d)
                }
                scratch.alive[k] = Int32(k)
            }
            var aliveCount = g
            var end = total
            var size = firstLazyChunk
            var start = max(0, end - size)
            while aliveCount > 0 && end > 0 {
                // The rows whose included picks do not cover this chunk.
                var needing = 0
                for t in 0..<aliveCount {
                    let k = Int(scratch.alive[t])
                    guard !Included(applied[candidates[first + k]]).covers(start, end) else { continue }
                    scratch.needing[needing] = scratch.pointers[k]
                    scratch.needingIndex[needing] = Int32(k)
                    needing += 1
                }
                let m = end - start
                FixedOrderDots.products(rows: scratch.needing, count: needing, vectors: vectors + start, m: m,
                                        dimension: d, into: scratch.products, ldo: needing)
                lazyRuns[r].products += needing * m
                for t in 0..<needing {
                    let row = candidates[first + Int(scratch.needingIndex[t])]
                    var value = dist[row]
                    for j in 0..<m {
                        let candidate = 1 - scratch.products[j * needing + t]
                        if candidate < value { value = candidate }
                    }
                    dist[row] = value
                }
                // Rows now below the bar stop here, with the picks from `start` on applied.
                var kept = 0
                for t in 0..<aliveCount {
                    let k = scratch.alive[t]
                    let row = candidates[first + Int(k)]
                    if dist[row] < bar {
                        applied[row] = Included(applied[row]).extended(down: start, total: total).packed
                    } else {
                        scratch.alive[kept] = k
                        kept += 1
                    }
                }
                aliveCount = kept
                end = start
                size = min(lazyChunk, size * 2)
                start = max(0, end - size)
            }
            for t in 0..<aliveCount {
                let row = candidates[first + Int(scratch.alive[t])]
                applied[row] = Included(low: 0, high: total).packed
            }
            first += g
        }
    }

    enum Rebuild { case built, exhausted, tooMany }

    /// Collects the rows within a margin of run `r`'s maximum (at most
    /// `lazyLimit`) as its top rows, with the margin's bottom as floor.
    private func rebuildTopRows(run r: Int) -> Rebuild {
        let dist = distances(of: r)
        let state = lazyRuns[r]
        let top = VectorKernels.maximum(dist, count: n)
        guard top > -.infinity else { return .exhausted }
        guard top < .infinity else { return .tooMany }
        var margin = max(abs(top) * 0.05, 1e-6, tieMargin)
        var list: [Int] = []
        for _ in 0..<8 {
            let floor = top - margin
            list.removeAll(keepingCapacity: true)
            var i = 0
            var overflow = false
            while let found = VectorKernels.firstIndex(atLeast: floor, in: dist + i, count: n - i) {
                list.append(i + found)
                if list.count > lazyLimit { overflow = true; break }
                i += found + 1
            }
            if !overflow {
                state.topRows = list
                state.floor = floor
                return .built
            }
            // Never narrower than the tie margin: the rows within it must all be top rows.
            guard margin > tieMargin else { break }
            margin = max(margin / 8, tieMargin)
        }
        // Too many rows (nearly) tie at the maximum: a pass settles this step.
        state.topRows = []
        return .tooMany
    }

    /// Where the runs are, between `start` and the end of `advance`: the
    /// included rows, each run's next pick (working row; nil once it has
    /// stopped), the picks so far (working rows), and the steps taken.
    private var include: [Int] = []
    private var next: [Int?] = []
    private var picks: [[Int]] = []
    /// Steps taken: every run has made this many picks, unless it stopped.
    private(set) var stepsTaken = 0
    /// Whether every run has made its picks or stopped.
    private(set) var isFinished = false

    /// The runs from `starts` (nil: the row farthest from `include`), all
    /// the way: per run, the picked album rows in pick order. `onStep`
    /// gets each step's index before it picks, and may throw to stop.
    func run(include: [Int], starts: [Int?], onStep: (Int) throws -> Void) throws -> [[Int]] {
        start(include: include, starts: starts)
        try advance(until: count, onStep: onStep)
        return result
    }

    /// Per run, the album rows picked so far, in pick order.
    var result: [[Int]] { picks.map { $0.map(rows.albumRow) } }

    /// Sets the runs up to start from `starts`; `advance` takes their steps.
    func start(include: [Int], starts: [Int?]) {
        // Every run starts from the same state: the included rows picked.
        let first = distances(of: 0)
        distances.initialize(repeating: .infinity)
        for chunk in stride(from: 0, to: include.count, by: 64) {
            let rowsOfChunk = Array(include[chunk..<min(include.count, chunk + 64)])
            var columns = [[Int]](repeating: [], count: runs)
            columns[0] = Array(0..<rowsOfChunk.count)
            _ = pass(picks: rowsOfChunk, columnsOfRun: columns, collect: false)
        }
        rows.maskNonCandidates(first, with: -.infinity)
        for row in include { if let local = rows.localRow(row) { first[local] = -.infinity } }
        for r in 1..<max(1, runs) { distances(of: r).update(from: first, count: n) }
        let (best, second) = VectorKernels.maximumAndRunnerUp(first, count: n)
        var farthest = best > -.infinity ? VectorKernels.firstIndex(of: best, in: first, count: n) : nil
        if let row = farthest, !include.isEmpty, tieMargin > 0, second >= best - tieMargin {
            farthest = settle(run: 0, pick: row, topRows: nil, picked: include)
        }
        next = [Int?](repeating: nil, count: runs)
        for r in 0..<runs { next[r] = starts[r].flatMap { rows.localRow($0) } ?? farthest }
        self.include = include
        picks = [[Int]](repeating: [], count: runs)
        for r in 0..<runs { picks[r].reserveCapacity(count) }
        stepsTaken = 0
        isFinished = count == 0
    }

    /// Takes the runs' steps until `limit` are taken or the runs are
    /// finished. The engine may be advanced from one thread and then
    /// another, never from two at once.
    func advance(until limit: Int, onStep: (Int) throws -> Void) throws {
        let include = self.include
        defer { statistics.lazyProducts = lazyRuns.reduce(0) { $0 + $1.products } }
        while !isFinished && stepsTaken < limit {
            let step = stepsTaken
            // The next pick's stored distance is exact (lazy steps and passes make the maximum so).
            for r in 0..<runs {
                guard let pick = next[r], stopBelow > -.infinity else { continue }
                let distance = distances(of: r)[pick]
                let below = ties.map {
                    $0.isBelow(stopBelow, pick: pick, distance: distance, albumRow: rows.albumRow(pick),
                               picked: include + picks[r].map(rows.albumRow), known: &lazyRuns[r].nearest)
                } ?? (distance < stopBelow)
                if below { next[r] = nil }
            }
            if !next.contains(where: { $0 != nil }) { isFinished = true; break }
            try onStep(step)
            var cached: [(run: Int, row: Int)] = []
            for r in 0..<runs {
                guard let local = next[r] else { continue }
                picks[r].append(local)
                distances(of: r)[local] = -.infinity
                let row = rows.albumRow(local)
                if cache.contains(row) {
                    cached.append((r, row))
                } else if pending[r].count < maxPending {
                    pendingVectors(of: r)[pending[r].count] = pickVector(row, copies: pendingCopies.baseAddress!,
                                                                          slot: r * maxPending + pending[r].count)
                    pending[r].append(row)
                } else {
                    pending[r].append(row)   // over the limit: the pass below applies it
                }
            }
            stepsTaken = step + 1
            if stepsTaken == count { isFinished = true; break }   // the last picks need no distances
            statistics.cacheHits += cached.count
            if !cached.isEmpty {
                let cacheView = cache
                if cores > 1 {
                    parallelFor(cached.count) { k in cacheView.apply(row: cached[k].row, to: self.distances(of: cached[k].run)) }
                } else {
                    for entry in cached { cacheView.apply(row: entry.row, to: distances(of: entry.run)) }
                }
            }
            // Lazy next picks, each thread with its own scratch buffers.
            let outcomes = UncheckedSendable(UnsafeMutableBufferPointer<LazyOutcome>.allocate(capacity: runs))
            defer { outcomes.value.deallocate() }
            let workers = scratch.count
            parallelFor(workers) { t in
                for r in stride(from: t, to: self.runs, by: workers) {
                    let outcome: LazyOutcome
                    if next[r] == nil {
                        outcome = .exhausted
                    } else if self.pending[r].isEmpty {
                        let dist = self.distances(of: r)
                        let (best, second) = VectorKernels.maximumAndRunnerUp(dist, count: self.n)
                        let pick = best > -.infinity ? VectorKernels.firstIndex(of: best, in: dist, count: self.n) : nil
                        self.lazyRuns[r].nearTie = self.tieMargin > 0 && second >= best - self.tieMargin
                        outcome = pick.map { .pick($0) } ?? .exhausted
                    } else if self.pending[r].count >= self.maxPending {
                        outcome = .needsPass
                    } else {
                        outcome = self.lazyNext(run: r, scratch: self.scratch[t])
                    }
                    (outcomes.value.baseAddress! + r).initialize(to: outcome)
                }
            }
            let needsPass = (0..<runs).filter { if case .needsPass = outcomes.value[$0] { return true }; return false }
            if needsPass.isEmpty { statistics.stepsWithoutPass += 1 }
            for r in 0..<runs {
                if case let .pick(row) = outcomes.value[r] { next[r] = row } else { next[r] = nil }
            }
            // Near-ties of the runs that picked without a pass (before a pass they may
            // join: their top rows hold every row within the margin, all exact).
            for r in 0..<runs where ties != nil && lazyRuns[r].nearTie {
                guard let pick = next[r] else { continue }
                lazyRuns[r].nearTie = false
                next[r] = settle(run: r, pick: pick, topRows: pending[r].isEmpty ? nil : lazyRuns[r].topRows,
                                 picked: include + picks[r].map(rows.albumRow))
            }
            if !needsPass.isEmpty {
                // One pass applies the pending picks of the runs that need it (each distinct row once).
                var columnRows: [Int] = []
                var columnOf: [Int: Int] = [:]
                var columnsOfRun = [[Int]](repeating: [], count: runs)
                for r in needsPass {
                    for row in pending[r] {
                        if columnOf[row] == nil { columnOf[row] = columnRows.count; columnRows.append(row) }
                        columnsOfRun[r].append(columnOf[row]!)
                    }
                    pending[r].removeAll(keepingCapacity: true)
                    (applied.baseAddress! + r * n).update(repeating: 0, count: n)
                }
                // Runs with few pending picks have them applied too, while the
                // matrix is read anyway: it keeps their lazy steps short. (Their
                // next pick is already exact; the pass would find the same.)
                for r in 0..<runs where !pending[r].isEmpty && pending[r].count <= passJoinLimit {
                    guard case .pick = outcomes.value[r] else { continue }
                    for row in pending[r] {
                        if columnOf[row] == nil { columnOf[row] = columnRows.count; columnRows.append(row) }
                        columnsOfRun[r].append(columnOf[row]!)
                    }
                    pending[r].removeAll(keepingCapacity: true)
                    (applied.baseAddress! + r * n).update(repeating: 0, count: n)
                }
                let passed = pass(picks: columnRows, columnsOfRun: columnsOfRun, collect: runs > 1)
                for r in needsPass {
                    next[r] = passed[r]
                    if let pick = passed[r], passNearTie[r] {
                        next[r] = settle(run: r, pick: pick, topRows: nil, picked: include + picks[r].map(rows.albumRow))
                    }
                }
            }
        }
    }

    /// Run `r`'s pick settled on exact values (`TieSettling`), its rows near
    /// the maximum taken from `topRows`, or from all rows when nil.
    private func settle(run r: Int, pick: Int, topRows: [Int]?, picked: [Int]) -> Int {
        guard let ties else { return pick }
        statistics.tiesSettled += 1
        return ties.settle(pick: pick, distances: distances(of: r), count: n, topRows: topRows, picked: picked,
                           albumRow: rows.albumRow, known: &lazyRuns[r].nearest)
    }
}

/// What an FPS run cost: passes over the matrix, distance columns computed,
/// picks served from the reuse cache, steps decided without a pass.
public struct FarthestPointStatistics: Sendable, Equatable {
    /// Sweeps over every working row.
    public var passes = 0
    /// Distance columns computed in those sweeps (one per distinct picked row).
    public var columns = 0
    /// Picks whose distances came from another iteration's earlier pick.
    public var cacheHits = 0
    /// Steps whose next picks were all found lazily.
    public var stepsWithoutPass = 0
    /// Picks with another row within the tie margin, settled on exact values.
    public var tiesSettled = 0
    /// Row–pick dot products the lazy steps computed (a pass computes one
    /// per row and column).
    public var lazyProducts = 0

    /// Zero of everything.
    public init(passes: Int = 0, columns: Int = 0, cacheHits: Int = 0, stepsWithoutPass: Int = 0, tiesSettled: Int = 0,
                lazyProducts: Int = 0) {
        self.passes = passes
        self.columns = columns
        self.cacheHits = cacheHits
        self.stepsWithoutPass = stepsWithoutPass
        self.tiesSettled = tiesSettled
        self.lazyProducts = lazyProducts
    }

    /// Adds another batch's figures.
    public static func + (a: Self, b: Self) -> Self {
        Self(passes: a.passes + b.passes, columns: a.columns + b.columns, cacheHits: a.cacheHits + b.cacheHits,
             stepsWithoutPass: a.stepsWithoutPass + b.stepsWithoutPass, tiesSettled: a.tiesSettled + b.tiesSettled,
             lazyProducts: a.lazyProducts + b.lazyProducts)
    }
}
