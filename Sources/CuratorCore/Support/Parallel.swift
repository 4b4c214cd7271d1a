import CKernels
import Dispatch
import Foundation

/// Runs `body(i)` for each `i` in `0..<count` on all cores and waits: the
/// project's one parallel loop (BLAS splits, selection blocks, the map's
/// chunks, previews). Callers give each index disjoint memory.
func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 0 { return }
    if count == 1 {
        body(0)
        return
    }
    // The loops that call this write disjoint memory (see SharedBuffer),
    // which the compiler cannot see through their raw pointers.
    withoutActuallyEscaping(body) { escapable in
        let box = UncheckedSendable(escapable)
        DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
    }
}

/// Runs `body(task, range)` over `0..<total` cut into fixed chunks of `chunk`
/// items, in parallel. Results kept per chunk and combined in chunk order
/// never depend on how many threads ran or which finished first.
func parallelChunks(_ total: Int, chunk: Int, _ body: (Int, Range<Int>) -> Void) {
    let size = max(1, chunk)
    let count = (total + size - 1) / size
    parallelFor(count) { task in
        let start = task * size
        body(task, start..<min(start + size, total))
    }
}

/// The cores this process may use, at least 1: its affinity mask, capped by
/// its cgroup's CPU quota (what Foundation's `activeProcessorCount` says,
/// read without Foundation, whose first call took 0.25 ms inside the first
/// selection of a process).
public let availableCoreCount = Int(curator_active_cores())

/// The number of cores worth splitting element-wise loops over (at most 8).
let activeCoreCount = min(availableCoreCount, 8)

/// The number of worker threads the map's batches use: every core, at most 16.
let mapThreadCount = min(availableCoreCount, 16)

/// A fixed-size buffer that several threads write at disjoint positions.
/// `@unchecked Sendable`: callers guarantee no two threads touch the same
/// element, which the chunked loops above ensure by construction.
final class SharedBuffer<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(repeating value: Element, count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: count)
    }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }

    subscript(index: Int) -> Element {
        @inline(__always) get { pointer[index] }
        @inline(__always) set { pointer[index] = newValue }
    }

    /// A copy as an array.
    var array: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}



/// `parallelFor` for a body that can throw: once a task has failed, tasks
/// not yet begun are skipped, and the error of the lowest-numbered failed
/// task is rethrown (the same error whichever thread got there first).
func parallelForThrowing(_ count: Int, _ body: (Int) throws -> Void) throws {
    let failure = FirstFailure()
    parallelFor(count) { task in
        guard !failure.happened else { return }
        do { try body(task) } catch { failure.offer(task, error) }
    }
    try failure.rethrow()
}

/// The error of the lowest-numbered task that failed, offered from several threads.
/// `@unchecked Sendable`: every field is read and written under `lock`.
private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var first: (task: Int, error: any Error)?

    /// Whether any task has failed yet.
    var happened: Bool { lock.withLock { first != nil } }

    /// Records `error` of `task` unless a lower-numbered task's is recorded.
    func offer(_ task: Int, _ error: any Error) {
        lock.withLock { if first == nil || task < first!.task { first = (task, error) } }
    }

    /// Throws the recorded error, if any.
    func rethrow() throws {
        if let error = lock.withLock({ first?.error }) { throw error }
    }
}
