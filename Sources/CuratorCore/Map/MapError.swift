import Foundation

/// What went wrong making, reading or drawing a map. The message names the
/// parameter, file or value at fault.
public struct MapError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The broad class of problem.
    public enum Kind: String, Sendable {
        /// A parameter is out of range (`nNeighbors`, `minDist`, a plot size…).
        case invalidParameter
        /// The input vectors or points are unusable (NaN, wrong count).
        case invalidInput
        /// Cached or stored map bytes are damaged or of another version.
        case corrupt
        /// Drawing or writing a picture failed.
        case drawing
    }

    /// The broad class of problem.
    public let kind: Kind
    /// What is wrong, in words.
    public let message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
