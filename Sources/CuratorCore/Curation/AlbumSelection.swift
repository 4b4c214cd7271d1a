import Foundation

/// How to select from an album (README: Selection).
/// `@unchecked Sendable`: `filter` is not `@Sendable`; it is only ever called on the thread that runs the selection (the album's).
public struct SelectOptions: @unchecked Sendable {
    /// "fps" (diversity), "kmeans" or "facility" (representative), or a custom sampler's name.
    public var method = "fps"
    /// How many images the selection holds; with `minimumDistance`, the most it may hold.
    public var count: Int
    /// `count="auto"` (FPS): stop once every candidate is within this cosine
    /// distance of a pick; the run records the count it reached.
    public var minimumDistance: Double?
    /// How many Monte Carlo iterations to run.
    public var iterations = 20
    /// The master seed; nil draws a random one (recorded on the run).
    public var seed: UInt64?
    /// Images forced into every iteration's picked set first (by id).
    public var include: [Int64] = []
    /// The first pick of every iteration (by id); useful with one iteration.
    public var start: Int64?
    /// Narrows the candidates further (after exclusions); e.g. a score threshold.
    public var filter: ((ImageRecord) throws -> Bool)?
    /// Narrows the candidates to the images this query scores at least
    /// `promptMinimum` for, before any sampler runs (custom ones too).
    public var prompt: SearchQuery?
    /// The lowest score an image may have for `prompt`; nil takes the
    /// album's model's default (`Album.defaultPromptMinimum`).
    public var promptMinimum: Float?
    /// The sampler for a custom method (built-in methods need none).
    public var sampler: (any Sampler)?
    /// Extra parameters to record with the run, for display.
    public var parameters: [String: String] = [:]
    /// Balanced or quota selection: each stratum runs the sampler for its share.
    public var balance: SelectBalance?

    /// Options for `count` images by `method`.
    public init(method: String = "fps", count: Int, iterations: Int = 20, seed: UInt64? = nil) {
        self.method = method
        self.count = count
        self.iterations = iterations
        self.seed = seed
    }
}

/// How to stratify a selection (`balance={by=, mode=}`).
public struct SelectBalance {
    /// What the strata are, for the run's parameters: "folder", "caption:sunset", "function".
    public var by: String
    /// The stratum of an image; nil puts it in the "unknown" stratum.
    public var stratum: (ImageRecord) throws -> String?
    /// How the count is shared.
    public var mode: BalanceMode

    /// Creates a balance.
    public init(by: String, mode: BalanceMode, stratum: @escaping (ImageRecord) throws -> String?) {
        self.by = by
        self.mode = mode
        self.stratum = stratum
    }
}

/// Why a selection could not start, in the album's terms.
public enum AlbumSelectionError: Error, CustomStringConvertible, LocalizedError {
    /// An image given in `include` or `start` has no vector for the active embedder.
    case notEmbedded(parameter: String, path: String)
    /// An image given in `start` is excluded.
    case excludedStart(path: String)
    /// A method curator does not know, and no sampler was given.
    case unknownMethod(String)
    /// No candidate scores high enough for the prompt.
    case noPromptMatches(query: String, minimum: Float, best: Float)

    public var description: String {
        switch self {
        case .notEmbedded(let parameter, let path): return "\(parameter): \(path) has no embedding"
        case .excludedStart(let path): return "start: \(path) is excluded"
        case .unknownMethod(let name): return "unknown method '\(name)' (built in: \(BuiltInSampler.names.joined(separator: ", ")); or register a sampler)"
        case .noPromptMatches(let query, let minimum, let best):
            return "no candidate scores \(minimum) or more for \(query) (the best scores \(String(format: "%.3f", best))); lower min_score"
        }
    }

    public var errorDescription: String? { description }
}

