/// A group of near-duplicate images: a keeper and the images whose
/// embeddings are at or above the similarity threshold to it.
public struct DuplicateGroup: Codable, Sendable, Equatable {
    /// The album rows of the group, ascending.
    public let rows: [Int]
    /// The row suggested to keep: the keeper rule's choice (`Album`'s is
    /// `DuplicateKeeper`), else the most central member (largest summed
    /// similarity to the group).
    public let keeper: Int
    /// Which rule chose the keeper.
    public let keptBy: KeeperRule
    /// The lowest cosine similarity of a member to the keeper.
    public let similarity: Float
    /// The set of rows joined by pairs this group was split from, numbered
    /// from 1 in the order of their lowest rows: groups with the same number
    /// were one chain of pairs (see `NearDuplicateFinder`).
    public var chain: Int = 1

    /// How a group's keeper was chosen.
    public enum KeeperRule: String, Codable, Sendable {
        /// A quality rule (`DuplicateKeeper`: the sharpest, within a band).
        case score
        /// The member nearest the group's centre.
        case central
        /// The caller's choice (`keeper:`).
        case chosen
    }

    /// Creates a group; `similarity` is the lowest similarity of a member to the keeper.
    public init(rows: [Int], keeper: Int, keptBy: KeeperRule = .central, similarity: Float = 1) {
        self.rows = rows
        self.keeper = keeper
        self.keptBy = keptBy
        self.similarity = similarity
    }

    /// Groups are equal when their rows and keeper (and so their similarity) are.
    public static func == (a: DuplicateGroup, b: DuplicateGroup) -> Bool {
        a.rows == b.rows && a.keeper == b.keeper && a.keptBy == b.keptBy
    }
}

/// Finds groups of near-duplicate images: rows whose cosine similarity is at
/// or above `threshold`, joined transitively (union–find), then each set
/// split around keepers so that every member is that close to its own
/// (see `groups(union:…)`). Similarities come
/// from GEMMs over blocks of rows, so memory stays at a few blocks, never N×N.
public struct NearDuplicateFinder: Sendable {
    /// A keeper and the rule that chose it.
    public typealias Choice = (row: Int, rule: DuplicateGroup.KeeperRule)
    /// Chooses a keeper among album rows (one of them), or nil for none.
    public typealias Chooser = ([Int]) throws -> Choice?

    /// Pairs with cosine similarity ≥ this are duplicates (−1...1).
    public var threshold: Float
    /// Rows per block of the blocked similarity products.
    public var blockRows: Int
    /// How many next keepers a split tries at once, and how many rows still
    /// to place each GEMM compares them with (see `split(_:matrix:keptBy:)`).
    var splitRows = (block: 256, chunk: 4096)

    /// Creates a finder for `threshold`.
    public init(threshold: Float, blockRows: Int = 2048) {
        self.threshold = threshold
        self.blockRows = max(1, blockRows)
    }

