import Foundation

/// The `photomap` embedder: PhotoMapAI's CLIP vectors, read from the album's
/// `photomap_index/embeddings.npz` and matched to the album's files by path.
struct PhotoMapEmbedder {
    /// Where PhotoMapAI keeps its index inside an album.
    static func indexFile(of album: Album) -> String {
        (album.rootPath as NSString).appendingPathComponent("photomap_index/embeddings.npz")
    }

    /// Whether the album has a PhotoMapAI index.
    static func isAvailable(for album: Album) -> Bool {
        !album.isIndexOnly && FileManager.default.fileExists(atPath: indexFile(of: album))
    }

    func embed(album: Album, progress: (any ProgressSink)?) throws -> EmbedReport {
        guard Self.isAvailable(for: album) else {
            throw IndexError.embedderUnavailable(name: "photomap", reason: "\(Self.indexFile(of: album)) does not exist; index the album with PhotoMapAI first")
        }
        throw IndexError.embedderUnavailable(name: "photomap", reason: "not available in this build")
    }
}

/// The built-in `pixels` embedder run over an album's images.
struct PixelAlbumEmbedder {
    func embed(album: Album, progress: (any ProgressSink)?) throws -> EmbedReport {
        throw IndexError.embedderUnavailable(name: "pixels", reason: "not available in this build")
    }
}

extension Album {
    static func openEmbeddingsFile(_ path: String, options: OpenOptions, progress: (any ProgressSink)?) throws -> Album {
        throw IndexError.unsupportedAlbum(path: path)
    }
}
