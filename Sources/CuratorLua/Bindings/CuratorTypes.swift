import CLuaShims
import CuratorCore
import Foundation

/// The host types curator binds, defined together so that any type's members
/// can take or return any other. Each type's members are registered by one
/// file named for it (`AlbumType.swift`, `ImageType.swift`, ...), as
/// darktable's `src/lua/image.c` registers all of `dt_lua_image_t`.
public struct CuratorTypes {
    /// `Album`: an open album.
    public let album: HostType<AlbumHandle>
    /// `Image`: one image of an album.
    public let image: HostType<ImageHandle>
    /// `ImageSet`: an ordered set of one album's images.
    public let imageSet: HostType<ImageSetHandle>
    /// `Run`: a saved selection.
    public let run: HostType<RunHandle>
    /// `SamplerContext`: what a Lua sampler gets for one iteration.
    let samplerContext: HostType<SamplerContext>
    /// `Map`: a 2-D map of an album.
    public let map: HostType<MapHandle>
    /// `Review`: a live review page's server.
    public let review: HostType<ReviewHandle>
    /// `Clusters`: an album's clusters (`a:clusters()`).
    public let clusters: HostType<ClustersHandle>

    /// Pushes image `id` of `owner` (the same Lua value while one is alive).
    public func push(image id: Int64, of owner: AlbumHandle, on lua: LuaStack) {
        image.push(LuaIdentity(scope: owner.serial, id: id), on: lua) { ImageHandle(owner: owner, id: id) }
    }

    /// Pushes an ImageSet showing `collection`.
    public func push(set collection: any ImageCollection, on lua: LuaStack) {
        imageSet.push(ImageSetHandle(collection), on: lua)
    }

    /// The image ids that argument `n` of `call` names, for `owner`: an
    /// Image, a path or a unique bare file name (string), an id (integer), an
    /// ImageSet, or a list of these. Images of another album, unknown paths
    /// and ids, and names several images have are errors.
    public func imageIDs(_ call: LuaCall, _ n: Int, of owner: AlbumHandle) throws -> [Int64] {
        var ids: [Int64] = []
        try collect(call, call.index(n), owner, depth: 0, into: &ids, element: "") { element, detail in
            call.badArgument(n, element.isEmpty ? detail : "\(element): \(detail)")
        }
        return ids
    }

    /// The image ids the value at stack `index` names, for option `key` of
    /// `call` (e.g. `include` of `album:select`); messages read
    /// `album:select: include[2]: image of album "x", not "y"`.
    public func imageIDs(_ call: LuaCall, option key: String, at index: Int32, of owner: AlbumHandle) throws -> [Int64] {
        var ids: [Int64] = []
        try collect(call, call.lua.absolute(index), owner, depth: 0, into: &ids, element: "") { element, detail in
            call.failure("\(key)\(element): \(detail)")
        }
        return ids
    }

    /// The one image the value at stack `index` names (an Image, a path or an
    /// id); `what` names it in messages (`start`, `bad argument #1`).
    public func imageID(_ call: LuaCall, at index: Int32, what: String, of owner: AlbumHandle) throws -> Int64 {
        let lua = call.lua
        let type = lua.type(at: index)
        guard type == .string || type == .number || image.object(at: index, in: lua) != nil else {
            let got = type == .none ? "no value" : lua.typeName(at: index)
            throw call.failure("\(what): Image, path or id expected, got \(got)")
        }
        let ids = try imageIDs(call, option: what, at: index, of: owner)
        guard ids.count == 1 else { throw call.failure("\(what): one image expected") }
        return ids[0]
    }

