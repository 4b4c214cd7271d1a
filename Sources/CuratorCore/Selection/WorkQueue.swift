import Foundation

/// Hands out task numbers `0..<count` to threads as they finish the last,
/// so tasks of unequal cost (lists of very different sizes) keep every core
/// busy; stops handing out when the progress sink asks to cancel.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var done = 0
    private var cancelled: Error?
    let count: Int

    init(count: Int) { self.count = count }

    private func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard cancelled == nil, next < count else { return nil }
        next += 1
        return next - 1
    }

    /// Runs `body(thread, task)` for every task on `threads` threads
    /// (`thread` in `0..<threads`, so each may own scratch state); reports
    /// finished tasks to `progress` (from thread 0) and throws
    /// `CancelledError` when it asked to stop.
    func run(threads: Int, progress: SelectionProgress?, _ body: (Int, Int) -> Void) throws {
        parallelFor(threads) { t in
            while let task = self.take() {
                body(t, task)
                self.lock.lock()
                self.done += 1
                let finished = self.done
                self.lock.unlock()
                if t == 0, let progress {
                    progress.report(done: finished)
                    do { try progress.check() } catch {
                        self.lock.lock(); self.cancelled = error; self.lock.unlock()
                    }
                }
            }
        }
        if let cancelled { throw cancelled }
    }
}
