/// Pairs paths another tool recorded (often absolute, from another machine
/// or mount point) with an album's images: a path under the album root is
/// taken as is; otherwise its longest tail that names an album image wins,
/// so `/old/mount/photos/trip/a.jpg` finds `trip/a.jpg` in an album moved
/// to `/new/photos`.
struct PathMatcher {
    private let root: FileSystemPath
    private let byPath: [RelativePath: Int64]

    init(album: Album) {
        root = album.root
        byPath = Dictionary(album.images.map { ($0.path, $0.id) }, uniquingKeysWith: { first, _ in first })
    }

    /// The image id `path` names, if any (by its exact bytes, so names that
    /// are not UTF-8 match too).
    func imageID(for path: FileSystemPath) -> Int64? {
        var bytes = path.bytes
        let prefix = root.bytes + [UInt8(ascii: "/")]
        if bytes.starts(with: prefix) {
            bytes.removeFirst(prefix.count)
            return byPath[RelativePath(bytes: bytes)]
        }
        var start = 0
        while start < bytes.count {
            if bytes[start] != UInt8(ascii: "/"),
               let id = byPath[RelativePath(bytes: Array(bytes[start...]))] {
                return id
            }
            guard let slash = bytes[start...].firstIndex(of: UInt8(ascii: "/")) else { break }
            start = slash + 1
        }
        return nil
    }
}
