/// The outcome of a Monte Carlo selection: every iteration's picks, and the
/// votes, frequencies, ranking, selection and tiers derived from them.
///
/// Only the parameters and the picks (plus inertia) are stored when encoded;
/// everything else is recomputed on decoding, so an index can persist a run
/// as this Codable value, or as its picks alone and rebuild it with
/// `init(method:request:candidateCount:picks:inertia:)`.
///
/// Ranking: votes descending, then first pick — the earliest iteration in
/// which the row was picked, and within it the earliest position (PhotoMapAI's
/// `Counter.most_common` order).
public struct MonteCarloRun: Codable, Sendable, Equatable {
    /// One voted image of the run.
    public struct RankedImage: Codable, Sendable, Equatable {
        /// The album row.
        public let row: Int
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

    /// The sampler's name ("fps", "kmeans", a plugin's name).
    public let method: String
    /// The parameters the run was made with (seed included).
    public let request: SelectionRequest
    /// How many candidates the samplers chose from.
    public let candidateCount: Int
    /// Per iteration, the album rows picked, in pick order.
    public let picks: [[Int]]
    /// Per iteration, the k-means inertia (sum of squared Euclidean distances
    /// of the candidates to their nearest centroid), for samplers that have one.
    public let inertia: [Double]?

    /// Every voted image, best first.
    public let ranking: [RankedImage]
    private let rankOfRow: [Int: Int]

    /// Builds the run and its votes from the iterations' picks.
    public init(method: String, request: SelectionRequest, candidateCount: Int, picks: [[Int]], inertia: [Double]? = nil) {
        self.method = method
        self.request = request
        self.candidateCount = candidateCount
        self.picks = picks
        self.inertia = inertia
        var votes: [Int: (votes: Int, iteration: Int, position: Int)] = [:]
        for (iteration, list) in picks.enumerated() {
            for (position, row) in list.enumerated() {
                if let seen = votes[row] {
                    votes[row] = (seen.votes + 1, seen.iteration, seen.position)
                } else {
                    votes[row] = (1, iteration, position)
                }
            }
        }
        let iterations = max(1, picks.count)
        ranking = votes.map { row, v in
            RankedImage(row: row, votes: v.votes, frequency: Double(v.votes) / Double(iterations),
                        tier: SelectionTier(votes: v.votes, iterations: iterations) ?? .variable,
                        firstIteration: v.iteration, firstPosition: v.position)
        }.sorted { a, b in
            if a.votes != b.votes { return a.votes > b.votes }
            if a.firstIteration != b.firstIteration { return a.firstIteration < b.firstIteration }
            return a.firstPosition < b.firstPosition
        }
        var index: [Int: Int] = [:]
        for (rank, image) in ranking.enumerated() { index[image.row] = rank }
        rankOfRow = index
    }

    /// The number of iterations.
    public var iterations: Int { picks.count }

    /// The selection: the top `count` of the ranking.
    public var selection: [Int] { ranking.prefix(request.count).map(\.row) }

    /// The mean inertia over iterations, for samplers that measure it.
    public var meanInertia: Double? {
        guard let inertia, !inertia.isEmpty else { return nil }
        return inertia.reduce(0, +) / Double(inertia.count)
    }

    /// The ranked entry of `row`, if any iteration picked it.
    public func entry(for row: Int) -> RankedImage? {
        rankOfRow[row].map { ranking[$0] }
    }

    /// How many iterations picked `row`.
    public func votes(of row: Int) -> Int { entry(for: row)?.votes ?? 0 }

    /// The share of iterations that picked `row` (0 when none did).
    public func frequency(of row: Int) -> Double { entry(for: row)?.frequency ?? 0 }

    /// The tier of `row`; nil when no iteration picked it.
    public func tier(of row: Int) -> SelectionTier? { entry(for: row)?.tier }

    /// The picks of iteration `iteration` (from 0), in order; nil out of range.
    public func picks(iteration: Int) -> [Int]? {
        picks.indices.contains(iteration) ? picks[iteration] : nil
    }

    /// The voted rows with frequency ≥ `minimumFrequency`, in ranking order
    /// (Lua `r:where(f)`; PhotoMapAI's "Exclude Matches").
    public func rows(minimumFrequency: Double) -> [Int] {
        ranking.filter { $0.frequency >= minimumFrequency }.map(\.row)
    }

    /// How many voted images fall in each tier.
    public var tierCounts: [SelectionTier: Int] {
        var counts: [SelectionTier: Int] = [:]
        for image in ranking { counts[image.tier, default: 0] += 1 }
        return counts
    }

    private enum CodingKeys: String, CodingKey {
        case method, request, candidateCount, picks, inertia
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(method: try c.decode(String.self, forKey: .method),
                  request: try c.decode(SelectionRequest.self, forKey: .request),
                  candidateCount: try c.decode(Int.self, forKey: .candidateCount),
                  picks: try c.decode([[Int]].self, forKey: .picks),
                  inertia: try c.decodeIfPresent([Double].self, forKey: .inertia))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try c.encode(request, forKey: .request)
        try c.encode(candidateCount, forKey: .candidateCount)
        try c.encode(picks, forKey: .picks)
        try c.encodeIfPresent(inertia, forKey: .inertia)
    }

    public static func == (a: MonteCarloRun, b: MonteCarloRun) -> Bool {
        a.method == b.method && a.request == b.request && a.candidateCount == b.candidateCount
            && a.picks == b.picks && a.inertia == b.inertia
    }
}
