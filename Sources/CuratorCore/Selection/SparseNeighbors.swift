/// The k nearest neighbours among some of an album's rows, for the
/// selection and scoring code that needs a sparse similarity graph
/// (facility location, uniqueness): exact by blocked GEMMs (one block of
/// rows against all, never an N × N matrix) up to `exactLimit` rows,
/// nearest-neighbour descent beyond, seeded so the graph is the same on
/// every run.
enum SparseNeighbors {
    /// Rows up to which the search is exact.
    static let exactLimit = 4_096

    /// The graph of `rows` (album rows of `matrix`): working row i is
    /// `rows[i]`; each lists min(k, rows.count) neighbours, itself first.
    static func graph(matrix: EmbeddingMatrix, rows: [Int], k: Int, seed: UInt64 = 0) -> NeighborGraph {
        let working: EmbeddingMatrix
        if rows.count == matrix.rows && rows.elementsEqual(0..<matrix.rows) {
            working = matrix
        } else {
            working = EmbeddingMatrix(uninitializedRows: rows.count, dimension: matrix.dimension)
            for (i, row) in rows.enumerated() { working.row(i).update(from: matrix.row(row), count: matrix.dimension) }
        }
        return NeighborGraph.build(working, k: k, exactLimit: exactLimit, seed: seed)
    }
}
