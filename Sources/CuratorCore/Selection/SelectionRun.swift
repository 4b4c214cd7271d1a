import Foundation

/// A selection run: its parameters, every iteration's picks by image id, and
/// what follows from them — votes, frequencies, tiers, the ranking and the
/// selection (the top `count`). The one run model: `MonteCarlo.run` makes it,
/// `Album.select` saves it in the index (`RunStore`), `Album.run(id:)` loads it
/// back in later sessions, and Lua shows it as `Run`.
///
/// Images are named by their album ids (matrix rows change between sessions;
/// ids do not). A bare matrix with no album behind it (benchmarks, the
/// harness's own tests) names its images by row: `MonteCarlo.run` without
/// `imageIDs`.
///
/// The tally is computed once, when the run is made or loaded. Only the
/// parameters and the picks are encoded; decoding recomputes the rest.
///
/// Ranking: votes descending, then first pick — the earliest iteration in
/// which the image was picked, and within it the earliest position
/// (PhotoMapAI's `Counter.most_common` order).
public struct SelectionRun: Codable, Sendable, Equatable {
    /// One voted image of the run.
    public struct RankedImage: Codable, Sendable, Equatable {
        /// The image's id.
        public let image: Int64
        /// In how many iterations it was picked.
        public let votes: Int
        /// `votes / iterations`.
        public let frequency: Double
        /// Its stability tier.
        public let tier: SelectionTier
        /// The first iteration (from 0) that picked it.
        public let firstIteration: Int
        /// Its position (from 0) in that iteration's picks.
        public let firstPosition: Int
    }

    // The tally's inputs are constants, so the tally can never disagree with them;
    // what only describes the run (its number, embedder, date, notes) is filled in
    // by whoever saves it.

    /// The run's number in its album (0 until saved).
    public var id: Int64
    /// The sampler's name ("fps", "kmeans", a plugin's name).
    public let method: String
    /// How many images the selection holds (at most).
    public let count: Int
    /// The master seed the iterations' seeds were drawn from.
    public let seed: UInt64
    /// The embedder whose vectors the run used ("" for a bare matrix).
    public var embedder: String
    /// When the run finished.
    public var created: Date
    /// How many images the samplers chose from (album minus exclusions, after filters).
    public let candidates: Int
    /// The mean k-means objective over iterations, for samplers that measure it.
    public let inertia: Double?
    /// Per iteration, the k-means inertia (sum of squared Euclidean distances of the
    /// candidates to their nearest centroid). Only a fresh run has it: the index keeps the mean.
    public let iterationInertia: [Double]?
    /// Other parameters worth showing (include, filter, start, …), as text.
    /// A balanced run's strata are kept here too, as JSON under `strataParameter`.
    public var parameters: [String: String] {
        didSet { (strata, selection) = Self.balance(parameters, ranking: ranking, count: count) }
    }
    /// A balanced run's strata (`balance=`); nil for other runs.
    public private(set) var strata: [SelectionStratum]?
    /// The selection, best first: the top `count` of the ranking, or for a
    /// balanced run each stratum's best `quota` by votes, in ranking order.
    public private(set) var selection: [Int64]
    /// Per iteration, the images picked, in pick order.
    public let picks: [[Int64]]

    /// Every voted image, best first.
    public let ranking: [RankedImage]
    private let rankOfImage: [Int64: Int]

    /// Makes a run and its tally from the iterations' picks. Without `inertia`,
    /// the mean of `iterationInertia` is taken.
    public init(id: Int64 = 0, method: String, count: Int, seed: UInt64, embedder: String = "", created: Date = Date(),
                candidates: Int, inertia: Double? = nil, iterationInertia: [Double]? = nil,
                parameters: [String: String] = [:], picks: [[Int64]]) {
        self.id = id
        self.method = method
        self.count = count
        self.seed = seed
        self.embedder = embedder
        self.created = created
        self.candidates = candidates
        self.iterationInertia = iterationInertia
        if let inertia {
            self.inertia = inertia
        } else if let iterationInertia, !iterationInertia.isEmpty {
            self.inertia = iterationInertia.reduce(0, +) / Double(iterationInertia.count)
        } else {
            self.inertia = nil
        }
        self.parameters = parameters
        self.picks = picks
        (ranking, rankOfImage) = Self.tally(picks)
        (strata, selection) = Self.balance(parameters, ranking: ranking, count: count)
    }

