import Foundation

/// A file PhotoMapAI keeps in an album's `photomap_index/` folder (its index,
/// `PhotoMapIndex`, and its cached map, `PhotoMapUMAP`): where it lives and
/// whether the album has one, said once for both.
public protocol PhotoMapAIFile {
    /// Where the file lives inside an album folder.
    static var relativePath: String { get }
}

extension PhotoMapAIFile {
    /// The file's place in the album at `album`.
    public static func url(inAlbum album: URL) -> URL {
        album.appendingPathComponent(relativePath)
    }

    /// Whether the album at `album` has the file.
    public static func exists(inAlbum album: URL) -> Bool {
        FileManager.default.fileExists(atPath: url(inAlbum: album).path)
    }
}
