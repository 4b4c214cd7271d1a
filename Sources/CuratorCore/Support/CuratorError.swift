import Foundation

/// The one shape of curator's errors about a file, a model or a value: a kind
/// (for callers that react differently to each), where (a path, optionally
/// followed by the key, member or tensor; empty when there is no place to
/// name), and what is wrong, in words. The message is `location: problem`,
/// or the problem alone, so a user can fix the input without reading code.
///
/// Each area lists its own kinds and names the error after itself:
/// `CLIPError`, `EmbeddingFileError`, `MapError`, and CuratorLua's `LuaError`.
public struct CuratorError<K: Hashable & Sendable>: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The area's kinds of problem, e.g. `CLIPError.Kind.corrupt`.
    public typealias Kind = K

    /// The broad class of problem.
    public let kind: Kind
    /// Where: a file path, optionally followed by the key or tensor; may be empty.
    public let location: String
    /// What is wrong, in words.
    public let problem: String

    /// Creates an error about `location`.
    public init(_ kind: Kind, _ location: String, _ problem: String) {
        self.kind = kind
        self.location = location
        self.problem = problem
    }

    /// Creates an error with no place to name.
    public init(_ kind: Kind, _ message: String) {
        self.init(kind, "", message)
    }

    /// The whole message: `location: problem`, or the problem alone.
    public var message: String { location.isEmpty ? problem : "\(location): \(problem)" }
    public var description: String { message }
    public var errorDescription: String? { message }
}
