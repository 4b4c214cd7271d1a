/// Uniform Manifold Approximation and Projection (McInnes, Healy &
/// Melville 2018) of an album's embeddings to a 2-D map, written here after
/// umap-learn's algorithm: cosine k-nearest neighbours, the fuzzy simplicial
/// set, a PCA start scaled as umap-learn's `init="pca"`, and stochastic
/// gradient descent with negative sampling.
public enum UMAP {
    /// The progress label of the neighbour search.
    public static let neighborsLabel = "map: neighbours"
    /// The progress label of the layout optimisation.
    public static let layoutLabel = "map: layout"

    /// One 2-D point per row of `matrix` (rows L2-normalised).
    ///
    /// - Throws: `MapError` for bad parameters or non-finite vectors,
    ///   `CancelledError` when `progress` asks to stop.
    ///
    /// Albums past `cellSearchFrom` rows (`NeighborGraph.cellSearchLimit`
    /// unless a benchmark says otherwise) get their neighbours from an
    /// inverted file (`NeighborGraph.cellSearch`), smaller ones from a forest
    /// and descent. Maps of more than `negativePoolFrom` rows
    /// (`negativePoolLimit`) draw their negative samples from a pool. The
    /// inverted file shortlists candidates in int8 unless `scoresInInt8` is
    /// false (a benchmark's comparison).
    public static func layout(of matrix: EmbeddingMatrix, parameters: UMAPParameters = UMAPParameters(),
                              progress: (any ProgressSink)? = nil,
                              cellSearchFrom: Int = NeighborGraph.cellSearchLimit,
                              startsFromCells: Bool = true,
                              negativePoolFrom: Int = negativePoolLimit,
                              scoresInInt8: Bool = true) throws -> [SIMD2<Float>] {
        try parameters.validate()
        try checkFinite(matrix)
        let n = matrix.rows
        if n == 0 { return [] }
        if n == 1 { return [.zero] }

        // Large albums are mapped in an order that keeps similar images
        // together in memory: neighbour search and layout both run faster,
        // and the layout's partitions then hold whole neighbourhoods.
        let sorted = !NeighborGraph.usesExactSearch(rows: n, k: parameters.nNeighbors, exactLimit: parameters.exactNeighborLimit)
        let order: [Int32]
        let graph: NeighborGraph
        var cells: InvertedFile.NeighborSearch?
        progress.update(label: neighborsLabel, done: 0, total: 1)
        if sorted && n > cellSearchFrom {
            // The inverted file's list order is the locality order, and its
            // rows are gathered per list: no copy of the matrix.
            var found = try NeighborGraph.cellSearchWithLists(matrix, k: parameters.nNeighbors, seed: parameters.seed,
                                                              scoresInInt8: scoresInInt8)
            order = found.order
            graph = found.graph.renumbered(by: order)
            found.graph = NeighborGraph(count: 0, k: graph.k, indices: [], distances: [])
            cells = found
        } else {
            order = sorted
                ? NeighborDescent(matrix: matrix, k: min(parameters.nNeighbors, n), seed: parameters.seed).localityOrder()
                : []
            graph = neighbors(of: matrix, order: order, parameters: parameters)
        }
        progress?.finish(label: neighborsLabel)
        try progress.checkCancellation("map")

        let epochs = parameters.epochs(forCount: n)
        progress.update(label: layoutLabel, done: 0, total: epochs)
        // The start first (the principal axes read every row), then the
        // layout, which reads only the graph and the points: a file-mapped
        // matrix gives its pages back in between, so they and the fuzzy set
        // are never resident together, and an album reads them again when it
        // needs them.
        let cellStart = try startsFromCells ? cells.map { try initialPoints(fromCells: $0, parameters: parameters) } : nil
        cells = nil
        var points = cellStart ?? initialPoints(matrix, order: order, parameters: parameters)
        matrix.releaseResidentPages()
        var fuzzy = FuzzySimplicialSet(graph: graph)
        fuzzy.pruneWeak(epochs: epochs)
        try optimize(&points, count: n, graph: fuzzy, parameters: parameters, epochs: epochs,
                     negativePoolFrom: negativePoolFrom, progress: progress)
        var result = [SIMD2<Float>](repeating: .zero, count: n)
        for r in 0..<n { result[sorted ? Int(order[r]) : r] = SIMD2(points[2 * r], points[2 * r + 1]) }
        return result
    }

    /// The neighbour graph of the rows of `matrix` taken in `order` (all
    /// of them in their own order when it is empty). The sorted copy the
    /// search runs on lives only during the search, and meanwhile the
    /// matrix's own rows are not read: a file-mapped matrix gives its pages
    /// back (`releaseResidentPages`), so a million-row map holds the rows
    /// about once, not twice.
    static func neighbors(of matrix: EmbeddingMatrix, order: [Int32], parameters: UMAPParameters) -> NeighborGraph {
        guard !order.isEmpty else {
            return NeighborGraph.build(matrix, k: parameters.nNeighbors, exactLimit: parameters.exactNeighborLimit,
                                       seed: parameters.seed, sortsRows: false)
        }
        let working = NeighborDescent.rows(of: matrix, in: order)
        matrix.releaseResidentPages()
        return NeighborGraph.build(working, k: parameters.nNeighbors, exactLimit: parameters.exactNeighborLimit,
                                   seed: parameters.seed, sortsRows: false)
    }

