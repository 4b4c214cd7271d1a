import Foundation

/// Hands out task numbers `0..<count` to threads as they finish the last,
/// so tasks of unequal cost (lists of very different sizes, image groups on
/// a core another process shares) keep every thread busy: the project's one
/// work dispenser (the duplicate index's blocks and lists, the parallel
/// image tower's groups).
/// `@unchecked Sendable`: its counters are read and changed under `lock`.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var done = 0
    private var stopped: Error?
    /// The number of tasks.
    let count: Int

    /// A queue of tasks `0..<count`.
    init(count: Int) { self.count = count }

    /// The next task, or nil once all are handed out or a report has stopped the queue.
    private func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard stopped == nil, next < count else { return nil }
        next += 1
        return next - 1
    }

    /// Runs `body(thread, task)` for every task on `threads` threads
    /// (`thread` in `0..<threads`, so each may own scratch state). After each
    /// of its tasks, thread 0 calls `report` with the number of tasks finished
    /// so far; when it throws (a cancelled progress), no more tasks are handed
    /// out and `run` rethrows it once the running ones are done.
    func run(threads: Int, report: ((_ finished: Int) throws -> Void)? = nil, _ body: (Int, Int) -> Void) throws {
        parallelFor(threads) { t in
            while let task = self.take() {
                body(t, task)
                self.lock.lock()
                self.done += 1
                let finished = self.done
                self.lock.unlock()
                if t == 0, let report {
                    do { try report(finished) } catch {
                        self.lock.lock(); self.stopped = error; self.lock.unlock()
                    }
                }
            }
        }
        if let stopped { throw stopped }
    }
}
