/// A value (a pointer, a buffer, a closure, or a tuple of them) carried into
/// the workers of a parallel loop (`parallelFor`, `concurrentPerform`), whose
/// closures must be `Sendable`: the project's one such wrapper (it replaced
/// `SendablePointer` and CLIP's `Unshared`, the same thing under other names).
///
/// `@unchecked Sendable` holds because of how every user shares it: each
/// worker reads the value and writes only its own disjoint slots, rows or
/// chunks of the memory behind it, and the loop returns only after every
/// worker has finished, before anyone reads what they wrote.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
