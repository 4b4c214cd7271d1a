import Foundation

/// The embeddings of a PhotoMapAI album, as read from its index.
public struct PhotoMapEmbeddings: Sendable {
    /// The absolute image paths PhotoMapAI recorded, one per row, in its order,
    /// for display (bytes of names that are not UTF-8 show as U+FFFD); made
    /// when asked for (a million strings are not free).
    public var filenames: [String] { filenamePaths.map(\.string) }
    /// The same paths as the file system spells them (Python's surrogate
    /// escapes decoded back to bytes): match rows to files by these.
    public let filenamePaths: [FileSystemPath]
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
public enum PhotoMapIndex: PhotoMapAIFile {
    /// Where the index lives inside an album folder.
    public static let relativePath = "photomap_index/embeddings.npz"

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
        try read(archive, into: ImportedRows.inMemory)
    }

    /// `read(_:)` with the matrix in the rows `make` makes.
    static func read(_ archive: NumpyArchive, into make: ImportedRows.Maker) throws -> PhotoMapEmbeddings {
        let embeddings = try archive.header("embeddings")
        guard embeddings.dtype.isFloat, embeddings.shape.count == 2 else {
            throw EmbeddingFileError(.wrongType, archive.location(of: "embeddings"),
                                     "has dtype \(embeddings.dtype) and shape \(embeddings.shapeText); expected an N×D float32 (or float16) matrix")
        }
        // Every array must agree with the matrix's header before anything is allocated or inflated.
        for key in ["filenames", "modification_times"] where archive.contains(key) {
            try archive.requireEntries(key, rows: embeddings.shape[0], of: "embeddings")
        }
        let imported = try archive.readRows("embeddings", into: make)
        let rows = imported.rows

        let filenamePaths = try archive.array("filenames").fileSystemPaths()
        // Escaped bytes are never valid UTF-8 (Python would have decoded them), so they show as U+FFFD.
        func filename(_ row: Int) -> String { filenamePaths[row].string }
        guard filenamePaths.count == rows else {
            throw EmbeddingFileError(.mismatch, archive.url.path,
                                     "key 'filenames' has \(filenamePaths.count) entries but key 'embeddings' has \(rows) rows")
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
            guard declared == imported.dimension else {
                throw EmbeddingFileError(.mismatch, archive.url.path,
                                         "key 'embedding_dim' says \(declared) but the rows of key 'embeddings' have \(imported.dimension) values")
            }
        }

        try imported.refuseIncomparable(location: archive.location(of: "embeddings"), name: filename)
        let matrix = try imported.matrix()
        return PhotoMapEmbeddings(filenamePaths: filenamePaths, modificationTimes: modificationTimes, matrix: matrix,
                                  modelID: modelID, dimension: matrix.dimension, notes: notes)
    }
}

/// The index of the first row holding a NaN or infinity, if any: such a row
/// would silently poison every distance computed against it. Rows are
/// checked in parallel blocks, eight values at a time.
func firstNonFiniteRow(_ matrix: EmbeddingMatrix) -> Int? {
    let rows = matrix.rows, dimension = matrix.dimension
    guard rows > 0, dimension > 0 else { return nil }
    let blockRows = max(1, (1 << 20) / dimension)  // about 4 MB per task
    let blocks = (rows + blockRows - 1) / blockRows
    let found = FirstRow()
    let base = UncheckedSendable(matrix.row(0))
    DispatchQueue.concurrentPerform(iterations: blocks) { b in
        for i in b * blockRows..<min(rows, (b + 1) * blockRows) {
            let row = base.value + i * dimension
            // NaN and ±inf survive multiplication by 0; finite values give 0.
            var acc = SIMD8<Float>(repeating: 0)
            var j = 0
            while j + 8 <= dimension {
                acc += UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self) * 0
                j += 8
            }
            var tail: Float = 0
            while j < dimension { tail += row[j] * 0; j += 1 }
            if !(acc.sum() + tail).isFinite {
                found.offer(i)
                return
            }
        }
    }
    return found.row
}

/// The smallest row index offered by parallel workers.
/// `@unchecked Sendable`: the row is read and written under `lock`.
final class FirstRow: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Int?
    var row: Int? { lock.withLock { first } }
    func offer(_ i: Int) { lock.withLock { first = min(first ?? i, i) } }
}
