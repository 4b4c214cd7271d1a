#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file found under an album folder, with what `stat` says of it.
public struct FoundFile: Sendable, Hashable {
    /// Its path relative to the album root.
    public let path: RelativePath
    /// Its size in bytes.
    public let size: Int64
    /// Its modification time, seconds since 1970.
    public let mtime: Double
}

/// Walks an album folder recursively with POSIX calls, so that file names
/// are read as bytes (non-UTF-8 names survive) and symbolic-link loops are
/// cut by remembering each folder's device and inode. Files are stat'ed
/// relative to their folder's descriptor, and nothing is allocated per entry
/// but the path kept for an image: a 100,000-image album walks in a fraction
/// of a second.
public struct FolderWalker {
    /// Folder names never entered (besides hidden ones, whose names start with a dot).
    public static let skippedFolders: Set<[UInt8]> = [
        Array(".curator".utf8), Array("photomap_index".utf8), Array("@eaDir".utf8), Array("__MACOSX".utf8),
    ]

    /// The file extensions taken as images (lower case, no dot).
    public static let imageExtensions: Set<String> = [
        "jpg", "jpeg", "png", "bmp", "gif", "webp", "tiff", "tif", "heif", "heic", "avif",
    ]

    /// Extensions of other image formats, which an album does not index but
    /// lists among its skipped files (`Album.skipped()`), so that a folder of
    /// camera raws or vector art is not silently left out — unless an image
    /// it indexes has the same name in the same folder, as when a camera
    /// writes a raw and a JPEG of each shot. Every other file (captions,
    /// notes, videos) is ignored without a word.
    public static let otherImageExtensions: Set<String> = [
        "svg", "svgz", "psd", "psb", "xcf", "kra", "ora", "jxl", "jp2", "j2k", "jpx", "exr", "hdr", "ico", "icns",
        "tga", "pcx", "ppm", "pgm", "pbm", "pnm", "qoi", "dds",
        "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "pef", "srw", "x3f",
        "3fr", "erf", "kdc", "mos", "mrw", "iiq", "raw",
    ]

    /// `imageExtensions` packed into integers, so that testing a name allocates nothing.
    private static let packedExtensions: Set<UInt64> = Set(imageExtensions.map { pack(Array($0.utf8)[...])! })
    private static let packedOtherExtensions: Set<UInt64> = Set(otherImageExtensions.map { pack(Array($0.utf8)[...])! })

    /// The album root.
    public let root: FileSystemPath

    /// Creates a walker of the folder at `root`.
    public init(root: FileSystemPath) { self.root = root }

    /// Whether a file name ends in an image extension (any case).
    public static func isImageName<C: BidirectionalCollection>(_ name: C) -> Bool where C.Element == UInt8 {
        guard let tail = extensionBytes(of: name), let key = pack(tail) else { return false }
        return packedExtensions.contains(key)
    }

    /// The extension of a file name in an image format the album does not
    /// index (`otherImageExtensions`), as written; nil for any other name.
    static func otherImageExtension<C: BidirectionalCollection>(_ name: C) -> String? where C.Element == UInt8 {
        guard let tail = extensionBytes(of: name), let key = pack(tail), packedOtherExtensions.contains(key) else { return nil }
        return String(decoding: tail, as: UTF8.self)
    }

    /// What follows a file name's last dot, when the name does not start there.
    private static func extensionBytes<C: BidirectionalCollection>(of name: C) -> C.SubSequence? where C.Element == UInt8 {
        guard let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > name.startIndex else { return nil }
        return name[name.index(after: dot)...]
    }

    /// The formats an album indexes, as the reasons for skipping others name them.
    private static let indexedFormats = imageExtensions.sorted().joined(separator: " ")

    /// The reason an image of another format is listed as skipped.
    static func notIndexedReason(extension ext: String) -> String {
        "not indexed: curator reads \(indexedFormats), not .\(ext)"
    }

    /// Up to 8 ASCII bytes, lower-cased, in one integer (nil when longer).
    private static func pack<C: Collection>(_ bytes: C) -> UInt64? where C.Element == UInt8 {
        guard bytes.count <= 8, !bytes.isEmpty else { return nil }
        var key: UInt64 = 0
        for byte in bytes { key = key << 8 | UInt64(lowercased(byte)) }
        return key
    }

