import Foundation

/// Near-duplicates through an `InvertedFile`: per list, the rows of the list
/// against each other and against the rows of other lists that probe it,
/// each a GEMM of gathered rows, so every similarity compared with the
/// threshold is the exact dot product of two full vectors.
///
/// Which lists a row probes: for unit vectors, cosine ≥ t is distance
/// ≤ √(2 − 2t), and a pair across a boundary has both rows within that
/// distance of it. Probing every list within that distance would miss
/// nothing but probes about 20 lists per row on CLIP-like vectors, because a
/// pair almost never sits across the boundary head-on; probing lists within
/// `probeFraction` of it (and looking from both rows of a pair) finds every
/// pair of the benchmark's (scripts/bench/scale) while probing one or two.
extension InvertedFile {
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

    /// The horizon a duplicate index needs for `threshold`: at least the default's.
    public static func horizon(for threshold: Float) -> Float {
        max(reach(threshold: lowestCachedThreshold), reach(threshold: threshold))
    }

    /// The number of lists of a duplicate index of `rows` rows: about √(3n),
    /// which balances the assignment (n·k products) against the search
    /// within lists (about 6n²/k on CLIP-like vectors).
    public static func duplicateListCount(rows: Int) -> Int {
        max(1, min(rows / 8, Int((3 * Double(rows)).squareRoot())))
    }

    /// The duplicate index of every row of `matrix`: centres from K-Means on
    /// a sample of 32 rows per list, then every row assigned with the
    /// neighbouring lists within `horizon`.
    public static func duplicateIndex(matrix: EmbeddingMatrix, horizon: Float, seed: UInt64 = 1,
                                      progress: (any ProgressSink)? = nil) throws -> InvertedFile {
        let centres = try trainCentres(matrix: matrix, lists: duplicateListCount(rows: matrix.rows), seed: seed)
        return try InvertedFile(centres: centres, matrix: matrix, horizon: horizon, progress: progress)
    }

    /// The rows each list holds and the rows that probe it from other lists,
    /// for `threshold` (candidates only).
    struct Probes {
        /// `members[start[l]..<start[l + 1]]` are list `l`'s rows, ascending.
        var memberStart: [Int]
        var members: [Int32]
        /// `queries[queryStart[l]..<queryStart[l + 1]]` are the rows of other lists that probe list `l`.
        var queryStart: [Int]
        var queries: [Int32]

        func memberCount(_ list: Int) -> Int { memberStart[list + 1] - memberStart[list] }
        func queryCount(_ list: Int) -> Int { queryStart[list + 1] - queryStart[list] }

        /// Dot products the search of list `l` computes.
        func work(_ list: Int) -> Int {
            let m = memberCount(list)
            return m * (m - 1) / 2 + queryCount(list) * m
        }
    }

    /// The members and probing rows of every list, for `threshold`.
    func probes(threshold: Float, isCandidate: [Bool]) -> Probes {
        let members = self.members(isCandidate: isCandidate)
        let queries = probingRows(within: Self.reach(threshold: threshold), isCandidate: isCandidate)
        return Probes(memberStart: members.start, members: members.rows, queryStart: queries.start, queries: queries.rows)
    }

    /// Dot products a search at `threshold` computes, and those of comparing every pair of candidates.
    func work(threshold: Float, isCandidate: [Bool]) -> (index: Int, allPairs: Int) {
        let probes = self.probes(threshold: threshold, isCandidate: isCandidate)
        let n = probes.members.count
        return ((0..<listCount).reduce(0) { $0 + probes.work($1) }, n * (n - 1) / 2)
    }

    /// Sets of candidate rows joined by every pair found at or above
    /// `threshold` (see above for which pairs are compared).
    ///
    /// - Precondition: `reach(threshold:)` is within `horizon`.
    func pairs(matrix: EmbeddingMatrix, threshold: Float, isCandidate: [Bool],
               progress sink: (any ProgressSink)? = nil) throws -> UnionFind {
        precondition(Self.reach(threshold: threshold) <= horizon, "duplicate index: horizon too short for the threshold")
        let probes = self.probes(threshold: threshold, isCandidate: isCandidate)
        let k = listCount
        // The costliest lists first, so no thread is left with a big one at the end.
        let order = (0..<k).filter { probes.memberCount($0) > 0 }.sorted { probes.work($0) > probes.work($1) }
        let threads = max(1, min(activeCoreCount, order.count))
        let finders = (0..<threads).map { _ in UnionFind(count: rows) }
        let queue = WorkQueue(count: order.count)
        let progress = SelectionProgress(sink: sink, label: "duplicates", total: order.count)
        defer { sink?.finish(label: "duplicates") }
        let shared = UncheckedSendable((finders, probes, order))
        try BLAS.withSingleThreadedCalls {
            try queue.run(threads: threads, report: progress.reportAndCheck) { thread, task in
                let (finders, probes, order) = shared.value
                Self.searchList(order[task], probes: probes, matrix: matrix, threshold: threshold, union: finders[thread])
            }
        }
        let union = finders[0]
        for other in finders.dropFirst() { union.merge(other) }
        return union
    }

    /// Compares list `list`'s rows with each other and with the rows probing it.
    private static func searchList(_ list: Int, probes: Probes, matrix: EmbeddingMatrix, threshold: Float, union: UnionFind) {
        let d = matrix.dimension
        let block = 512
        let m = probes.memberCount(list), q = probes.queryCount(list)
        let members = UnsafeMutablePointer<Float>.allocate(capacity: m * d)
        let queries = UnsafeMutablePointer<Float>.allocate(capacity: min(block, max(q, 1)) * d)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: block * block)
        defer { members.deallocate(); queries.deallocate(); products.deallocate() }
        let memberRows = probes.members[probes.memberStart[list]..<probes.memberStart[list + 1]].map(Int.init)
        for (i, row) in memberRows.enumerated() { matrix.copyRow(row, into: members + i * d) }
        // The list against itself, upper triangle of blocks.
        for si in stride(from: 0, to: m, by: block) {
            let ni = min(block, m - si)
            for sj in stride(from: si, to: m, by: block) {
                let nj = min(block, m - sj)
                BLAS.gemm(transposeB: true, m: ni, n: nj, k: d, a: members + si * d, lda: d, b: members + sj * d, ldb: d,
                          c: products, ldc: block)
                for i in 0..<ni {
                    let row = products + i * block
                    for j in (si == sj ? i + 1 : 0)..<nj where row[j] >= threshold {
                        union.union(memberRows[si + i], memberRows[sj + j])
                    }
                }
            }
        }
        // Rows of other lists that probe this one, a block at a time.
        let queryRows = probes.queries[probes.queryStart[list]..<probes.queryStart[list + 1]].map(Int.init)
        for sq in stride(from: 0, to: q, by: block) {
            let nq = min(block, q - sq)
            for i in 0..<nq { matrix.copyRow(queryRows[sq + i], into: queries + i * d) }
            for sj in stride(from: 0, to: m, by: block) {
                let nj = min(block, m - sj)
                BLAS.gemm(transposeB: true, m: nq, n: nj, k: d, a: queries, lda: d, b: members + sj * d, ldb: d,
                          c: products, ldc: block)
                for i in 0..<nq {
                    let row = products + i * block
                    for j in 0..<nj where row[j] >= threshold {
                        union.union(queryRows[sq + i], memberRows[sj + j])
                    }
                }
            }
        }
    }
}
