/// A value (a pointer, a buffer, a closure, or a tuple of them) carried into
/// the workers of a parallel loop (`parallelFor`, `concurrentPerform`), whose
/// closures must be `Sendable`: the project's one such wrapper (it replaced
/// `SendablePointer` and CLIP's `Unshared`, the same thing under other names,
/// and the bench tool's `UncheckedBox`, which is why it is public).
///
/// `@unchecked Sendable` holds because of how every user shares it: each
/// worker reads the value and writes only its own disjoint slots, rows or
/// chunks of the memory behind it, and the loop returns only after every
/// worker has finished, before anyone reads what they wrote. A new user
/// must share it the same way.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    /// The wrapped value; workers read it and write only their own part of what it points to.
    public let value: Value
    /// Wraps `value` for a parallel loop's workers.
    public init(_ value: Value) { self.value = value }
}