    /// An ASCII capital as its small letter; any other byte as it is.
    @inline(__always) private static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
    }

    /// The image files below the root, sorted by path, and the entries that
    /// could not be used (unreadable folders, broken links, images in a
    /// format the album does not index) with a reason.
    public func walk() -> (files: [FoundFile], problems: [(RelativePath, String)]) {
        var files: [FoundFile] = []
        var problems: [(RelativePath, String)] = []
        var visited = Set<DirectoryIdentity>()
        var pending: [[UInt8]] = [[]]  // relative folder paths still to read
        if let identity = DirectoryIdentity(path: root) { visited.insert(identity) }
        let slash = UInt8(ascii: "/")

        while let folder = pending.popLast() {
            let absolute = folder.isEmpty ? root : RelativePath(bytes: folder).absolute(under: root)
            guard let dir = absolute.withCPath({ opendir($0) }) else {
                problems.append((RelativePath(bytes: folder), "cannot read folder: \(String(cString: strerror(errno)))"))
                continue
            }
            defer { closedir(dir) }
            let fd = dirfd(dir)
            var info = stat()
            // Images of other formats in this folder, listed once the folder is read
            // unless an indexed image shares the name (a camera's raw beside its JPEG).
            var others: [(path: [UInt8], ext: String)] = []
            let firstFile = files.count
            while let entry = readdir(dir) {
                let outcome: Outcome = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                    let name = raw.bindMemory(to: UInt8.self)
                    let length = strnlen(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                    let bytes = UnsafeBufferPointer(rebasing: name[0..<length])
                    if bytes.first == UInt8(ascii: ".") { return .ignore }  // ".", "..", hidden files and folders
                    let isImage = Self.isImageName(bytes)
                    let status = fstatat(fd, raw.baseAddress!.assumingMemoryBound(to: CChar.self), &info, 0)
                    func relative() -> [UInt8] {
                        var path = folder
                        path.reserveCapacity(folder.count + 1 + bytes.count)
                        if !folder.isEmpty { path.append(slash) }
                        path.append(contentsOf: bytes)
                        return path
                    }
                    if status != 0 {
                        let code = errno
                        if code == ELOOP { return .problem(relative(), "symbolic link loop") }
                        return isImage ? .problem(relative(), "cannot stat: \(String(cString: strerror(code)))") : .ignore
                    }
                    switch info.st_mode & S_IFMT {
                    case S_IFDIR:
                        if Self.skippedFolders.contains(Array(bytes)) { return .ignore }
                        let identity = DirectoryIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
                        if visited.insert(identity).inserted { return .folder(relative()) }
                        return .problem(relative(), "symbolic link loop: folder already visited")
                    case S_IFREG:
                        if isImage { return .file(relative()) }
                        if let ext = Self.otherImageExtension(bytes) { return .other(relative(), ext) }
                        return .ignore
                    default:
                        return .ignore
                    }
                }
                switch outcome {
                case .ignore: continue
                case .folder(let path): pending.append(path)
                case .problem(let path, let reason): problems.append((RelativePath(bytes: path), reason))
                case .file(let path):
                    files.append(FoundFile(path: RelativePath(bytes: path), size: Int64(info.st_size), mtime: Self.modificationTime(info)))
                case .other(let path, let ext):
                    others.append((path, ext))
                }
            }
            // Only a folder holding other formats pays for its images' stems.
            if !others.isEmpty {
                let nameStart = folder.isEmpty ? 0 : folder.count + 1
                let imageStems = Set(files[firstFile...].map { Self.stem($0.path.bytes[nameStart...]) })
                for (path, ext) in others where !imageStems.contains(Self.stem(path[nameStart...])) {
                    problems.append((RelativePath(bytes: path), Self.notIndexedReason(extension: ext)))
                }
            }
        }
        files.sort { $0.path < $1.path }
        return (files, problems)
    }

    /// A file name without its extension, lower-cased (ASCII), to pair a raw
    /// with the JPEG a camera wrote beside it.
    static func stem(_ name: ArraySlice<UInt8>) -> [UInt8] {
        let base = name.lastIndex(of: UInt8(ascii: ".")).map { name[..<$0] } ?? name
        return base.map(lowercased)
    }

    private enum Outcome {
        case ignore
        case other([UInt8], String)
        case folder([UInt8])
        case file([UInt8])
        case problem([UInt8], String)
    }

    /// The modification time of `info` in seconds, with sub-second precision.
    static func modificationTime(_ info: stat) -> Double {
        #if canImport(Darwin)
        return Double(info.st_mtimespec.tv_sec) + Double(info.st_mtimespec.tv_nsec) / 1e9
        #else
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        #endif
    }
}

/// A folder's identity on disk, to notice the same folder reached twice.
struct DirectoryIdentity: Hashable {
    let device: UInt64
    let inode: UInt64

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    init?(path: FileSystemPath) {
        var info = stat()
        guard path.withCPath({ stat($0, &info) }) == 0 else { return nil }
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
