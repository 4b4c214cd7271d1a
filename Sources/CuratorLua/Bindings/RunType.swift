import CLuaShims
import CuratorCore
import Foundation

/// A saved selection run as Lua holds it (`Run`): the run itself plus the
/// album it belongs to, which Lua needs to turn the run's image ids into
/// `Image` values. Not a second run model: everything a run is comes from `run`.
public final class RunHandle {
    /// The album the run selected from.
    public let owner: AlbumHandle
    /// The run (immutable once saved).
    public let run: SelectionRun

    /// Creates a handle.
    public init(owner: AlbumHandle, run: SelectionRun) {
        self.owner = owner
        self.run = run
    }
}

/// Every member of `Run`: its votes, frequencies, tiers and picks, and what
/// it writes (`r:export`, `r:csv`, `r:report`, `r:favorite`).
enum RunType {
    static func install(_ types: CuratorTypes, host: CuratorHost) {
        let t = types.run
        t.identity { LuaIdentity(scope: $0.owner.serial, id: $0.run.id) }
        t.describe { handle in
            let run = handle.run
            let tiers = run.selectionTierCounts
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
            types.push(image: entry.image, of: handle.owner, on: lua); lua.rawSet(-2, "image")
            lua.push(entry.votes); lua.rawSet(-2, "votes")
            lua.push(entry.frequency); lua.rawSet(-2, "frequency")
            lua.push(entry.tier.rawValue); lua.rawSet(-2, "tier")
            return true
        }

        t.property("id", type: "integer", summary: "The run's number in its album") { h, lua in lua.push(h.run.id) }
        t.property("method", type: "string", summary: "\"fps\", \"kmeans\", \"facility\" or a registered sampler's name") { h, lua in lua.push(h.run.method) }
        t.property("count", type: "integer", summary: "How many images the selection holds (at most)") { h, lua in lua.push(h.run.count) }
        t.property("iterations", type: "integer", summary: "How many Monte Carlo iterations ran") { h, lua in lua.push(h.run.iterations) }
        t.property("seed", type: "integer|string", summary: "The master seed (a string when above math.maxinteger); the same seed gives the same run") { h, lua in
            LuaSeed.push(h.run.seed, on: lua)
        }
        t.property("inertia", type: "number|nil", summary: "K-Means: the mean over iterations of the summed squared distances to the centroids") { h, lua in
            lua.push(h.run.inertia)
        }
        t.property("candidates", type: "integer", summary: "How many images the run chose from") { h, lua in lua.push(h.run.candidates) }
        t.property("embedder", type: "string", summary: "The embedder whose vectors the run used") { h, lua in lua.push(h.run.embedder) }
        t.property("created", type: "number", summary: "When the run finished (seconds since 1970)") { h, lua in
            lua.push(h.run.created.timeIntervalSince1970)
        }
        t.property("selection", type: "ImageSet", summary: "The top count images, best first (read-only)") { h, lua in
            types.push(set: MemoryImageSet(owner: h.owner, label: "selection of run \(h.run.id)", ids: h.run.selection,
                                           readOnly: true, identity: -h.run.id, run: h.run), on: lua)
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
            types.push(set: MemoryImageSet(owner: h.owner, label: "frequency >= \(call.shown(1)) in run \(h.run.id)",
                                           ids: h.run.images(minimumFrequency: f), run: h.run),
                       on: call.lua)
            return 1
        }
        t.method("picks", signature: "r:picks(k) -> {Image, ...}", summary: "The images iteration k picked, in pick order") { h, call in
            let k = try call.integer(1, "iteration", in: 1...max(1, h.run.iterations))
            let ids = h.run.picks(iteration: k - 1) ?? []
            call.lua.newTable(array: ids.count)
            for (i, id) in ids.enumerated() {
                types.push(image: id, of: h.owner, on: call.lua)
                call.lua.rawSet(-2, index: i + 1)
            }
            return 1
        }
        t.method("export",
                 signature: "r:export(dir [, {layout=\"flat\"|\"kohya\"|\"imagefolder\", repeats=, concept=, caption_ext=\".txt\", concept_caption=false, captions={\".txt\", ...}, mode=\"add\"|\"update\"|\"replace\", files={[name]=text}, dry_run=false, into_album=false, exporter=name, params=, progress=fn}]) -> report",
                 summary: "Copies the selection's image files under the album (never excluded images, never over a file, never an image already there, never into the album unless into_album=true) into dir; mode=\"update\" moves what is no longer selected to dir.trash/, \"replace\" swaps in a new folder; returns {exported=, unchanged=, refreshed_captions=, renamed=, captions=, trashed=, errors=, items=}; an update also rewrites the captions of images already there when the album's changed") { h, call in
            try host.require(.writingFiles, call)
            try RunExportBinding.export(h, call, host: host, types: types, runType: t)
            return 1
        }
        t.method("csv", signature: "r:csv(file [, {overwrite=false, escape_formulas=true}]) -> path",
                 summary: "Writes PhotoMapAI's curation CSV (Filename,Subfolder,Count,Frequency(%),Index,Status,Path,Tier); names starting with = + - @ get a leading ' unless escape_formulas=false; creates the file's folder when missing; returns the file's absolute path") { h, call in
            try host.require(.writingFiles, call)
            let file = try call.string(1)
            let options = try call.options(2, allowed: ["overwrite", "escape_formulas"])
            try h.owner.album.writeCSV(h.run, to: file, overwrite: try options.boolean("overwrite") ?? false,
                                       escapeFormulas: try options.boolean("escape_formulas") ?? true)
            call.lua.push(CuratorHost.absolutePath(file))  // the REPL shows what was written
            return 1
        }
        t.method("report", signature: "r:report(file [, {overwrite=false, map=\"auto\"|\"umap\"|\"photomap\"|\"pca\"|false|{source=, n_neighbors=, min_dist=, seed=}, clusters=c|true, progress=fn}]) -> path",
                 summary: "Writes a self-contained HTML page: thumbnails in tier colours, parameters, a map of the album (PhotoMapAI's if present, else the cached UMAP); with clusters=, the map coloured by cluster, a table of clusters (label, size, medoid, picks in each) and each tile's cluster; creates the file's folder when missing; returns the file's absolute path") { h, call in
            try host.require(.writingFiles, call)
            let file = try call.string(1)
            try LuaProgress.withSink(call, options: 2, allowed: ["overwrite", "map", "clusters", "progress"]) { options, sink in
                let map = try reportMap(options, call: call)
                let clusters = try ClustersType.option(options, owner: h.owner, types: types, call: call)
                try h.owner.album.writeReport(h.run, to: file, overwrite: try options.boolean("overwrite") ?? false,
                                              map: map, clusters: clusters?.clusters, labels: clusters?.labels,
                                              labelNote: clusters?.labelNote, progress: sink)
            }
            call.lua.push(CuratorHost.absolutePath(file))
            return 1
        }
        t.method("show", signature: "r:show([{tier=\"core\"|\"stable\"|\"variable\"|\"excluded\", \(ContactSheetBinding.optionsSignature)}])",
                 summary: "Draws the selection in the terminal as a contact sheet numbered like r.selection, framed in tier colours; picks excluded since the run stay in place, crossed out in red") { h, call in
            let (request, options) = try ContactSheetBinding.request(call, options: 1, extra: ["tier"])
            let tier = try options.choice("tier", SelectionTier.allCases.map(\.rawValue) + ["excluded"])
            let album = h.owner.album
            var tiles: [ContactSheet.Tile] = []
            for entry in album.curationEntries(for: h.run) {
                guard let rank = entry.rank else { continue }
                let entryTier = entry.tier ?? SelectionTier(frequency: entry.frequency)
                if let tier, tier == "excluded" ? !entry.excluded : entryTier.rawValue != tier { continue }
                tiles.append(ContactSheet.Tile(number: rank, path: entry.path.string,
                                               file: entry.absolutePath, tier: entryTier, excluded: entry.excluded,
                                               detail: "\(entryTier.rawValue) \(CurationCSV.percentage(entry.frequency)) %"))
            }
            let run = h.run
            let what = tier.map { "\($0): \(Wording.counted(tiles.count, "image")) of \(run.selection.count)" }
                ?? Wording.counted(tiles.count, "image")
            try ContactSheetBinding.show(tiles, request, title: "run \(run.id) (\(run.method), count \(run.count) × \(run.iterations)): \(what)",
                                         again: tier.map { "r:show{tier=\"\($0)\", " } ?? "r:show{", host: host)
            return 0
        }
        t.method("coverage", signature: "r:coverage([candidates]) -> {mean=, p95=, max=, farthest=img, candidates=}",
                 summary: "Every candidate's cosine distance to its nearest selected image, summarised; candidates default to the album minus its exclusions (an ImageSet or list narrows them)") { h, call in
            var ids: [Int64]?
            if call.count >= 1 && !call.isNil(1) { ids = try types.imageIDs(call, 1, of: h.owner) }
            let coverage = try h.owner.album.coverage(of: h.run, candidates: ids)
            let lua = call.lua
            lua.newTable(record: 5)
            lua.push(coverage.mean); lua.rawSet(-2, "mean")
            lua.push(coverage.p95); lua.rawSet(-2, "p95")
            lua.push(coverage.max); lua.rawSet(-2, "max")
            lua.push(coverage.candidates); lua.rawSet(-2, "candidates")
            if let row = coverage.farthestRow, let matrix = try? h.owner.album.matrix() {
                types.push(image: matrix.imageIDs[row], of: h.owner, on: lua); lua.rawSet(-2, "farthest")
            }
            return 1
        }
        t.property("min_distance", type: "number|nil", summary: "count=\"auto\": the cosine distance FPS stopped at (the run's count is the median count its iterations reached)") { h, lua in
            lua.push(h.run.parameters["min_distance"].flatMap(Double.init))
        }
        t.property("strata", type: "table|nil", summary: "A balanced run's strata: {{name=, candidates=, quota=, selected=, note=}, ...} (nil without balance=); \"unknown\" holds images the key had no value for") { h, lua in
            guard let strata = h.run.strata else { lua.pushNil(); return }
            let selected = Set(h.run.selection)
            lua.newTable(array: strata.count)
            for (i, stratum) in strata.enumerated() {
                lua.newTable(record: 5)
                lua.push(stratum.name); lua.rawSet(-2, "name")
                lua.push(stratum.candidates); lua.rawSet(-2, "candidates")
                lua.push(stratum.quota); lua.rawSet(-2, "quota")
                lua.push(stratum.voted.filter(selected.contains).count); lua.rawSet(-2, "selected")
                if let note = stratum.note { lua.push(note); lua.rawSet(-2, "note") }
                lua.rawSet(-2, index: i + 1)
            }
        }
        t.method("review",
                 signature: "r:review([{port=8765, host=\"127.0.0.1\", wait=false}]) -> Review",
                 summary: "Serves a live page of the run by tier, numbered as r.selection: click to exclude, Exclude >= N %, map with lasso",
                 returns: "Review") { h, call in
            let options = try call.options(1, allowed: ReviewType.optionNames)
            return try ReviewType.start(host, h.owner, run: h.run.id, options, call, types)
        }
        t.method("favorite", signature: "r:favorite() -> integer",
                 summary: "Makes the selection (minus excluded images) the album's favorites; returns how many") { h, call in
            try h.owner.album.favorite(h.run)
            call.lua.push(h.owner.album.favorites.count)
            return 1
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
            try nested.checkKeys(allowed: MapType.optionNames)
            return try MapType.mapOptions(nested, call: call, defaultSource: .auto)
        default:
            throw call.failure("map must be a source name, false or a table of a:map options (got \(lua.typeName(at: -1)))")
        }
    }
}
