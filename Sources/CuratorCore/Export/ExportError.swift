import Foundation

/// Why an export, CSV or report could not even start, or could not be written.
/// (Per-image failures during a folder export go in `ExportReport.errors`.)
public enum ExportError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// An option has a value that cannot work, e.g. `repeats=0`.
    case invalidOption(name: String, reason: String)
    /// The file to write exists and overwriting was not asked for.
    case fileExists(FileSystemPath)
    /// The path given as a folder is something else.
    case notADirectory(FileSystemPath)
    /// The path given as a file is a folder.
    case isADirectory(FileSystemPath)
    /// A system call failed.
    case system(SystemCallError)

    public var description: String {
        switch self {
        case let .invalidOption(name, reason): return "export option '\(name)': \(reason)"
        case let .fileExists(path): return "\(path.string): already exists (pass overwrite=true to replace it)"
        case let .notADirectory(path): return "\(path.string): is not a folder"
        case let .isADirectory(path): return "\(path.string): is a folder"
        case let .system(error): return error.description
        }
    }

    public var errorDescription: String? { description }
}
