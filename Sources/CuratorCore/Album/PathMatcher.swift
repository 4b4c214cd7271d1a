/// Pairs paths another tool recorded (often absolute, from another machine
/// or mount point) with an album's images: a path under the album root is
/// taken as is; otherwise its longest tail that names an album image wins,
/// so `/old/mount/photos/trip/a.jpg` finds `trip/a.jpg` in an album moved
/// to `/new/photos`.
struct PathMatcher {
    private let root: [UInt8]
    private let byPath: [RelativePath: Int64]

    init(album: Album) {
        root = album.root
        byPath = Dictionary(album.images.map { ($0.path, $0.id) }, uniquingKeysWith: { first, _ in first })
    }

    /// The image id `path` names, if any.
    func imageID(for path: String) -> Int64? { imageID(forBytes: Array(path.utf8)) }

    /// The image id the path `bytes` names, if any (exact file-system bytes,
    /// so names that are not UTF-8 match too).
    func imageID(forBytes path: [UInt8]) -> Int64? {
        var bytes = path
        let prefix = root + [UInt8(ascii: "/")]
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
