/// Receives progress of long operations (scanning, embedding, selection,
/// export) and says whether the user asked to stop. The terminal shows a bar;
/// Lua scripts pass a callback; the host answers `isCancelled` from Ctrl-C.
public protocol ProgressSink: AnyObject {
    /// `done` of `total` units of the step called `label` are finished.
    func update(label: String, done: Int, total: Int)
    /// The step is over (successfully or not).
    func finish(label: String)
    /// Whether the operation should stop as soon as it safely can.
    var isCancelled: Bool { get }
}

/// The error long operations throw when their `ProgressSink` asked them to stop.
public struct CancelledError: Error, CustomStringConvertible, Sendable {
    /// What was interrupted, e.g. "scan".
    public let operation: String
    /// Creates the error for `operation`.
    public init(_ operation: String) { self.operation = operation }
    public var description: String { "\(operation): interrupted" }
}

extension Optional where Wrapped == any ProgressSink {
    /// Reports progress if a sink is present.
    public func update(label: String, done: Int, total: Int) { self?.update(label: label, done: done, total: total) }
    /// Throws `CancelledError` when the sink asked to stop.
    public func checkCancellation(_ operation: String) throws {
        if let sink = self, sink.isCancelled { throw CancelledError(operation) }
    }
}
