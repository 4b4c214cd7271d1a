/// Farthest point sampling (diversity) (README: Selection): start from a candidate, then
/// repeatedly pick the candidate whose minimum cosine distance (`1 − dot`, in
/// float32 as PhotoMapAI computes it) to the picked set is largest, the lowest
/// row on ties. When another row lies within float32's (or float16's)
/// rounding of the maximum, those rows are scored again exactly
/// (`TieSettling`), so a float16 album picks what its float32 values would,
/// and neither depends on how BLAS summed. A picked row is never picked again, even when other rows hold
/// the same vector. `include` rows form the picked set before the first pick
/// (they are not picks themselves, get no votes, and with them and no `start`
/// the first pick is the candidate farthest from them, so every iteration is
/// the same).
///
/// All iterations of a Monte Carlo run advance together (`FarthestPointBatch`):
/// a pass over the matrix applies the new picks of every iteration with one
/// blocked GEMM, and most steps need no pass at all — the next pick is found
/// lazily from the stored minima, which are upper bounds, computing exact
/// distances only for the rows near the maximum. A row picked by several
/// iterations is computed once: its distances are kept, sparsely (only entries
/// that can still lower some iteration's minimum), for those picking it later.
public struct FarthestPointSampler: Sampler, Sendable {
    public var method: String { "fps" }
    public var stopsAtMinimumDistance: Bool { true }

    /// The most memory the reuse cache of computed distance columns may hold.
    public var cacheBudgetBytes: Int
    /// The most iterations advanced together (bounds the per-iteration
    /// distance arrays to about `maxBatchBytes`, or an eighth of the
    /// candidates' vectors when that is more: on a big album every pass over
    /// the matrix should serve as many iterations as it can, and an eighth
    /// keeps the whole run under the 1.5 × the matrix its memory may take).
    public var maxBatchBytes: Int
    /// Rows a lazy step may evaluate before it gives up for a pass (nil:
    /// automatic, see `FarthestPointBatch`).
    public var lazyLimit: Int? = nil
    /// A pass one run needs also applies the pending picks of every run
    /// holding at most this many (by default every run's). Applying only
    /// the needing runs' picks (0) read fewer columns but made more passes:
    /// 0.19 against 0.12 CPU s at 10,000 × 768 (200 × 5), and no better at
    /// 100,000 to 1,000,000 × 512 (200 × 20). The picks are the same either way.
    public var passJoinLimit: Int = .max
    /// The largest working set (rows × dimension × 4 bytes) whose runs
    /// advance side by side, one lane per core (`sideBySideLanes`); 0 keeps
    /// every run in lockstep.
    /// (Measured 5 runs × 768 dimensions, two cores, lockstep against side
    /// by side: 10,000 rows 0.032 / 0.027 s (100 picks), 0.064 / 0.051 s
    /// (200); 30,000 rows 0.032 / 0.027 s, 0.065 / 0.049 s; 85,491 rows
    /// 0.075 / 0.081 s, 0.103 / 0.086 s, too close to call.)
    public var sideBySideBytes: Int = 128 << 20
    /// The largest working set (bytes) on which runs left over when they do
    /// not divide among the lanes are split between two (`FarthestPointLanes`);
    /// 0 never splits. A split run is a second engine, with passes of its
    /// own over the rows: cheap while they stay in the processor's cache,
    /// dear once they are read from memory. (5 runs on two cores: at 10,000
    /// × 768, 30 MiB, 0.041 → 0.037 s for 200 picks and 0.0176 → 0.0169 s
    /// for 100; at 30,000 × 768, 88 MiB, 0.043 → 0.048 s and 0.020 → 0.028 s.)
    public var splitRunsBytes: Int = 32 << 20

    /// Creates the sampler.
    public init(cacheBudgetBytes: Int = 64 << 20, maxBatchBytes: Int = 64 << 20) {
        self.cacheBudgetBytes = cacheBudgetBytes
        self.maxBatchBytes = maxBatchBytes
    }

    public func sample(_ task: SamplingTask, progress: SelectionProgress) throws -> SamplerOutput {
        let starts: [Int?]
        if let start = task.start {
            starts = Array(repeating: start, count: task.iterations)
        } else if !task.include.isEmpty {
            starts = Array(repeating: nil, count: task.iterations)
        } else {
            starts = task.iterationSeeds.map { seed in
                var generator = Xoshiro256StarStar(seed: seed)
                return task.candidates[generator.nextInt(below: task.candidates.count)]
            }
        }
        let picks = try farthestPointsWithStatistics(
            matrix: task.matrix, candidates: task.candidates, count: task.count, include: task.include, starts: starts,
            stopBelow: task.minimumDistance.map { Float($0) } ?? -.infinity, exactRows: task.exactRows, progress: progress).picks
        return SamplerOutput(picks: picks)
    }

