/// The k nearest neighbours among some of an album's rows, for the
/// selection and scoring code that needs a sparse similarity graph
/// (facility location, uniqueness): exact by blocked GEMMs (one block of
/// rows against all, never an N × N matrix) up to `exactLimit` rows, an
/// inverted file beyond (`InvertedFile.neighborGraph`: GEMMs between
/// nearby lists only), seeded so the graph is the same on every run.
enum SparseNeighbors {
    /// Rows up to which the search is exact.
    static let exactLimit = 4_096

    /// The graph of `rows` (album rows of `matrix`): working row i is
    /// `rows[i]`; each lists min(k, rows.count) neighbours, itself first.
    static func graph(matrix: EmbeddingMatrix, rows: [Int], k: Int, seed: UInt64 = 0) throws -> NeighborGraph {
        try graph(of: working(matrix: matrix, rows: rows), k: k, seed: seed)
    }

    /// `rows` of `matrix` as a float32 matrix of their own (`matrix` itself
    /// when they are all its rows in order and it is float32). The graph
    /// searches read rows in place, so a float16 album's rows are widened
    /// here, once: a float32 copy for as long as the graph is built.
    static func working(matrix: EmbeddingMatrix, rows: [Int]) -> EmbeddingMatrix {
        if rows.count == matrix.rows && rows.elementsEqual(0..<matrix.rows) { return matrix.float32() }
        let working = EmbeddingMatrix(uninitializedRows: rows.count, dimension: matrix.dimension)
        for (i, row) in rows.enumerated() { matrix.copyRow(row, into: working.row(i)) }
        return working
    }

    /// The graph of every row of `working`; beyond the exact limit each
    /// inverted-file list is compared with `searchedLists` lists, its own
    /// included, the file trained and searched as `search` says (nil: the
    /// K-Means centres of 8 rows per list, from a grouped copy of the rows).
    static func graph(of working: EmbeddingMatrix, k: Int, seed: UInt64 = 0, searchedLists: Int = 6,
                      search: ApproximateSearch? = nil) throws -> NeighborGraph {
        if NeighborGraph.usesExactSearch(rows: working.rows, k: k, exactLimit: exactLimit) {
            return ExactNeighbors.search(working, k: k)
        }
        guard let search else { return try InvertedFile.neighborGraph(working, k: k, seed: seed, searchedLists: searchedLists) }
        return try InvertedFile.neighborGraph(working, k: k, seed: seed, searchedLists: searchedLists,
                                              samplePerList: search.samplePerList, lloydSteps: search.lloydSteps,
                                              gathersRows: search.gathersRows)
    }

    /// How the inverted file of an approximate graph is trained and searched
    /// (`InvertedFile.neighborGraph`'s options of the same names).
    struct ApproximateSearch: Sendable, Equatable {
        /// Sample rows per list the centres are placed on.
        var samplePerList: Int
        /// Spherical Lloyd steps on the sample (`InvertedFile.lloydCentres`);
        /// nil for the K-Means representatives (`InvertedFile.trainCentres`).
        var lloydSteps: Int?
        /// Whether each list's rows are gathered into a per-thread block
        /// instead of read from a grouped copy of the whole matrix.
        var gathersRows: Bool
    }
}