    /// Votes, frequencies and tiers of every picked image, ranked.
    private static func tally(_ picks: [[Int64]]) -> ([RankedImage], [Int64: Int]) {
        var votes: [Int64: (votes: Int, iteration: Int, position: Int)] = [:]
        for (iteration, list) in picks.enumerated() {
            for (position, image) in list.enumerated() {
                if let seen = votes[image] {
                    votes[image] = (seen.votes + 1, seen.iteration, seen.position)
                } else {
                    votes[image] = (1, iteration, position)
                }
            }
        }
        let iterations = max(1, picks.count)
        let ranking = votes.map { image, v in
            RankedImage(image: image, votes: v.votes, frequency: Double(v.votes) / Double(iterations),
                        tier: SelectionTier(votes: v.votes, iterations: iterations) ?? .variable,
                        firstIteration: v.iteration, firstPosition: v.position)
        }.sorted { a, b in
            if a.votes != b.votes { return a.votes > b.votes }
            if a.firstIteration != b.firstIteration { return a.firstIteration < b.firstIteration }
            return a.firstPosition < b.firstPosition
        }
        var index: [Int64: Int] = [:]
        for (rank, image) in ranking.enumerated() { index[image.image] = rank }
        return (ranking, index)
    }

    /// The number of iterations.
    public var iterations: Int { picks.count }

    /// The `parameters` key of a balanced run's strata (JSON of `[SelectionStratum]`).
    public static let strataParameter = "strata"

    /// The strata recorded in `parameters`, and the selection they make.
    private static func balance(_ parameters: [String: String], ranking: [RankedImage],
                                count: Int) -> ([SelectionStratum]?, [Int64]) {
        if let text = parameters[strataParameter],
           let strata = try? JSONDecoder().decode([SelectionStratum].self, from: Data(text.utf8)) {
            return (strata, SelectionBalance.selection(ranking: ranking.map(\.image), strata: strata))
        }
        return (nil, ranking.prefix(count).map(\.image))
    }

    /// The ranked entry of `image`, if any iteration picked it.
    public func entry(for image: Int64) -> RankedImage? {
        rankOfImage[image].map { ranking[$0] }
    }

    /// How many iterations picked `image`.
    public func votes(of image: Int64) -> Int { entry(for: image)?.votes ?? 0 }

    /// The share of iterations that picked `image` (0 when none did).
    public func frequency(of image: Int64) -> Double { entry(for: image)?.frequency ?? 0 }

    /// The tier of `image`; nil when no iteration picked it.
    public func tier(of image: Int64) -> SelectionTier? { entry(for: image)?.tier }

    /// The picks of iteration `iteration` (from 0), in order; nil out of range.
    public func picks(iteration: Int) -> [Int64]? {
        picks.indices.contains(iteration) ? picks[iteration] : nil
    }

    /// The voted images with frequency ≥ `minimumFrequency`, in ranking order
    /// (Lua `r:where(f)`; PhotoMapAI's "Exclude Matches").
    public func images(minimumFrequency: Double) -> [Int64] {
        ranking.filter { $0.frequency >= minimumFrequency }.map(\.image)
    }

    /// How many voted images (every image any iteration picked) fall in each tier.
    public var tierCounts: [SelectionTier: Int] {
        var counts: [SelectionTier: Int] = [:]
        for image in ranking { counts[image.tier, default: 0] += 1 }
        return counts
    }

    /// How many images of the selection fall in each tier.
    public var selectionTierCounts: [SelectionTier: Int] {
        var counts: [SelectionTier: Int] = [:]
        for image in selection { if let tier = tier(of: image) { counts[tier, default: 0] += 1 } }
        return counts
    }

    private enum CodingKeys: String, CodingKey {
        case id, method, count, seed, embedder, created, candidates, inertia, iterationInertia, parameters, picks
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(Int64.self, forKey: .id),
                  method: try c.decode(String.self, forKey: .method),
                  count: try c.decode(Int.self, forKey: .count),
                  seed: try c.decode(UInt64.self, forKey: .seed),
                  embedder: try c.decode(String.self, forKey: .embedder),
                  created: try c.decode(Date.self, forKey: .created),
                  candidates: try c.decode(Int.self, forKey: .candidates),
                  inertia: try c.decodeIfPresent(Double.self, forKey: .inertia),
                  iterationInertia: try c.decodeIfPresent([Double].self, forKey: .iterationInertia),
                  parameters: try c.decode([String: String].self, forKey: .parameters),
                  picks: try c.decode([[Int64]].self, forKey: .picks))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(method, forKey: .method)
        try c.encode(count, forKey: .count)
        try c.encode(seed, forKey: .seed)
        try c.encode(embedder, forKey: .embedder)
        try c.encode(created, forKey: .created)
        try c.encode(candidates, forKey: .candidates)
        try c.encodeIfPresent(inertia, forKey: .inertia)
        try c.encodeIfPresent(iterationInertia, forKey: .iterationInertia)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(picks, forKey: .picks)
    }

    /// Runs are equal when what they were made of is (the tally follows from
    /// it); when they finished does not count, so the same seed gives equal runs.
    public static func == (a: SelectionRun, b: SelectionRun) -> Bool {
        a.id == b.id && a.method == b.method && a.count == b.count && a.seed == b.seed && a.embedder == b.embedder
            && a.candidates == b.candidates && a.inertia == b.inertia
            && a.iterationInertia == b.iterationInertia && a.parameters == b.parameters && a.picks == b.picks
    }
}
