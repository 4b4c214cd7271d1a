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

    /// Whether an album of `rows` images is searched exactly.
    static func usesExactSearch(rows: Int, k: Int, exactLimit: Int) -> Bool {
        rows <= exactLimit || min(k, rows) >= rows
    }

    /// The exact graph, by blocked matrix products.
    public static func exact(_ matrix: EmbeddingMatrix, k: Int) -> NeighborGraph {
        ExactNeighbors.search(matrix, k: k)
    }

    /// The fraction of true neighbours (self excluded) that `self` found.
    public func recall(against truth: NeighborGraph) -> Double {
        guard count == truth.count, k == truth.k, k > 1 else { return 1 }
        var found = 0
        for i in 0..<count {
            let mine = Set(indices[(i * k + 1)..<(i * k + k)])
            for j in 1..<k where mine.contains(truth.indices[i * k + j]) { found += 1 }
        }
        return Double(found) / Double(count * (k - 1))
    }
}

/// Keeps the `k` smallest (distance, index) pairs seen: a sorted array with
/// insertion, fast for the small k a map uses.
struct SmallestK {
    private(set) var indices: [Int32]
    private(set) var distances: [Float]
    let k: Int

    init(k: Int) {
        self.k = k
        indices = Array(repeating: -1, count: k)
        distances = Array(repeating: .infinity, count: k)
    }

    /// The distance a candidate must beat.
    var bound: Float { distances[k - 1] }

    /// Offers a candidate; ties are broken by the smaller index.
    @inline(__always)
    mutating func offer(_ index: Int32, _ distance: Float) {
        let last = k - 1
        if distance > distances[last] || (distance == distances[last] && index >= indices[last]) { return }
        var position = last
        while position > 0 && (distances[position - 1] > distance
                               || (distances[position - 1] == distance && indices[position - 1] > index)) {
            distances[position] = distances[position - 1]
            indices[position] = indices[position - 1]
            position -= 1
        }
        distances[position] = distance
        indices[position] = index
    }
}
