import CuratorCore
import Foundation

/// An error from running Lua code: a syntax error while loading a chunk, or an
/// error raised while running one (with its traceback when one was asked for).
public typealias LuaError = CuratorError<LuaErrorKind>

/// What went wrong.
public enum LuaErrorKind: Sendable {
    /// The chunk does not parse.
    case syntax
    /// The chunk is a valid prefix that ends too early (the REPL reads on).
    case incomplete
    /// An error was raised while running.
    case runtime
    /// Lua ran out of memory.
    case memory
}

/// An error a host binding raises into Lua: a bad argument, a failed check or
/// a core error, already phrased for the user and named after the binding,
/// e.g. `album:get: bad argument #1 (string or integer expected, got table)`.
/// The calling Lua code's position is put in front when it is raised.
public struct LuaBindingError: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// The full message.
    public let message: String

    /// Creates the error with its full message.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
    public var errorDescription: String? { message }
}
