/// The parameters of one Monte Carlo selection, as the user gave them.
/// Codable so the index can store a run's parameters beside its picks.
public struct SelectionRequest: Codable, Sendable, Equatable {
    /// How many images to select (≥ 1).
    public var count: Int
    /// How many sampler iterations vote (≥ 1, no upper limit).
    public var iterations: Int
    /// The master seed every iteration's seed is drawn from.
    public var seed: UInt64
    /// Album rows forced into the picked set before sampling (FPS: new picks
    /// stay far from them). They are not candidates and get no votes.
    public var include: [Int]
    /// An album row every iteration starts from instead of a random candidate (FPS).
    public var start: Int?
    /// `count="auto"` (FPS): each iteration stops once every candidate left is
    /// within this cosine distance of a pick; `count` is then the most it may pick,
    /// and the run's count becomes the median of the iterations' counts.
    public var minimumDistance: Double?

    /// Creates a request; `iterations` defaults to 20 as in PhotoMapAI.
    public init(count: Int, iterations: Int = 20, seed: UInt64, include: [Int] = [], start: Int? = nil,
                minimumDistance: Double? = nil) {
        self.minimumDistance = minimumDistance
        self.count = count
        self.iterations = iterations
        self.seed = seed
        self.include = include
        self.start = start
    }

    /// A seed from the system's random source, for runs the user gave none
    /// (the run records it, so it can still be repeated).
    public static func randomSeed() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }
}