    /// FPS for explicit starts, one run per element of `starts` (nil: start
    /// farthest from `include`, which must then be non-empty).
    ///
    /// - Parameters:
    ///   - candidates: ascending, distinct album rows, disjoint from `include`.
    ///   - count: picks per run; at most `candidates.count`.
    /// - Returns: per run, the picked album rows in pick order.
    public func farthestPoints(
        matrix: EmbeddingMatrix, candidates: [Int], count: Int, include: [Int] = [],
        starts: [Int?], progress: SelectionProgress? = nil
    ) throws -> [[Int]] {
        try farthestPointsWithStatistics(matrix: matrix, candidates: candidates, count: count, include: include,
                                         starts: starts, progress: progress).picks
    }

    /// `farthestPoints`, and what the run cost. A run stops early, before
    /// a pick whose minimum distance to the picked set is below `stopBelow`.
    /// Near-ties are settled on exact values (`TieSettling`): a float32
    /// matrix's own, or for a float16 one `exactRows` when given.
    public func farthestPointsWithStatistics(
        matrix: EmbeddingMatrix, candidates: [Int], count: Int, include: [Int] = [],
        starts: [Int?], stopBelow: Float = -.infinity, exactRows: ExactRows? = nil, progress: SelectionProgress? = nil
    ) throws -> (picks: [[Int]], statistics: FarthestPointStatistics) {
        guard count > 0, !starts.isEmpty else { return (starts.map { _ in [] }, FarthestPointStatistics()) }
        let rows = CandidateRows(matrix: matrix, candidates: candidates)
        let totalWork = Double(starts.count) * Double(count)
        func poll(_ work: Double) throws {
            guard let progress else { return }
            try progress.check()
            progress.report(fraction: work / totalWork)
        }
        let lanes = sideBySideLanes(rows: rows, runs: starts.count)
        let plan = FarthestPointLanes(
            runs: starts.count, lanes: lanes,
            splits: rows.count * rows.dimension * MemoryLayout<Float>.stride <= splitRunsBytes)
        let handoffs = plan.split.map { _ in Handoff<FarthestPointBatch>() }
        let parts = try BLAS.withSingleThreadedCalls {
            try sideBySide(lanes, poll: poll) { lane, step in
                do {
                    return try lanePart(lane, of: plan, handoffs: handoffs, rows: rows, count: count, include: include,
                                        starts: starts, stopBelow: stopBelow, exactRows: exactRows,
                                        cores: lanes > 1 ? 1 : nil, onStep: step)
                } catch {
                    // A tail must not wait for a head this lane will never hand over.
                    for (j, split) in plan.split.enumerated() where split.headLane == lane { handoffs[j].fail() }
                    throw error
                }
            }
        }
        var picks = [[Int]](repeating: [], count: starts.count)
        for part in parts { for (run, runPicks) in part.picks { picks[run] = runPicks } }
        return (picks, parts.map(\.statistics).reduce(FarthestPointStatistics(), +))
    }

