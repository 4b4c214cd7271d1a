import Foundation

/// Errors about an album and its index, each naming the file or value at fault.
public enum IndexError: Error, CustomStringConvertible, Sendable {
    /// The album folder or embeddings file does not exist.
    case albumNotFound(path: String)
    /// The path exists but is neither a folder nor a supported embeddings file.
    case unsupportedAlbum(path: String)
    /// The index file exists but SQLite cannot use it.
    case unreadableIndex(path: String, reason: String)
    /// No place to put the index could be created.
    case cannotCreateIndex(path: String, reason: String)
    /// An embedder name that curator does not know.
    case unknownEmbedder(name: String, known: [String])
    /// The embedder cannot be used for this album (e.g. no PhotoMapAI index).
    case embedderUnavailable(name: String, reason: String)
    /// Vectors whose length differs from the album's for the same embedder.
    case dimensionMismatch(source: String, expected: Int, got: Int)
    /// A model different from the one already stored for this embedder.
    case modelMismatch(embedder: String, stored: String, got: String)
    /// The album has no embeddings to work with.
    case noEmbeddings(album: String)
    /// A library curator opens on first use (libvips, OpenBLAS) cannot be
    /// loaded, so the work (`purpose`: "read images", "compute") cannot
    /// start; the reason names the library.
    case libraryUnavailable(purpose: String, reason: String)
    /// The disk (or the index's size limit) is full: nothing is wrong with the index.
    case diskFull(path: String)
    /// A change to an index opened read-only; `reason` says why it is
    /// read-only (e.g. "which safe mode (--safe) does not allow").
    case readOnly(change: String, reason: String)
    /// A folder or embeddings file without an index, opened read-only:
    /// indexing it would write beside it.
    case noIndex(path: String, reason: String)
    /// A precision for the album's matrix other than "f32" or "f16".
    case unknownPrecision(value: String)
    /// The album's mapped matrix file changed size (truncated or replaced in
    /// place by another program) while the album had it open: reading its
    /// rows now would fault, so the work stops instead.
    case matrixFileChanged(path: String, expected: Int, found: Int)

    public var description: String {
        switch self {
        case .albumNotFound(let path):
            return "\(path): no such folder or embeddings file"
        case .unsupportedAlbum(let path):
            return "\(path): not a folder, .npz or .npy file"
        case .unreadableIndex(let path, let reason):
            return "\(path): the index cannot be read (\(reason)); move it aside to rebuild it"
        case .cannotCreateIndex(let path, let reason):
            return "\(path): cannot create the index (\(reason))"
        case .unknownEmbedder(let name, let known):
            return "unknown embedder '\(name)' (known: \(known.joined(separator: ", ")))"
        case .embedderUnavailable(let name, let reason):
            return "embedder '\(name)' cannot be used: \(reason)"
        case .dimensionMismatch(let source, let expected, let got):
            return "\(source): vectors are \(got)-d but the album's are \(expected)-d"
        case .modelMismatch(let embedder, let stored, let got):
            return "embedder '\(embedder)': the index holds vectors of model \(stored), not \(got); they cannot be mixed"
        case .noEmbeddings(let album):
            return "\(album): no embeddings yet; run a:embed() (built-in 'pixels'), or index it with PhotoMapAI, or a:import(file)"
        case .libraryUnavailable(let purpose, let reason):
            return "cannot \(purpose): \(reason)"
        case .diskFull(let path):
            return "disk full: the index \(path) cannot grow; free some space and run again (the index keeps what was written before)"
        case .readOnly(let change, let reason):
            return "\(change) would write to the album's index, \(reason)"
        case .unknownPrecision(let value):
            return "precision must be \"f32\" (float32, the default) or \"f16\" (float16, half the memory), not \"\(value)\""
        case .matrixFileChanged(let path, let expected, let found):
            return "\(path): the album's vectors file changed while it was open (\(found) bytes, was \(expected)); open the album again"
        case .noIndex(let path, let reason):
            return "\(path) has no index yet, and making one would write beside it, \(reason)"
        }
    }
}

extension IndexError: LocalizedError {
    public var errorDescription: String? { description }
}
