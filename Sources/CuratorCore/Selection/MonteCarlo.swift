/// The Monte Carlo harness every sampler runs in (README: Selection): validates the
/// parameters, draws one seed per iteration from the master seed, runs the
/// sampler, checks what it returned and counts the votes.
public enum MonteCarlo {
    /// The iteration seeds of master seed `seed`: the first `count` values of
    /// SplitMix64 seeded with it (the same on every platform).
    public static func iterationSeeds(master seed: UInt64, count: Int) -> [UInt64] {
        var generator = SplitMix64(seed: seed)
        return (0..<max(0, count)).map { _ in generator.next() }
    }

    /// A master seed from the system's random source, for runs the user gave
    /// none (the run records it, so it can still be repeated).
    public static func randomSeed() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// Runs `sampler` for `iterations` iterations over `candidates`, each picking
    /// `count` images. The parameters are the user's, in album rows; the run
    /// records `seed`, so the same parameters give the same run.
    ///
    /// - Parameters:
    ///   - candidates: album rows that may be picked (the album minus its
    ///     exclusions, by identity); order and repeats do not matter.
    ///   - count: how many images each iteration picks (≥ 1); with
    ///     `minimumDistance`, the most it may pick.
    ///   - iterations: how many sampler iterations vote (≥ 1, no upper limit;
    ///     20 as in PhotoMapAI).
    ///   - seed: the master seed every iteration's seed is drawn from.
    ///   - include: album rows forced into the picked set before sampling (FPS:
    ///     new picks stay far from them). They are not candidates and get no votes.
    ///   - start: an album row every iteration starts from instead of a random
    ///     candidate (FPS).
    ///   - minimumDistance: `count="auto"` (FPS): each iteration stops once every
    ///     candidate left is within this cosine distance of a pick, and the run's
    ///     count becomes the median of the iterations' counts.
    ///   - imageIDs: the id of each matrix row (an album's `imageIDs`), which the
    ///     run names its images by; nil names them by row (a bare matrix).
    ///   - progress: receives "iteration k/n" progress; cancelling throws `CancelledError`.
    /// - Throws: `SelectionError` naming the bad parameter, or the sampler's failure.
    ///   When `count` is at least the number of candidates, every iteration
    ///   picks all of them (frequency 1.0) without running the sampler.
    public static func run(
        _ sampler: any Sampler, matrix: EmbeddingMatrix, candidates: [Int],
        count: Int, iterations: Int = 20, seed: UInt64, include: [Int] = [], start: Int? = nil,
        minimumDistance: Double? = nil, imageIDs: [Int64]? = nil, exactRows: ExactRows? = nil,
        progress sink: (any ProgressSink)? = nil
    ) throws -> SelectionRun {
        let method = sampler.method
        guard count >= 1 else {
            throw SelectionError.invalidParameter(name: "count", reason: "must be a positive integer (got \(count))")
        }
        guard iterations >= 1 else {
            throw SelectionError.invalidParameter(
                name: "iterations", reason: "must be a positive integer (got \(iterations))")
        }
        let rows = matrix.rows
        if let imageIDs, imageIDs.count != rows {
            throw SelectionError.invalidParameter(name: "imageIDs", reason: "must name every row (\(imageIDs.count) ids for \(rows) rows)")
        }
        for row in candidates where !(0..<rows).contains(row) {
            throw SelectionError.rowOutOfRange(parameter: "candidates", row: row, rows: rows)
        }
        for row in include where !(0..<rows).contains(row) {
            throw SelectionError.rowOutOfRange(parameter: "include", row: row, rows: rows)
        }
        let included = Array(Set(include)).sorted()
        let pool = Array(Set(candidates).subtracting(included)).sorted()
        guard !pool.isEmpty else { throw SelectionError.noCandidates(method: method) }
        func run(_ picks: [[Int]], inertia: [Double]?, reached: Int? = nil) -> SelectionRun {
            SelectionRun(method: method, count: reached ?? count, seed: seed, candidates: pool.count,
                         iterationInertia: inertia,
                         picks: picks.map { $0.map { row in imageIDs.map { $0[row] } ?? Int64(row) } })
        }
        if let start {
            guard (0..<rows).contains(start) else {
                throw SelectionError.rowOutOfRange(parameter: "start", row: start, rows: rows)
            }
            guard pool.binarySearchContains(start) else {
                throw SelectionError.invalidParameter(
                    name: "start", reason: "must be a candidate (row \(start) is excluded or included)")
            }
        }

        if let minimum = minimumDistance {
            guard minimum.isFinite, minimum > 0, minimum <= 2 else {
                throw SelectionError.invalidParameter(
                    name: "min_distance", reason: "must be a cosine distance above 0 and at most 2 (got \(minimum))")
            }
            guard sampler.stopsAtMinimumDistance else {
                throw SelectionError.invalidParameter(
                    name: "min_distance", reason: "works with method \"fps\" only (got \"\(method)\")")
            }
        }

        let progress = SelectionProgress(sink: sink, label: method, total: iterations)
        progress.report(done: 0)
        defer { sink?.finish(label: method) }
        try progress.check()

        if count >= pool.count && minimumDistance == nil {
            let all = [[Int]](repeating: pool, count: iterations)
            let inertia = sampler.measuresInertia ? [Double](repeating: 0, count: iterations) : nil
            progress.report(done: iterations)
            return run(all, inertia: inertia)
        }

        var task = SamplingTask(matrix: matrix, candidates: pool, count: min(count, pool.count), include: included,
                                start: start, iterationSeeds: iterationSeeds(master: seed, count: iterations),
                                minimumDistance: minimumDistance)
        task.exactRows = exactRows
        let output = try sampler.sample(task, progress: progress)
        if let minimum = minimumDistance, output.picks.contains(where: \.isEmpty) {
            throw SelectionError.invalidParameter(
                name: "min_distance",
                reason: "\(minimum): every candidate is already that close to the included images; nothing to pick")
        }
        try validate(output, task: task, method: method)
        progress.report(done: iterations)
        let reached = minimumDistance != nil ? reachedCount(output.picks) : nil
        return run(output.picks, inertia: output.inertia, reached: reached)
    }

