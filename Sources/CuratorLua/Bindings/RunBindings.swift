import CLuaShims
import CuratorCore
import Foundation

/// Binds selection (SPEC §4) and its results (SPEC §5/§6): `a:select`,
/// `a:runs`, `a:run`, `a:duplicates`, and the `Run` type with its
/// frequencies, tiers, picks and exports.
enum RunBindings {
    /// The most iterations a run may have: far above any useful number
    /// (there is no silent clamp), low enough that the per-iteration picks fit in memory.
    static let maximumIterations = 1_000_000

    static func install(in host: CuratorHost, types: CuratorTypes) -> HostType<RunHandle> {
        let runType = host.state.defineType(RunHandle.self, name: "Run", prefix: "run", variable: "r",
                                            summary: "A saved selection: Monte Carlo votes, frequencies, tiers and the selected images")
        let samplers = SamplerBindings(host: host, types: types)
        defineAlbumMethods(host, types, runType, samplers)
        defineRun(host, types, runType)
        return runType
    }

    // MARK: Seeds

    /// Pushes a UInt64 seed: a Lua integer when it fits, else its decimal string.
    static func push(seed: UInt64, on lua: LuaStack) {
        if seed <= UInt64(Int64.max) { lua.push(Int64(seed)) } else { lua.push(String(seed)) }
    }

    /// Reads option `seed`: a non-negative integer or a decimal string of one up to 2^64-1.
    static func seed(_ options: LuaOptions) throws -> UInt64? {
        let lua = options.call.lua
        let type = options.pushValue("seed")
        defer { lua.pop() }
        let bad = options.call.failure("seed must be a non-negative integer or a decimal string of one up to 18446744073709551615 (got \(LuaCall.shown(lua, -1)))")
        switch type {
        case .nil: return nil
        case .number:
            guard let value = lua.integer(at: -1), value >= 0 else { throw bad }
            return UInt64(value)
        case .string:
            guard let text = lua.string(at: -1), let value = UInt64(text) else { throw bad }
            return value
        default: throw bad
        }
    }

    // MARK: Album methods

