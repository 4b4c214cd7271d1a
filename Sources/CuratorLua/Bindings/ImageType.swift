import CLuaShims
import CuratorCore
import Foundation

/// The error a handle raises when what it stands for is gone.
public struct StaleObjectError: Error, CustomStringConvertible, Sendable {
    /// What is gone and why, e.g. `image #42 is no longer in album "char" (removed by a rescan)`.
    public let message: String
    /// Creates the error.
    public init(_ message: String) { self.message = message }
    public var description: String { "stale object: \(message)" }
}

/// One image as Lua holds it: its album and its id, resolved on every use so
/// an image removed by a rescan raises a clear error instead of lying.
public final class ImageHandle {
    /// The album the image belongs to.
    public let owner: AlbumHandle
    /// The image's id in the album's index.
    public let id: Int64

    /// Creates a handle.
    public init(owner: AlbumHandle, id: Int64) {
        self.owner = owner
        self.id = id
    }

    /// Where the image was last found in `album.images`: checked by id on
    /// every use (ids are unique), so a rescan that moves it costs one lookup.
    @exclusivity(unchecked) private var position = -1

    /// The image's current record; throws `StaleObjectError` when it left the album.
    public func record() throws -> ImageRecord {
        let album = owner.album
        let images = album.images
        if position >= 0, position < images.count, images[position].id == id { return images[position] }
        guard let found = album.position(of: id) else {
            throw StaleObjectError("image #\(id) is no longer in album \"\(album.name)\" (removed by a rescan)")
        }
        position = found
        return images[found]
    }
}

/// Every member of `Image`.
enum ImageType {
    static func install(_ types: CuratorTypes, host: CuratorHost) {
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
            lua.push(bytes: handle.owner.album.absolutePath(of: try handle.record()).bytes)
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
        membership(t, "excluded", summary: "Whether it is excluded from selections", set: \.exclusions)
        membership(t, "favorite", summary: "Whether it is a favorite", set: \.favorites)
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
        for (score, summary) in [(NeighborScore.uniqueness, "FiftyOne's uniqueness: weighted mean cosine distance to its 3 nearest images, over the album's largest (0 a near-duplicate, 1 the most isolated); also a score for filter=; nil without vectors"),
                                 (NeighborScore.typicality, "Lightly's typicality: 1 / mean Euclidean distance to its 20 nearest images (high in dense regions); also a score for filter=; nil without vectors")] {
            t.property(score.rawValue, type: "number|nil", summary: summary) { handle, lua in
                // nil, not an error, before the album has vectors (pairs(img) reads every property).
                let id = try handle.record().id
                lua.push((try? handle.owner.album.matrix()) == nil ? nil : try handle.owner.album.neighborScore(score, of: id))
            }
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
        t.method("show", signature: "img:show([{size=60, format=\"auto\"|\"symbols\"|\"sixel\"|\"kitty\"|\"iterm\", colors=, width=}])",
                 summary: "Draws the image in the terminal (kitty, iTerm2 or sixel graphics where supported, else Unicode blocks), framed red and crossed out when excluded") { handle, call in
            let (request, _) = try ContactSheetBinding.request(call, options: 1)
            let record = try handle.record()
            guard let tile = ContactSheetBinding.tile(record.id, of: handle.owner, number: nil) else { return 0 }
            var one = request
            one.size = request.size ?? min(60, request.display.columns)
            one.columns = 1
            try ContactSheetBinding.show([tile], one, title: record.path.string, again: "img:show{", host: host)
            return 0
        }
    }

    /// A writable boolean property saying whether the image is in one of its
    /// album's stored sets (`img.excluded`, `img.favorite`); assigning adds
    /// it to the set or removes it.
    private static func membership(_ t: HostType<ImageHandle>, _ member: String, summary: String,
                                   set: KeyPath<Album, ImageIDSet>) {
        t.property(member, type: "boolean", summary: summary, get: { handle, lua in
            lua.push(handle.owner.album[keyPath: set].contains(try handle.record().id))
        }, set: { handle, call in
            let value = try call.boolean(1)
            let id = try handle.record().id
            let members = handle.owner.album[keyPath: set]
            if value { try members.add([id]) } else { try members.remove([id]) }
        })
    }
}
