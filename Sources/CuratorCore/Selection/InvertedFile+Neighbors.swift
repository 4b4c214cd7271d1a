/// Approximate k nearest neighbours (cosine) of every row of a matrix
/// through an `InvertedFile`, for albums too large for the exact search:
/// each row notes the few lists whose boundary lies nearest (its probes),
/// and each list's rows are then compared, by GEMMs, with every row of the
/// lists its members probe most. A row's neighbours are exact similarities
/// among those candidates; what can be missed is a true neighbour in a list
/// none of its list's rows probes.
///
/// The work is about N × (lists + rows probed) × d multiply-adds, against
/// N² × d for the exact search: with √(2N) lists and 6 searched per list,
/// 85,491 × 768 costs about 1/50 of the exact search. Deterministic for a
/// seed: the centres come from a seeded sample, and every list is searched
/// on its own, whatever the thread that takes it.
extension InvertedFile {
    /// The number of lists of a neighbour search over `rows` rows: about √(2n).
    static func neighborListCount(rows: Int) -> Int {
        min(rows, max(1, Int((2 * Double(rows)).squareRoot())))
    }

    /// The graph of `matrix`'s rows (L2-normalised) with `k` neighbours each,
    /// the row itself first: `lists` lists (default `neighborListCount`)
    /// around centres trained on `samplePerList` rows each, each row probing
    /// its own and the `probes − 1` lists whose boundary lies nearest, each
    /// list searching its own and the `searchedLists − 1` lists its rows probe most.
    /// The centres are the K-Means representatives of the sample
    /// (`trainCentres`), or with `lloydSteps` that many spherical Lloyd steps
    /// on it (`lloydCentres`: cheaper, for a graph that only ranks).
    ///
    /// With `gathersRows`, no grouped copy of the matrix is made: each list's
    /// rows and those of the lists it searches are gathered into a small
    /// per-thread block instead (about `searchedLists` reads of the matrix in
    /// all, for one copy of it less in memory: what a million-row map needs).
    /// With `scoresInInt8` too (and a processor with AVX-512 VNNI), the
    /// candidates are shortlisted by int8 scores and only the shortlist is
    /// scored in float32 (`Int8CandidateScores`).
    public static func neighborGraph(_ matrix: EmbeddingMatrix, k: Int, seed: UInt64, probes: Int = 3,
                                     searchedLists: Int = 6, lists requestedLists: Int? = nil,
                                     samplePerList: Int = 8, lloydSteps: Int? = nil, gathersRows: Bool = false,
                                     scoresInInt8: Bool = false) throws -> NeighborGraph {
        try neighborSearch(matrix, k: k, seed: seed, probes: probes, searchedLists: searchedLists, lists: requestedLists,
                           samplePerList: samplePerList, lloydSteps: lloydSteps, gathersRows: gathersRows,
                           scoresInInt8: scoresInInt8).graph
    }

    /// What a neighbour search finds besides the graph: the lists it used,
    /// which the map takes as its locality order and its start.
    struct NeighborSearch {
        /// The graph, in the matrix's row numbering.
        var graph: NeighborGraph
        /// The rows list by list (ascending within each): an order that keeps
        /// similar rows close in memory.
        var order: [Int32]
        /// The unit centres, `listCount × dimension`.
        var centres: [Float]
        /// The number of lists.
        var listCount: Int
        /// Each row's list.
        var listOfRow: [Int32]
        /// Which lists each list searched: the pairs of rows already compared.
        var searched: SearchedListPairs
    }

