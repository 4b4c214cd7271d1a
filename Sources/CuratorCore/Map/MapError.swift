import Foundation

/// What went wrong making, reading or drawing a map. The message names the
/// parameter, file or value at fault.
public typealias MapError = CuratorError<MapErrorKind>

/// The broad class of problem.
public enum MapErrorKind: String, Sendable {
    /// A parameter is out of range (`nNeighbors`, `minDist`, a plot size…).
    case invalidParameter
    /// The input vectors or points are unusable (NaN, wrong count).
    case invalidInput
    /// Cached or stored map bytes are damaged or of another version.
    case corrupt
    /// Drawing or writing a picture failed.
    case drawing
}
