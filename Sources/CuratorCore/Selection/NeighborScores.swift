/// Per-image scores from the k nearest neighbours in embedding space.
///
/// - `uniqueness`, FiftyOne's (`fiftyone.brain.compute_uniqueness`): the
///   weighted mean of the cosine distances to the 3 nearest other images
///   (weights 0.6, 0.3, 0.1, divided by 3), divided by the album's largest
///   such value, so the most isolated image scores 1 and near-duplicates 0.
/// - `typicality`, Lightly's (after TypiClust, Hacohen et al. 2022): the
///   inverse of the mean Euclidean distance to the 20 nearest other images
///   (between unit vectors, √(2 · cosine distance)); high in dense regions.
///
/// Both come from one k-nearest-neighbour graph of the whole matrix
/// (`SparseNeighbors`: blocked GEMMs, or the inverted file for large
/// albums), so scores do not change with exclusions or filters.
public struct NeighborScores: Sendable {
    /// Uniqueness per matrix row, 0...1.
    public let uniqueness: [Double]
    /// Typicality per matrix row (1 / mean distance; infinite for an image
    /// whose 20 neighbours are all exact duplicates).
    public let typicality: [Double]

    /// FiftyOne's neighbour weights, nearest first.
    static let uniquenessWeights: [Double] = [0.6, 0.3, 0.1]
    /// Lightly's neighbour count for typicality.
    static let typicalityNeighbors = 20

    /// The scores of every row of `matrix`. With one row both are 0 (it has no neighbours).
    public init(matrix: EmbeddingMatrix) throws {
        let n = matrix.rows
        guard n > 1 else {
            uniqueness = [Double](repeating: 0, count: n)
            typicality = [Double](repeating: 0, count: n)
            return
        }
        let graph = try SparseNeighbors.graph(matrix: matrix, rows: Array(0..<n), k: Self.typicalityNeighbors + 1)
        let k = graph.k
        var unique = [Double](repeating: 0, count: n)
        var typical = [Double](repeating: 0, count: n)
        for i in 0..<n {
            // Slot 0 is the image itself; neighbours follow, nearest first.
            var weighted = 0.0
            var euclidean = 0.0
            var counted = 0
            for slot in 1..<k {
                let index = graph.indices[i * k + slot]
                guard index >= 0 else { continue }
                let distance = Double(max(0, graph.distances[i * k + slot]))
                if counted < Self.uniquenessWeights.count { weighted += Self.uniquenessWeights[counted] * distance }
                euclidean += (2 * distance).squareRoot()
                counted += 1
            }
            let used = min(counted, Self.uniquenessWeights.count)
            unique[i] = used > 0 ? weighted / Double(Self.uniquenessWeights.count) : 0
            typical[i] = counted > 0 ? (euclidean > 0 ? Double(counted) / euclidean : .infinity) : 0
        }
        let largest = unique.max() ?? 0
        if largest > 0 { for i in 0..<n { unique[i] /= largest } }
        uniqueness = unique
        typicality = typical
    }
}