    /// The groups among `rows` (album rows; order and repeats do not matter),
    /// largest first, then by first row.
    ///
    /// - Parameters:
    ///   - keeper: chooses each keeper among the album rows of one chain
    ///     still to place (see `groups(union:…)`), with the rule to report;
    ///     it must return one of them. When it has no choice for a chain
    ///     (nil), or without it, the most central member keeps.
    public func groups(matrix: EmbeddingMatrix, rows candidates: [Int], keeper: Chooser? = nil,
                       progress sink: (any ProgressSink)? = nil) throws -> [DuplicateGroup] {
        try validate(matrix: matrix, candidates: candidates)
        let pool = Array(Set(candidates)).sorted()
        guard pool.count > 1 else { return [] }
        let rows = CandidateRows(matrix: matrix, candidates: pool)
        let wn = rows.count
        let d = rows.dimension
        var isCandidate = [Bool](repeating: true, count: wn)
        if rows.isAlbumMatrix && pool.count < wn {
            isCandidate = [Bool](repeating: false, count: wn)
            for row in pool { isCandidate[row] = true }
        }
        let block = min(blockRows, wn)
        let blocks = (wn + block - 1) / block
        var pairs: [(Int, Int)] = []
        for i in 0..<blocks { for j in i..<blocks { pairs.append((i, j)) } }

        let progress = SelectionProgress(sink: sink, label: "duplicates", total: pairs.count)
        defer { sink?.finish(label: "duplicates") }
        let threads = max(1, min(activeCoreCount, pairs.count))
        let finders = (0..<threads).map { _ in UnionFind(count: wn) }
        let threshold = self.threshold
        let round = threads * 4
        try BLAS.withSingleThreadedCalls {
            var next = 0
            while next < pairs.count {
                try progress.check()
                let end = min(pairs.count, next + round)
                let first = next
                parallelFor(threads) { t in
                    let union = finders[t]
                    let products = UnsafeMutablePointer<Float>.allocate(capacity: block * block)
                    let scratchI = rows.makeScratch(rows: block), scratchJ = rows.makeScratch(rows: block)
                    defer { products.deallocate(); scratchI.deallocate(); scratchJ.deallocate() }
                    for p in stride(from: first + t, to: end, by: threads) {
                        let (bi, bj) = pairs[p]
                        let si = bi * block, sj = bj * block
                        let ni = min(block, wn - si), nj = min(block, wn - sj)
                        BLAS.gemm(transposeB: true, m: ni, n: nj, k: d, a: rows.rows(si, ni, into: scratchI), lda: d,
                                  b: rows.rows(sj, nj, into: scratchJ), ldb: d, c: products, ldc: block)
                        for i in 0..<ni where isCandidate[si + i] {
                            let row = products + i * block
                            for j in (bi == bj ? i + 1 : 0)..<nj where row[j] >= threshold && isCandidate[sj + j] {
                                union.union(si + i, sj + j)
                            }
                        }
                    }
                }
                next = end
                progress.report(done: next)
            }
        }
        let union = finders[0]
        for other in finders.dropFirst() { union.merge(other) }
        return try groups(union: union, isCandidate: isCandidate, rows: rows, matrix: matrix, keeper: keeper)
    }

    /// The groups among `rows` (album rows) found through `index` (which
    /// must index every row of `matrix`, with a horizon reaching
    /// `InvertedFile.reach(threshold:)`): only pairs in the same or
    /// neighbouring lists are compared, each by its exact dot product, so
    /// a pair across lists is missed only when both rows lie far from the
    /// boundary between them (see `InvertedFile+Duplicates`). Same order and keepers
    /// as `groups(matrix:rows:keeper:progress:)`.
    public func groups(matrix: EmbeddingMatrix, rows candidates: [Int], index: InvertedFile,
                       keeper: Chooser? = nil,
                       progress sink: (any ProgressSink)? = nil) throws -> [DuplicateGroup] {
        try validate(matrix: matrix, candidates: candidates)
        guard index.rows == matrix.rows, index.dimension == matrix.dimension else {
            throw SelectionError.invalidParameter(name: "index", reason: "indexes \(index.rows) rows of \(index.dimension), not this matrix's \(matrix.rows) of \(matrix.dimension)")
        }
        let n = matrix.rows
        var isCandidate = [Bool](repeating: false, count: n)
        for row in candidates { isCandidate[row] = true }
        guard Set(candidates).count > 1 else { return [] }
        let union = try index.pairs(matrix: matrix, threshold: threshold, isCandidate: isCandidate, progress: sink)
        let rows = CandidateRows(matrix: matrix, candidates: Array(0..<n))
        return try groups(union: union, isCandidate: isCandidate, rows: rows, matrix: matrix, keeper: keeper)
    }

    func validate(matrix: EmbeddingMatrix, candidates: [Int]) throws {
        guard threshold.isFinite, threshold >= -1, threshold <= 1 else {
            throw SelectionError.invalidParameter(name: "threshold", reason: "must be a number between -1 and 1 (got \(threshold))")
        }
        for row in candidates where !(0..<matrix.rows).contains(row) {
            throw SelectionError.rowOutOfRange(parameter: "rows", row: row, rows: matrix.rows)
        }
    }