    private static func defineAlbumMethods(_ host: CuratorHost, _ types: CuratorTypes, _ runType: HostType<RunHandle>,
                                           _ samplers: SamplerBindings) {
        let t = types.album
        t.method("select",
                 signature: "a:select{method=\"fps\"|\"kmeans\"|name, count=, iterations=20, seed=, include={...}, start=img, filter=fn|{score=, min=, max=}, progress=fn} -> Run",
                 summary: "Selects count diverse (fps) or representative (kmeans) images, voted over Monte Carlo iterations; saved",
                 returns: "Run") { handle, call in
            let lua = call.lua
            let top = lua.top // restored before the result is pushed (errors need no cleanup)
            let options = try call.options(1, allowed: ["method", "count", "iterations", "seed", "include", "start", "filter", "progress"])
            guard let count = try options.positiveInteger("count") else {
                throw call.failure("count is required: a positive integer, e.g. a:select{count=20}")
            }
            let iterations = try options.positiveInteger("iterations") ?? 20
            guard iterations <= maximumIterations else {
                throw call.failure("iterations must be at most \(AlbumBindings.grouped(maximumIterations)) (got \(iterations))")
            }
            let method = try options.string("method") ?? "fps"
            var select = SelectOptions(method: method, count: count, iterations: iterations, seed: try RunBindings.seed(options))

            if options.pushValue("include") != .nil {
                select.include = try types.imageIDs(call, option: "include", at: -1, of: handle)
            }
            lua.pop()
            if options.pushValue("start") != .nil {
                select.start = try types.imageID(call, at: -1, what: "start", of: handle)
            }
            lua.pop()

            samplers.pendingError = nil
            let scores = ScoreBook(host: host, types: types, owner: handle, call: call)
            select.filter = try samplers.filter(options, call: call, owner: handle, scores: scores)
            if method != "fps" && method != "kmeans" {
                select.sampler = try samplers.sampler(named: method, call: call, owner: handle, scores: scores)
            }

            let callback = try options.pushFunction("progress")
            let sink = LuaProgress(lua: lua, callback: callback)
            sink.title = "\(method == "fps" ? "FPS" : method == "kmeans" ? "K-Means" : method)  count \(count) × \(iterations) iteration\(iterations == 1 ? "" : "s")"
            sink.keepsFinalLine = true
            let run: CurationRun
            do {
                run = try handle.album.select(select, progress: sink)
                try sink.rethrowCallbackError()
            } catch {
                try sink.rethrowCallbackError()
                if let failure = samplers.pendingError ?? scores.pendingError { throw failure }
                switch error {
                case let SelectionError.samplerFailed(name, iteration, reason):
                    throw call.failure(SamplerBindings.failureMessage(name, iteration: iteration, iterations: iterations, reason: reason))
                case let SelectionError.invalidParameter(name, reason):
                    throw call.failure("\(name) \(reason)")
                case let error as IndexError:
                    if case .noEmbeddings = error {
                        throw call.failure("\(error); embed first with a:embed() (or curator.open(path) with embed=true)")
                    }
                    throw error
                default:
                    throw error
                }
            }
            lua.top = top
            runType.push(RunHandle(owner: handle, run: run), on: lua)
            return 1
        }

        t.method("runs", signature: "a:runs() -> {Run, ...}", summary: "The album's saved runs, oldest first (they survive restarts)") { handle, call in
            let ids = try handle.album.runIDs()
            call.lua.newTable(array: ids.count)
            var n = 0
            for id in ids {
                guard let run = try handle.album.run(id: id) else { continue }
                n += 1
                runType.push(RunHandle(owner: handle, run: run), on: call.lua)
                call.lua.rawSet(-2, index: n)
            }
            return 1
        }

        t.method("run", signature: "a:run(id) -> Run | nil, message", summary: "The saved run with this id", returns: "Run") { handle, call in
            let id = try call.integer(1)
            guard let run = try handle.album.run(id: Int64(id)) else {
                call.lua.pushNil()
                call.lua.push("no run #\(id) in album \"\(handle.album.name)\"")
                return 2
            }
            runType.push(RunHandle(owner: handle, run: run), on: call.lua)
            return 1
        }

        t.method("duplicates", signature: "a:duplicates([{threshold=0.96, progress=fn}]) -> {{images={...}, keeper=img, similarity=}, ...}",
                 summary: "Groups of near-duplicate images (cosine similarity >= threshold), each with a suggested keeper") { handle, call in
            let groups = try AlbumBindings.withProgress(call, options: 1, allowed: ["threshold", "progress"]) { options, sink in
                let threshold = try options.number("threshold") ?? 0.96
                guard threshold >= -1, threshold <= 1 else {
                    throw call.failure("threshold must be a number from -1 to 1 (got \(LuaStack.format(number: threshold)))")
                }
                return try duplicates(of: handle, threshold: Float(threshold), progress: sink, call: call)
            }
            let lua = call.lua
            lua.newTable(array: groups.count)
            for (i, group) in groups.enumerated() {
                lua.newTable(record: 4)
                lua.newTable(array: group.ids.count)
                for (j, id) in group.ids.enumerated() {
                    types.push(image: id, of: handle, on: lua)
                    lua.rawSet(-2, index: j + 1)
                }
                lua.rawSet(-2, "images")
                types.push(image: group.keeper, of: handle, on: lua); lua.rawSet(-2, "keeper")
                lua.push(group.similarity); lua.rawSet(-2, "similarity")
                lua.push(group.keeperBy); lua.rawSet(-2, "keeper_by")
                lua.rawSet(-2, index: i + 1)
            }
            return 1
        }
    }

    /// One group of near-duplicates in album terms.
    struct Duplicates {
        let ids: [Int64]
        let keeper: Int64
        /// The lowest cosine similarity of a member to the keeper.
        let similarity: Double
        /// "sharpness" when every member has statistics, else "central".
        let keeperBy: String
    }