    /// The count a `count="auto"` run reached: the median of its iterations'
    /// counts (the lower one for an even number of iterations), so one
    /// iteration that started in an odd corner does not set it.
    public static func reachedCount(_ picks: [[Int]]) -> Int {
        let counts = picks.map(\.count).sorted()
        return counts.isEmpty ? 0 : counts[(counts.count - 1) / 2]
    }

    /// Checks a sampler's output: one list per iteration, non-empty, at most
    /// `count` rows, each a candidate, none twice.
    static func validate(_ output: SamplerOutput, task: SamplingTask, method: String) throws {
        guard output.picks.count == task.iterations else {
            throw SelectionError.samplerFailed(
                method: method, iteration: min(output.picks.count, task.iterations - 1),
                reason: "returned \(output.picks.count) iterations instead of \(task.iterations)")
        }
        if let inertia = output.inertia, inertia.count != task.iterations {
            throw SelectionError.samplerFailed(method: method, iteration: 0,
                                               reason: "returned \(inertia.count) inertia values for \(task.iterations) iterations")
        }
        for (iteration, picks) in output.picks.enumerated() {
            guard !picks.isEmpty else {
                throw SelectionError.samplerFailed(method: method, iteration: iteration, reason: "returned no images")
            }
            guard picks.count <= task.count else {
                throw SelectionError.samplerFailed(
                    method: method, iteration: iteration,
                    reason: "returned \(picks.count) images, more than count \(task.count)")
            }
            var seen = Set<Int>()
            for row in picks {
                guard task.candidates.binarySearchContains(row) else {
                    throw SelectionError.samplerFailed(
                        method: method, iteration: iteration,
                        reason: "returned row \(row), which is not a candidate (excluded, included or not an image of the album)")
                }
                guard seen.insert(row).inserted else {
                    throw SelectionError.samplerFailed(method: method, iteration: iteration,
                                                       reason: "returned row \(row) twice")
                }
            }
        }
    }
}

extension Array where Element == Int {
    /// Whether the ascending array holds `value`.
    func binarySearchContains(_ value: Int) -> Bool {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low < count && self[low] == value
    }
}
