import Foundation

/// An inverted-file index of an album's vectors, so near-duplicates are found
/// without comparing every pair: the rows are split into lists by their
/// nearest centre (K-Means, the coarse quantiser), and a row is compared only
/// with the rows of its own list and of the neighbouring lists whose
/// boundary with its own lies close to it.
///
/// Why the boundary: a row `x` of list A and a row `y` of list B lie on either
/// side of the hyperplane halfway between the centres a and b, so if they are
/// within distance `r` of each other, `x` lies within `r` of that hyperplane.
/// Its distance to the hyperplane is `(‖x−b‖² − ‖x−a‖²) / (2‖a−b‖)`, which
/// costs nothing once the distances to every centre are known. For unit
/// vectors, cosine ≥ t is distance ≤ √(2 − 2t). Probing every list within
/// that distance would miss nothing but probes about 20 lists per row on
/// CLIP-like vectors, because a pair almost never sits across the boundary
/// head-on; probing lists within `probeFraction` of it (and looking from both
/// rows of a pair) finds every pair of the benchmark's (scripts/bench/scale)
/// while probing one or two. Every similarity reported is then an exact
/// float32 dot product of the two full vectors (a GEMM of the list's rows),
/// never an estimate.
///
/// Per row the index keeps its list and the other lists whose boundary lies
/// within `horizon` of it, nearest first; a search with a smaller reach reads
/// a prefix. The index depends only on the vectors, not on the threshold or
/// the exclusions, so the album keeps it (`DuplicateIndexCache`) and adds
/// rows to it as images arrive.
public struct DuplicateIndex: Sendable {
    /// The vector length.
    public let dimension: Int
    /// The centres, `listCount × dimension`, row-major.
    public let centres: [Float]
    /// Boundary distances kept per row reach this far (see `reach(threshold:)`).
    public let horizon: Float
    /// The list of each row.
    public private(set) var lists: [Int32]
    /// Row `i`'s neighbouring lists are `neighbourLists[neighbourStart[i]..<neighbourStart[i + 1]]`,
    /// nearest boundary first, with the distances in `neighbourDistances`.
    public private(set) var neighbourStart: [Int]
    public private(set) var neighbourLists: [Int32]
    public private(set) var neighbourDistances: [Float]

    /// The number of lists.
    public var listCount: Int { centres.count / max(1, dimension) }
    /// The number of rows indexed.
    public var rows: Int { lists.count }

    /// The fraction of the pair distance within which a row probes a
    /// neighbouring list's boundary. On the benchmark's 100,000-row sample,
    /// with pairs planted towards other images (the hardest direction for an
    /// inverted file), 0.2 finds 99.6 % of the pairs at cosine ≥ 0.97 and
    /// 0.3 all of them; random (isotropic) near-copies are all found at 0.1.
    public static let probeFraction: Float = 0.3
    /// The lowest threshold the default horizon covers; lower thresholds
    /// reassign the rows with a wider horizon.
    public static let lowestCachedThreshold: Float = 0.9

    /// How far from a list boundary a row probes the list across it, for `threshold`.
    public static func reach(threshold: Float) -> Float {
        probeFraction * (max(0, 2 - 2 * threshold)).squareRoot()
    }

    /// The horizon an index needs for `threshold`: at least the default's.
    public static func horizon(for threshold: Float) -> Float {
        max(reach(threshold: lowestCachedThreshold), reach(threshold: threshold))
    }

    /// The number of lists for `rows` rows: about √(3n), which balances the
    /// assignment (n·k products) against the search within lists (about
    /// 6n²/k on CLIP-like vectors).
    public static func listCount(rows: Int) -> Int {
        max(1, min(rows / 8, Int((3 * Double(rows)).squareRoot())))
    }

