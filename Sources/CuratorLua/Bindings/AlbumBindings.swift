import CLuaShims
import CuratorCore
import Foundation

/// The host types of albums, images and image sets, for later bindings
/// (runs, samplers, exporters) that take or return them.
public struct CuratorTypes {
    /// `Album`: an open album.
    public let album: HostType<AlbumHandle>
    /// `Image`: one image of an album.
    public let image: HostType<ImageHandle>
    /// `ImageSet`: an ordered set of one album's images.
    public let imageSet: HostType<ImageSetHandle>

    /// Pushes image `id` of `owner` (the same Lua value while one is alive).
    public func push(image id: Int64, of owner: AlbumHandle, on lua: LuaStack) {
        image.push(LuaIdentity(scope: owner.serial, id: id), on: lua) { ImageHandle(owner: owner, id: id) }
    }

    /// Pushes an ImageSet showing `collection`.
    public func push(set collection: any ImageCollection, on lua: LuaStack) {
        imageSet.push(ImageSetHandle(collection), on: lua)
    }

    /// The image ids that argument `n` of `call` names, for `owner`: an
    /// Image, a path (string), an id (integer), an ImageSet, or a list of
    /// these. Images of another album, unknown paths and ids are errors.
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
            guard let record = album.image(path: path) else {
                throw call.failure("no image '\(String(decoding: path, as: UTF8.self))' in album \"\(album.name)\"")
            }
            ids.append(record.id)
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
}

/// Binds Album, Image and ImageSet with the SPEC §6 names.
enum AlbumBindings {
    static func install(in host: CuratorHost) -> CuratorTypes {
        let state = host.state
        let albumType = state.defineType(AlbumHandle.self, name: "Album", prefix: "album", variable: "a",
                                         summary: "An image folder (or embeddings file) and its index")
        let imageType = state.defineType(ImageHandle.self, name: "Image", prefix: "image", variable: "img",
                                         summary: "One image of an album")
        let setType = state.defineType(ImageSetHandle.self, name: "ImageSet", prefix: "imageset", variable: "s",
                                       summary: "An ordered set of an album's images (exclusions, favorites, selections)")
        let types = CuratorTypes(album: albumType, image: imageType, imageSet: setType)
        defineOpen(host, types)
        defineAlbum(types)
        defineImage(types)
        defineImageSet(types)
        return types
    }

    // MARK: curator.open

