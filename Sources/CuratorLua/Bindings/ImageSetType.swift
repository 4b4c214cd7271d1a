import CLuaShims
import CuratorCore
import Foundation

/// An `ImageSet` object: a handle on a collection.
public final class ImageSetHandle {
    /// The collection it shows.
    public let collection: any ImageCollection
    /// Creates a handle.
    public init(_ collection: any ImageCollection) { self.collection = collection }
}

/// Every member of `ImageSet`.
enum ImageSetType {
    /// How many members the REPL lists under a set.
    static let prettyMembers = 10

    /// Whether `c` is its album's exclusions (where marking members excluded says nothing).
    static func isExclusionsSet(_ c: any ImageCollection) -> Bool {
        (c as? PersistedImageSet)?.storage === c.owner.album.exclusions
    }

    /// How a member is printed: its path and, for a run's set, its
    /// frequency and tier; "excluded" when it is (outside the exclusions).
    static func member(_ id: Int64, of c: any ImageCollection) -> (path: String, notes: String, text: String)? {
        let album = c.owner.album
        guard let record = album.image(id: id) else { return nil }
        var notes: [String] = []
        if let run = c.run {
            // Right-aligned, so a column of them lines up (100.0 % over 95.0 %).
            let percentage = CurationCSV.percentage(run.frequency(of: id))
            notes.append(String(repeating: " ", count: max(0, 5 - percentage.count)) + percentage + " %")
            if let tier = run.tier(of: id) { notes.append(tier.rawValue) }
        }
        if !isExclusionsSet(c), album.exclusions.contains(id) { notes.append("excluded") }
        let path = record.path.string
        let joined = notes.joined(separator: "  ")
        let compact = notes.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return (path, joined, notes.isEmpty ? path : "\(path) \(compact)")
    }

    static func install(_ types: CuratorTypes, host: CuratorHost) {
        let t = types.imageSet
        t.identity { handle in
            handle.collection.identity.map { LuaIdentity(scope: handle.collection.owner.serial, id: $0) }
        }
        t.describe { handle in
            // One line: the count, then the first members (with the run's frequencies).
            let c = handle.collection
            let head = "<ImageSet \(c.label) of \"\(c.owner.album.name)\": \(Wording.counted(c.count, "image"))"
            let first = c.ids.prefix(3).compactMap { member($0, of: c)?.text }
            guard !first.isEmpty else { return head + ">" }
            return head + ": " + first.joined(separator: ", ") + (c.count > first.count ? ", …>" : ">")
        }
        t.pretty { handle in
            // At the prompt: the first members numbered as s[i], a line each.
            let c = handle.collection
            var text = "<ImageSet \(c.label) of \"\(c.owner.album.name)\": \(Wording.counted(c.count, "image"))>"
            let shown = c.ids.prefix(prettyMembers).compactMap { member($0, of: c) }
            let numbers = String(shown.count).count
            let width = min(60, shown.map { $0.path.count }.max() ?? 0)
            for (i, m) in shown.enumerated() {
                let number = String(i + 1)
                var line = "\n  " + String(repeating: " ", count: numbers - number.count) + number + "  " + m.path
                if !m.notes.isEmpty { line += String(repeating: " ", count: max(0, width - m.path.count)) + "  " + m.notes }
                text += line
            }
            if c.count > shown.count {
                text += "\n  … \(Wording.counted(c.count - shown.count, "more image")) (s:list(), s:show())"
            }
            return text
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
        t.method("show", signature: "s:show([{\(ContactSheetBinding.optionsSignature)}])",
                 summary: "Draws the images in the terminal as a contact sheet numbered like s[i], as many a row as its width holds; excluded ones stay in place, crossed out in red") { handle, call in
            let (request, _) = try ContactSheetBinding.request(call, options: 1)
            let c = handle.collection
            let album = c.owner.album
            // In the exclusions themselves every image is excluded: crossing all out says nothing.
            let isExclusions = isExclusionsSet(c)
            let tiles = c.ids.enumerated().compactMap { offset, id in
                ContactSheetBinding.tile(id, of: c.owner, number: offset + 1, markExcluded: !isExclusions)
            }
            try ContactSheetBinding.show(tiles, request, title: "ImageSet \(c.label) of \"\(album.name)\": \(Wording.counted(c.count, "image"))",
                                         again: "s:show{", host: host)
            return 0
        }
    }
}
