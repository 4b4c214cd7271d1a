import Foundation

/// What went wrong reading an embeddings file (`.npy`, `.npz`, a PhotoMapAI
/// index, clip-retrieval shards or a path list). The message names the file,
/// the key or member when there is one, and the problem, so a user can fix the
/// file without reading code: `embeddings.npz: key 'filenames' is missing`.
public typealias EmbeddingFileError = CuratorError<EmbeddingFileErrorKind>

/// The broad class of problem, for callers that react differently to each.
public enum EmbeddingFileErrorKind: String, Sendable {
    /// The file cannot be opened or read (missing, permission, I/O error).
    case unreadable
    /// The file is not of the expected format at all (not a zip, not .npy).
    case notRecognized
    /// The file has the right format but is damaged (truncated, CRC mismatch).
    case corrupt
    /// The file is valid but uses a feature curator does not read.
    case unsupported
    /// A key, member or companion file that is required is absent.
    case missing
    /// A value has the wrong dtype, rank or kind for its role.
    case wrongType
    /// Values that must agree do not (row counts, dimensions, sizes).
    case mismatch
    /// The file asks for more memory than curator gives one array (or
    /// than the system has): a damaged file or a zip bomb.
    case tooLarge
}