    private static func defineOpen(_ host: CuratorHost, _ types: CuratorTypes) {
        host.state.defineFunction(
            "curator.open",
            signature: "curator.open(path [, {embedder=\"auto\", scan=true, embed=true, progress=fn}]) -> Album | nil, message",
            summary: "Opens an album folder (or .npz/.npy embeddings file), indexing what changed; a missing or unreadable one gives nil, message",
            returns: "Album"
        ) { [unowned host] call in
            let path = try call.string(1)
            let options = try call.options(2, allowed: ["embedder", "scan", "embed", "progress"])
            let embedder = try options.string("embedder") ?? "auto"
            let scan = try options.boolean("scan") ?? true
            let embed = try options.boolean("embed") ?? true
            let callback = try options.pushFunction("progress")
            let sink = LuaProgress(lua: call.lua, callback: callback)
            let handle: AlbumHandle
            do {
                if let open = host.openAlbum(at: path) {
                    // Already open: one in-memory state per index, brought up to date.
                    handle = open
                    if scan { try open.album.scan(progress: sink) }
                    if embedder != "auto" || open.album.embedder == nil { try open.album.activate(embedder: embedder) }
                } else {
                    let album = try Album.open(path, options: .init(embedder: embedder, scan: scan, embed: false), progress: sink)
                    handle = host.adopt(album)
                }
                if embed {
                    do {
                        try handle.album.embed(progress: sink)
                    } catch let error as IndexError {
                        // The album is still usable (browse, exclude); say why selections cannot run yet.
                        host.warn("curator.open: \(error)")
                    }
                }
                try sink.rethrowCallbackError()
            } catch let error as IndexError {
                try sink.rethrowCallbackError()
                switch error {
                case .albumNotFound, .unsupportedAlbum, .unreadableIndex, .cannotCreateIndex, .libraryUnavailable:
                    // Expected failures: the caller checks for nil.
                    if callback != nil { call.lua.pop() }
                    call.lua.pushNil()
                    call.lua.push(error.description)
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

    /// Reads an optional `{progress=fn}` table at argument `n`, runs `body`
    /// with a sink, and leaves the stack as it found it.
    static func withProgress<R>(_ call: LuaCall, options n: Int, allowed: [String] = ["progress"],
                                _ body: (LuaOptions, LuaProgress) throws -> R) throws -> R {
        let options = try call.options(n, allowed: allowed)
        let top = call.lua.top
        defer { call.lua.top = top }
        let callback = try options.pushFunction("progress")
        let sink = LuaProgress(lua: call.lua, callback: callback)
        do {
            let result = try body(options, sink)
            try sink.rethrowCallbackError()
            return result
        } catch {
            try sink.rethrowCallbackError()
            throw error
        }
    }

    // MARK: Album

    private static func defineAlbum(_ types: CuratorTypes) {
        let t = types.album
        t.identity { LuaIdentity(id: $0.serial) }
        t.describe { handle in
            let album = handle.album
            var text = "<Album \"\(album.name)\": \(counted(album.images.count, "image")), \(grouped(album.exclusions.count)) excluded"
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
            lua.push(bytes: handle.album.root)
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
                 summary: "The image at a path (relative, or absolute under the album) or with an id", returns: "Image") { handle, call in
            let album = handle.album
            let record: ImageRecord?
            let wanted: String
            switch call.type(1) {
            case .string:
                let path = try call.bytes(1)
                record = album.image(path: path)
                wanted = "'\(String(decoding: path, as: UTF8.self))'"
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
            let report = try withProgress(call, options: 1) { _, sink in try handle.album.scan(progress: sink) }
            push(report, on: call.lua)
            return 1
        }
        t.method("embed", signature: "a:embed([name] [, {progress=fn}]) -> {embedder=, embedded=, already_embedded=, failed={...}, notes={...}}",
                 summary: "Computes the vectors the active embedder (or `name`, which becomes active) lacks") { handle, call in
            var optionsArgument = 1
            var name: String?
            if call.type(1) == .string {
                name = try call.string(1)
                optionsArgument = 2
            } else if call.type(1) != .table && !call.isNil(1) {
                throw call.typeError(1, expected: "string or table")
            }
            let report = try withProgress(call, options: optionsArgument) { _, sink in
                try handle.album.embed(name, progress: sink)
            }
            push(report, on: call.lua)
            return 1
        }
        t.method("import", signature: "a:import(file [, {name=\"imported\", paths=list_file, progress=fn}]) -> {embedder=, embedded=, failed={...}, notes={...}} | nil, message",
                 summary: "Imports another tool's vectors (.npz, .npy + path list, clip-retrieval folder), matched by path; they become the active embedder") { handle, call in
            let file = try call.string(1)
            do {
                let report = try withProgress(call, options: 2, allowed: ["name", "paths", "progress"]) { options, sink in
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
    }

    // MARK: Image

    private static func defineImage(_ types: CuratorTypes) {
        let t = types.image
        t.identity { LuaIdentity(scope: $0.owner.serial, id: $0.id) }
        t.describe { handle in
            guard let record = try? handle.record() else { return "<Image #\(handle.id) (no longer in the album)>" }
            var text = "<Image \"\(record.path.string)\""
            if record.width > 0 { text += " \(record.width)×\(record.height)" }
            if handle.owner.album.exclusions.contains(record.id) { text += " excluded" }
            return text + ">"
        }
        t.json { handle, lua in lua.push(bytes: try handle.record().path.bytes) }

        t.property("id", type: "integer", summary: "The image's id in the album's index (stable across rescans)") { handle, lua in
            lua.push(try handle.record().id)
        }
        t.property("path", type: "string", summary: "Its path relative to the album (the file system's exact bytes)") { handle, lua in
            lua.push(bytes: try handle.record().path.bytes)
        }
        t.property("name", type: "string", summary: "Its file name, e.g. \"img.jpg\"") { handle, lua in
            lua.push(bytes: try handle.record().path.nameBytes)
        }
        t.property("folder", type: "string", summary: "Its folder relative to the album (\"\" at the top)") { handle, lua in
            lua.push(bytes: try handle.record().path.folder.bytes)
        }
        t.property("file", type: "string", summary: "Its absolute path") { handle, lua in
            lua.push(bytes: handle.owner.album.absolutePath(of: try handle.record()))
        }
        t.property("caption", type: "string|nil", summary: "Its caption from a .txt/.caption/.json sidecar, nil when none") { handle, lua in
            lua.push(handle.owner.album.caption(of: try handle.record()))
        }
        t.property("width", type: "integer", summary: "Width in pixels (0 when unknown)") { handle, lua in
            lua.push(try handle.record().width)
        }
        t.property("height", type: "integer", summary: "Height in pixels (0 when unknown)") { handle, lua in
            lua.push(try handle.record().height)
        }
        t.property("size", type: "integer", summary: "File size in bytes when last scanned") { handle, lua in
            lua.push(try handle.record().size)
        }
        t.property("mtime", type: "number", summary: "Modification time when last scanned (seconds since 1970)") { handle, lua in
            lua.push(try handle.record().mtime)
        }
        t.property("excluded", type: "boolean", summary: "Whether it is excluded from selections", get: { handle, lua in
            lua.push(handle.owner.album.exclusions.contains(try handle.record().id))
        }, set: { handle, call in
            let value = try call.boolean(1)
            let id = try handle.record().id
            if value { try handle.owner.album.exclusions.add([id]) } else { try handle.owner.album.exclusions.remove([id]) }
        })
        t.property("favorite", type: "boolean", summary: "Whether it is a favorite", get: { handle, lua in
            lua.push(handle.owner.album.favorites.contains(try handle.record().id))
        }, set: { handle, call in
            let value = try call.boolean(1)
            let id = try handle.record().id
            if value { try handle.owner.album.favorites.add([id]) } else { try handle.owner.album.favorites.remove([id]) }
        })
        t.property("stats", type: "table|nil",
                   summary: "{sharpness=, brightness=, contrast=, colourfulness=, entropy=} from the pixels embedder, nil before it ran") { handle, lua in
            guard let stats = try handle.owner.album.statistics(of: try handle.record()) else { lua.pushNil(); return }
            lua.newTable(record: 5)
            lua.push(stats.sharpness); lua.rawSet(-2, "sharpness")
            lua.push(stats.brightness); lua.rawSet(-2, "brightness")
            lua.push(stats.contrast); lua.rawSet(-2, "contrast")
            lua.push(stats.colourfulness); lua.rawSet(-2, "colourfulness")
            lua.push(stats.entropy); lua.rawSet(-2, "entropy")
        }
        t.property("album", type: "Album", summary: "The album it belongs to") { handle, lua in
            types.album.push(handle.owner, on: lua)
        }
        t.method("sidecars", signature: "img:sidecars() -> {path, ...}",
                 summary: "The caption files beside it (relative paths)") { handle, call in
            let files = handle.owner.album.captionFiles(of: try handle.record())
            call.lua.newTable(array: files.count)
            for (i, file) in files.enumerated() {
                call.lua.push(bytes: file.bytes)
                call.lua.rawSet(-2, index: i + 1)
            }
            return 1
        }
    }

    // MARK: ImageSet

    private static func defineImageSet(_ types: CuratorTypes) {
        let t = types.imageSet
        t.identity { handle in
            handle.collection.identity.map { LuaIdentity(scope: handle.collection.owner.serial, id: $0) }
        }
        t.describe { handle in
            let c = handle.collection
            return "<ImageSet \(c.label) of \"\(c.owner.album.name)\": \(counted(c.count, "image"))>"
        }
        t.json { handle, lua in
            let album = handle.collection.owner.album
            let ids = handle.collection.ids
            lua.newTable(array: ids.count)
            var n = 0
            for id in ids {
                guard let record = album.image(id: id) else { continue }
                n += 1
                lua.push(bytes: record.path.bytes)
                lua.rawSet(-2, index: n)
            }
        }
        t.length(note: "#s — the number of images") { $0.collection.count }
        t.elements(note: "s[i] — the i-th image, in the order they were added; ipairs(s) visits them all", elementType: "Image") { handle, i, lua in
            let ids = handle.collection.ids
            guard i >= 1, i <= ids.count else { return false }
            types.push(image: ids[i - 1], of: handle.collection.owner, on: lua)
            return true
        }
        t.property("album", type: "Album", summary: "The album whose images these are") { handle, lua in
            types.album.push(handle.collection.owner, on: lua)
        }
        t.property("name", type: "string", summary: "What the set is: \"exclusions\", \"favorites\", \"selection\", \"set\"") { handle, lua in
            lua.push(handle.collection.label)
        }
        t.method("contains", signature: "s:contains(x) -> boolean",
                 summary: "Whether x (an image, path, id, list or set) is in the set; for several, whether all are") { handle, call in
            guard call.count >= 1 else { throw call.typeError(1, expected: "Image, path, id, list or ImageSet") }
            let ids = try types.imageIDs(call, 1, of: handle.collection.owner)
            call.lua.push(ids.allSatisfy { handle.collection.contains($0) })
            return 1
        }
        /// The images every argument names (at least one argument), in order.
        func everyArgument(_ call: LuaCall, _ handle: ImageSetHandle) throws -> [Int64] {
            guard call.count >= 1 else { throw call.typeError(1, expected: "Image, path, id, list or ImageSet") }
            var ids: [Int64] = []
            for n in 1...call.count { ids += try types.imageIDs(call, n, of: handle.collection.owner) }
            return ids
        }
        t.method("add", signature: "s:add(x, ...) -> integer",
                 summary: "Adds images (images, paths, ids, lists or sets); returns how many were new") { handle, call in
            call.lua.push(try handle.collection.add(try everyArgument(call, handle)))
            return 1
        }
        t.method("remove", signature: "s:remove(x, ...) -> integer",
                 summary: "Removes images (images, paths, ids, lists or sets); returns how many were members") { handle, call in
            call.lua.push(try handle.collection.remove(try everyArgument(call, handle)))
            return 1
        }
        t.method("clear", signature: "s:clear()", summary: "Removes every image from the set") { handle, _ in
            try handle.collection.clear()
            return 0
        }
        t.method("list", signature: "s:list() -> {Image, ...}", summary: "The images as a plain Lua list") { handle, call in
            let ids = handle.collection.ids
            call.lua.newTable(array: ids.count)
            for (i, id) in ids.enumerated() {
                types.push(image: id, of: handle.collection.owner, on: call.lua)
                call.lua.rawSet(-2, index: i + 1)
            }
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

    /// "1 image", "1,204 images".
    static func counted(_ n: Int, _ noun: String) -> String {
        "\(grouped(n)) \(noun)\(n == 1 ? "" : "s")"
    }

    /// 1204 → "1,204".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }
}
