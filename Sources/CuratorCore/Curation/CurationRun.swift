import Foundation

/// A finished selection run of an album: its parameters, every iteration's
/// picks, and what follows from them — votes, frequencies, tiers, the
/// ranking and the selection (the top `count`). Runs are saved in the index
/// as they finish and come back in later sessions (`Album.run(id:)`).
public final class CurationRun: @unchecked Sendable {
    /// The run as saved.
    public let stored: StoredRun
    /// Votes and ranking, by image id (the tally's "rows" are image ids).
    public let tally: MonteCarloRun

    /// Builds the run's tally from its saved picks.
    public init(stored: StoredRun) {
        self.stored = stored
        let request = SelectionRequest(count: stored.count, iterations: stored.iterations, seed: stored.seed)
        tally = MonteCarloRun(method: stored.method, request: request, candidateCount: stored.candidates,
                              picks: stored.picks.map { $0.map { Int($0) } })
    }

    /// The run's number in its album.
    public var id: Int64 { stored.id }
    /// The sampler: "fps", "kmeans" or a custom one.
    public var method: String { stored.method }
    /// How many images the selection holds (at most).
    public var count: Int { stored.count }
    /// How many iterations ran.
    public var iterations: Int { stored.iterations }
    /// The master seed.
    public var seed: UInt64 { stored.seed }

    /// The selected images, best first: the top `count` of the ranking.
    public var selection: [Int64] { tally.selection.map { Int64($0) } }

    /// Every voted image, best first.
    public var ranking: [MonteCarloRun.RankedImage] { tally.ranking }

    /// The share of iterations that picked image `id` (0 when none did).
    public func frequency(of id: Int64) -> Double { tally.frequency(of: Int(id)) }

    /// How many iterations picked image `id`.
    public func votes(of id: Int64) -> Int { tally.votes(of: Int(id)) }

    /// The stability tier of image `id`, or nil when no iteration picked it.
    public func tier(of id: Int64) -> SelectionTier? { tally.tier(of: Int(id)) }

    /// The picks of iteration `k` (from 1), in pick order.
    public func picks(iteration k: Int) -> [Int64]? {
        guard k >= 1, k <= stored.picks.count else { return nil }
        return stored.picks[k - 1]
    }

    /// The images picked in at least `minimumFrequency` of the iterations, best first.
    public func images(minimumFrequency: Double) -> [Int64] {
        tally.rows(minimumFrequency: minimumFrequency).map { Int64($0) }
    }

    /// How many selected images are in each tier.
    public var tierCounts: [SelectionTier: Int] {
        var counts: [SelectionTier: Int] = [:]
        for id in selection { if let tier = tier(of: id) { counts[tier, default: 0] += 1 } }
        return counts
    }
}
