/// Why an image file could not be used, as a short reason a person understands
/// (e.g. "empty file"); per-image results carry it so one bad image never
/// aborts a batch.
public struct ImageReadFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason.
    public let reason: String
    /// Creates a failure with `reason`.
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