    /// Creates an index from its parts (as the cache stores them).
    ///
    /// - Throws: `MapError.corrupt` when the parts do not fit together.
    public init(dimension: Int, centres: [Float], horizon: Float, lists: [Int32], neighbourStart: [Int],
                neighbourLists: [Int32], neighbourDistances: [Float]) throws {
        let corrupt = MapError(.corrupt, "duplicate index: damaged entry")
        guard dimension > 0, !centres.isEmpty, centres.count % dimension == 0,
              neighbourStart.count == lists.count + 1, neighbourStart.first == 0,
              neighbourStart.last == neighbourLists.count, neighbourLists.count == neighbourDistances.count,
              zip(neighbourStart, neighbourStart.dropFirst()).allSatisfy({ $0 <= $1 }) else { throw corrupt }
        let k = Int32(centres.count / dimension)
        guard lists.allSatisfy({ $0 >= 0 && $0 < k }), neighbourLists.allSatisfy({ $0 >= 0 && $0 < k }) else { throw corrupt }
        self.dimension = dimension
        self.centres = centres
        self.horizon = horizon
        self.lists = lists
        self.neighbourStart = neighbourStart
        self.neighbourLists = neighbourLists
        self.neighbourDistances = neighbourDistances
    }

    /// Builds the index of every row of `matrix`: centres from K-Means on a
    /// sample of the rows (`KMeansSampler`), then every row assigned.
    public static func build(matrix: EmbeddingMatrix, horizon: Float, seed: UInt64 = 1,
                             progress: (any ProgressSink)? = nil) throws -> DuplicateIndex {
        let n = matrix.rows
        let k = listCount(rows: n)
        let centres = try trainCentres(matrix: matrix, lists: k, seed: seed)
        return try DuplicateIndex(centres: centres, matrix: matrix, horizon: horizon, progress: progress)
    }

    /// `lists` centres for `matrix`'s rows: the K-Means representatives of a
    /// random sample of 32 rows per list (the rows themselves, so each list
    /// holds at least its centre's row).
    static func trainCentres(matrix: EmbeddingMatrix, lists k: Int, seed: UInt64) throws -> [Float] {
        let n = matrix.rows, d = matrix.dimension
        var random = Xoshiro256StarStar(seed: seed ^ 0xD0B1_1CA7_E5ED_0001)
        let sample = random.sample(min(n, max(32 * k, 2 * k)), from: n).sorted()
        let picks: [Int]
        if k >= sample.count {
            picks = Array(sample.prefix(k))
        } else {
            picks = try KMeansSampler().cluster(matrix: matrix, candidates: sample, k: k, seeds: [seed])[0].representatives
        }
        var centres = [Float](repeating: 0, count: picks.count * d)
        centres.withUnsafeMutableBufferPointer { c in
            for (j, row) in picks.enumerated() { (c.baseAddress! + j * d).update(from: matrix.row(row), count: d) }
        }
        return centres
    }

    /// Assigns every row of `matrix` to `centres`, reusing `known[row]` (a
    /// list and its neighbours, from an index of the same centres and a
    /// horizon at least this one) where given.
    public init(centres: [Float], matrix: EmbeddingMatrix, horizon: Float,
                known: [RowAssignment?]? = nil, progress: (any ProgressSink)? = nil) throws {
        let n = matrix.rows, d = matrix.dimension
        let toAssign = known.map { k in (0..<n).filter { k[$0] == nil } } ?? Array(0..<n)
        let fresh = try Self.assign(toAssign, of: matrix, centres: centres, horizon: horizon, progress: progress)
        var lists = [Int32](repeating: 0, count: n)
        var start = [Int](repeating: 0, count: n + 1)
        var neighbourLists: [Int32] = [], neighbourDistances: [Float] = []
        neighbourLists.reserveCapacity(fresh.neighbourLists.count + (n - toAssign.count) * 4)
        neighbourDistances.reserveCapacity(neighbourLists.capacity)
        var next = 0
        for row in 0..<n {
            if next < toAssign.count && toAssign[next] == row {
                lists[row] = fresh.lists[next]
                for e in fresh.neighbourStart[next]..<fresh.neighbourStart[next + 1] {
                    neighbourLists.append(fresh.neighbourLists[e]); neighbourDistances.append(fresh.neighbourDistances[e])
                }
                next += 1
            } else if let entry = known?[row] {
                lists[row] = entry.list
                for (list, distance) in zip(entry.neighbourLists, entry.neighbourDistances) where distance <= horizon {
                    neighbourLists.append(list); neighbourDistances.append(distance)
                }
            }
            start[row + 1] = neighbourLists.count
        }
        try self.init(dimension: d, centres: centres, horizon: horizon, lists: lists, neighbourStart: start,
                      neighbourLists: neighbourLists, neighbourDistances: neighbourDistances)
    }

