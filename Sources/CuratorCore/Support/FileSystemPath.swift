/// A path as the file system takes it, held as its exact bytes: the core's
/// one path type for every file it opens, decodes, walks or writes (an
/// album's root and its images' files, the decoder's and embedders' inputs,
/// export's sources, destinations and system calls, the files an import
/// reads, and the image names an importer reads out of a foreign file). Names that are not valid UTF-8 keep working: the bytes go to the
/// system calls as they are (`withCPath`), and `string` only shows them.
/// It encodes as a plain string when the bytes are UTF-8 and as
/// `{"bytes": [...]}` otherwise, so JSON reports stay readable and nothing is lost.
///
/// Not `RelativePath`, though both hold bytes: this is any place on the file
/// system, usually absolute (relative ones are taken from the working
/// folder, as a user typed them), and Codable for reports; a `RelativePath`
/// is an image's key inside an album, always relative to its root, ordered as
/// the index orders it, and made a `FileSystemPath` by `absolute(under:)`.
/// Their splitting is one implementation, `PathBytes`.
public struct FileSystemPath: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The path's bytes, exactly as the file system spells them.
    public let bytes: [UInt8]

    /// Creates a path from file-system bytes.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Creates a path from a string (its UTF-8 bytes).
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    /// The path for display: UTF-8, invalid bytes replaced by U+FFFD.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public var description: String { string }

    /// `self/name`.
    public func appending(_ name: [UInt8]) -> FileSystemPath { FileSystemPath(bytes: PathBytes.join(bytes, name)) }

    /// `self/name`, the name given as text.
    public func appending(_ name: String) -> FileSystemPath { appending(Array(name.utf8)) }

    /// The last component (trailing slashes ignored).
    public var name: [UInt8] { PathBytes.lastComponent(bytes) }

    /// The name of the folder holding this path ("" when the path has no folder part).
    public var parentName: [UInt8] { PathBytes.parentName(bytes) }

    /// Calls `body` with the bytes as a NUL-terminated C string (for the
    /// POSIX calls, which take the bytes as they are, UTF-8 or not).
    public func withCPath<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try bytes.withCPath(body)
    }

    /// Byte order, as `ls` in the C locale lists names.
    static func byteOrder(_ a: FileSystemPath, _ b: FileSystemPath) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    /// Everything before the last component ("." when there is none, "/" for the root).
    public var parent: FileSystemPath { FileSystemPath(bytes: PathBytes.directory(bytes)) }

    /// A hidden sibling named after this path: `parent/.<name><suffix>` (an
    /// export's staging folder beside its destination).
    public func hiddenSibling(_ suffix: String) -> FileSystemPath {
        parent.appending([PathBytes.dot] + name + Array(suffix.utf8))
    }

    /// This path with `old` replaced by `new` when it is `old` or lies
    /// under it, else unchanged (a staging folder's paths, once it has been
    /// swapped in as the destination).
    public func moved(from old: FileSystemPath, to new: FileSystemPath) -> FileSystemPath {
        guard bytes.starts(with: old.bytes),
              bytes.count == old.bytes.count || bytes[old.bytes.count] == PathBytes.slash else { return self }
        return FileSystemPath(bytes: new.bytes + bytes[old.bytes.count...])
    }

    private enum CodingKeys: String, CodingKey { case bytes }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
            bytes = Array(text.utf8)
            return
        }
        let keyed = try decoder.container(keyedBy: CodingKeys.self)
        bytes = try keyed.decode([UInt8].self, forKey: .bytes)
    }

    public func encode(to encoder: any Encoder) throws {
        if let text = String(validating: bytes, as: UTF8.self) {
            var single = encoder.singleValueContainer()
            try single.encode(text)
        } else {
            var keyed = encoder.container(keyedBy: CodingKeys.self)
            try keyed.encode(bytes, forKey: .bytes)
        }
    }
}