    /// The groups of `union`'s sets of candidates (working rows of `rows`),
    /// largest first, then by first row, each with its keeper.
    ///
    /// A set joins rows through chains of pairs, so its ends can be far
    /// apart: 106 clip-art stars at 0.96 with the pixels embedder, whose
    /// least similar member was 0.77 from the keeper. Excluding all but the
    /// keeper would then drop pictures that duplicate nothing kept. So a set
    /// is split: its keeper (`keeper`'s choice, else the most central
    /// member) keeps the members at or above the threshold to it, and the
    /// rest are split again the same way; a member left alone is no longer a
    /// duplicate of anything still to keep. Every member of a group is then a
    /// near-duplicate of its keeper, and no two keepers are.
    private func groups(union: UnionFind, isCandidate: [Bool], rows: CandidateRows, matrix: EmbeddingMatrix,
                        keeper: Chooser?) throws -> [DuplicateGroup] {
        let wn = rows.count
        var members: [Int: [Int]] = [:]
        for i in 0..<wn where isCandidate[i] {
            let root = union.find(i)
            if root != i || union.size(root) > 1 { members[root, default: []].append(i) }
        }
        var groups: [DuplicateGroup] = []
        // Sets numbered in the order of their lowest rows, whatever the dictionary's order.
        let sets = members.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
        for (number, locals) in sets.enumerated() {
            let albumRows = locals.map(rows.albumRow)
            let split: [DuplicateGroup]
            // The chooser decides for the whole chain: a choice for all of it
            // (then for what is left), or none (a member without statistics).
            if let keeper, let first = try keeper(albumRows.sorted()) {
                split = try self.split(albumRows.sorted(), first: first, matrix: matrix, choosing: keeper)
            } else {
                split = self.split(centrality(locals, rows: rows).map { albumRows[$0] }, matrix: matrix, keptBy: .central)
            }
            for var group in split {
                group.chain = number + 1
                groups.append(group)
            }
        }
        return groups.sorted { $0.rows.count != $1.rows.count ? $0.rows.count > $1.rows.count : $0.rows[0] < $1.rows[0] }
    }

