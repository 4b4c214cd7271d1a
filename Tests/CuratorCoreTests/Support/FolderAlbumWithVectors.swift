import Foundation
@testable import CuratorCore

extension TemporaryFolder {
    /// A folder album at `photos/` of one small image per row of `vectors`
    /// (row-major, `dimension` wide), opened without embedding, with
    /// `vectors` written and active as the embedder "test": its index keeps
    /// them in float32, whatever precision the album is later opened at.
    /// Returns the open album and its path.
    func folderAlbum(vectors: [Float], dimension: Int) throws -> (album: Album, path: String) {
        let path = self.path + "/photos"
        let rows = vectors.count / dimension
        for i in 0..<rows { writePNG("photos/img\(i).png", seed: i) }
        let album = try Album.open(path, options: .init(embed: false))
        let store = album.embeddingStore
        try store.register(embedder: "test", modelID: "m", dimension: dimension, source: "test")
        try store.write(embedder: "test", imageIDs: album.images.map(\.id),
                        matrix: EmbeddingMatrix(rows: rows, dimension: dimension, values: vectors))
        try album.activate(embedder: "test")
        return (album, path)
    }
}