    /// One lane's share of `plan`: the heads of the split runs it starts
    /// (handed over, part run, through `handoffs`), its whole runs, then the
    /// tails it ends. `onStep` gets the steps this lane took, summed over its runs.
    private func lanePart(
        _ lane: Int, of plan: FarthestPointLanes, handoffs: [Handoff<FarthestPointBatch>], rows: CandidateRows,
        count: Int, include: [Int], starts: [Int?], stopBelow: Float, exactRows: ExactRows?, cores: Int?,
        onStep: (Double) throws -> Void
    ) throws -> (picks: [(run: Int, picks: [Int])], statistics: FarthestPointStatistics) {
        var work = 0.0
        var picks: [(run: Int, picks: [Int])] = []
        var statistics = FarthestPointStatistics()
        for (j, split) in plan.split.enumerated() where split.headLane == lane {
            // Its own tie settling: the tail goes on with it on another lane.
            let engine = makeEngine(rows: rows, runs: 1, count: count, stopBelow: stopBelow,
                                    ties: TieSettling(matrix: rows.matrix, exactRows: exactRows), cores: cores)
            engine.start(include: include, starts: [starts[split.run]])
            let base = work
            try engine.advance(until: FarthestPointLanes.headSteps(count: count)) { try onStep(base + Double($0)) }
            work = base + Double(engine.stepsTaken)
            handoffs[j].put(engine)
        }
        let whole = plan.whole[lane]
        if !whole.isEmpty {
            let base = work
            let part = try farthestPoints(rows: rows, count: count, include: include, starts: starts[whole],
                                          stopBelow: stopBelow, exactRows: exactRows, cores: cores) { try onStep(base + $0) }
            for (run, runPicks) in zip(whole, part.picks) { picks.append((run, runPicks)) }
            statistics = statistics + part.statistics
            work = base + Double(whole.count * count)
        }
        for (j, split) in plan.split.enumerated() where split.tailLane == lane {
            // No head: its lane failed, and its error is the one `sideBySide` throws.
            guard let engine = try? handoffs[j].take() else { continue }
            let (base, headSteps) = (work, engine.stepsTaken)
            try engine.advance(until: count) { try onStep(base + Double($0 - headSteps)) }
            work = base + Double(engine.stepsTaken - headSteps)
            picks.append((split.run, engine.result[0]))
            statistics = statistics + engine.statistics
        }
        return (picks, statistics)
    }

    /// An engine for `runs` runs with this sampler's settings: the one place
    /// they reach an engine, whole runs and split ones alike.
    private func makeEngine(rows: CandidateRows, runs: Int, count: Int, stopBelow: Float, ties: TieSettling?,
                            cores: Int?) -> FarthestPointBatch {
        FarthestPointBatch(rows: rows, runs: runs, count: count, cacheBudgetBytes: cacheBudgetBytes, stopBelow: stopBelow,
                           lazyLimit: lazyLimit, passJoinLimit: passJoinLimit, ties: ties, threads: cores)
    }

    /// The lanes FPS runs its iterations in: one per core, each lane's runs
    /// advancing on their own, when the working rows are few enough to stay
    /// in the cores' caches; else one lane, all runs in lockstep on every
    /// core. In lockstep a pass reads the rows once for every run and a row
    /// picked by several runs is computed once, which pays on a big album;
    /// on a small one the runs' steps are so short that forking and joining
    /// the cores for each costs more than they do. (At 10,000 × 768, 5 runs
    /// of 100 picks took the same wall time on one core as in lockstep on two.)
    /// Lanes are threads of their own (`sideBySide`).
    func sideBySideLanes(rows: CandidateRows, runs: Int) -> Int {
        guard rows.count * rows.dimension * MemoryLayout<Float>.stride <= sideBySideBytes else { return 1 }
        return max(1, min(activeCoreCount, runs))
    }

    /// The runs of `starts` in batches of at most `maxBatchBytes` of state,
    /// on at most `cores` (nil: all). `onStep` gets the picks made so far
    /// summed over these runs, and may throw to stop.
    private func farthestPoints(
        rows: CandidateRows, count: Int, include: [Int], starts: ArraySlice<Int?>, stopBelow: Float,
        exactRows: ExactRows?, cores: Int?, onStep: (Double) throws -> Void
    ) throws -> (picks: [[Int]], statistics: FarthestPointStatistics) {
        var statistics = FarthestPointStatistics()
        let n = rows.count
        let bytesPerRun = max(1, n * MemoryLayout<Float>.stride * 2)
        let budget = max(maxBatchBytes, n * rows.dimension * MemoryLayout<Float>.stride / 8)
        let batch = max(1, min(starts.count, budget / bytesPerRun))
        var results: [[Int]] = []
        results.reserveCapacity(starts.count)
        // Its own per lane: it keeps the exact rows it has read.
        let ties = TieSettling(matrix: rows.matrix, exactRows: exactRows)
        var first = starts.startIndex
        while first < starts.endIndex {
            let last = min(starts.endIndex, first + batch)
            let engine = makeEngine(rows: rows, runs: last - first, count: count, stopBelow: stopBelow, ties: ties, cores: cores)
            let done = Double(first - starts.startIndex) * Double(count)
            let part = try engine.run(include: include, starts: Array(starts[first..<last])) { stepsDone in
                try onStep(done + Double(stepsDone) * Double(last - first))
            }
            results.append(contentsOf: part)
            statistics = statistics + engine.statistics
            first = last
        }
        return (results, statistics)
    }
}

