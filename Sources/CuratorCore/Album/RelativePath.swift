#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A path inside an album, relative to its root, as the file system's exact
/// bytes ('/'-separated). Names that are not valid UTF-8 stay usable: the
/// bytes open the file, and `string` shows them with replacement characters.
///
/// Not `FileSystemPath`, though both hold bytes: this is the album's key for an
/// image (the index stores it, and sorts it in byte order, `<`), always
/// relative, checked against leading out of its root (`leavesRoot`) and made
/// a `FileSystemPath` only under the album's root (`absolute(under:)`); a
/// `FileSystemPath` is any place on the file system (usually absolute) and
/// encodable in a JSON report. The splitting of both is `PathBytes`'.
public struct RelativePath: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Where the bytes are kept: an array of their own, or their part of one
    /// buffer that holds every path an album read from its index
    /// (`ImageListReader`), so that a million paths are one allocation
    /// rather than a million. Read them through `bytes`, or in place here.
    let storage: ArraySlice<UInt8>

    /// The path's bytes, exactly as the file system spells them (a copy when
    /// the path lives in a shared buffer; its own array is returned as is).
    public var bytes: [UInt8] { Array(storage) }

    /// Creates a path from file-system bytes.
    public init(bytes: [UInt8]) { storage = bytes[...] }

    /// A path whose bytes are `slice` of a buffer shared with other paths
    /// (kept alive by the slice).
    init(shared slice: ArraySlice<UInt8>) { storage = slice }

    /// Creates a path from a string (its UTF-8 bytes).
    public init(_ string: String) { storage = Array(string.utf8)[...] }

    /// The number of bytes.
    public var byteCount: Int { storage.count }

    /// The path for display: UTF-8, invalid bytes replaced by U+FFFD.
    public var string: String { String(decoding: storage, as: UTF8.self) }

    /// Whether the path could lead out of the folder it is relative to: it is
    /// absolute or has a `..` component. Index-only albums take their paths
    /// from someone else's file, which may name `../../etc/hostname`.
    public var leavesRoot: Bool {
        storage.first == UInt8(ascii: "/") || storage.split(separator: UInt8(ascii: "/")).contains { $0.elementsEqual([0x2E, 0x2E]) }
    }

    /// Whether the bytes are valid UTF-8, so `string` round-trips.
    public var isValidUTF8: Bool { String(validating: storage, as: UTF8.self) != nil }

    public var description: String { string }

    /// The last component's bytes.
    public var nameBytes: ArraySlice<UInt8> {
        if let slash = storage.lastIndex(of: UInt8(ascii: "/")) { return storage[(slash + 1)...] }
        return storage
    }

    /// The last component, e.g. `img.jpg`.
    public var name: String { String(decoding: nameBytes, as: UTF8.self) }

    /// The folder holding the file, relative to the album root ("" at the root).
    public var folder: RelativePath {
        guard let slash = storage.lastIndex(of: UInt8(ascii: "/")) else { return RelativePath(bytes: []) }
        return RelativePath(bytes: Array(storage[..<slash]))
    }

    /// The name without its extension, e.g. `img` for `img.jpg` (the
    /// extension as `PathBytes.splitExtension` finds it, as export does).
    public var stem: String {
        String(decoding: PathBytes.splitExtension(Array(nameBytes)).stem, as: UTF8.self)
    }

    /// The extension without its dot, lower-cased ("" when none).
    public var pathExtension: String {
        String(decoding: PathBytes.splitExtension(Array(nameBytes)).ext.dropFirst(), as: UTF8.self).lowercased()
    }

    /// The path of this file under `root` (no trailing slash needed): this
    /// path's bytes appended, unchanged, to the root's.
    public func absolute(under root: FileSystemPath) -> FileSystemPath {
        if root.bytes.isEmpty { return FileSystemPath(bytes: bytes) }
        var path = root.bytes
        path.reserveCapacity(path.count + 1 + storage.count)
        if path.last != UInt8(ascii: "/") { path.append(UInt8(ascii: "/")) }
        path.append(contentsOf: storage)
        return FileSystemPath(bytes: path)
    }

    /// Hashes the bytes as one block (the synthesized hash feeds the hasher
    /// byte by byte: a tenth of a million-image import went there).
    public func hash(into hasher: inout Hasher) {
        storage.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Equal bytes, wherever each path keeps them.
    public static func == (lhs: RelativePath, rhs: RelativePath) -> Bool {
        lhs.storage.count == rhs.storage.count && compare(lhs, rhs) == 0
    }

    /// Byte order (memcmp, then length): the order SQLite sorts BLOBs in,
    /// so paths read from the index in `ORDER BY path` need no re-sorting.
    public static func < (lhs: RelativePath, rhs: RelativePath) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// -1, 0 or 1 as `a` sorts before, with or after `b` in byte order.
    @inline(__always)
    static func compare(_ a: RelativePath, _ b: RelativePath) -> Int {
        a.storage.withUnsafeBytes { pa in b.storage.withUnsafeBytes { pb in compare(pa, pb) } }
    }

    /// `compare` on bytes in place (SQLite's column buffers, a packed table).
    @inline(__always)
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = Swift.min(a.count, b.count)
        let c = n == 0 ? 0 : Int(memcmp(a.baseAddress!, b.baseAddress!, n))
        if c != 0 { return c < 0 ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with these bytes as a NUL-terminated C string (for POSIX
    /// and libvips calls that take file names as bytes).
    public func withCPath<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var terminated = self
        terminated.append(0)
        return try terminated.withUnsafeBufferPointer { buffer in
            try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { try body($0) }
        }
    }
}
