/// Distance queries custom samplers use (Lua's `ctx:distance`, `ctx:nearest`,
/// `ctx:farthest_from`): cosine distance `1 − dot` over the album's
/// normalised embeddings, ties always to the lowest row. A query against many
/// rows is one GEMV over the matrix, not a dot product per pair.
public struct SamplerGeometry: Sendable {
    /// The album's embeddings.
    public let matrix: EmbeddingMatrix

    /// Creates the queries over `matrix`.
    public init(matrix: EmbeddingMatrix) { self.matrix = matrix }

    /// The cosine distance between album rows `a` and `b`.
    public func distance(_ a: Int, _ b: Int) throws -> Float {
        try check(a, "distance")
        try check(b, "distance")
        return 1 - BLAS.dot(matrix.dimension, matrix.vector(a), matrix.vector(b))
    }

    /// The `k` rows of `among` nearest to `row` (itself excluded), nearest first.
    public func nearest(to row: Int, count k: Int, among rows: [Int]) throws -> [Int] {
        try check(row, "nearest")
        guard k > 0 else { return [] }
        for other in rows { try check(other, "nearest") }
        let similarity = similarities(to: row)
        var scored: [(row: Int, similarity: Float)] = []
        scored.reserveCapacity(rows.count)
        for other in Set(rows) where other != row { scored.append((other, similarity[other])) }
        scored.sort { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.row < $1.row }
        return scored.prefix(k).map(\.row)
    }

    /// The row of `among` (not in `set`) whose minimum distance to `set` is
    /// largest: one FPS step. Nil when `set` is empty or nothing is left.
    public func farthest(from set: [Int], among rows: [Int]) throws -> Int? {
        guard !set.isEmpty else { return nil }
        for row in set { try check(row, "farthest_from") }
        for row in rows { try check(row, "farthest_from") }
        let picked = Set(set)
        // Each row's highest similarity to the set, one GEMV per member.
        var closest = [Float](repeating: -.infinity, count: matrix.rows)
        let pool = Set(rows).subtracting(picked).sorted()
        for member in picked {
            let similarity = similarities(to: member)
            for row in pool where similarity[row] > closest[row] { closest[row] = similarity[row] }
        }
        var best: Int?
        var bestSimilarity = Float.infinity
        for row in pool where closest[row] < bestSimilarity {
            bestSimilarity = closest[row]
            best = row
        }
        return best
    }

    /// The cosine similarity of every row to row `query` (one GEMV pass;
    /// a float16 matrix's rows are widened a block at a time).
    public func similarities(to query: Int) -> [Float] {
        matrix.scores(along: matrix.vector(query))
    }

    private func check(_ row: Int, _ parameter: String) throws {
        guard (0..<matrix.rows).contains(row) else {
            throw SelectionError.rowOutOfRange(parameter: parameter, row: row, rows: matrix.rows)
        }
    }
}
