import Foundation

/// The search of a `DuplicateIndex`: per list, the rows of the list against
/// each other and against the rows of other lists that probe it, each a GEMM
/// of gathered rows, so every similarity compared with the threshold is the
/// exact dot product of two full vectors.
extension DuplicateIndex {
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
        let k = listCount
        let reach = Self.reach(threshold: threshold)
        var memberCounts = [Int](repeating: 0, count: k + 1)
        var queryCounts = [Int](repeating: 0, count: k + 1)
        for row in 0..<rows where isCandidate[row] {
            memberCounts[Int(lists[row]) + 1] += 1
            for e in neighbourStart[row]..<neighbourStart[row + 1] {
                guard neighbourDistances[e] <= reach else { break }
                queryCounts[Int(neighbourLists[e]) + 1] += 1
            }
        }
        for l in 0..<k { memberCounts[l + 1] += memberCounts[l]; queryCounts[l + 1] += queryCounts[l] }
        var members = [Int32](repeating: 0, count: memberCounts[k])
        var queries = [Int32](repeating: 0, count: queryCounts[k])
        var memberNext = memberCounts, queryNext = queryCounts
        for row in 0..<rows where isCandidate[row] {
            let own = Int(lists[row])
            members[memberNext[own]] = Int32(row); memberNext[own] += 1
            for e in neighbourStart[row]..<neighbourStart[row + 1] {
                guard neighbourDistances[e] <= reach else { break }
                let list = Int(neighbourLists[e])
                queries[queryNext[list]] = Int32(row); queryNext[list] += 1
            }
        }
        return Probes(memberStart: memberCounts, members: members, queryStart: queryCounts, queries: queries)
    }

    /// Dot products a search at `threshold` computes, and those of comparing every pair of candidates.
    func work(threshold: Float, isCandidate: [Bool]) -> (index: Int, allPairs: Int) {
        let probes = self.probes(threshold: threshold, isCandidate: isCandidate)
        let n = probes.members.count
        return ((0..<listCount).reduce(0) { $0 + probes.work($1) }, n * (n - 1) / 2)
    }

    /// Sets of candidate rows joined by every pair found at or above
    /// `threshold` (see `DuplicateIndex` for which pairs are compared).
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
            try queue.run(threads: threads, progress: progress) { thread, task in
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
        for (i, row) in memberRows.enumerated() { (members + i * d).update(from: matrix.row(row), count: d) }
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
            for i in 0..<nq { (queries + i * d).update(from: matrix.row(queryRows[sq + i]), count: d) }
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
