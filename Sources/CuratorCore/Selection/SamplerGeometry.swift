/// Distance queries custom samplers use (Lua's `ctx:distance`, `ctx:nearest`,
/// `ctx:farthest_from`): cosine distance `1 − dot` over the album's
/// normalised embeddings, ties always to the lowest row.
public struct SamplerGeometry: @unchecked Sendable {
    // @unchecked: EmbeddingMatrix is only read here.
    /// The album's embeddings.
    public let matrix: EmbeddingMatrix

    /// Creates the queries over `matrix`.
    public init(matrix: EmbeddingMatrix) { self.matrix = matrix }

    /// The cosine distance between album rows `a` and `b`.
    public func distance(_ a: Int, _ b: Int) throws -> Float {
        try check(a, "distance")
        try check(b, "distance")
        return 1 - BLAS.dot(matrix.dimension, matrix.row(a), matrix.row(b))
    }

    /// The `k` rows of `among` nearest to `row` (itself excluded), nearest first.
    public func nearest(to row: Int, count k: Int, among rows: [Int]) throws -> [Int] {
        try check(row, "nearest")
        guard k > 0 else { return [] }
        var scored: [(distance: Float, row: Int)] = []
        scored.reserveCapacity(rows.count)
        for other in Set(rows) where other != row {
            try check(other, "nearest")
            scored.append((1 - BLAS.dot(matrix.dimension, matrix.row(row), matrix.row(other)), other))
        }
        scored.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.row < $1.row }
        return scored.prefix(k).map(\.row)
    }

    /// The row of `among` (not in `set`) whose minimum distance to `set` is
    /// largest: one FPS step. Nil when `set` is empty or nothing is left.
    public func farthest(from set: [Int], among rows: [Int]) throws -> Int? {
        guard !set.isEmpty else { return nil }
        for row in set { try check(row, "farthest_from") }
        let picked = Set(set)
        var best: (distance: Float, row: Int)?
        for row in Set(rows).subtracting(picked).sorted() {
            try check(row, "farthest_from")
            var minimum = Float.infinity
            for other in set {
                minimum = min(minimum, 1 - BLAS.dot(matrix.dimension, matrix.row(row), matrix.row(other)))
            }
            if best == nil || minimum > best!.distance { best = (minimum, row) }
        }
        return best?.row
    }

    private func check(_ row: Int, _ parameter: String) throws {
        guard (0..<matrix.rows).contains(row) else {
            throw SelectionError.rowOutOfRange(parameter: parameter, row: row, rows: matrix.rows)
        }
    }
}