    /// The start of the optimisation, point r for row `order[r]` of `matrix`
    /// (row r when `order` is empty): the two principal components scaled
    /// so the largest coordinate is 10, a little seeded noise against exact
    /// ties, then each axis stretched to [0, 10] (umap-learn's "pca" init).
    /// Without LAPACK (a BLAS library lacking it), a seeded random start, as
    /// umap-learn's "random" init.
    static func initialPoints(_ matrix: EmbeddingMatrix, order: [Int32] = [], parameters: UMAPParameters) -> [Float] {
        let n = matrix.rows
        let projection = try? Projection2D.principalComponents(of: matrix)
        var random = Xoshiro256StarStar(seed: parameters.seed, stream: 0x696E_6974)
        var largest: Float = 0
        for p in projection?.points ?? [] { largest = max(largest, abs(p.x), abs(p.y)) }
        var points = [Float](repeating: 0, count: 2 * n)
        if let projection, largest > 0, largest.isFinite {
            let scale = 10 / largest
            for r in 0..<n {
                let p = projection.points[order.isEmpty ? r : Int(order[r])]
                points[2 * r] = p.x * scale + Float(random.nextGaussian() * 1e-4)
                points[2 * r + 1] = p.y * scale + Float(random.nextGaussian() * 1e-4)
            }
        } else {
            // All vectors equal (no direction to follow), or no LAPACK: start at random.
            for i in 0..<(2 * n) { points[i] = Float(random.nextDouble() * 20 - 10) }
        }
        normalizeToBox(&points, count: n)
        return points
    }

    /// The start of a large album's optimisation, point r for row
    /// `cells.order[r]`: the UMAP of the inverted file's centres (a few
    /// thousand points, exact neighbours), each row placed at its list's
    /// point with a little seeded noise, stretched to [0, 10]. A million
    /// rows' neighbour graph falls apart into islands (a cluster of
    /// hundreds of images holds all its members' 15 neighbours), so where
    /// the islands lie comes from the start alone; the centres' map puts
    /// similar lists side by side as a map of a sample of the album would,
    /// where two principal axes of 512 dimensions cannot.
    static func initialPoints(fromCells cells: InvertedFile.NeighborSearch, parameters: UMAPParameters) throws -> [Float] {
        let n = cells.order.count, d = cells.centres.count / max(cells.listCount, 1)
        let centres = EmbeddingMatrix(rows: cells.listCount, dimension: d, values: cells.centres)
        var small = parameters
        small.exactNeighborLimit = max(parameters.exactNeighborLimit, cells.listCount)
        small.epochs = nil
        var cellPoints = try layout(of: centres, parameters: small).flatMap { [$0.x, $0.y] }
        normalizeToBox(&cellPoints, count: cells.listCount)
        // Noise about a tenth of the spacing between lists.
        let spread = Float(1.0 / Double(max(cells.listCount, 1)).squareRoot())
        var random = Xoshiro256StarStar(seed: parameters.seed, stream: 0x6365_6C6C)
        var points = [Float](repeating: 0, count: 2 * n)
        for r in 0..<n {
            let c = Int(cells.listOfRow[Int(cells.order[r])])
            points[2 * r] = cellPoints[2 * c] + spread * Float(random.nextGaussian())
            points[2 * r + 1] = cellPoints[2 * c + 1] + spread * Float(random.nextGaussian())
        }
        normalizeToBox(&points, count: n)
        return points
    }

    /// Stretches each axis to [0, 10]; a flat axis is left at 0.
    static func normalizeToBox(_ points: inout [Float], count: Int) {
        for axis in 0..<2 {
            var low = Float.infinity, high = -Float.infinity
            for i in 0..<count { low = min(low, points[2 * i + axis]); high = max(high, points[2 * i + axis]) }
            let span = high - low
            for i in 0..<count { points[2 * i + axis] = span > 0 ? 10 * (points[2 * i + axis] - low) / span : 0 }
        }
    }

    /// Past this many points the layout draws its negative samples from a
    /// pool that stays in cache (`LayoutOptimizer`).
    public static let negativePoolLimit = 131_072

    /// Runs the optimiser with progress and cancellation.
    static func optimize(_ points: inout [Float], count: Int, graph: FuzzySimplicialSet, parameters: UMAPParameters,
                         epochs: Int, initialAlpha: Float = 1, movable: [Bool]? = nil,
                         negativePoolFrom: Int = negativePoolLimit, progress: (any ProgressSink)?) throws {
        var optimizer = LayoutOptimizer(curve: UMAPCurve.fit(minDist: parameters.minDist, spread: parameters.spread),
                                        epochs: epochs, negativeSampleRate: parameters.negativeSampleRate,
                                        initialAlpha: initialAlpha, seed: parameters.seed)
        optimizer.negativePoolAbove = negativePoolFrom
        let finished = optimizer.optimize(points: &points, count: count, graph: graph, movable: movable) { done in
            progress.update(label: layoutLabel, done: done, total: epochs)
            return progress?.isCancelled ?? false
        }
        progress?.finish(label: layoutLabel)
        if !finished { throw CancelledError("map") }
    }

    /// Refuses vectors holding NaN or infinity, which would poison every distance.
    static func checkFinite(_ matrix: EmbeddingMatrix) throws {
        if let row = firstNonFiniteRow(matrix) {
            throw MapError(.invalidInput, "map: row \(row) of the embeddings holds NaN or infinite values")
        }
    }
}
