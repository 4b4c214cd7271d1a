/// The k nearest neighbours of every row of a matrix under cosine distance:
/// row `i` lists `k` neighbours nearest first, the row itself first of all
/// (at distance 0), as umap-learn's neighbour search returns them.
public struct NeighborGraph: Sendable {
    /// The number of points.
    public let count: Int
    /// Neighbours per point, the point itself included.
    public let k: Int
    /// `count * k` neighbour indices, row after row.
    public internal(set) var indices: [Int32]
    /// `count * k` cosine distances matching `indices`.
    public internal(set) var distances: [Float]

    /// The graph of `matrix`'s rows (L2-normalised) with `k` neighbours each
    /// (fewer when the album is smaller): exact search up to `exactLimit`
    /// rows, nearest-neighbour descent seeded by `seed` beyond.
    public static func build(_ matrix: EmbeddingMatrix, k: Int, exactLimit: Int, seed: UInt64) -> NeighborGraph {
        build(matrix, k: k, exactLimit: exactLimit, seed: seed, sortsRows: true)
    }

    /// As `build`, optionally without descent's row sorting (for callers
    /// that sorted the rows already).
    static func build(_ matrix: EmbeddingMatrix, k: Int, exactLimit: Int, seed: UInt64, sortsRows: Bool) -> NeighborGraph {
        let k = min(k, matrix.rows)
        if usesExactSearch(rows: matrix.rows, k: k, exactLimit: exactLimit) {
            return ExactNeighbors.search(matrix, k: k)
        }
        var descent = NeighborDescent(matrix: matrix, k: k, seed: seed)
        descent.sortsRows = sortsRows
        return descent.run()
    }

    /// Past this many rows, the map's graph comes from an inverted file
    /// (`cellSearch`) rather than from a random projection forest: the
    /// candidates are scored by GEMMs, and no sorted copy of the rows is made.
    public static let cellSearchLimit = 200_000

    /// The approximate graph of a large album: an inverted file
    /// (`InvertedFile.neighborGraph`, rows gathered per list, `probes` lists
    /// per row, `searchedLists` lists per list), then at most `refinements`
    /// rounds of nearest-neighbour descent from it. Also returns the rows in
    /// list order, which keeps similar rows together. Deterministic for a seed.
    /// Candidates are shortlisted in int8 with `scoresInInt8` where the
    /// processor has AVX-512 VNNI (`Int8CandidateScores`).
    public static func cellSearch(_ matrix: EmbeddingMatrix, k: Int, seed: UInt64, probes: Int = 3, searchedLists: Int = 6,
                                  refinements: Int = 1,
                                  scoresInInt8: Bool = true) throws -> (graph: NeighborGraph, order: [Int32]) {
        let found = try cellSearchWithLists(matrix, k: k, seed: seed, probes: probes, searchedLists: searchedLists,
                                            refinements: refinements, scoresInInt8: scoresInInt8)
        return (found.graph, found.order)
    }

    /// `cellSearch`, with the lists (centres, each row's list) it used.
    static func cellSearchWithLists(_ matrix: EmbeddingMatrix, k: Int, seed: UInt64, probes: Int = 3, searchedLists: Int = 6,
                                    refinements: Int = 1, scoresInInt8: Bool = true) throws -> InvertedFile.NeighborSearch {
        let k = min(k, matrix.rows)
        var found = try InvertedFile.neighborSearch(matrix, k: k, seed: seed, probes: probes, searchedLists: searchedLists,
                                                    gathersRows: true, scoresInInt8: scoresInInt8)
        guard refinements > 0, k > 1 else { return found }
        var descent = NeighborDescent(matrix: matrix, k: k, seed: seed)
        descent.maxIterations = refinements
        found.graph = descent.refine(found.graph, skipping: found.searched)
        return found
    }

    /// This graph with its points renumbered: point r of the result is point
    /// `order[r]` of this one (`order` a permutation of every point).
    func renumbered(by order: [Int32]) -> NeighborGraph {
        var position = [Int32](repeating: 0, count: count)
        for (r, i) in order.enumerated() { position[Int(i)] = Int32(r) }
        let result = SharedBuffer<Int32>(repeating: -1, count: count * k)
        let near = SharedBuffer<Float>(repeating: .infinity, count: count * k)
        parallelChunks(count, chunk: 16_384) { _, range in
            for r in range {
                let from = Int(order[r]) * k
                for j in 0..<k {
                    let q = indices[from + j]
                    result[r * k + j] = q < 0 ? -1 : position[Int(q)]
                    near[r * k + j] = distances[from + j]
                }
            }
        }
        return NeighborGraph(count: count, k: k, indices: result.array, distances: near.array)
    }

    /// Whether an album of `rows` images is searched exactly.
    static func usesExactSearch(rows: Int, k: Int, exactLimit: Int) -> Bool {
        rows <= exactLimit || min(k, rows) >= rows
    }

    /// The exact graph, by blocked matrix products.
    public static func exact(_ matrix: EmbeddingMatrix, k: Int) -> NeighborGraph {
        ExactNeighbors.search(matrix, k: k)
    }

    /// The exact neighbours in `matrix` of each row of `queries`, query `r`
    /// being row `selfRows[r]` of `matrix` (for scoring a sample of a graph
    /// too large to search exactly).
    public static func exact(queries: EmbeddingMatrix, selfRows: [Int], in matrix: EmbeddingMatrix, k: Int) -> NeighborGraph {
        ExactNeighbors.search(queries: queries, selfRows: selfRows, in: matrix, k: k)
    }

    /// The fraction of true neighbours (self excluded) that `self` found.
    public func recall(against truth: NeighborGraph) -> Double {
        guard count == truth.count else { return 1 }
        return recall(of: Array(0..<count), against: truth)
    }

    /// The fraction of true neighbours (self excluded) that `self` found for
    /// `rows`, whose true neighbours are `truth`'s rows 0, 1, … in that order.
    public func recall(of rows: [Int], against truth: NeighborGraph) -> Double {
        guard rows.count == truth.count, k == truth.k, k > 1, !rows.isEmpty else { return 1 }
        var found = 0
        for (r, i) in rows.enumerated() {
            let mine = Set(indices[(i * k + 1)..<(i * k + k)])
            for j in 1..<k where mine.contains(truth.indices[r * k + j]) { found += 1 }
        }
        return Double(found) / Double(rows.count * (k - 1))
    }
}