    /// `neighborGraph`, with the lists it used.
    static func neighborSearch(_ matrix: EmbeddingMatrix, k: Int, seed: UInt64, probes: Int = 3, searchedLists: Int = 6,
                               lists requestedLists: Int? = nil, samplePerList: Int = 8, lloydSteps: Int? = nil,
                               gathersRows: Bool = false, scoresInInt8: Bool = false) throws -> NeighborSearch {
        let n = matrix.rows, d = matrix.dimension
        let k = min(k, n)
        guard n > 0, k > 0, d > 0 else {
            return NeighborSearch(graph: NeighborGraph(count: n, k: k, indices: [], distances: []),
                                  order: (0..<n).map(Int32.init), centres: [], listCount: 0,
                                  listOfRow: [Int32](repeating: 0, count: n),
                                  searched: SearchedListPairs(listOfRow: [Int32](repeating: 0, count: n), listCount: 0))
        }
        let listCount = min(n, max(1, requestedLists ?? neighborListCount(rows: n)))
        let centres = try lloydSteps.map {
            lloydCentres(matrix: matrix, lists: listCount, samplePerList: samplePerList, steps: $0, seed: seed)
        } ?? trainCentres(matrix: matrix, lists: listCount, samplePerList: samplePerList, seed: seed)
        let file = try InvertedFile(centres: centres, matrix: matrix, horizon: .infinity, limit: max(0, probes - 1))
        let (graph, order, searched) = file.neighborGraph(matrix, k: k, searchedLists: searchedLists,
                                                          gathersRows: gathersRows, scoresInInt8: scoresInInt8)
        return NeighborSearch(graph: graph, order: order, centres: file.centres, listCount: file.listCount,
                              listOfRow: file.lists, searched: searched)
    }

