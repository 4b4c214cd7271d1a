import Foundation

/// An inverted file of an album's vectors, the one index behind both
/// near-duplicates (`InvertedFile+Duplicates`) and the sparse neighbour graph
/// of facility location and the neighbour scores (`InvertedFile+Neighbors`):
/// the rows are split into lists by their nearest centre (the K-Means
/// representatives of a sample, the coarse quantiser), and a row is compared
/// only with the rows of its own list and of the neighbouring lists it
/// probes, by GEMMs of the lists' rows gathered into blocks.
///
/// A row's neighbouring lists are ordered by the distance of their boundary
/// with its own list. A row `x` of list A and a row `y` of list B lie on
/// either side of the hyperplane halfway between the centres a and b, so if
/// they are within distance `r` of each other, `x` lies within `r` of that
/// hyperplane. Its distance to the hyperplane is
/// `(‖x−b‖² − ‖x−a‖²) / (2‖a−b‖)`, which costs nothing once the distances to
/// every centre are known: the lists whose boundary lies nearest are where a
/// row's near neighbours across lists can be.
///
/// Per row the file keeps its list and the other lists whose boundary lies
/// within `horizon` of it (at most `limit` of them when one is given),
/// nearest first; a search with a smaller reach reads a prefix. The file
/// depends only on the vectors, so the album keeps the duplicates' one
/// (`DuplicateIndexCache`) and adds rows to it as images arrive.
public struct InvertedFile: Sendable {
    /// The vector length.
    public let dimension: Int
    /// The centres, `listCount × dimension`, row-major.
    public let centres: [Float]
    /// Boundary distances kept per row reach this far.
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

    /// Creates a file from its parts (as the cache stores them).
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

    /// `lists` centres for `matrix`'s rows: the K-Means representatives of a
    /// random sample of `samplePerList` rows per list (the rows themselves,
    /// so each list holds at least its centre's row, and every centre is a
    /// unit vector when the rows are).
    static func trainCentres(matrix: EmbeddingMatrix, lists k: Int, samplePerList: Int = 32, seed: UInt64) throws -> [Float] {
        let n = matrix.rows, d = matrix.dimension
        var random = Xoshiro256StarStar(seed: seed ^ 0xD0B1_1CA7_E5ED_0001)
        let sample = random.sample(min(n, max(samplePerList * k, 2 * k)), from: n).sorted()
        let picks: [Int]
        if k >= sample.count {
            picks = Array(sample.prefix(k))
        } else {
            picks = try KMeansSampler().cluster(matrix: matrix, candidates: sample, k: k, seeds: [seed])[0].representatives
        }
        var centres = [Float](repeating: 0, count: picks.count * d)
        centres.withUnsafeMutableBufferPointer { c in
            for (j, row) in picks.enumerated() { matrix.copyRow(row, into: c.baseAddress! + j * d) }
        }
        return centres
    }

