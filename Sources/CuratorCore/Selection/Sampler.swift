/// Everything a sampler needs for one Monte Carlo run: the validated
/// candidates and one seed per iteration. Built by `MonteCarlo.run`.
public struct SamplingTask: Sendable {
    /// The album's embeddings (rows L2-normalised).
    public let matrix: EmbeddingMatrix
    /// Album rows the sampler may pick: ascending, distinct, none included or excluded.
    /// Always more of them than `count`.
    public let candidates: [Int]
    /// How many images each iteration picks.
    public let count: Int
    /// Album rows already in the picked set (see `MonteCarlo.run`'s `include`).
    public let include: [Int]
    /// A candidate every iteration starts from, if the user fixed one.
    public let start: Int?
    /// One seed per iteration, drawn from the master seed.
    public let iterationSeeds: [UInt64]
    /// `count="auto"`: an iteration stops before a pick whose minimum cosine
    /// distance to the picked set is below this; `count` is then only a cap.
    public let minimumDistance: Double?
    /// For a matrix kept at float16: its rows' exact float32 values, when the
    /// album can read them (FPS settles near-ties with them).
    public var exactRows: ExactRows? = nil

    /// The number of iterations.
    public var iterations: Int { iterationSeeds.count }
}

/// What a sampler returns for a whole Monte Carlo run.
public struct SamplerOutput: Sendable, Equatable {
    /// Per iteration, the album rows picked, in pick order.
    public var picks: [[Int]]
    /// Per iteration, the sampler's objective (k-means inertia), if it has one.
    public var inertia: [Double]?

    /// Creates an output.
    public init(picks: [[Int]], inertia: [Double]? = nil) {
        self.picks = picks
        self.inertia = inertia
    }
}

/// A way of picking `count` images per iteration. Built-in samplers run all
/// iterations of a Monte Carlo run together (sharing each pass over the
/// matrix); `ClosureSampler` wraps a per-iteration function (Lua samplers).
public protocol Sampler {
    /// The method name recorded with the run ("fps", "kmeans", a plugin's name).
    var method: String { get }
    /// Whether outputs carry an inertia per iteration.
    var measuresInertia: Bool { get }
    /// Whether the sampler honours `SamplingTask.minimumDistance` (`count="auto"`).
    var stopsAtMinimumDistance: Bool { get }
    /// Runs every iteration of `task`. Reports progress to `progress` and throws
    /// `CancelledError` when it asks to stop.
    func sample(_ task: SamplingTask, progress: SelectionProgress) throws -> SamplerOutput
}

extension Sampler {
    public var measuresInertia: Bool { false }
    public var stopsAtMinimumDistance: Bool { false }
}

/// One iteration's view for a per-iteration sampler.
public struct SamplerIteration: Sendable {
    /// The iteration, from 0.
    public let iteration: Int
    /// This iteration's seed.
    public let seed: UInt64
    /// The rows the sampler may return (ascending).
    public let candidates: [Int]
    /// How many images to return (at most).
    public let count: Int
    /// Rows already in the picked set.
    public let include: [Int]
}

/// A sampler defined by a function called once per iteration; how Lua's
/// `curator.register_sampler` plugs into the Monte Carlo harness. The harness
/// checks what the function returns (candidates only, no repeats, at most `count`).
public struct ClosureSampler: Sampler {
    public let method: String
    /// Called per iteration; returns album rows in pick order.
    public let body: (SamplerIteration) throws -> [Int]

    /// Creates a sampler named `method` running `body` per iteration.
    public init(method: String, body: @escaping (SamplerIteration) throws -> [Int]) {
        self.method = method
        self.body = body
    }

    public func sample(_ task: SamplingTask, progress: SelectionProgress) throws -> SamplerOutput {
        var picks: [[Int]] = []
        picks.reserveCapacity(task.iterations)
        for (iteration, seed) in task.iterationSeeds.enumerated() {
            try progress.check()
            let context = SamplerIteration(iteration: iteration, seed: seed, candidates: task.candidates,
                                           count: task.count, include: task.include)
            do {
                picks.append(try body(context))
            } catch let error as CancelledError {
                throw error
            } catch {
                throw SelectionError.samplerFailed(method: method, iteration: iteration, reason: "\(error)")
            }
            progress.report(done: iteration + 1)
        }
        return SamplerOutput(picks: picks)
    }
}

/// Progress of a Monte Carlo run in iterations ("iteration 5/20"), and the
/// user's request to stop. Batched samplers advance all iterations together,
/// so they report the share of the work done scaled to iterations.
public final class SelectionProgress {
    /// The sink the terminal or a Lua callback listens on.
    public let sink: (any ProgressSink)?
    /// The step's label, the method name.
    public let label: String
    /// The number of iterations of the run.
    public let total: Int
    private var lastDone = -1

    /// Creates a reporter for `total` iterations.
    public init(sink: (any ProgressSink)?, label: String, total: Int) {
        self.sink = sink
        self.label = label
        self.total = total
    }

    /// Reports `done` of `total` iterations (repeats are not sent twice).
    public func report(done: Int) {
        let done = min(max(done, 0), total)
        guard done != lastDone else { return }
        lastDone = done
        sink?.update(label: label, done: done, total: total)
    }

    /// Reports that `fraction` (0...1) of the whole run's work is done.
    public func report(fraction: Double) {
        report(done: Int((fraction * Double(total)).rounded(.down)))
    }

    /// Throws `CancelledError` if the user asked to stop.
    public func check() throws {
        if let sink, sink.isCancelled { throw CancelledError("select") }
    }

    /// Reports `done` and then checks for a stop: a `WorkQueue`'s report
    /// when each task counts as one step.
    func reportAndCheck(done: Int) throws {
        report(done: done)
        try check()
    }
}
