import Foundation

/// An error from running Lua code: a syntax error while loading a chunk, or an
/// error raised while running one (with its traceback when one was asked for).
public struct LuaError: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// What went wrong.
    public enum Kind: Sendable {
        /// The chunk does not parse.
        case syntax
        /// The chunk is a valid prefix that ends too early (the REPL reads on).
        case incomplete
        /// An error was raised while running.
        case runtime
        /// Lua ran out of memory.
        case memory
    }

    /// What went wrong.
    public let kind: Kind
    /// Lua's message, e.g. `wf.lua:3: attempt to index a nil value`.
    public let message: String

    /// Creates an error of `kind` with Lua's `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
    public var errorDescription: String? { message }
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
