import Foundation

/// The embeddings of a PhotoMapAI album, as read from its index.
public struct PhotoMapEmbeddings: Sendable {
    /// The absolute image paths PhotoMapAI recorded, one per row, in its order,
    /// for display (bytes of names that are not UTF-8 show as U+FFFD).
    public let filenames: [String]
    /// The same paths as the file system's exact bytes (Python's surrogate
    /// escapes decoded back to bytes): match rows to files by these.
    public let filenameBytes: [[UInt8]]
    /// Each file's modification time (seconds since 1970) when it was embedded; nil when the key is absent.
    public let modificationTimes: [Double]?
    /// One L2-normalised float32 row per file (float16 indexes are widened).
    public let matrix: EmbeddingMatrix
    /// The model that made the embeddings, e.g. `open-clip:ViT-L-14/dfn2b_s39b`; nil when absent or empty.
    public let modelID: String?
    /// The vector length (the matrix's columns; equal to `embedding_dim` when that key is present).
    public let dimension: Int
    /// Things worth telling the user that are not errors, e.g. that the pickled `metadata` key was skipped.
    public let notes: [String]
}

/// PhotoMapAI's index of an album, `<album>/photomap_index/embeddings.npz`,
/// written by `np.savez` with the keys `embeddings` (N×D float32, older files
/// float16), `filenames` (unicode, absolute paths), `modification_times`
/// (float64), `metadata` (object array: pickled, so never read), `model_id`
/// (0-d unicode) and `embedding_dim` (0-d int). Only `embeddings` and
/// `filenames` are required; every key that is present is checked.
public enum PhotoMapIndex {
    /// Where the index lives inside an album folder.
    public static let relativePath = "photomap_index/embeddings.npz"

    /// The index file of the album at `album`.
    public static func url(inAlbum album: URL) -> URL {
        album.appendingPathComponent(relativePath)
    }

    /// Whether the album at `album` has a PhotoMapAI index file.
    public static func exists(inAlbum album: URL) -> Bool {
        FileManager.default.fileExists(atPath: url(inAlbum: album).path)
    }

    /// Whether an open archive has PhotoMapAI's two required keys.
    public static func looksLikeIndex(_ archive: NumpyArchive) -> Bool {
        archive.contains("embeddings") && archive.contains("filenames")
    }

    /// Reads the index file at `url` (an `embeddings.npz`).
    public static func read(_ url: URL) throws -> PhotoMapEmbeddings {
        try read(NumpyArchive(contentsOf: url))
    }

    /// Reads PhotoMapAI's keys from an open archive.
    public static func read(_ archive: NumpyArchive) throws -> PhotoMapEmbeddings {
        let embeddings = try archive.header("embeddings")
        guard embeddings.dtype.isFloat, embeddings.shape.count == 2 else {
            throw EmbeddingFileError(.wrongType, archive.location(of: "embeddings"),
                                     "has dtype \(embeddings.dtype) and shape \(embeddings.shapeText); expected an N×D float32 (or float16) matrix")
        }
        let matrix = try archive.floatMatrix("embeddings")
        let rows = matrix.rows

        let filenameArray = try archive.array("filenames")
        let filenames = try filenameArray.strings()
        let filenameBytes = try filenameArray.fileSystemPaths()
        guard filenames.count == rows else {
            throw EmbeddingFileError(.mismatch, archive.url.path,
                                     "key 'filenames' has \(filenames.count) entries but key 'embeddings' has \(rows) rows")
        }

        var modificationTimes: [Double]?
        if archive.contains("modification_times") {
            let times = try archive.array("modification_times")
            guard times.shape.count == 1 else {
                throw EmbeddingFileError(.wrongType, archive.location(of: "modification_times"),
                                         "has shape \(times.header.shapeText); expected one time per row")
            }
            let values = try times.doubles()
            guard values.count == rows else {
                throw EmbeddingFileError(.mismatch, archive.url.path,
                                         "key 'modification_times' has \(values.count) entries but key 'embeddings' has \(rows) rows")
            }
            modificationTimes = values
        }

        var notes: [String] = []
        for key in archive.keys where key != "embeddings" && key != "filenames" {
            // Object keys (PhotoMapAI's `metadata`) are pickles: note them, never read them.
            if try archive.header(key).dtype == .object {
                notes.append("\(archive.location(of: key)): object array (pickled Python objects) skipped; curator never unpickles")
            }
        }

        var modelID: String?
        if archive.contains("model_id") {
            let id = try archive.array("model_id").scalarString()
            modelID = id.isEmpty ? nil : id
        }

        if archive.contains("embedding_dim") {
            let declared = try archive.array("embedding_dim").scalarInt()
            guard declared == matrix.dimension else {
                throw EmbeddingFileError(.mismatch, archive.url.path,
                                         "key 'embedding_dim' says \(declared) but the rows of key 'embeddings' have \(matrix.dimension) values")
            }
        }

        if let row = firstNonFiniteRow(matrix) {
            throw EmbeddingFileError(.corrupt, archive.location(of: "embeddings"),
                                     "row \(row) (\(filenames[row])) holds NaN or infinite values")
        }
        matrix.normalizeRows()
        return PhotoMapEmbeddings(filenames: filenames, filenameBytes: filenameBytes, modificationTimes: modificationTimes, matrix: matrix,
                                  modelID: modelID, dimension: matrix.dimension, notes: notes)
    }
}

/// The index of the first row holding a NaN or infinity, if any: such a row
/// would silently poison every distance computed against it.
func firstNonFiniteRow(_ matrix: EmbeddingMatrix) -> Int? {
    for i in 0..<matrix.rows {
        let row = matrix.row(i)
        var sum: Float = 0
        for j in 0..<matrix.dimension { sum += row[j] * 0 }  // NaN and ±inf survive multiplication by 0
        if !sum.isFinite || sum.isNaN { return i }
    }
    return nil
}