    /// The graph of this file's rows (`matrix`'s), each list searched with its
    /// own and the `searchedLists − 1` others its rows probe most (their rows
    /// gathered per list with `gathersRows`, else from a grouped copy of the
    /// matrix; shortlisted in int8 with `scoresInInt8` where the processor
    /// allows); also the rows in list order and which lists each list searched.
    func neighborGraph(_ matrix: EmbeddingMatrix, k: Int, searchedLists: Int, gathersRows: Bool = false,
                       scoresInInt8: Bool = false) -> (graph: NeighborGraph, order: [Int32], searched: SearchedListPairs) {
        let n = matrix.rows, d = matrix.dimension
        let listCount = self.listCount
        let searchedLists = min(max(1, searchedLists), listCount)
        // Rows grouped by their list, copied in that order so that a list is one block.
        let (offsets, order) = members()
        let grouped = gathersRows ? nil : EmbeddingMatrix(uninitializedRows: n, dimension: d)
        if let grouped {
            parallelChunks(n, chunk: max(1024, (n + 2 * activeCoreCount - 1) / (2 * activeCoreCount))) { _, range in
                for position in range { matrix.copyRow(Int(order[position]), into: grouped.row(position)) }
            }
        }

        let indices = SharedBuffer<Int32>(repeating: -1, count: n * k)
        let distances = SharedBuffer<Float>(repeating: .infinity, count: n * k)
        let threads = max(1, min(activeCoreCount, listCount))
        let int8 = gathersRows && scoresInInt8 && Int8CandidateScores.available
        let shortlist = Self.int8Shortlist(k: k)
        let pairs = SearchedListPairs(listOfRow: lists, listCount: listCount)
        let shared = UncheckedSendable((offsets, order, self))
        BLAS.withSingleThreadedCalls {
            parallelFor(threads) { t in
                let (offsets, order, file) = shared.value
                var marked = [Bool](repeating: false, count: listCount)
                var tally = [Int](repeating: 0, count: listCount)
                var scores: [Float] = []
                var gathered: [Float] = []
                var best = SmallestK(k: k)
                defer { best.deallocate() }
                let int8Scores = int8 ? Int8CandidateScores(dimension: d) : nil
                var shortlisted = SmallestK(k: shortlist)
                defer { shortlisted.deallocate() }
                var columnRows: [Int32] = []
                for a in stride(from: t, to: listCount, by: threads) {
                    let first = offsets[a], rows = offsets[a + 1] - first
                    guard rows > 0 else { continue }
                    // The lists this list's rows probe most (a row's nearer probes weigh more), its own first, at
                    // most `searchedLists`: in high dimensions the rows' probes scatter, and their union is most lists.
                    var votes: [(list: Int, weight: Int)] = []
                    for position in first..<(first + rows) {
                        let row = Int(order[position])
                        let probed = file.neighbourStart[row]..<file.neighbourStart[row + 1]
                        for (p, e) in probed.enumerated() {
                            let c = Int(file.neighbourLists[e])
                            if tally[c] == 0 { votes.append((c, 0)) }
                            tally[c] += probed.count - p
                        }
                    }
                    for v in votes.indices { votes[v].weight = tally[votes[v].list]; tally[votes[v].list] = 0 }
                    votes.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.list < $1.list }
                    var searched = [a] + votes.prefix(searchedLists - 1).map(\.list)
                    for c in searched { marked[c] = true }
                    var width = searched.reduce(0) { $0 + offsets[$1 + 1] - offsets[$1] }
                    if width < k {
                        // Too few rows to choose k from: add the lists whose centres are nearest this one's.
                        let nearby = file.centres.withUnsafeBufferPointer { cb in
                            (0..<listCount).map { c in (c, -BLAS.dot(d, cb.baseAddress! + a * d, cb.baseAddress! + c * d)) }
                                .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
                        }
                        for (c, _) in nearby where width < k && !marked[c] {
                            marked[c] = true
                            searched.append(c)
                            width += offsets[c + 1] - offsets[c]
                        }
                    }
                    for c in searched { marked[c] = false }
                    pairs.note(a, searched: searched)
                    // A crowded list (thousands of near-duplicates) is taken a chunk of rows at a time.
                    let chunk = min(rows, 512)
                    if scores.count < chunk * width { scores = [Float](repeating: 0, count: chunk * width) }
                    // Without the grouped copy: this list's rows, then the searched lists' rows, one block.
                    if grouped == nil {
                        let needed = (rows + width) * d
                        if gathered.count < needed { gathered = [Float](repeating: 0, count: needed) }
                        gathered.withUnsafeMutableBufferPointer { g in
                            var position = 0
                            for c in [a] + searched {
                                for i in offsets[c]..<offsets[c + 1] {
                                    matrix.copyRow(Int(order[i]), into: g.baseAddress! + position * d)
                                    position += 1
                                }
                            }
                        }
                    }
                    if let int8Scores {
                        // The candidates packed once per list; each chunk of rows scored against them.
                        gathered.withUnsafeBufferPointer { g in int8Scores.setCandidates(g.baseAddress! + rows * d, count: width) }
                        columnRows.removeAll(keepingCapacity: true)
                        for c in searched { columnRows.append(contentsOf: order[offsets[c]..<offsets[c + 1]]) }
                        let stride = int8Scores.paddedCount
                        if scores.count < chunk * stride { scores = [Float](repeating: 0, count: chunk * stride) }
                        for chunkStart in Swift.stride(from: first, to: first + rows, by: chunk) {
                            let chunkRows = chunkStart..<min(first + rows, chunkStart + chunk)
                            scores.withUnsafeMutableBufferPointer { s in
                                gathered.withUnsafeBufferPointer { g in
                                    let queries = g.baseAddress! + (chunkStart - first) * d
                                    int8Scores.score(queries: queries, count: chunkRows.count, into: s.baseAddress!)
                                    Self.nearestShortlisted(
                                        rows: chunkRows, order: order, queries: queries, candidates: g.baseAddress! + rows * d,
                                        columnRows: columnRows, scores: s.baseAddress!, stride: stride, k: k, d: d,
                                        shortlisted: &shortlisted,
                                        best: &best, indices: indices, distances: distances)
                                }
                            }
                        }
                        continue
                    }
                    for chunkStart in stride(from: first, to: first + rows, by: chunk) {
                        scores.withUnsafeMutableBufferPointer { s in
                            gathered.withUnsafeBufferPointer { g in
                                let block = grouped.map { RowBlock(grouped: $0) }
                                    ?? RowBlock(gathered: g.baseAddress!, list: a, offsets: offsets, dimension: d)
                                Self.nearest(rows: chunkStart..<min(first + rows, chunkStart + chunk), lists: searched,
                                             width: width, block: block, offsets: offsets, order: order, k: k, d: d,
                                             scores: s.baseAddress!, best: &best, indices: indices, distances: distances)
                            }
                        }
                    }
                }
            }
        }
        return (NeighborGraph(count: n, k: k, indices: indices.array, distances: distances.array), order, pairs)
    }

    /// The neighbours of `rows` (positions in the list order, one list's) among
    /// the rows of `lists` (`width` of them): one GEMM per list into
    /// `scores`, then each row's k best, itself first.
    private static func nearest(rows: Range<Int>, lists: [Int], width: Int, block: RowBlock, offsets: [Int],
                                order: [Int32], k: Int, d: Int, scores: UnsafeMutablePointer<Float>, best: inout SmallestK,
                                indices: SharedBuffer<Int32>, distances: SharedBuffer<Float>) {
        if let gathered = block.searched {
            // The searched rows are one block: one GEMM.
            BLAS.gemm(transposeB: true, m: rows.count, n: width, k: d, a: block.row(rows.lowerBound), lda: d,
                      b: gathered, ldb: d, c: scores, ldc: width)
        } else {
            var column = 0
            for c in lists {
                let size = offsets[c + 1] - offsets[c]
                guard size > 0 else { continue }
                BLAS.gemm(transposeB: true, m: rows.count, n: size, k: d, a: block.row(rows.lowerBound), lda: d,
                          b: block.row(offsets[c]), ldb: d, c: scores + column, ldc: width)
                column += size
            }
        }
        for (r, position) in rows.enumerated() {
            let me = order[position]
            // The row itself always comes first, even among duplicates.
            best.offer(me, -1)
            let line = scores + r * width
            // Most candidates fall short of the k-th best so far: that test comes before anything else is read.
            var bound = best.bound
            var column = 0
            order.withUnsafeBufferPointer { order in
                for c in lists {
                    let first = offsets[c], size = offsets[c + 1] - first
                    for t in 0..<size {
                        let distance = max(1 - line[column + t], 0)
                        guard distance <= bound else { continue }
                        let other = order[first + t]
                        if other != me {
                            best.offer(other, distance)
                            bound = best.bound
                        }
                    }
                    column += size
                }
            }
            let out = Int(me) * k
            best.take(indices: indices.pointer + out, distances: distances.pointer + out)
            distances[out] = 0
        }
    }

    /// How many candidates per row the int8 scores shortlist for float32:
    /// twice the neighbours (at 300,000 × 512 the graph then matches
    /// float32's scoring of every candidate almost exactly).
    static func int8Shortlist(k: Int) -> Int { 2 * k }

    /// `nearest` from int8 scores (`stride` per row, one column per
    /// candidate, `columnRows` their rows): each row's shortlist by those,
    /// then its k best by float32 products of the shortlist, itself first.
    private static func nearestShortlisted(
        rows: Range<Int>, order: [Int32], queries: UnsafePointer<Float>, candidates: UnsafePointer<Float>,
        columnRows: [Int32], scores: UnsafePointer<Float>, stride: Int, k: Int, d: Int,
        shortlisted: inout SmallestK,
        best: inout SmallestK, indices: SharedBuffer<Int32>, distances: SharedBuffer<Float>
    ) {
        columnRows.withUnsafeBufferPointer { columnRows in
            for (r, position) in rows.enumerated() {
                let me = order[position]
                let line = scores + r * stride
                var bound = shortlisted.bound
                for column in 0..<columnRows.count {
                    let distance = 1 - line[column]
                    guard distance <= bound, columnRows[column] != me else { continue }
                    shortlisted.offer(Int32(column), distance)
                    bound = shortlisted.bound
                }
                best.offer(me, -1)
                let query = queries + r * d
                for column in shortlisted.indices {
                    let column = Int(column)
                    best.offer(columnRows[column], max(1 - MapKernels.dot(query, candidates + column * d, d), 0))
                }
                shortlisted.reset()
                let out = Int(me) * k
                best.take(indices: indices.pointer + out, distances: distances.pointer + out)
                distances[out] = 0
            }
        }
    }

    /// Where a list's search reads rows (positions in the list order): the
    /// grouped copy of the whole matrix, or one list's rows followed by its
    /// searched lists' rows, gathered.
    private struct RowBlock {
        let base: UnsafePointer<Float>
        /// The position of `base`'s first row.
        let first: Int
        let dimension: Int
        /// The searched lists' rows in one block, when gathered.
        let searched: UnsafePointer<Float>?

        init(grouped: EmbeddingMatrix) {
            base = UnsafePointer(grouped.row(0))
            first = 0
            dimension = grouped.dimension
            searched = nil
        }

        init(gathered: UnsafePointer<Float>, list: Int, offsets: [Int], dimension: Int) {
            base = gathered
            first = offsets[list]
            self.dimension = dimension
            searched = gathered + (offsets[list + 1] - offsets[list]) * dimension
        }

        func row(_ position: Int) -> UnsafePointer<Float> { base + (position - first) * dimension }
    }
}
