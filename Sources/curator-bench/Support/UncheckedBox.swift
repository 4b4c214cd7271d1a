/// A pointer carried into the workers of `concurrentPerform` (whose closure
/// must be `Sendable`): the bench tool's one such wrapper, as CuratorCore's
/// internal `UncheckedSendable` is the core's.
///
/// `@unchecked Sendable`: every user gives each worker its own slots or rows
/// of the memory behind it to write, and reads them only after
/// `concurrentPerform` returned.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
