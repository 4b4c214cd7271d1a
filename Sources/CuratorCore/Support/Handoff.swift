import Foundation

/// A value one thread hands another once: `put` it, or `fail` when it will
/// never come; `take` waits for either. For lanes of `sideBySide` that
/// continue each other's work, so that a lane never waits for a lane that
/// has stopped.
final class Handoff<Value>: @unchecked Sendable {
    /// What `take` throws when the value will never come.
    struct Abandoned: Error {}

    private let condition = NSCondition()
    private var value: Value?
    private var abandoned = false

    /// Hands `value` over.
    func put(_ value: Value) {
        condition.lock()
        self.value = value
        condition.broadcast()
        condition.unlock()
    }

    /// Says the value will never come (after `put`, changes nothing).
    func fail() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }

    /// The value, once it is put; throws `Abandoned` once it never will be.
    func take() throws -> Value {
        condition.lock()
        defer { condition.unlock() }
        while value == nil && !abandoned { condition.wait() }
        guard let value else { throw Abandoned() }
        return value
    }
}