    /// Splits one set of joined album rows, best keeper first in `order`,
    /// into groups whose members are each at or above the threshold to the
    /// group's keeper (see `groups(union:…)`). The next rows in `order` come
    /// 256 at a time; their products with each other tell which of them
    /// keep (no earlier one of them takes them), and only those are compared
    /// with every row not yet placed, by GEMMs over chunks of those rows,
    /// keeping the products at or above the threshold. A long chain has
    /// thousands of keepers (one product each would read its rows thousands
    /// of times), and a large set of near-copies one keeper with them all.
    private func split(_ order: [Int], matrix: EmbeddingMatrix, keptBy: DuplicateGroup.KeeperRule) -> [DuplicateGroup] {
        let d = matrix.dimension
        let blockLimit = max(1, splitRows.block), chunkLimit = max(1, splitRows.chunk)
        let candidates = UnsafeMutablePointer<Float>.allocate(capacity: blockLimit * d)
        let keepers = UnsafeMutablePointer<Float>.allocate(capacity: blockLimit * d)
        let chunk = UnsafeMutablePointer<Float>.allocate(capacity: chunkLimit * d)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: blockLimit * max(blockLimit, chunkLimit))
        defer { candidates.deallocate(); keepers.deallocate(); chunk.deallocate(); products.deallocate() }
        var placed = [Bool](repeating: false, count: order.count)
        var groups: [DuplicateGroup] = []
        var pending = Array(order.indices)
        while pending.count > 1 {
            let n = pending.count, block = min(n, blockLimit)
            for c in 0..<block { matrix.copyRow(order[pending[c]], into: candidates + c * d) }
            // Which candidates keep: those no earlier keeper among them takes.
            BLAS.gemm(transposeB: true, m: block, n: block, k: d, a: candidates, lda: d, b: candidates, ldb: d,
                      c: products, ldc: block)
            var taken = [Bool](repeating: false, count: block)
            var keeping: [Int] = []
            for c in 0..<block where !taken[c] {
                keeping.append(c)
                for other in (c + 1)..<block where products[c * block + other] >= threshold { taken[other] = true }
            }
            for (k, c) in keeping.enumerated() { (keepers + k * d).update(from: candidates + c * d, count: d) }
            // Per keeper, the later pending rows at or above the threshold to it, with their similarity.
            var near = [[(at: Int, similarity: Float)]](repeating: [], count: keeping.count)
            var from = 0
            while from < n {
                let width = min(chunkLimit, n - from)
                for j in 0..<width { matrix.copyRow(order[pending[from + j]], into: chunk + j * d) }
                BLAS.gemm(transposeB: true, m: keeping.count, n: width, k: d, a: keepers, lda: d, b: chunk, ldb: d,
                          c: products, ldc: chunkLimit)
                for (k, c) in keeping.enumerated() {
                    let row = products + k * chunkLimit
                    for j in max(0, c + 1 - from)..<width where row[j] >= threshold { near[k].append((from + j, row[j])) }
                }
                from += width
            }
            // Rows before a keeper in `pending` are placed: keepers, or members of earlier groups.
            // (A keeper an earlier one took after all, its product a rounding above the threshold here, is skipped.)
            for (k, c) in keeping.enumerated() where !placed[pending[c]] {
                placed[pending[c]] = true
                let keeper = order[pending[c]]
                var group = [keeper]
                var lowest: Float = 1
                for (at, similarity) in near[k] where !placed[pending[at]] {
                    placed[pending[at]] = true
                    group.append(order[pending[at]])
                    lowest = min(lowest, similarity)
                }
                if group.count > 1 {
                    groups.append(DuplicateGroup(rows: group.sorted(), keeper: keeper, keptBy: keptBy, similarity: lowest))
                }
            }
            pending.removeAll { placed[$0] }
        }
        return groups
    }

    /// Splits one set of joined album rows (ascending) as `split(_:matrix:keptBy:)`
    /// does, each keeper the one `keeper` chooses among the rows still to place.
    /// `first` is the chooser's answer for all of `rows`.
    private func split(_ rows: [Int], first: Choice, matrix: EmbeddingMatrix, choosing keeper: Chooser) throws -> [DuplicateGroup] {
        let d = matrix.dimension
        // The rows still to place, gathered once and kept packed as they leave:
        // each keeper is one GEMV against them.
        let vectors = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows.count * d))
        let similarities = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows.count))
        defer { vectors.deallocate(); similarities.deallocate() }
        for (i, row) in rows.enumerated() { matrix.copyRow(row, into: vectors + i * d) }
        var remaining = rows
        var groups: [DuplicateGroup] = []
        var next: Choice? = first
        while remaining.count > 1 {
            guard let (chosen, rule) = try next ?? keeper(remaining) else {
                throw SelectionError.invalidParameter(name: "keeper", reason: "chose for a chain, then not for part of it")
            }
            next = nil
            guard let at = remaining.firstIndex(of: chosen) else {
                throw SelectionError.invalidParameter(name: "keeper", reason: "must return one of the images it is given")
            }
            BLAS.gemv(m: remaining.count, n: d, a: vectors, lda: d, x: vectors + at * d, y: similarities)
            var group = [chosen], kept = 0
            var lowest: Float = 1
            for i in remaining.indices where i != at {
                if similarities[i] >= threshold {
                    group.append(remaining[i])
                    lowest = min(lowest, similarities[i])
                } else {
                    // Packed forward: `kept` never passes `i`, so rows not read yet stay where they are.
                    if kept != i { (vectors + kept * d).update(from: vectors + i * d, count: d) }
                    remaining[kept] = remaining[i]
                    kept += 1
                }
            }
            remaining.removeLast(remaining.count - kept)
            if group.count > 1 {
                groups.append(DuplicateGroup(rows: group.sorted(), keeper: chosen, keptBy: rule, similarity: lowest))
            }
        }
        return groups
    }

    /// The indices of `locals`, most central first: by summed similarity to
    /// the set (the dot product with its vector sum), lowest index on ties.
    private func centrality(_ locals: [Int], rows: CandidateRows) -> [Int] {
        let d = rows.dimension
        var sum = [Float](repeating: 0, count: d)
        let scratch = rows.makeScratch(rows: 1)
        defer { scratch.deallocate() }
        sum.withUnsafeMutableBufferPointer { s in
            for i in locals { BLAS.axpy(d, alpha: 1, rows.rows(i, 1, into: scratch), s.baseAddress!) }
        }
        let values = locals.map { i in sum.withUnsafeBufferPointer { BLAS.dot(d, rows.rows(i, 1, into: scratch), $0.baseAddress!) } }
        return locals.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
    }
}

/// Disjoint sets over `0..<count` with path halving and union by size.
final class UnionFind {
    private var parent: [Int32]
    private var sizes: [Int32]

    init(count: Int) {
        parent = (0..<count).map { Int32($0) }
        sizes = [Int32](repeating: 1, count: count)
    }

    func find(_ x: Int) -> Int {
        var x = x
        while Int(parent[x]) != x {
            parent[x] = parent[Int(parent[x])]
            x = Int(parent[x])
        }
        return x
    }

    func union(_ a: Int, _ b: Int) {
        var ra = find(a), rb = find(b)
        guard ra != rb else { return }
        if sizes[ra] < sizes[rb] { swap(&ra, &rb) }
        parent[rb] = Int32(ra)
        sizes[ra] += sizes[rb]
    }

    func size(_ root: Int) -> Int { Int(sizes[root]) }

    /// Joins every set of `other` (over the same elements) into this one.
    func merge(_ other: UnionFind) {
        for i in 0..<parent.count where other.find(i) != i { union(i, other.find(i)) }
    }
}
