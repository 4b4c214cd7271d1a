import CLuaShims
import CuratorCore
import Foundation

/// An open album as Lua holds it. `serial` is unique per open album in the
/// host: it scopes the identities of the album's images and sets.
public final class AlbumHandle {
    /// The album.
    public let album: Album
    /// This album's number in the host.
    public let serial: Int64

    init(album: Album, serial: Int64) {
        self.album = album
        self.serial = serial
    }
}

/// `curator.open` and every member of `Album`: its properties, browsing,
/// scanning and embedding, selection (`a:select`, `a:runs`, `a:run`),
/// `a:duplicates` and `a:map`.
enum AlbumType {
    /// The most iterations a run may have: far above any useful number
    /// (there is no silent clamp), low enough that the per-iteration picks fit in memory.
    static let maximumIterations = 1_000_000

    static func install(_ types: CuratorTypes, host: CuratorHost) {
        defineOpen(host, types)
        defineTextScore(host, types)
        let t = types.album
        let samplers = LuaSamplers(host: host, types: types)
        t.identity { LuaIdentity(id: $0.serial) }
        t.describe { handle in
            let album = handle.album
            var text = "<Album \"\(album.name)\": \(Wording.counted(album.images.count, "image")), \(Wording.grouped(album.exclusions.count)) excluded"
            // What a:skipped() lists (files the scan could not use, images the embedder could not
            // read), so that they are seen without asking.
            if let skipped = try? album.skippedCount(), skipped > 0 { text += ", \(Wording.grouped(skipped)) skipped" }
            if let embedder = album.embedder {
                text += ", embedder \(embedder)"
                if album.dimension > 0 { text += " \(album.dimension)-d" }
            } else {
                text += ", no embedder"
            }
            return text + ">"
        }
        t.json { handle, lua in lua.push(handle.album.location) }
        t.length(note: "#a — the number of images") { $0.album.images.count }
        t.elements(note: "a[i] — the i-th image (by path), for i = 1..#a; ipairs(a) visits them all", elementType: "Image") { handle, i, lua in
            let images = handle.album.images
            guard i >= 1, i <= images.count else { return false }
            types.push(image: images[i - 1].id, of: handle, on: lua)
            return true
        }

        t.property("path", type: "string", summary: "The folder (or embeddings file) that was opened") { handle, lua in
            lua.push(handle.album.location)
        }
        t.property("name", type: "string", summary: "The album's name (its folder's name)") { handle, lua in
            lua.push(handle.album.name)
        }
        t.property("root", type: "string", summary: "The folder image paths are relative to") { handle, lua in
            lua.push(bytes: handle.album.root.bytes)
        }
        t.property("embedder", type: "string|nil", summary: "The embedder selections use (\"photomap\", \"pixels\", ...)") { handle, lua in
            lua.push(handle.album.embedder)
        }
        t.property("dim", type: "integer", summary: "The embedder's vector length (0 before embedding)") { handle, lua in
            lua.push(handle.album.dimension)
        }
        t.property("model", type: "string|nil", summary: "The embedding model, when the embedder names one") { handle, lua in
            lua.push(handle.album.modelID)
        }
        t.property("duplicate_threshold", type: "number", summary: "The similarity a:duplicates starts from with these vectors: 0.997 with the pixels embedder (its copies score 0.999 and up; different drawings of one kind reach 0.96), else 0.96") { handle, lua in
            lua.push(handle.album.defaultDuplicateThreshold)
        }
        t.property("precision", type: "string", summary: "How the album keeps its vectors: \"f32\" (float32) or \"f16\" (float16, half the memory; work reads them as float32 a block at a time); set with curator.open(path, {precision=})") { handle, lua in
            lua.push(handle.album.precision.rawValue)
        }
        t.property("precision_note", type: "string|nil", summary: "For a float16 album: which steps of this session (the map) needed a temporary float32 copy of its vectors, and its size; nil when none did") { handle, lua in
            lua.push(handle.album.precisionNote)
        }
        t.property("index_only", type: "boolean", summary: "Whether the album is an embeddings file's rows rather than a folder") { handle, lua in
            lua.push(handle.album.isIndexOnly)
        }
        t.property("exclusions", type: "ImageSet", summary: "Images excluded from every selection (persisted)") { handle, lua in
            types.push(set: PersistedImageSet(owner: handle, set: handle.album.exclusions, identity: 1), on: lua)
        }
        t.property("favorites", type: "ImageSet", summary: "The user's favorite images (persisted)") { handle, lua in
            types.push(set: PersistedImageSet(owner: handle, set: handle.album.favorites, identity: 2), on: lua)
        }

        t.method("images", signature: "a:images() -> {Image, ...}", summary: "A list of every image, ordered by path") { handle, call in
            let images = handle.album.images
            let lua = call.lua
            lua.newTable(array: images.count)
            for (i, record) in images.enumerated() {
                types.push(image: record.id, of: handle, on: lua)
                lua.rawSet(-2, index: i + 1)
            }
            return 1
        }
        t.method("get", signature: "a:get(path_or_id) -> Image | nil, message",
                 summary: "The image at a path (relative, or absolute under the album), with a file name no other image has (\"note_025_b.png\"), or with an id; a name several images have is an error listing them", returns: "Image") { handle, call in
            let album = handle.album
            let record: ImageRecord?
            let wanted: String
            switch call.type(1) {
            case .string:
                let path = try call.bytes(1)
                wanted = "'\(String(decoding: path, as: UTF8.self))'"
                let lookup = album.lookup(path)
                if let ambiguity = lookup.ambiguity(of: wanted) { throw call.failure(ambiguity) }
                if case let .found(image) = lookup { record = image } else { record = nil }
            case .number:
                let id = try call.integer(1)
                record = album.image(id: Int64(id))
                wanted = "#\(id)"
            default:
                throw call.typeError(1, expected: "string or integer")
            }
            guard let record else {
                call.lua.pushNil()
                call.lua.push("no image \(wanted) in album \"\(album.name)\"")
                return 2
            }
            types.push(image: record.id, of: handle, on: call.lua)
            return 1
        }
        t.method("set", signature: "a:set([x, ...]) -> ImageSet",
                 summary: "A new in-memory ImageSet holding x... (images, paths, ids, lists or sets)", returns: "ImageSet") { handle, call in
            var ids: [Int64] = []
            for n in stride(from: 1, through: call.count, by: 1) { ids += try types.imageIDs(call, n, of: handle) }
            types.push(set: MemoryImageSet(owner: handle, label: "set", ids: ids), on: call.lua)
            return 1
        }
        t.method("scan", signature: "a:scan([{progress=fn}]) -> {added=, changed=, removed=, unchanged=, skipped={...}}",
                 summary: "Rescans the folder: new files added, changed ones re-read, removed ones dropped") { handle, call in
            let report = try LuaProgress.withSink(call, options: 1) { _, sink in try handle.album.scan(progress: sink) }
            push(report, on: call.lua)
            return 1
        }
        t.method("embed", signature: "a:embed([name] [, {arithmetic=\"float32\"|\"bfloat16\", progress=fn}]) -> {embedder=, embedded=, already_embedded=, failed={...}, notes={...}}",
                 summary: "Computes the vectors the active embedder (or `name`, which becomes active) lacks; arithmetic=\"float32\" runs the CLIP tower in float32 where it would use bfloat16") { handle, call in
            var optionsArgument = 1
            var name: String?
            if call.type(1) == .string {
                name = try call.string(1)
                optionsArgument = 2
            } else if call.type(1) != .table && !call.isNil(1) {
                throw call.typeError(1, expected: "string or table")
            }
            let report = try LuaProgress.withSink(call, options: optionsArgument, allowed: ["arithmetic", "progress"]) { options, sink in
                let arithmetic = try options.string("arithmetic").map { value in
                    guard let precision = CLIPPrecision(rawValue: value) else {
                        throw call.failure("arithmetic: \"\(value)\" is not one of \(CLIPPrecision.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
                    }
                    return precision
                }
                return try handle.album.embed(name, arithmetic: arithmetic, progress: sink)
            }
            push(report, on: call.lua)
            return 1
        }
        t.method("measure", signature: "a:measure([{progress=fn}]) -> integer",
                 summary: "Measures the statistics (img.stats: sharpness, brightness, contrast, colourfulness, entropy) of the images that lack them, for the quality checks and the near-duplicate keeper rule: a PhotoMapAI or imported album has none until then (pixels records them, clip measures them as it embeds); returns how many it measured") { handle, call in
            let measured = try LuaProgress.withSink(call, options: 1) { _, sink in try handle.album.measureMissingStatistics(progress: sink) }
            call.lua.push(measured)
            return 1
        }
        t.method("import", signature: "a:import(file [, {name=\"imported\", paths=list_file, progress=fn}]) -> {embedder=, embedded=, failed={...}, notes={...}} | nil, message",
                 summary: "Imports another tool's vectors (.npz, .npy + path list, clip-retrieval folder), matched by path; they become the active embedder") { handle, call in
            let file = try call.string(1)
            do {
                let report = try LuaProgress.withSink(call, options: 2, allowed: ["name", "paths", "progress"]) { options, sink in
                    try handle.album.importEmbeddings(from: file, as: try options.string("name") ?? "imported",
                                                      pathList: try options.string("paths"), progress: sink)
                }
                push(report, on: call.lua)
                return 1
            } catch let error as EmbeddingFileError {
                // A missing or damaged file is an expected failure: nil, message.
                call.lua.pushNil()
                call.lua.push(error.description)
                return 2
            }
        }
        t.method("skipped", signature: "a:skipped() -> {{path=, reason=}, ...}",
                 summary: "The files the index could not use, and why") { handle, call in
            let skipped = try handle.album.skipped()
            push(skipped, on: call.lua)
            return 1
        }

        t.method("buckets", signature: "a:buckets{resolution=1024|{w, h}, min_reso=256, max_reso=1024, steps=64, no_upscale=false, min_bucket=1, images=set} -> {{width=, height=, count=, images={...}, upscaled={{image=, scale=}, ...}, cropped=, dropped=}, ...}, unsized",
                 summary: "kohya sd-scripts' aspect-ratio buckets for the images (default: the album minus exclusions), largest first: which images each holds, which it upscales, the most it crops, and whether it holds fewer than min_bucket (dropped); then the images without known size") { handle, call in
            let options = try call.options(1, allowed: ["resolution", "min_reso", "max_reso", "steps", "no_upscale", "min_bucket", "images"])
            let lua = call.lua
            var width = 0, height = 0
            switch options.pushValue("resolution") {
            case .number:
                guard let side = lua.integer(at: -1), side > 0 else {
                    defer { lua.pop() }
                    throw call.failure("resolution must be a positive integer or {width, height} (got \(LuaCall.shown(lua, -1)))")
                }
                (width, height) = (Int(side), Int(side))
                lua.pop()
            case .table:
                let table = lua.absolute(-1)
                defer { lua.pop() }
                lua.rawGet(table, index: 1); let w = lua.integer(at: -1); lua.pop()
                lua.rawGet(table, index: 2); let h = lua.integer(at: -1); lua.pop()
                guard let w, let h, w > 0, h > 0 else { throw call.failure("resolution must be a positive integer or {width, height} of positive integers") }
                (width, height) = (Int(w), Int(h))
            case .nil:
                lua.pop()
                throw call.failure("resolution is required, e.g. a:buckets{resolution=1024} (kohya's resolution)")
            default:
                defer { lua.pop() }
                throw call.failure("resolution must be a positive integer or {width, height} (got \(lua.typeName(at: -1)))")
            }
            // kohya's defaults; max_reso rises to the resolution when only that is given.
            let maximum = try options.positiveInteger("max_reso") ?? max(1024, width, height)
            let buckets = AspectBuckets(width: width, height: height, minimum: try options.positiveInteger("min_reso") ?? 256,
                                        maximum: maximum, steps: try options.positiveInteger("steps") ?? 64,
                                        noUpscale: try options.boolean("no_upscale") ?? false)
            if let problem = buckets.problem { throw call.failure(problem) }
            let minimumImages = try options.positiveInteger("min_bucket") ?? 1
            var ids: [Int64]?
            if options.pushValue("images") != .nil { ids = try types.imageIDs(call, option: "images", at: -1, of: handle) }
            lua.pop()
            let (found, unsized) = handle.album.aspectBuckets(buckets, ids: ids, minimumImages: minimumImages)
            lua.newTable(array: found.count)
            for (i, bucket) in found.enumerated() {
                lua.newTable(record: 7)
                lua.push(bucket.size.width); lua.rawSet(-2, "width")
                lua.push(bucket.size.height); lua.rawSet(-2, "height")
                lua.push(bucket.images.count); lua.rawSet(-2, "count")
                lua.newTable(array: bucket.images.count)
                for (j, member) in bucket.images.enumerated() {
                    types.push(image: member.id, of: handle, on: lua)
                    lua.rawSet(-2, index: j + 1)
                }
                lua.rawSet(-2, "images")
                let upscaled = bucket.images.filter { $0.placement.scale > 1 }
                lua.newTable(array: upscaled.count)
                for (j, member) in upscaled.enumerated() {
                    lua.newTable(record: 2)
                    types.push(image: member.id, of: handle, on: lua); lua.rawSet(-2, "image")
                    lua.push(member.placement.scale); lua.rawSet(-2, "scale")
                    lua.rawSet(-2, index: j + 1)
                }
                lua.rawSet(-2, "upscaled")
                lua.push(bucket.images.map(\.placement.cropped).max() ?? 0); lua.rawSet(-2, "cropped")
                lua.push(bucket.dropped); lua.rawSet(-2, "dropped")
                lua.rawSet(-2, index: i + 1)
            }
            lua.newTable(array: unsized.count)
            for (j, id) in unsized.enumerated() {
                types.push(image: id, of: handle, on: lua)
                lua.rawSet(-2, index: j + 1)
            }
            return 2
        }

        // MARK: Selection

        t.method("select",
                 signature: "a:select{method=\"fps\"|\"kmeans\"|\"facility\"|name, count=n|\"auto\", min_distance=, balance={by=\"folder\"|\"aspect\"|\"cluster\"|\"caption:<tag>\"|Clusters|fn, mode=\"equal\"|\"proportional\"|{name=quota, ...}}, iterations=20, seed=, include={...}, start=img, filter=fn|{score=|text=, min=, max=}, prompt=, negative=, min_score=, progress=fn} -> Run",
                 summary: "Selects count diverse (fps) or representative (kmeans, facility location) images, voted over Monte Carlo iterations; saved. FPS with min_distance stops once every candidate is that close to a pick (count=\"auto\", or count as a cap); balance= shares count between strata, each run through the same harness; prompt= first keeps only the images that match it",
                 returns: "Run") { handle, call in
            let lua = call.lua
            let top = lua.top // restored before the result is pushed (errors need no cleanup)
            let options = try call.options(1, allowed: ["method", "count", "min_distance", "balance", "iterations", "seed", "include", "start", "filter",
                                                        "prompt", "negative", "min_score", "progress"])
            samplers.pendingError = nil
            let balance = try samplers.balance(options, call: call, owner: handle)
            let minimumDistance = try options.number("min_distance")
            let automatic = options.pushValue("count") == .string && lua.string(at: -1) == "auto"
            lua.pop()
            if automatic && minimumDistance == nil {
                throw call.failure("count=\"auto\" needs min_distance= (a cosine distance, e.g. 0.15): FPS stops once every candidate is that close to a pick")
            }
            var quotaTotal: Int?
            if case .quotas(let quotas)? = balance?.mode, !options.has("count") { quotaTotal = quotas.values.reduce(0, +) }
            guard let count = automatic ? Int.max : try quotaTotal ?? options.positiveInteger("count") else {
                throw call.failure("count is required: a positive integer (or \"auto\" with min_distance=), e.g. a:select{count=20}")
            }
            let iterations = try options.positiveInteger("iterations") ?? 20
            guard iterations <= maximumIterations else {
                throw call.failure("iterations must be at most \(Wording.grouped(maximumIterations)) (got \(iterations))")
            }
            let method = try options.string("method") ?? "fps"
            var select = SelectOptions(method: method, count: count, iterations: iterations, seed: try LuaSeed.read(options))
            select.minimumDistance = minimumDistance
            select.balance = balance

            if options.pushValue("include") != .nil {
                select.include = try types.imageIDs(call, option: "include", at: -1, of: handle)
            }
            lua.pop()
            if options.pushValue("start") != .nil {
                select.start = try types.imageID(call, at: -1, what: "start", of: handle)
            }
            lua.pop()

            select.prompt = try LuaQueries.prompt(options, types: types, owner: handle)
            if let minimum = try options.number("min_score") {
                guard select.prompt != nil else { throw call.failure("min_score needs a prompt (prompt=\"...\")") }
                select.promptMinimum = Float(minimum)
            }

            let scores = ScoreBook(host: host, types: types, owner: handle, call: call)
            select.filter = try samplers.filter(options, call: call, owner: handle, scores: scores)
            let builtIn = BuiltInSampler(rawValue: method)
            if builtIn == nil {
                select.sampler = try samplers.sampler(named: method, call: call, owner: handle, scores: scores)
            }

            let callback = try options.pushFunction("progress")
            let sink = LuaProgress(lua: lua, callback: callback)
            let shownCount = automatic ? "auto (min_distance \(LuaStack.format(number: minimumDistance ?? 0)))" : "\(count)"
            sink.title = "\(builtIn?.title ?? method)  count \(shownCount) × \(iterations) iteration\(iterations == 1 ? "" : "s")"
            sink.keepsFinalLine = true
            let run: SelectionRun
            do {
                run = try handle.album.select(select, progress: sink)
                if let prompt = select.prompt { LuaQueries.noteTruncation(host, call, handle.album, LuaQueries.texts(of: prompt)) }
                try sink.rethrowCallbackError()
                // A count past the candidates picks every one (as PhotoMapAI does); said, since the run still records the count asked for.
                if !automatic, balance == nil, count > run.candidates {
                    host.warn("\(call.name): count \(Wording.grouped(count)) is more than the \(Wording.counted(run.candidates, "candidate")); every one is picked")
                }
            } catch {
                try sink.rethrowCallbackError()
                if let failure = samplers.pendingError ?? scores.pendingError { throw failure }
                switch error {
                case let SelectionError.samplerFailed(name, iteration, reason):
                    throw call.failure(LuaSamplers.failureMessage(name, iteration: iteration, iterations: iterations, reason: reason))
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
            types.run.push(RunHandle(owner: handle, run: run), on: lua)
            return 1
        }

        t.method("runs", signature: "a:runs() -> {Run, ...}", summary: "The album's saved runs, oldest first (they survive restarts)") { handle, call in
            let ids = try handle.album.runIDs()
            call.lua.newTable(array: ids.count)
            var n = 0
            for id in ids {
                guard let run = try handle.album.run(id: id) else { continue }
                n += 1
                types.run.push(RunHandle(owner: handle, run: run), on: call.lua)
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
            types.run.push(RunHandle(owner: handle, run: run), on: call.lua)
            return 1
        }

        t.method("duplicates", signature: "a:duplicates([{threshold=a.duplicate_threshold, method=\"auto\"|\"exact\"|\"index\", keeper=fn, progress=fn}]) -> {{images={...}, keeper=img, similarity=, chain=}, ...}, how",
                 summary: "Groups of near-duplicate images (cosine similarity >= threshold), each around a suggested keeper: every member that similar to it (similarity: the lowest), no two keepers so (groups split from one chain of pairs share chain=); keeper=fn(images) -> image picks each keeper among a chain's images still to place; large albums search an index kept in the album's index (how = {method=, index=, lists=})") { handle, call in
            let search = try LuaProgress.withSink(call, options: 1, allowed: ["threshold", "method", "keeper", "progress"]) { options, sink in
                let threshold = try options.number("threshold") ?? handle.album.defaultDuplicateThreshold
                guard threshold >= -1, threshold <= 1 else {
                    throw call.failure("threshold must be a number from -1 to 1 (got \(LuaStack.format(number: threshold)))")
                }
                let name = try options.string("method") ?? "auto"
                guard let method = DuplicateMethod(rawValue: name) else {
                    throw call.failure("method must be \(DuplicateMethod.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")) (got \"\(name)\")")
                }
                // keeper=fn: called with the images of one chain still to place, returns the one to keep.
                let lua = call.lua
                var keeper: (([Int64]) throws -> Int64)?
                switch options.pushValue("keeper") {
                case .nil: lua.pop()
                case .function:
                    let fn = lua.absolute(-1) // stays on the stack for the search
                    keeper = { ids in
                        let top = lua.top
                        defer { lua.top = top }
                        lua.pushValue(at: fn)
                        lua.newTable(array: ids.count)
                        for (i, id) in ids.enumerated() {
                            types.push(image: id, of: handle, on: lua)
                            lua.rawSet(-2, index: i + 1)
                        }
                        do {
                            try lua.call(arguments: 1, results: 1, traceback: true)
                        } catch {
                            throw call.failure("keeper failed: \(LuaState.describe(error))")
                        }
                        guard types.image.object(at: -1, in: lua) != nil else {
                            throw call.failure("keeper must return one of the images it is given (got \(LuaCall.shown(lua, -1)))")
                        }
                        return try types.imageID(call, at: -1, what: "keeper's result", of: handle)
                    }
                default:
                    defer { lua.pop() }
                    throw call.failure("keeper must be a function (got \(lua.typeName(at: -1)))")
                }
                do {
                    return try handle.album.duplicateSearch(threshold: Float(threshold), method: method, keeper: keeper, progress: sink)
                } catch let error as SelectionError {
                    throw call.failure("\(error)")
                } catch let error as IndexError {
                    throw call.failure("\(error); embed first with a:embed()")
                }
            }
            let groups = search.groups
            let lua = call.lua
            lua.newTable(array: groups.count)
            for (i, group) in groups.enumerated() {
                lua.newTable(record: 6)
                lua.newTable(array: group.ids.count)
                for (j, id) in group.ids.enumerated() {
                    types.push(image: id, of: handle, on: lua)
                    lua.rawSet(-2, index: j + 1)
                }
                lua.rawSet(-2, "images")
                types.push(image: group.keeper, of: handle, on: lua); lua.rawSet(-2, "keeper")
                lua.push(group.similarity); lua.rawSet(-2, "similarity")
                lua.push(group.keptBy == .score ? "sharpness" : group.keptBy == .chosen ? "keeper" : "central"); lua.rawSet(-2, "keeper_by")
                lua.push(group.chain); lua.rawSet(-2, "chain")
                lua.rawSet(-2, index: i + 1)
            }
            // How: "exact" or "index", and for the index where it came from.
            lua.newTable(record: 4)
            lua.push(search.method.rawValue); lua.rawSet(-2, "method")
            if let source = search.index {
                switch source {
                case .stored: lua.push("stored")
                case .updated: lua.push("updated")
                case .built: lua.push("built")
                }
                lua.rawSet(-2, "index")
                if case .updated(let assigned) = source { lua.push(assigned); lua.rawSet(-2, "assigned") }
            }
            if let lists = search.lists { lua.push(lists); lua.rawSet(-2, "lists") }
            return 2
        }

        // MARK: Review

        t.method("review",
                 signature: "a:review([{run=r|id, port=8765, host=\"127.0.0.1\", wait=false}]) -> Review",
                 summary: "Serves a live page of the album (or run): click to exclude, map with lasso; returns at once unless wait=true",
                 returns: "Review") { handle, call in
            let options = try call.options(1, allowed: ReviewType.optionNames + ["run"])
            let run = try ReviewType.run(options, of: handle, types: types, call: call)
            return try ReviewType.start(host, handle, run: run, options, call, types)
        }

        // MARK: Map

        t.method("map",
                           signature: "a:map([{source=\"umap\"|\"photomap\"|\"auto\"|\"pca\", n_neighbors=15, min_dist=0.05, seed=0, cache=true, progress=fn}]) -> Map",
                           summary: "The album's 2-D map: a seeded UMAP cached in the index (updated, not redone, when images arrive), or PhotoMapAI's umap.npz",
                           returns: "Map") { handle, call in
            let map = try LuaProgress.withSink(call, options: 1, allowed: MapType.optionNames + ["progress"]) { options, sink in
                sink.title = "Map"
                return try handle.album.map(try MapType.mapOptions(options, call: call, defaultSource: .umap), progress: sink)
            }
            types.map.push(MapHandle(owner: handle, map: map), on: call.lua)
            return 1
        }

        // MARK: Clusters

        t.method("clusters",
                 signature: "a:clusters([{method=\"hdbscan\"|\"kmeans\", min_size=, k=, seed=0, labels=true, vocabulary=file|{phrases}, progress=fn}]) -> Clusters",
                 summary: "Groups the images: HDBSCAN on the map (min_size: 5, or n/1000; noise left out) or K-Means on the vectors (k: √(n/2); each image joins the cluster of its nearest representative, the image nearest a centroid); deterministic, cached in the index; a medoid per cluster, and labels from the vocabulary through the text tower",
                 returns: "Clusters") { handle, call in
            let clusters = try LuaProgress.withSink(call, options: 1, allowed: ClustersType.optionNames + ["progress"]) { options, sink in
                try ClustersType.make(handle, options, call: call, sink: sink)
            }
            types.clusters.push(clusters, on: call.lua)
            return 1
        }

        // MARK: Words

        t.method("search", signature: "a:search(query [, {negative=, k=20, min_score=, negative_weight=0.5}]) -> {{image=, score=}, ...}",
                 summary: "Images that look like query (a text, an Image or a list of both; scores averaged) minus negative texts, best first; min_score alone keeps every image above it") { handle, call in
            guard call.count >= 1, !call.isNil(1) else { throw call.typeError(1, expected: "text, Image or list") }
            let positives = try LuaQueries.positives(call, at: call.index(1), what: "bad argument #1", types: types, owner: handle)
            let options = try call.options(2, allowed: ["negative", "k", "min_score", "negative_weight"])
            var query = SearchQuery(positives: positives, negatives: try LuaQueries.texts(options, "negative"))
            if let weight = try options.number("negative_weight") { query.negativeWeight = Float(weight) }
            let minScore = try options.number("min_score").map(Float.init)
            let k = try options.positiveInteger("k") ?? (minScore == nil ? 20 : nil)
            let hits = try handle.album.search(query, k: k, minScore: minScore)
            LuaQueries.noteTruncation(host, call, handle.album, LuaQueries.texts(of: query))
            let lua = call.lua
            lua.newTable(array: hits.count)
            for (i, hit) in hits.enumerated() {
                lua.newTable(record: 2)
                types.push(image: hit.imageID, of: handle, on: lua); lua.rawSet(-2, "image")
                lua.push(Double(hit.score)); lua.rawSet(-2, "score")
                lua.rawSet(-2, index: i + 1)
            }
            return 1
        }
        t.property("text_model", type: "string|nil",
                   summary: "The model folder whose text tower pairs with the album's vectors; nil when none does, and a.text_model_note says why") { handle, lua in
            if let encoder = try? handle.album.textEncoder() { lua.push(encoder.modelFolder.path) } else { lua.pushNil() }
        }
        // A property cannot return nil, message: the reason is its own property, as a run's or clusters' note is.
        t.property("text_model_note", type: "string|nil",
                   summary: "Why a.text_model is nil (no text side, no model id, the model folder missing or without a text tower: what to download and where); nil when a text tower pairs") { handle, lua in
            do {
                _ = try handle.album.textEncoder()
                lua.pushNil()
            } catch {
                lua.push(LuaState.describe(error))
            }
        }
        t.method("labels", signature: "a:labels(list [, {templates=true|{\"a photo of {}.\", ...}}]) -> {{image=, label=, score=}, ...}",
                           summary: "Every embedded image's best label from list (zero-shot); templates average each label's prompts") { handle, call in
            guard call.type(1) == .table else { throw call.typeError(1, expected: "list of labels") }
            let lua = call.lua
            var labels: [String] = []
            for i in stride(from: 1, through: lua.rawLength(at: call.index(1)), by: 1) {
                lua.rawGet(call.index(1), index: i)
                defer { lua.pop() }
                guard lua.type(at: -1) == .string, let s = lua.string(at: -1) else {
                    throw call.badArgument(1, "label [\(i)] must be a string, got \(LuaCall.shown(lua, -1))")
                }
                labels.append(s)
            }
            guard !labels.isEmpty else { throw call.badArgument(1, "the list of labels is empty") }
            let options = try call.options(2, allowed: ["templates"])
            var templates: [String] = []
            if options.pushValue("templates") == .boolean {
                templates = lua.truthy(at: -1) ? LuaQueries.defaultTemplates : []
                lua.pop()
            } else {
                lua.pop()
                templates = try LuaQueries.texts(options, "templates")
            }
            let results = try handle.album.labels(labels, templates: templates)
            LuaQueries.noteTruncation(host, call, handle.album, labels)
            lua.newTable(array: results.count)
            for (i, result) in results.enumerated() {
                lua.newTable(record: 3)
                types.push(image: result.imageID, of: handle, on: lua); lua.rawSet(-2, "image")
                lua.push(labels[result.label]); lua.rawSet(-2, "label")
                lua.push(Double(result.score)); lua.rawSet(-2, "score")
                lua.rawSet(-2, index: i + 1)
            }
            return 1
        }

    }

    // MARK: curator.text_score

    private static func defineTextScore(_ host: CuratorHost, _ types: CuratorTypes) {
        host.state.defineFunction(
            "curator.text_score",
            signature: "curator.text_score(a, prompt [, {negative=}]) -> fn(img) -> number|nil",
            summary: "A score function for plugins: how well each image of album a matches prompt (nil for an image without a vector)"
        ) { call in
            let handle = try call.object(1, types.album)
            guard call.count >= 2, !call.isNil(2) else { throw call.typeError(2, expected: "text, Image or list") }
            let positives = try LuaQueries.positives(call, at: call.index(2), what: "bad argument #2", types: types, owner: handle)
            let options = try call.options(3, allowed: ["negative"])
            let query = SearchQuery(positives: positives, negatives: try LuaQueries.texts(options, "negative"))
            let scores = try handle.album.scores(query)
            LuaQueries.noteTruncation(host, call, handle.album, LuaQueries.texts(of: query))
            let ids = try handle.album.matrix().imageIDs
            let lua = call.lua
            // The scores as one Lua string of float32s indexed by id − low
            // (NaN where an id has no vector), read with string.unpack: a
            // million-image album costs one 4 MB string, not a million-entry
            // table (about 0.3 s to build and 24 MB of Lua heap).
            let low = ids.min() ?? 1, high = ids.max() ?? 0
            let span = ids.isEmpty ? 0 : Int(high - low) + 1
            if span <= 16 * ids.count + (1 << 20) {
                var byID = [Float](repeating: .nan, count: span)
                for (row, id) in ids.enumerated() { byID[Int(id - low)] = scores[row] }
                byID.withUnsafeBytes { lua.push(bytes: $0) }
                lua.push(low)
                lua.push(span)
                try lua.load(Array("""
                    local bytes, low, span = ...
                    local unpack, numbertype, tointeger = string.unpack, math.type, math.tointeger
                    return function(img)
                      local id = img
                      if numbertype(id) ~= "integer" then
                        if not numbertype(id) then id = img.id end
                        id = tointeger(id)
                        if not id then return nil end
                      end
                      local slot = id - low
                      if slot < 0 or slot >= span then return nil end
                      local score = unpack("<f", bytes, 4 * slot + 1)
                      if score ~= score then return nil end
                      return score
                    end
                    """.utf8), name: "=curator.text_score")
                lua.insert(at: -4)
                try lua.call(arguments: 3, results: 1)
                return 1
            }
            // Ids spread too thinly for that (rare: SQLite numbers rows in turn): a table by id.
            lua.newTable(record: scores.count)
            for (row, score) in scores.enumerated() {
                lua.push(Double(score))
                lua.rawSet(-2, index: Int(ids[row]))
            }
            try lua.load(Array("""
                local scores = ...
                return function(img)
                  local id = type(img) == "number" and img or img.id
                  return scores[id]
                end
                """.utf8), name: "=curator.text_score")
            lua.insert(at: -2)
            try lua.call(arguments: 1, results: 1)
            return 1
        }
    }

    // MARK: curator.open

    private static func defineOpen(_ host: CuratorHost, _ types: CuratorTypes) {
        host.state.defineFunction(
            "curator.open",
            signature: "curator.open(path [, {embedder=\"auto\", model=folder, scan=true, embed=true, precision=\"f32\"|\"f16\", progress=fn}]) -> Album | nil, message",
            summary: "Opens an album folder (or .npz/.npy embeddings file), indexing what changed; precision=\"f16\" keeps its vectors as float16 from now on (half the memory; \"f32\" goes back); a missing or unreadable one gives nil, message",
            returns: "Album"
        ) { [unowned host] call in
            let path = try call.string(1)
            let options = try call.options(2, allowed: ["embedder", "model", "scan", "embed", "precision", "progress"])
            let embedder = try options.string("embedder") ?? "auto"
            let precision = try options.string("precision").map { value in
                do { return try MatrixPrecision(parsing: value) } catch { throw call.failure("\(error)") }
            }
            // Without the right to change indexes (safe mode) the index is
            // opened read-only: it must exist, and is neither scanned nor embedded.
            let readOnlyReason = host.allows(.changingIndex) ? nil : CuratorHost.safeModeRefusal
            // A CLIP model folder by path (vision and text towers), for this session.
            var model: URL?
            if let folder = try options.string("model") {
                let url = URL(fileURLWithPath: (folder as NSString).expandingTildeInPath, isDirectory: true).standardizedFileURL
                guard CLIPModelLocator.isModelFolder(url) else {
                    throw call.failure("model: \(url.path) is not a model folder (it needs model.safetensors and config.json, or open_clip_model.safetensors and open_clip_config.json)")
                }
                model = url
            }
            let scan = try options.boolean("scan") ?? (readOnlyReason == nil)
            let embed = try options.boolean("embed") ?? (readOnlyReason == nil)
            let callback = try options.pushFunction("progress")
            let sink = LuaProgress(lua: call.lua, callback: callback)
            let handle: AlbumHandle
            do {
                if let open = host.openAlbum(at: path), open.album.isReadOnly == (readOnlyReason != nil) {
                    // Already open: one in-memory state per index, brought up to date.
                    handle = open
                    if let model { open.album.modelFolder = model }
                    if scan { try open.album.scan(progress: sink) }
                    if embedder != "auto" || (open.album.embedder == nil && !open.album.isReadOnly) {
                        try open.album.activate(embedder: embedder)
                    }
                } else {
                    let album = try Album.open(path, options: .init(embedder: embedder, scan: scan, embed: false,
                                                                    readOnlyReason: readOnlyReason, model: model, precision: precision), progress: sink)
                    handle = host.adopt(album)
                }
                if let precision { try handle.album.setPrecision(precision) }
                if embed {
                    do {
                        let report = try handle.album.embed(progress: sink)
                        // The first vectors of an album, made by pixels for want of a model: say so once, or a
                        // training set is picked by colour and layout without the user knowing CLIP was an option.
                        if embedder == "auto", report.embedder == BuiltInEmbedder.pixels.rawValue, report.alreadyEmbedded == 0,
                           report.embedded > 0, !handle.album.isIndexOnly, !CLIPModelLocator.isAvailable(chosen: model) {
                            host.warn("curator.open: no CLIP model is installed, so the 'pixels' embedder made the vectors "
                                + "(colour and layout, not meaning); `curator models get clip-vit-base-patch32` in a shell installs "
                                + "CLIP; a:embed(\"clip\") then embeds the album with it")
                        }
                    } catch let error as IndexError {
                        // The album is still usable (browse, exclude); say why selections cannot run yet.
                        host.warn("curator.open: \(error)")
                    }
                }
                try sink.rethrowCallbackError()
            } catch let error as IndexError {
                try sink.rethrowCallbackError()
                switch error {
                case .albumNotFound, .unsupportedAlbum, .unreadableIndex, .cannotCreateIndex, .libraryUnavailable, .noIndex:
                    // Expected failures: the caller checks for nil.
                    if callback != nil { call.lua.pop() }
                    call.lua.pushNil()
                    if case .noIndex = error {
                        call.lua.push("\(error); index it first by opening it without --safe")
                    } else {
                        call.lua.push(error.description)
                    }
                    return 2
                default:
                    throw error
                }
            } catch let error as EmbeddingFileError {
                // A damaged or unrecognised embeddings file is the user's data, not a bug: nil, message.
                try sink.rethrowCallbackError()
                if callback != nil { call.lua.pop() }
                call.lua.pushNil()
                call.lua.push(error.description)
                return 2
            } catch {
                try sink.rethrowCallbackError()
                throw error
            }
            if callback != nil { call.lua.pop() }
            types.album.push(handle, on: call.lua)
            return 1
        }
    }

    // MARK: Reports

    private static func push(_ skipped: [SkippedFile], on lua: LuaStack) {
        lua.newTable(array: skipped.count)
        for (i, file) in skipped.enumerated() {
            lua.newTable(record: 2)
            lua.push(bytes: file.path.bytes); lua.rawSet(-2, "path")
            lua.push(file.reason); lua.rawSet(-2, "reason")
            lua.rawSet(-2, index: i + 1)
        }
    }

    private static func push(_ report: ScanReport, on lua: LuaStack) {
        lua.newTable(record: 5)
        lua.push(report.added); lua.rawSet(-2, "added")
        lua.push(report.changed); lua.rawSet(-2, "changed")
        lua.push(report.removed); lua.rawSet(-2, "removed")
        lua.push(report.unchanged); lua.rawSet(-2, "unchanged")
        push(report.skipped, on: lua); lua.rawSet(-2, "skipped")
    }

    private static func push(_ report: EmbedReport, on lua: LuaStack) {
        lua.newTable(record: 5)
        lua.push(report.embedder); lua.rawSet(-2, "embedder")
        lua.push(report.embedded); lua.rawSet(-2, "embedded")
        lua.push(report.alreadyEmbedded); lua.rawSet(-2, "already_embedded")
        push(report.failed, on: lua); lua.rawSet(-2, "failed")
        lua.push(strings: report.notes); lua.rawSet(-2, "notes")
    }
}
