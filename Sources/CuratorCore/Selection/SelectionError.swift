import Foundation

/// What can go wrong when selecting images. Each message names the parameter
/// or sampler at fault, so the Lua layer can prefix it with the API name
/// (`album:select: count must be a positive integer (got -3)`).
public enum SelectionError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// A parameter has a value the selection cannot use.
    case invalidParameter(name: String, reason: String)
    /// No image is left to choose from: all excluded or filtered out, or none
    /// given. The album knows how many were `excluded` and `filtered`; the
    /// Monte Carlo harness only that its pool is empty (`excluded` nil).
    case noCandidates(method: String, excluded: Int? = nil, filtered: Int = 0)
    /// A row number does not name an image of the album.
    case rowOutOfRange(parameter: String, row: Int, rows: Int)
    /// A sampler raised an error or returned something unusable.
    case samplerFailed(method: String, iteration: Int, reason: String)

    public var description: String {
        switch self {
        case let .invalidParameter(name, reason):
            return "\(name) \(reason)"
        case let .noCandidates(method, nil, _):
            return "\(method): nothing to select from: every image is excluded (or none was given)"
        case let .noCandidates(_, excluded?, filtered):
            return "no candidates: every image is excluded (\(excluded)) or filtered out (\(filtered)); clear some exclusions"
        case let .rowOutOfRange(parameter, row, rows):
            return "\(parameter): image row \(row) is out of range (the album has \(rows) embedded images)"
        case let .samplerFailed(method, iteration, reason):
            return "sampler '\(method)', iteration \(iteration + 1): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
