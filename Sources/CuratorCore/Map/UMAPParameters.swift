/// The settings of a UMAP layout. The defaults are PhotoMapAI's
/// (`n_neighbors=15, min_dist=0.05`, cosine metric) plus a seed, which
/// PhotoMapAI lacks: the same parameters always give the same map.
public struct UMAPParameters: Sendable, Hashable, Codable {
    /// Neighbours per image in the graph, the image itself included (umap-learn's `n_neighbors`).
    public var nNeighbors: Int
    /// How tightly points may pack in the map (umap-learn's `min_dist`).
    public var minDist: Double
    /// The scale of the map's similarity curve (umap-learn's `spread`).
    public var spread: Double
    /// The seed of every random choice.
    public var seed: UInt64
    /// Optimisation epochs; nil chooses as umap-learn does (500 up to 10,000 images, else 200).
    public var epochs: Int?
    /// Repulsive samples per attractive one.
    public var negativeSampleRate: Int
    /// Albums up to this size get exact neighbours; larger ones nearest-neighbour
    /// descent, and past `NeighborGraph.cellSearchLimit` an inverted file refined by descent.
    public var exactNeighborLimit: Int

    /// Creates parameters; every argument has PhotoMapAI's default.
    public init(nNeighbors: Int = 15, minDist: Double = 0.05, spread: Double = 1, seed: UInt64 = 0,
                epochs: Int? = nil, negativeSampleRate: Int = 5, exactNeighborLimit: Int = 4_096) {
        self.nNeighbors = nNeighbors
        self.minDist = minDist
        self.spread = spread
        self.seed = seed
        self.epochs = epochs
        self.negativeSampleRate = negativeSampleRate
        self.exactNeighborLimit = exactNeighborLimit
    }

    /// The epochs a layout of `count` images runs.
    public func epochs(forCount count: Int) -> Int {
        epochs ?? (count <= 10_000 ? 500 : 200)
    }

    /// Throws `MapError.invalidParameter` naming the first bad setting.
    public func validate() throws {
        guard nNeighbors >= 2 else {
            throw MapError(.invalidParameter, "map: nNeighbors must be at least 2 (got \(nNeighbors))")
        }
        guard nNeighbors <= 200 else {
            throw MapError(.invalidParameter, "map: nNeighbors must be at most 200 (got \(nNeighbors))")
        }
        guard spread.isFinite, spread > 0 else {
            throw MapError(.invalidParameter, "map: spread must be a positive number (got \(spread))")
        }
        guard minDist.isFinite, minDist >= 0, minDist <= spread else {
            throw MapError(.invalidParameter, "map: minDist must be between 0 and spread (\(spread)) (got \(minDist))")
        }
        if let epochs, epochs < 1 || epochs > 100_000 {
            throw MapError(.invalidParameter, "map: epochs must be between 1 and 100000 (got \(epochs))")
        }
        guard negativeSampleRate >= 0, negativeSampleRate <= 100 else {
            throw MapError(.invalidParameter, "map: negativeSampleRate must be between 0 and 100 (got \(negativeSampleRate))")
        }
        guard exactNeighborLimit >= 0 else {
            throw MapError(.invalidParameter, "map: exactNeighborLimit must not be negative (got \(exactNeighborLimit))")
        }
    }

    /// A stable text form of every setting, for cache keys.
    public var canonicalDescription: String {
        "nNeighbors=\(nNeighbors);minDist=\(minDist);spread=\(spread);seed=\(seed);epochs=\(epochs.map(String.init) ?? "auto");"
            + "negativeSampleRate=\(negativeSampleRate);exactNeighborLimit=\(exactNeighborLimit)"
    }
}
