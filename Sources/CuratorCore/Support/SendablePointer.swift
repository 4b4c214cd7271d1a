/// A pointer handed to concurrent workers that each write their own slots.
/// `@unchecked Sendable`: every user gives each worker disjoint slots and reads them after the workers finish.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