    /// Assigns every row of `matrix` to `centres`, keeping per row the
    /// neighbouring lists within `horizon` (the `limit` nearest of them when
    /// given), and reusing `known[row]` (a list and its neighbours, from a
    /// file of the same centres and a horizon at least this one) where given.
    public init(centres: [Float], matrix: EmbeddingMatrix, horizon: Float, limit: Int? = nil,
                known: [RowAssignment?]? = nil, progress: (any ProgressSink)? = nil) throws {
        let n = matrix.rows, d = matrix.dimension
        let toAssign = known.map { k in (0..<n).filter { k[$0] == nil } } ?? Array(0..<n)
        let fresh = try Self.assign(toAssign, of: matrix, centres: centres, horizon: horizon, limit: limit, progress: progress)
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
                var kept = 0
                for (list, distance) in zip(entry.neighbourLists, entry.neighbourDistances) where distance <= horizon {
                    if let limit, kept >= limit { break }
                    neighbourLists.append(list); neighbourDistances.append(distance)
                    kept += 1
                }
            }
            start[row + 1] = neighbourLists.count
        }
        try self.init(dimension: d, centres: centres, horizon: horizon, lists: lists, neighbourStart: start,
                      neighbourLists: neighbourLists, neighbourDistances: neighbourDistances)
    }

    /// One row's place in the file: its list and neighbouring lists.
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

    /// Row `row`'s place in the file.
    public func assignment(of row: Int) -> RowAssignment {
        let range = neighbourStart[row]..<neighbourStart[row + 1]
        return RowAssignment(list: lists[row], neighbourLists: Array(neighbourLists[range]),
                             neighbourDistances: Array(neighbourDistances[range]))
    }

    /// The rows of every list, ascending within each (only the rows where
    /// `isCandidate` holds, when given): list `l`'s are `rows[start[l]..<start[l + 1]]`.
    func members(isCandidate: [Bool]? = nil) -> (start: [Int], rows: [Int32]) {
        let k = listCount
        var start = [Int](repeating: 0, count: k + 1)
        for row in 0..<rows where isCandidate?[row] ?? true { start[Int(lists[row]) + 1] += 1 }
        for l in 0..<k { start[l + 1] += start[l] }
        var members = [Int32](repeating: 0, count: start[k])
        var next = start
        for row in 0..<rows where isCandidate?[row] ?? true {
            let own = Int(lists[row])
            members[next[own]] = Int32(row)
            next[own] += 1
        }
        return (start, members)
    }

    /// The rows of other lists that probe each list, those whose boundary
    /// with it lies within `reach` (only the rows where `isCandidate` holds,
    /// when given), ascending: list `l`'s are `rows[start[l]..<start[l + 1]]`.
    func probingRows(within reach: Float, isCandidate: [Bool]? = nil) -> (start: [Int], rows: [Int32]) {
        let k = listCount
        var start = [Int](repeating: 0, count: k + 1)
        for row in 0..<rows where isCandidate?[row] ?? true {
            for e in neighbourStart[row]..<neighbourStart[row + 1] {
                guard neighbourDistances[e] <= reach else { break }
                start[Int(neighbourLists[e]) + 1] += 1
            }
        }
        for l in 0..<k { start[l + 1] += start[l] }
        var probing = [Int32](repeating: 0, count: start[k])
        var next = start
        for row in 0..<rows where isCandidate?[row] ?? true {
            for e in neighbourStart[row]..<neighbourStart[row + 1] {
                guard neighbourDistances[e] <= reach else { break }
                let list = Int(neighbourLists[e])
                probing[next[list]] = Int32(row)
                next[list] += 1
            }
        }
        return (start, probing)
    }

    /// Lists and neighbours of `rows` (album rows of `matrix`), in their
    /// order: one GEMM per block of rows against every centre, on every core.
    static func assign(_ rows: [Int], of matrix: EmbeddingMatrix, centres: [Float], horizon: Float, limit: Int?,
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
        let label = "duplicates: index"
        let progress = SelectionProgress(sink: sink, label: label, total: blocks)
        defer { sink?.finish(label: label) }
        try BLAS.withSingleThreadedCalls {
            try centres.withUnsafeBufferPointer { c in
                try lists.withUnsafeMutableBufferPointer { outLists in
                    try perRowCount.withUnsafeMutableBufferPointer { outCounts in
                        try perBlockLists.withUnsafeMutableBufferPointer { bl in
                            try perBlockDistances.withUnsafeMutableBufferPointer { bd in
                                let shared = UncheckedSendable((c.baseAddress!, outLists.baseAddress!, outCounts.baseAddress!,
                                                                bl.baseAddress!, bd.baseAddress!))
                                try scheduler.run(threads: threads, report: progress.reportAndCheck) { _, b in
                                    let (centreBase, outLists, outCounts, bl, bd) = shared.value
                                    Self.assignBlock(b, block: block, rows: rows, matrix: matrix, centres: centreBase, k: k,
                                                     halfNorms: halfNorms, inverseGaps: inverseGaps, horizon: horizon,
                                                     limit: limit, lists: outLists, counts: outCounts,
                                                     neighbourLists: &bl[b], neighbourDistances: &bd[b])
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
                                    k: Int, halfNorms: [Float], inverseGaps: [Float], horizon: Float, limit: Int?,
                                    lists: UnsafeMutablePointer<Int32>, counts: UnsafeMutablePointer<Int32>,
                                    neighbourLists: inout [Int32], neighbourDistances: inout [Float]) {
        let d = matrix.dimension
        let first = b * block
        let m = min(block, rows.count - first)
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: m * d)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        defer { gathered.deallocate(); scores.deallocate() }
        for i in 0..<m { matrix.copyRow(rows[first + i], into: gathered + i * d) }
        BLAS.gemm(transposeB: true, m: m, n: k, k: d, a: gathered, lda: d, b: centres, ldb: d, c: scores, ldc: k)
        var found: [(Float, Int32)] = []
        // The `limit` nearest boundaries of each row (one selection for the block's rows).
        var nearest = SmallestK(k: max(1, min(limit ?? 1, k - 1)))
        defer { nearest.deallocate() }
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
                if let limit {
                    // The `limit` nearest boundaries only: a bounded insertion, not a sort of every list.
                    nearest.reset()
                    for j in 0..<k where j != own {
                        let distance = (best - s[j]) * inverse[j]
                        if distance <= horizon && distance <= nearest.bound { nearest.offer(Int32(j), distance) }
                    }
                    found.removeAll(keepingCapacity: true)
                    if limit > 0 {
                        for (list, distance) in zip(nearest.indices, nearest.distances) { found.append((distance, list)) }
                    }
                } else {
                    found.removeAll(keepingCapacity: true)
                    for j in 0..<k where j != own {
                        let distance = (best - s[j]) * inverse[j]
                        if distance <= horizon { found.append((distance, Int32(j))) }
                    }
                    found.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                }
                lists[first + i] = Int32(own)
                counts[first + i] = Int32(found.count)
                for (distance, list) in found { neighbourLists.append(list); neighbourDistances.append(distance) }
            }
        }
    }
}
