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

    /// Runs `sampler` for `request.iterations` iterations over `candidates`.
    ///
    /// - Parameters:
    ///   - candidates: album rows that may be picked (the album minus its
    ///     exclusions, by identity); order and repeats do not matter.
    ///   - imageIDs: the id of each matrix row (an album's `imageIDs`), which the
    ///     run names its images by; nil names them by row (a bare matrix).
    ///   - progress: receives "iteration k/n" progress; cancelling throws `CancelledError`.
    /// - Throws: `SelectionError` naming the bad parameter, or the sampler's failure.
    ///   When `count` is at least the number of candidates, every iteration
    ///   picks all of them (frequency 1.0) without running the sampler.
    public static func run(
        _ sampler: any Sampler, matrix: EmbeddingMatrix, candidates: [Int],
        request: SelectionRequest, imageIDs: [Int64]? = nil, progress sink: (any ProgressSink)? = nil
    ) throws -> SelectionRun {
        let method = sampler.method
        guard request.count >= 1 else {
            throw SelectionError.invalidParameter(name: "count", reason: "must be a positive integer (got \(request.count))")
        }
        guard request.iterations >= 1 else {
            throw SelectionError.invalidParameter(
                name: "iterations", reason: "must be a positive integer (got \(request.iterations))")
        }
        let rows = matrix.rows
        if let imageIDs, imageIDs.count != rows {
            throw SelectionError.invalidParameter(name: "imageIDs", reason: "must name every row (\(imageIDs.count) ids for \(rows) rows)")
        }
        for row in candidates where !(0..<rows).contains(row) {
            throw SelectionError.rowOutOfRange(parameter: "candidates", row: row, rows: rows)
        }
        for row in request.include where !(0..<rows).contains(row) {
            throw SelectionError.rowOutOfRange(parameter: "include", row: row, rows: rows)
        }
        let include = Array(Set(request.include)).sorted()
        let included = Set(include)
        let pool = Array(Set(candidates).subtracting(included)).sorted()
        guard !pool.isEmpty else { throw SelectionError.noCandidates(method: method) }
        func run(_ picks: [[Int]], inertia: [Double]?, count: Int? = nil) -> SelectionRun {
            SelectionRun(method: method, count: count ?? request.count, seed: request.seed, candidates: pool.count,
                         iterationInertia: inertia,
                         picks: picks.map { $0.map { row in imageIDs.map { $0[row] } ?? Int64(row) } })
        }
        if let start = request.start {
            guard (0..<rows).contains(start) else {
                throw SelectionError.rowOutOfRange(parameter: "start", row: start, rows: rows)
            }
            guard pool.binarySearchContains(start) else {
                throw SelectionError.invalidParameter(
                    name: "start", reason: "must be a candidate (row \(start) is excluded or included)")
            }
        }

        if let minimum = request.minimumDistance {
            guard minimum.isFinite, minimum > 0, minimum <= 2 else {
                throw SelectionError.invalidParameter(
                    name: "min_distance", reason: "must be a cosine distance above 0 and at most 2 (got \(minimum))")
            }
            guard sampler.stopsAtMinimumDistance else {
                throw SelectionError.invalidParameter(
                    name: "min_distance", reason: "works with method \"fps\" only (got \"\(method)\")")
            }
        }

        let progress = SelectionProgress(sink: sink, label: method, total: request.iterations)
        progress.report(done: 0)
        defer { sink?.finish(label: method) }
        try progress.check()

        if request.count >= pool.count && request.minimumDistance == nil {
            let all = [[Int]](repeating: pool, count: request.iterations)
            let inertia = sampler.measuresInertia ? [Double](repeating: 0, count: request.iterations) : nil
            progress.report(done: request.iterations)
            return run(all, inertia: inertia)
        }

        var task = SamplingTask(matrix: matrix, candidates: pool, count: min(request.count, pool.count), include: include,
                                start: request.start,
                                iterationSeeds: iterationSeeds(master: request.seed, count: request.iterations))
        task.minimumDistance = request.minimumDistance
        let output = try sampler.sample(task, progress: progress)
        if let minimum = request.minimumDistance, output.picks.contains(where: \.isEmpty) {
            throw SelectionError.invalidParameter(
                name: "min_distance",
                reason: "\(minimum): every candidate is already that close to the included images; nothing to pick")
        }
        try validate(output, task: task, method: method)
        progress.report(done: request.iterations)
        let count = request.minimumDistance != nil ? reachedCount(output.picks) : request.count
        return run(output.picks, inertia: output.inertia, count: count)
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