    /// One row's place in the index: its list and neighbouring lists.
    public struct RowAssignment: Sendable, Equatable {
        /// The row's list.
        public var list: Int32
        /// The other lists whose boundary lies within the horizon, nearest first.
        public var neighbourLists: [Int32]
        /// Their boundaries' distances from the row.
        public var neighbourDistances: [Float]

        /// Creates an assignment.
        public init(list: Int32, neighbourLists: [Int32], neighbourDistances: [Float]) {
            self.list = list
            self.neighbourLists = neighbourLists
            self.neighbourDistances = neighbourDistances
        }
    }

    /// Row `row`'s place in the index.
    public func assignment(of row: Int) -> RowAssignment {
        let range = neighbourStart[row]..<neighbourStart[row + 1]
        return RowAssignment(list: lists[row], neighbourLists: Array(neighbourLists[range]),
                             neighbourDistances: Array(neighbourDistances[range]))
    }

    /// Lists and neighbours of `rows` (album rows of `matrix`), in their
    /// order: one GEMM per block of rows against every centre, on every core.
    static func assign(_ rows: [Int], of matrix: EmbeddingMatrix, centres: [Float], horizon: Float,
                       progress sink: (any ProgressSink)?) throws
        -> (lists: [Int32], neighbourStart: [Int], neighbourLists: [Int32], neighbourDistances: [Float]) {
        let d = matrix.dimension
        let k = centres.count / d
        let count = rows.count
        guard count > 0 else { return ([], [0], [], []) }
        // Half squared norms of the centres, and the inverse distance between every two.
        var halfNorms = [Float](repeating: 0, count: k)
        var inverseGaps = [Float](repeating: 0, count: k * k)
        centres.withUnsafeBufferPointer { c in
            let base = c.baseAddress!
            for j in 0..<k { halfNorms[j] = 0.5 * BLAS.dot(d, base + j * d, base + j * d) }
            inverseGaps.withUnsafeMutableBufferPointer { g in
                BLAS.gemmOnCores(transposeB: true, m: k, n: k, k: d, a: base, lda: d, b: base, ldb: d, c: g.baseAddress!, ldc: k)
                for a in 0..<k {
                    for b in 0..<k {
                        let squared = 2 * halfNorms[a] + 2 * halfNorms[b] - 2 * g[a * k + b]
                        g[a * k + b] = squared > 0 ? 1 / squared.squareRoot() : 0
                    }
                }
            }
        }
        let block = 256
        let blocks = (count + block - 1) / block
        var lists = [Int32](repeating: 0, count: count)
        var perBlockLists = [[Int32]](repeating: [], count: blocks)
        var perBlockDistances = [[Float]](repeating: [], count: blocks)
        var perRowCount = [Int32](repeating: 0, count: count)
        let threads = max(1, min(activeCoreCount, blocks))
        let scheduler = WorkQueue(count: blocks)
        let progress = SelectionProgress(sink: sink, label: "duplicates: index", total: blocks)
        defer { sink?.finish(label: "duplicates: index") }
        try BLAS.withSingleThreadedCalls {
            try centres.withUnsafeBufferPointer { c in
                try lists.withUnsafeMutableBufferPointer { outLists in
                    try perRowCount.withUnsafeMutableBufferPointer { outCounts in
                        try perBlockLists.withUnsafeMutableBufferPointer { bl in
                            try perBlockDistances.withUnsafeMutableBufferPointer { bd in
                                let shared = UncheckedSendable((c.baseAddress!, outLists.baseAddress!, outCounts.baseAddress!,
                                                                bl.baseAddress!, bd.baseAddress!))
                                try scheduler.run(threads: threads, progress: progress) { _, b in
                                    let (centreBase, outLists, outCounts, bl, bd) = shared.value
                                    Self.assignBlock(b, block: block, rows: rows, matrix: matrix, centres: centreBase, k: k,
                                                     halfNorms: halfNorms, inverseGaps: inverseGaps, horizon: horizon,
                                                     lists: outLists, counts: outCounts, neighbourLists: &bl[b],
                                                     neighbourDistances: &bd[b])
                                }
                            }
                        }
                    }
                }
            }
        }
        var start = [Int](repeating: 0, count: count + 1)
        for i in 0..<count { start[i + 1] = start[i] + Int(perRowCount[i]) }
        return (lists, start, perBlockLists.flatMap { $0 }, perBlockDistances.flatMap { $0 })
    }

