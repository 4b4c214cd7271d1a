import CuratorCore
import Foundation

/// A map of an album as Lua holds it: the points are a snapshot, so a
/// rescan does not move them under a script's feet (`a:map()` again does).
public final class MapHandle {
    /// The album the map is of.
    public let owner: AlbumHandle
    /// The points and where they came from.
    public let map: AlbumMap

    init(owner: AlbumHandle, map: AlbumMap) {
        self.owner = owner
        self.map = map
    }
}

/// Every member of `Map` (issue #8): `m:xy`, `m:points`, `m:plot` and the
/// settings it was made with. `a:map` is registered with Album's members.
enum MapType {
    /// The `a:map` options besides `progress`.
    static let optionNames = ["source", "n_neighbors", "min_dist", "seed", "cache"]

    /// Reads a:map's (or r:report's `map=`) options into core options.
    static func mapOptions(_ options: LuaOptions, call: LuaCall, defaultSource: MapSource) throws -> AlbumMapOptions {
        let sources = MapSource.allCases.map(\.rawValue)
        let source = try options.choice("source", sources).flatMap(MapSource.init(rawValue:)) ?? defaultSource
        var parameters = UMAPParameters()
        if let k = try options.integer("n_neighbors") {
            guard k >= 2, k <= 200 else { throw call.failure("n_neighbors must be an integer from 2 to 200 (got \(k))") }
            parameters.nNeighbors = k
        }
        if let d = try options.number("min_dist") {
            guard d >= 0, d <= parameters.spread else {
                throw call.failure("min_dist must be a number from 0 to 1 (got \(LuaStack.format(number: d)))")
            }
            parameters.minDist = d
        }
        if let seed = try LuaSeed.read(options) { parameters.seed = seed }
        return AlbumMapOptions(source: source, parameters: parameters, useCache: try options.boolean("cache") ?? true)
    }

    static func install(_ types: CuratorTypes, host: CuratorHost) {
        let t = types.map
        t.describe { h in
            "<Map \(h.map.description): \(Wording.counted(h.map.count, "image"))\(h.map.cached ? ", cached" : "")>"
        }
        t.length(note: "#m — how many images the map places") { $0.map.count }
        t.property("source", type: "string", summary: "\"umap\", \"photomap\" or \"pca\": where the points came from") { h, lua in
            lua.push(h.map.source.rawValue)
        }
        t.property("method", type: "string", summary: "\"umap\" (computed whole), \"incremental\" (a cached map updated), \"photomap\"") { h, lua in
            switch (h.map.source, h.map.layout.method) {
            case (.pca, _): lua.push("pca")
            case (_, .photoMap): lua.push("photomap")
            case (_, .incremental): lua.push("incremental")
            case (_, .umap): lua.push("umap")
            }
        }
        t.property("cached", type: "boolean", summary: "Whether the layout came whole from the index") { h, lua in lua.push(h.map.cached) }
        t.property("description", type: "string", summary: "What the map is, as reports caption it") { h, lua in lua.push(h.map.description) }
        t.property("n_neighbors", type: "integer", summary: "The UMAP setting the map was made with") { h, lua in
            lua.push(h.map.layout.parameters.nNeighbors)
        }
        t.property("min_dist", type: "number", summary: "The UMAP setting the map was made with") { h, lua in
            lua.push(h.map.layout.parameters.minDist)
        }
        t.property("seed", type: "integer|string", summary: "The seed the map was made with") { h, lua in
            LuaSeed.push( h.map.layout.parameters.seed, on: lua)
        }
        t.property("album", type: "Album", summary: "The album the map is of") { h, lua in types.album.push(h.owner, on: lua) }

        t.method("xy", signature: "m:xy(img) -> x, y | nil, message",
                 summary: "The image's point on the map (nil and why when the map does not place it)") { h, call in
            guard call.count >= 1 else { throw call.typeError(1, expected: "Image, path or id") }
            let id = try types.imageID(call, at: call.index(1), what: "bad argument #1", of: h.owner)
            guard let p = h.map.point(of: id) else {
                call.lua.pushNil()
                call.lua.push("image #\(id) is not on the map (it has no \(h.map.embedder) vector, or arrived after the map was made)")
                return 2
            }
            call.lua.push(Double(p.x))
            call.lua.push(Double(p.y))
            return 2
        }
        t.method("points", signature: "m:points() -> {{image=, x=, y=}, ...}",
                 summary: "Every placed image with its point, in matrix order (for plugins that draw their own)") { h, call in
            let lua = call.lua
            let layout = h.map.layout
            lua.newTable(array: layout.points.count)
            for (i, (id, p)) in zip(layout.imageIDs, layout.points).enumerated() {
                lua.newTable(record: 3)
                types.push(image: id, of: h.owner, on: lua); lua.rawSet(-2, "image")
                lua.push(Double(p.x)); lua.rawSet(-2, "x")
                lua.push(Double(p.y)); lua.rawSet(-2, "y")
                lua.rawSet(-2, index: i + 1)
            }
            return 1
        }
        t.method("plot", signature: "m:plot(file [, {run=r, highlight=img, clusters=c|true, size=1100, overwrite=false}]) -> path",
                 summary: "Draws the map (PNG, or SVG for .svg): album grey (or by cluster, each named, with clusters=), the run's selection by tier, excluded red, a legend; creates the file's folder when missing; returns the file's absolute path") { h, call in
            try host.require(.writingFiles, call)
            let file = try call.string(1)
            let options = try call.options(2, allowed: ["run", "highlight", "clusters", "size", "overwrite"])
            let lua = call.lua
            var run: SelectionRun?
            if options.pushValue("run") != .nil {
                guard let handle = types.run.object(at: -1, in: lua) else {
                    throw call.failure("run must be a Run (from a:select or a:run), got \(lua.typeName(at: -1))")
                }
                guard handle.owner === h.owner else { throw call.failure("run: the run belongs to another album") }
                run = handle.run
            }
            lua.pop()
            var highlight: Int64?
            if options.pushValue("highlight") != .nil {
                highlight = try types.imageID(call, at: -1, what: "highlight", of: h.owner)
            }
            lua.pop()
            let clusters = try ClustersType.option(options, owner: h.owner, types: types, call: call)
            let size = try options.positiveInteger("size") ?? 1100
            guard size >= 200, size <= 8000 else { throw call.failure("size must be from 200 to 8000 pixels (got \(size))") }
            try h.owner.album.plot(h.map, to: file, run: run, highlight: highlight, clusters: clusters?.clusters,
                                   clusterNames: clusters?.labels?.map(\.label), size: size,
                                   overwrite: try options.boolean("overwrite") ?? false)
            call.lua.push(CuratorHost.absolutePath(file))
            return 1
        }
    }
}
