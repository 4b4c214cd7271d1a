import Dispatch
import Foundation

/// How the map spreads work over the cores. Work is cut into fixed chunks
/// whose results are combined in chunk order, so the answer never depends
/// on how many threads ran or which finished first.
enum MapParallel {
    /// The number of worker threads: every core, at most 16.
    static var threads: Int { max(1, min(ProcessInfo.processInfo.activeProcessorCount, 16)) }

    /// Runs `body(task)` for each task in `0..<count` on all cores and waits.
    static func run(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || threads == 1 {
            for task in 0..<count { body(task) }
            return
        }
        // The loops that call this write disjoint memory (see SharedBuffer),
        // which the compiler cannot see through their raw pointers.
        withoutActuallyEscaping(body) { escapable in
            let task = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: count) { task.value($0) }
        }
    }

    /// Runs `body(range)` over `0..<total` cut into chunks of `chunk` items.
    static func chunks(_ total: Int, chunk: Int, _ body: (Int, Range<Int>) -> Void) {
        let size = max(1, chunk)
        let count = (total + size - 1) / size
        run(count) { task in
            let start = task * size
            body(task, start..<min(start + size, total))
        }
    }
}

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


