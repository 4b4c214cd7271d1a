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
/// cut by remembering each folder's device and inode.
public struct FolderWalker {
    /// Folder names never entered (besides hidden ones, whose names start with a dot).
    public static let skippedFolders: Set<[UInt8]> = [
        Array(".curator".utf8), Array("photomap_index".utf8), Array("@eaDir".utf8), Array("__MACOSX".utf8),
    ]

    /// The file extensions taken as images (lower case, no dot).
    public static let imageExtensions: Set<String> = [
        "jpg", "jpeg", "png", "bmp", "gif", "webp", "tiff", "tif", "heif", "heic", "avif",
    ]

    /// The album root, as bytes.
    public let root: [UInt8]

    /// Creates a walker of the folder at `root`.
    public init(root: [UInt8]) { self.root = root }

    /// The image files below the root, sorted by path, and the entries that
    /// could not be used (unreadable folders, broken links) with a reason.
    public func walk() -> (files: [FoundFile], problems: [(RelativePath, String)]) {
        var files: [FoundFile] = []
        var problems: [(RelativePath, String)] = []
        var visited = Set<DirectoryIdentity>()
        var pending: [[UInt8]] = [[]]  // relative folder paths still to read
        if let identity = DirectoryIdentity(path: root) { visited.insert(identity) }

        while let folder = pending.popLast() {
            let absolute = folder.isEmpty ? root : RelativePath(bytes: folder).absolute(under: root)
            guard let dir = absolute.withCPath({ opendir($0) }) else {
                problems.append((RelativePath(bytes: folder), "cannot read folder: \(String(cString: strerror(errno)))"))
                continue
            }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                    let bytes = raw.bindMemory(to: UInt8.self)
                    return Array(bytes.prefix(while: { $0 != 0 }))
                }
                if name.first == UInt8(ascii: ".") { continue }  // ".", "..", hidden files and folders
                let relative = folder.isEmpty ? name : folder + [UInt8(ascii: "/")] + name
                let path = RelativePath(bytes: relative)
                var info = stat()
                let full = path.absolute(under: root)
                guard full.withCPath({ stat($0, &info) }) == 0 else {
                    let reason = errno == ELOOP ? "symbolic link loop" : "cannot stat: \(String(cString: strerror(errno)))"
                    if Self.imageExtensions.contains(path.pathExtension) || errno == ELOOP {
                        problems.append((path, reason))
                    }
                    continue
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    if Self.skippedFolders.contains(name) { continue }
                    let identity = DirectoryIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
                    if visited.insert(identity).inserted {
                        pending.append(relative)
                    } else {
                        problems.append((path, "symbolic link loop: folder already visited"))
                    }
                case S_IFREG:
                    guard Self.imageExtensions.contains(path.pathExtension) else { continue }
                    files.append(FoundFile(path: path, size: Int64(info.st_size), mtime: Self.modificationTime(info)))
                default:
                    continue
                }
            }
        }
        files.sort { $0.path < $1.path }
        return (files, problems)
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

    init?(path: [UInt8]) {
        var info = stat()
        guard path.withCPath({ stat($0, &info) }) == 0 else { return nil }
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