    /// The lists and neighbours of block `b` of `rows`.
    private static func assignBlock(_ b: Int, block: Int, rows: [Int], matrix: EmbeddingMatrix, centres: UnsafePointer<Float>,
                                    k: Int, halfNorms: [Float], inverseGaps: [Float], horizon: Float,
                                    lists: UnsafeMutablePointer<Int32>, counts: UnsafeMutablePointer<Int32>,
                                    neighbourLists: inout [Int32], neighbourDistances: inout [Float]) {
        let d = matrix.dimension
        let first = b * block
        let m = min(block, rows.count - first)
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: m * d)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        defer { gathered.deallocate(); scores.deallocate() }
        for i in 0..<m { (gathered + i * d).update(from: matrix.row(rows[first + i]), count: d) }
        BLAS.gemm(transposeB: true, m: m, n: k, k: d, a: gathered, lda: d, b: centres, ldb: d, c: scores, ldc: k)
        var found: [(Float, Int32)] = []
        inverseGaps.withUnsafeBufferPointer { gaps in
            for i in 0..<m {
                // With ‖x‖ fixed, ‖x−c‖² = ‖x‖² − 2(x·c − ½‖c‖²): the nearest centre maximises s = x·c − ½‖c‖²,
                // and the boundary with centre b lies (s_a − s_b)/‖a−b‖ away.
                let s = scores + i * k
                var best = -Float.infinity, own = 0
                for j in 0..<k {
                    s[j] -= halfNorms[j]
                    if s[j] > best { best = s[j]; own = j }
                }
                let inverse = gaps.baseAddress! + own * k
                found.removeAll(keepingCapacity: true)
                for j in 0..<k where j != own {
                    let distance = (best - s[j]) * inverse[j]
                    if distance <= horizon { found.append((distance, Int32(j))) }
                }
                found.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                lists[first + i] = Int32(own)
                counts[first + i] = Int32(found.count)
                for (distance, list) in found { neighbourLists.append(list); neighbourDistances.append(distance) }
            }
        }
    }
}

/// Hands out task numbers `0..<count` to threads as they finish the last,
/// so tasks of unequal cost (lists of very different sizes) keep every core
/// busy; stops handing out when the progress sink asks to cancel.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var done = 0
    private var cancelled: Error?
    let count: Int

    init(count: Int) { self.count = count }

    private func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard cancelled == nil, next < count else { return nil }
        next += 1
        return next - 1
    }

    /// Runs `body(thread, task)` for every task on `threads` threads
    /// (`thread` in `0..<threads`, so each may own scratch state); reports
    /// finished tasks to `progress` (from thread 0) and throws
    /// `CancelledError` when it asked to stop.
    func run(threads: Int, progress: SelectionProgress?, _ body: (Int, Int) -> Void) throws {
        parallelFor(threads) { t in
            while let task = self.take() {
                body(t, task)
                self.lock.lock()
                self.done += 1
                let finished = self.done
                self.lock.unlock()
                if t == 0, let progress {
                    progress.report(done: finished)
                    do { try progress.check() } catch {
                        self.lock.lock(); self.cancelled = error; self.lock.unlock()
                    }
                }
            }
        }
        if let cancelled { throw cancelled }
    }
}