extension Album {
    /// Runs a Monte Carlo selection over the album minus its exclusions, saves
    /// it in the index and returns it.
    public func select(_ options: SelectOptions, progress: (any ProgressSink)? = nil) throws -> SelectionRun {
        let album = try matrix()
        let sampler: any Sampler
        if let custom = options.sampler {
            sampler = custom
        } else if let builtIn = BuiltInSampler(rawValue: options.method) {
            sampler = builtIn.makeSampler()
        } else {
            throw AlbumSelectionError.unknownMethod(options.method)
        }

        // The prompt's scores, one GEMV over the matrix, narrow the candidates first.
        let promptScores = try options.prompt.map { try scores($0) }
        let promptMinimum = options.promptMinimum ?? defaultPromptMinimum
        var candidates: [Int] = []
        candidates.reserveCapacity(album.imageIDs.count)
        var excluded = 0, filtered = 0, belowPrompt = 0
        var bestPromptScore = -Float.infinity
        for (row, id) in album.imageIDs.enumerated() {
            if exclusions.contains(id) { excluded += 1; continue }
            if let promptScores {
                bestPromptScore = max(bestPromptScore, promptScores[row])
                if !(promptScores[row] >= promptMinimum) { belowPrompt += 1; continue }
            }
            if let filter = options.filter {
                guard let image = image(id: id) else { continue }
                if try !filter(image) { filtered += 1; continue }
            }
            candidates.append(row)
        }
        if candidates.isEmpty, let prompt = options.prompt, belowPrompt > 0 {
            throw AlbumSelectionError.noPromptMatches(query: prompt.summary, minimum: promptMinimum, best: bestPromptScore)
        }
        guard !candidates.isEmpty else { throw SelectionError.noCandidates(method: options.method, excluded: excluded, filtered: filtered) }

        func row(of id: Int64, parameter: String) throws -> Int {
            guard let row = album.rowOf[id] else {
                throw AlbumSelectionError.notEmbedded(parameter: parameter, path: image(id: id)?.path.string ?? "image \(id)")
            }
            return row
        }
        let include = try options.include.map { try row(of: $0, parameter: "include") }
        var start: Int?
        if let id = options.start {
            if exclusions.contains(id) { throw AlbumSelectionError.excludedStart(path: image(id: id)?.path.string ?? "image \(id)") }
            start = try row(of: id, parameter: "start")
        }

        let seed = options.seed ?? MonteCarlo.randomSeed()
        var run: SelectionRun
        var strataParameter: String?
        if let balance = options.balance {
            if options.minimumDistance != nil {
                throw SelectionError.invalidParameter(name: "balance", reason: "cannot be combined with count=\"auto\" (give a count)")
            }
            var rowsOf: [String: [Int]] = [:]
            for row in candidates {
                guard let record = image(id: album.imageIDs[row]) else { continue }
                rowsOf[try balance.stratum(record) ?? SelectionStratum.unknown, default: []].append(row)
            }
            if case .quotas(let asked) = balance.mode {
                for name in asked.keys where rowsOf[name] == nil { rowsOf[name] = [] }
            }
            // Strata by name, the unknown one last.
            let names = rowsOf.keys.sorted { a, b in
                (a == SelectionStratum.unknown) != (b == SelectionStratum.unknown) ? b == SelectionStratum.unknown : a < b
            }
            let groups = names.map { rowsOf[$0]! }
            let (quotas, notes) = SelectionBalance.quotas(names: names, sizes: groups.map(\.count), count: options.count,
                                                          mode: balance.mode)
            guard quotas.contains(where: { $0 > 0 }) else {
                throw SelectionError.invalidParameter(
                    name: "balance", reason: "gives no stratum any image (strata: \(names.joined(separator: ", ")))")
            }
            let balanced = try SelectionBalance.run(sampler, matrix: album.matrix, strata: groups, quotas: quotas,
                                                    iterations: options.iterations, seed: seed, include: include,
                                                    start: start, imageIDs: album.imageIDs,
                                                    exactRows: sampler.method == "fps" ? exactRows(of: album) : nil, progress: progress)
            run = balanced.run
            let strata = names.indices.map { s in
                var note = notes[s]
                if names[s] == SelectionStratum.unknown {
                    note = [note, "images with no \(balance.by) value"].compactMap { $0 }.joined(separator: "; ")
                }
                return SelectionStratum(name: names[s], candidates: groups[s].count, quota: quotas[s], note: note,
                                        voted: balanced.voted[s])
            }
            strataParameter = String(decoding: try JSONEncoder().encode(strata), as: UTF8.self)
        } else {
            run = try MonteCarlo.run(sampler, matrix: album.matrix, candidates: candidates, count: options.count,
                                     iterations: options.iterations, seed: seed, include: include, start: start,
                                     minimumDistance: options.minimumDistance, imageIDs: album.imageIDs,
                                     exactRows: sampler.method == "fps" ? exactRows(of: album) : nil, progress: progress)
        }

        run.embedder = album.embedder
        var parameters = options.parameters
        if let balance = options.balance, let strataParameter {
            parameters["balance"] = "by \(balance.by), \(balance.mode.description)"
            parameters[SelectionRun.strataParameter] = strataParameter
        }
        run.parameters = parameters
        if !options.include.isEmpty { run.parameters["include"] = "\(options.include.count) images" }
        if let id = options.start { run.parameters["start"] = image(id: id)?.path.string }
        if let minimum = options.minimumDistance {
            run.parameters["min_distance"] = "\(minimum)"
            let counts = run.picks.map(\.count)
            run.parameters["count"] = "auto: \(run.count) (median of iterations, \(counts.min() ?? 0)–\(counts.max() ?? 0))"
        }
        if let prompt = options.prompt {
            run.parameters["prompt"] = prompt.summary
            run.parameters["min_score"] = String(promptMinimum)
        }
        guard isReadOnly else { return try RunStore(database: database).save(run) }
        // A read-only index: the run lives in this session only, numbered after the saved ones.
        run.id = max(try RunStore(database: database).ids().last ?? 0, unsavedRuns.last?.id ?? 0) + 1
        unsavedRuns.append(run)
        return run
    }

    /// The ids of the album's runs, oldest first: the saved ones, then those
    /// of this session that a read-only index could not save.
    public func runIDs() throws -> [Int64] { try RunStore(database: database).ids() + unsavedRuns.map(\.id) }

    /// The run `id` (saved, or kept in memory by a read-only album), or nil.
    public func run(id: Int64) throws -> SelectionRun? {
        if let kept = unsavedRuns.first(where: { $0.id == id }) { return kept }
        return try RunStore(database: database).load(id)
    }
}