    private func collect(_ call: LuaCall, _ index: Int32, _ owner: AlbumHandle, depth: Int,
                         into ids: inout [Int64], element: String,
                         error: (String, String) -> LuaBindingError) throws {
        let lua = call.lua
        let album = owner.album
        func bad(_ detail: String) -> LuaBindingError { error(element, detail) }
        switch lua.type(at: index) {
        case .string:
            let path = lua.bytes(at: index) ?? []
            let text = String(decoding: path, as: UTF8.self)
            switch album.lookup(path) {
            case let .found(record): ids.append(record.id)
            case .missing: throw call.failure("no image '\(text)' in album \"\(album.name)\"")
            case let lookup: throw bad(lookup.ambiguity(of: "'\(text)'") ?? text)
            }
        case .number:
            guard let id = lua.integer(at: index) else { throw bad("image id expected, got \(LuaCall.shown(lua, index))") }
            guard album.image(id: id) != nil else { throw call.failure("no image #\(id) in album \"\(album.name)\"") }
            ids.append(id)
        case .userdata:
            if let handle = image.object(at: index, in: lua) {
                guard handle.owner === owner else {
                    throw bad("image of album \"\(handle.owner.album.name)\", not \"\(album.name)\"")
                }
                _ = try handle.record()
                ids.append(handle.id)
            } else if let set = imageSet.object(at: index, in: lua) {
                guard set.collection.owner === owner else {
                    throw bad("set of album \"\(set.collection.owner.album.name)\", not \"\(album.name)\"")
                }
                ids += set.collection.ids
            } else {
                throw bad("Image, path, id, list or ImageSet expected, got \(lua.typeName(at: index))")
            }
        case .table:
            guard depth < 4 else { throw bad("lists nested too deeply") }
            guard lua.ensureSpace(4) else { throw bad("stack overflow") }
            let count = lua.rawLength(at: index)
            for i in 1...max(count, 1) where count > 0 {
                lua.rawGet(index, index: i)
                defer { lua.pop() }
                try collect(call, lua.absolute(-1), owner, depth: depth + 1, into: &ids, element: "\(element)[\(i)]", error: error)
            }
        default:
            let got = lua.type(at: index) == .none ? "no value" : lua.typeName(at: index)
            throw bad("Image, path, id, list or ImageSet expected, got \(got)")
        }
    }

    /// Defines every type, then registers each type's members (in this
    /// order, which `help()` and the README's API reference follow).
    static func install(in host: CuratorHost) -> CuratorTypes {
        let state = host.state
        let album = state.defineType(AlbumHandle.self, name: "Album", prefix: "album", variable: "a",
                                     summary: "An image folder (or embeddings file) and its index")
        let image = state.defineType(ImageHandle.self, name: "Image", prefix: "image", variable: "img",
                                     summary: "One image of an album")
        let imageSet = state.defineType(ImageSetHandle.self, name: "ImageSet", prefix: "imageset", variable: "s",
                                        summary: "An ordered set of an album's images (exclusions, favorites, selections)")
        let run = state.defineType(RunHandle.self, name: "Run", prefix: "run", variable: "r",
                                   summary: "A saved selection: Monte Carlo votes, frequencies, tiers and the selected images")
        let samplerContext = state.defineType(SamplerContext.self, name: "SamplerContext", prefix: "ctx", variable: "ctx",
                                              summary: "What a custom sampler's function gets for one iteration")
        let map = state.defineType(MapHandle.self, name: "Map", prefix: "map", variable: "m",
                                   summary: "A 2-D map of an album's images (seeded UMAP, PhotoMapAI's, or PCA)")
        let review = state.defineType(ReviewHandle.self, name: "Review", prefix: "review", variable: "v",
                                      summary: "A live review page of an album or run, served on 127.0.0.1 (the REPL and the page stay in sync)")
        let clusters = state.defineType(ClustersHandle.self, name: "Clusters", prefix: "clusters", variable: "c",
                                        summary: "An album's clusters (HDBSCAN on the map, or K-Means), with labels from a vocabulary")
        let types = CuratorTypes(album: album, image: image, imageSet: imageSet, run: run,
                                 samplerContext: samplerContext, map: map, review: review, clusters: clusters)
        AlbumType.install(types, host: host)
        ImageType.install(types, host: host)
        ImageSetType.install(types, host: host)
        RunType.install(types, host: host)
        SamplerContextType.install(types, host: host)
        MapType.install(types, host: host)
        ReviewType.install(types, host: host)
        ClustersType.install(types, host: host)
        TokenCountBinding.install(host: host)
        FileStatusBinding.install(host: host)
        PickBinding.install(host: host)
        QualityBinding.install(types, host: host)
        return types
    }
}
