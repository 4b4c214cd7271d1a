import Foundation

/// PhotoMapAI's cached map, `<album>/photomap_index/umap.npz`: key `umap`,
/// an N×2 float array whose rows follow the order of `embeddings.npz`.
public enum PhotoMapUMAP: PhotoMapAIFile {
    /// Where the map lives inside an album folder.
    public static let relativePath = "photomap_index/umap.npz"

    /// Reads the points of the map file at `url`. With `expectedRows` (the
    /// row count of the matching `embeddings.npz`) a map of another size is
    /// refused: it belongs to an older index.
    ///
    /// - Throws: `EmbeddingFileError` naming the file and what is wrong.
    public static func read(_ url: URL, expectedRows: Int? = nil) throws -> [SIMD2<Float>] {
        let archive = try NumpyArchive(contentsOf: url)
        guard archive.contains("umap") else {
            throw EmbeddingFileError(.missing, url.path, "key 'umap' is missing (keys: \(archive.keys.joined(separator: ", ")))")
        }
        let array = try archive.array("umap")
        guard array.dtype.isFloat, array.shape.count == 2, array.shape[1] == 2 else {
            throw EmbeddingFileError(.wrongType, archive.location(of: "umap"),
                                     "has dtype \(array.dtype) and shape \(array.header.shapeText); expected an N×2 float array")
        }
        let matrix = try array.floatMatrix()
        if let expectedRows, matrix.rows != expectedRows {
            throw EmbeddingFileError(.mismatch, url.path,
                                     "key 'umap' has \(matrix.rows) rows but the embeddings have \(expectedRows): the map is out of date")
        }
        var points: [SIMD2<Float>] = []
        points.reserveCapacity(matrix.rows)
        for i in 0..<matrix.rows {
            let p = SIMD2(matrix.row(i)[0], matrix.row(i)[1])
            guard p.x.isFinite, p.y.isFinite else {
                throw EmbeddingFileError(.corrupt, archive.location(of: "umap"), "row \(i) holds NaN or infinite values")
            }
            points.append(p)
        }
        return points
    }
}
