/// Byte-level path arithmetic, the one implementation of splitting and
/// joining paths (component, folder, stem and extension): names are split and
/// joined as the file system's bytes so names that are not UTF-8 survive
/// unchanged. Not a path type but the operations the two path types share:
/// `RelativePath` (a place inside an album, the index's key) and
/// `FileSystemPath` (any file the core opens, reads or writes) hold their
/// bytes and ask these functions; code outside the two types builds paths
/// through them, not through these.
enum PathBytes {
    static let slash = UInt8(ascii: "/")
    static let dot = UInt8(ascii: ".")

    /// The last component of `path` (trailing slashes ignored).
    static func lastComponent(_ path: [UInt8]) -> [UInt8] {
        var end = path.endIndex
        while end > path.startIndex + 1, path[end - 1] == slash { end -= 1 }
        let trimmed = path[..<end]
        if let s = trimmed.lastIndex(of: slash), s + 1 < end { return Array(trimmed[(s + 1)...]) }
        return Array(trimmed)
    }

    /// Everything before the last component ("." when there is none, "/" for the root).
    static func directory(_ path: [UInt8]) -> [UInt8] {
        var end = path.endIndex
        while end > path.startIndex + 1, path[end - 1] == slash { end -= 1 }
        guard let s = path[..<end].lastIndex(of: slash) else { return Array(".".utf8) }
        if s == path.startIndex { return [slash] }
        return Array(path[..<s])
    }

    /// The name of the folder holding `path` ("" when the path has no folder part).
    static func parentName(_ path: [UInt8]) -> [UInt8] {
        let dir = directory(path)
        if dir == Array(".".utf8) || dir == [slash] { return [] }
        return lastComponent(dir)
    }

    /// `name` split into stem and extension the way Python's
    /// `os.path.splitext` does: the extension starts at the last dot, unless
    /// every character before that dot is a dot (`.bashrc` has none).
    static func splitExtension(_ name: [UInt8]) -> (stem: [UInt8], ext: [UInt8]) {
        guard let d = name.lastIndex(of: dot) else { return (name, []) }
        if name[..<d].allSatisfy({ $0 == dot }) { return (name, []) }
        return (Array(name[..<d]), Array(name[d...]))
    }

    /// `directory/name`.
    static func join(_ directory: [UInt8], _ name: [UInt8]) -> [UInt8] {
        if directory.isEmpty { return name }
        if directory.last == slash { return directory + name }
        return directory + [slash] + name
    }

    /// `path` with its extension (Python's splitext) replaced by `ext` (given with its dot).
    static func replacingExtension(_ path: [UInt8], with ext: [UInt8]) -> [UInt8] {
        let oldExt = splitExtension(lastComponent(path)).ext
        return Array(path.dropLast(oldExt.count)) + ext
    }

    /// The display form of bytes (invalid UTF-8 as U+FFFD).
    static func display(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