    private static func duplicates(of handle: AlbumHandle, threshold: Float, progress: LuaProgress, call: LuaCall) throws -> [Duplicates] {
        let album = handle.album
        let matrix: AlbumMatrix
        do { matrix = try album.matrix() } catch let error as IndexError {
            throw call.failure("\(error); embed first with a:embed()")
        }
        let rows = matrix.imageIDs.enumerated().filter { !album.exclusions.contains($0.element) }.map(\.offset)
        let groups = try NearDuplicateFinder(threshold: threshold).groups(matrix: matrix.matrix, rows: rows, progress: progress)
        let d = matrix.matrix.dimension
        return try groups.map { group in
            var keeperRow = group.keeper
            var keeperBy = "central"
            var sharpness: [(row: Int, value: Double)] = []
            for row in group.rows {
                guard let record = album.image(id: matrix.imageIDs[row]), let stats = try album.statistics(of: record) else { break }
                sharpness.append((row, stats.sharpness))
            }
            if sharpness.count == group.rows.count, let best = sharpness.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.row > $1.row }) {
                keeperRow = best.row
                keeperBy = "sharpness"
            }
            var lowest: Float = 1
            for row in group.rows where row != keeperRow {
                lowest = min(lowest, BLAS.dot(d, matrix.matrix.row(row), matrix.matrix.row(keeperRow)))
            }
            return Duplicates(ids: group.rows.map { matrix.imageIDs[$0] }, keeper: matrix.imageIDs[keeperRow],
                              similarity: Double(lowest), keeperBy: keeperBy)
        }
    }

    /// r:report's `map=`: a source name, false for none, or a:map's options.
    private static func reportMap(_ options: LuaOptions, call: LuaCall) throws -> AlbumMapOptions? {
        let lua = call.lua
        let type = options.pushValue("map")
        defer { lua.pop() }
        switch type {
        case .nil: return AlbumMapOptions(source: .auto)
        case .boolean: return lua.truthy(at: -1) ? AlbumMapOptions(source: .auto) : nil
        case .string:
            let name = lua.string(at: -1) ?? ""
            guard let source = MapSource(rawValue: name) else {
                throw call.failure("map must be one of \(MapSource.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), false or a table (got \"\(name)\")")
            }
            return AlbumMapOptions(source: source)
        case .table:
            let nested = LuaOptions(call: call, table: lua.absolute(-1))
            try nested.checkKeys(allowed: MapBindings.optionNames)
            return try MapBindings.mapOptions(nested, call: call, defaultSource: .auto)
        default:
            throw call.failure("map must be a source name, false or a table of a:map options (got \(lua.typeName(at: -1)))")
        }
    }

    // MARK: Run

    private static func defineRun(_ host: CuratorHost, _ types: CuratorTypes, _ t: HostType<RunHandle>) {
        t.identity { LuaIdentity(scope: $0.owner.serial, id: $0.run.id) }
        t.describe { handle in
            let run = handle.run
            let tiers = run.tierCounts
            return "<Run \(run.id) \(run.method) count=\(run.count) iterations=\(run.iterations) seed=\(run.seed): "
                + "\(tiers[.core] ?? 0) core, \(tiers[.stable] ?? 0) stable, \(tiers[.variable] ?? 0) variable>"
        }
        t.json { handle, lua in lua.push(handle.run.id) }
        t.length(note: "#r — the number of images any iteration picked") { $0.run.ranking.count }
        t.elements(note: "r[i] — {image=, votes=, frequency=, tier=} of the i-th ranked image; ipairs(r) visits them all") { handle, i, lua in
            let ranking = handle.run.ranking
            guard i >= 1, i <= ranking.count else { return false }
            let entry = ranking[i - 1]
            lua.newTable(record: 4)
            types.push(image: Int64(entry.row), of: handle.owner, on: lua); lua.rawSet(-2, "image")
            lua.push(entry.votes); lua.rawSet(-2, "votes")
            lua.push(entry.frequency); lua.rawSet(-2, "frequency")
            lua.push(entry.tier.rawValue); lua.rawSet(-2, "tier")
            return true
        }

        t.property("id", type: "integer", summary: "The run's number in its album") { h, lua in lua.push(h.run.id) }
        t.property("method", type: "string", summary: "\"fps\", \"kmeans\" or a registered sampler's name") { h, lua in lua.push(h.run.method) }
        t.property("count", type: "integer", summary: "How many images the selection holds (at most)") { h, lua in lua.push(h.run.count) }
        t.property("iterations", type: "integer", summary: "How many Monte Carlo iterations ran") { h, lua in lua.push(h.run.iterations) }
        t.property("seed", type: "integer|string", summary: "The master seed (a string when above math.maxinteger); the same seed gives the same run") { h, lua in
            push(seed: h.run.seed, on: lua)
        }
        t.property("inertia", type: "number|nil", summary: "K-Means: the mean over iterations of the summed squared distances to the centroids") { h, lua in
            lua.push(h.run.stored.inertia)
        }
        t.property("candidates", type: "integer", summary: "How many images the run chose from") { h, lua in lua.push(h.run.stored.candidates) }
        t.property("embedder", type: "string", summary: "The embedder whose vectors the run used") { h, lua in lua.push(h.run.stored.embedder) }
        t.property("created", type: "number", summary: "When the run finished (seconds since 1970)") { h, lua in
            lua.push(h.run.stored.created.timeIntervalSince1970)
        }
        t.property("selection", type: "ImageSet", summary: "The top count images, best first (read-only)") { h, lua in
            types.push(set: MemoryImageSet(owner: h.owner, label: "selection of run \(h.run.id)", ids: h.run.selection,
                                           readOnly: true, identity: -h.run.id), on: lua)
        }
        t.property("album", type: "Album", summary: "The album the run selected from") { h, lua in types.album.push(h.owner, on: lua) }

        func imageArgument(_ h: RunHandle, _ call: LuaCall) throws -> Int64 {
            guard call.count >= 1 else { throw call.typeError(1, expected: "Image, path or id") }
            return try types.imageID(call, at: call.index(1), what: "bad argument #1", of: h.owner)
        }
        t.method("frequency", signature: "r:frequency(img) -> number", summary: "The share of iterations that picked img (0..1)") { h, call in
            call.lua.push(h.run.frequency(of: try imageArgument(h, call)))
            return 1
        }
        t.method("votes", signature: "r:votes(img) -> integer", summary: "How many iterations picked img") { h, call in
            call.lua.push(h.run.votes(of: try imageArgument(h, call)))
            return 1
        }
        t.method("tier", signature: "r:tier(img) -> \"core\"|\"stable\"|\"variable\"|nil",
                 summary: "img's stability: core >= 0.9, stable >= 0.7, variable below, nil when never picked") { h, call in
            call.lua.push(h.run.tier(of: try imageArgument(h, call))?.rawValue)
            return 1
        }
        t.method("where", signature: "r:where(min_frequency) -> ImageSet",
                 summary: "The images picked in at least min_frequency (0..1) of the iterations, best first", returns: "ImageSet") { h, call in
            let f = try call.number(1)
            guard f >= 0, f <= 1 else { throw call.failure("min_frequency must be a number from 0 to 1 (got \(call.shown(1)))") }
            types.push(set: MemoryImageSet(owner: h.owner, label: "frequency >= \(call.shown(1))", ids: h.run.images(minimumFrequency: f)),
                       on: call.lua)
            return 1
        }
        t.method("picks", signature: "r:picks(k) -> {Image, ...}", summary: "The images iteration k picked, in pick order") { h, call in
            let k = try call.integer(1, "iteration", in: 1...max(1, h.run.iterations))
            let ids = h.run.picks(iteration: k) ?? []
            call.lua.newTable(array: ids.count)
            for (i, id) in ids.enumerated() {
                types.push(image: id, of: h.owner, on: call.lua)
                call.lua.rawSet(-2, index: i + 1)
            }
            return 1
        }
        t.method("export",
                 signature: "r:export(dir [, {layout=\"flat\"|\"kohya\", repeats=, concept=, caption_ext=\".txt\", concept_caption=false, captions={\".txt\", ...}, dry_run=false, exporter=name, params=, progress=fn}]) -> report",
                 summary: "Copies the selection (never excluded images, never over a file) into dir; returns {exported=, renamed=, captions=, errors=, items=}") { h, call in
            try host.refuseFileWritingInSafeMode(call)
            try RunExportBinding.export(h, call, host: host, types: types, runType: t)
            return 1
        }
        t.method("csv", signature: "r:csv(file [, {overwrite=false}])",
                 summary: "Writes PhotoMapAI's curation CSV (Filename,Subfolder,Count,Frequency(%),Index,Status,Path,Tier)") { h, call in
            try host.refuseFileWritingInSafeMode(call)
            let file = try call.string(1)
            let options = try call.options(2, allowed: ["overwrite"])
            try h.owner.album.writeCSV(h.run, to: file, overwrite: try options.boolean("overwrite") ?? false)
            return 0
        }
        t.method("report", signature: "r:report(file [, {overwrite=false, map=\"auto\"|\"umap\"|\"photomap\"|\"pca\"|false|{source=, n_neighbors=, min_dist=, seed=}, progress=fn}])",
                 summary: "Writes a self-contained HTML page: thumbnails in tier colours, parameters, a map of the album (PhotoMapAI's if present, else the cached UMAP)") { h, call in
            try host.refuseFileWritingInSafeMode(call)
            let file = try call.string(1)
            try AlbumBindings.withProgress(call, options: 2, allowed: ["overwrite", "map", "progress"]) { options, sink in
                let map = try reportMap(options, call: call)
                try h.owner.album.writeReport(h.run, to: file, overwrite: try options.boolean("overwrite") ?? false,
                                              map: map, progress: sink)
            }
            return 0
        }
        t.method("favorite", signature: "r:favorite() -> integer",
                 summary: "Makes the selection (minus excluded images) the album's favorites; returns how many") { h, call in
            try h.owner.album.favorite(h.run)
            call.lua.push(h.owner.album.favorites.count)
            return 1
        }
    }
}
