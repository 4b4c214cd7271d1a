/// How FPS spreads its runs over lanes advancing side by side
/// (`FarthestPointSampler`): each lane its share of whole runs, and when the
/// runs do not divide evenly, each run left over split in two, its first
/// steps (a head) taken by one lane before its own runs, the rest (a tail)
/// by another after its own. Five runs on two cores are then two and a half
/// each, not three and two: the lane with three ran a third longer while the
/// other core idled.
struct FarthestPointLanes: Equatable {
    /// Per lane, the runs it takes whole (indices into the starts).
    var whole: [Range<Int>]
    /// The runs split in two.
    var split: [Split]

    /// A run split in two: the lane taking its head, and the one taking its tail.
    struct Split: Equatable {
        var run: Int
        var headLane: Int
        var tailLane: Int
    }

    /// The plan for `runs` runs on `lanes` lanes, splitting the runs left
    /// over when `splits` and every lane has a whole run to take while a
    /// head is taken (so a tail never waits long).
    init(runs: Int, lanes: Int, splits: Bool = true) {
        let lanes = max(1, lanes)
        let perLane = runs / lanes
        guard splits, lanes > 1, perLane > 0, runs % lanes != 0 else {
            whole = (0..<lanes).map { runs * $0 / lanes..<runs * ($0 + 1) / lanes }
            split = []
            return
        }
        whole = (0..<lanes).map { $0 * perLane..<($0 + 1) * perLane }
        split = (perLane * lanes..<runs).enumerated().map { j, run in
            Split(run: run, headLane: 2 * j % lanes, tailLane: (2 * j + 1) % lanes)
        }
    }

    /// The steps a split run's head takes of `count`: two fifths. A run's
    /// later steps cost more (its distances close in, so more rows lie near
    /// the maximum: at 10,000 × 768, 200 picks, the first 130 steps computed
    /// half the lazy products), but its first ones hold its passes. (At that
    /// size, 5 runs on two cores: a head of 25 / 35 / 45 / 50 / 65 % gave
    /// 0.039 / 0.037 / 0.0365 / 0.037 / 0.039 s for 200 picks against 0.041
    /// unsplit, and 0.0166 / 0.0169 / 0.0172 / 0.0174 / 0.0186 s for 100
    /// against 0.0176.)
    static func headSteps(count: Int) -> Int { min(max(1, count * 2 / 5), count) }
}
