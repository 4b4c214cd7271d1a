import CuratorCore
import Dispatch
import Foundation

/// Work a review session runs beside the page, on an album of its own (the
/// map, the uniqueness scores, the near-duplicates): started on a global
/// queue, told to stop and waited for when the review closes. A computation
/// left running when the process exits can hang it, because OpenBLAS's exit
/// handler joins a worker thread that misses its wake-up while it still
/// runs a call.
/// `@unchecked Sendable`: `stopped` is read and written only under `lock`.
final class BackgroundWork: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private let group = DispatchGroup()

    /// Runs `body` in the background (nothing once stopped).
    func start(_ body: @escaping @Sendable () -> Void) {
        guard !isStopped else { return }
        DispatchQueue.global(qos: .utility).async(group: group, execute: body)
    }

    /// Whether the review has closed: the work should end as soon as it can.
    var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    /// Whether some work is under way.
    var isWorking: Bool { group.wait(timeout: .now()) == .timedOut }

    /// Tells the work to stop and waits (at most `timeout` seconds) until it has ended.
    func stop(timeout: Double = 60) {
        lock.lock()
        stopped = true
        lock.unlock()
        _ = group.wait(timeout: .now() + timeout)
    }

    /// A progress sink for the work's long calls: `update` hears their
    /// progress, and they are cancelled once the review closes.
    func progress(_ update: @escaping @Sendable (String, Int, Int) -> Void = { _, _, _ in }) -> any ProgressSink & Sendable {
        Progress(work: self, update: update)
    }

    /// `@unchecked Sendable`: it holds only a weak reference to the work (whose state is locked) and a Sendable closure.
    private final class Progress: ProgressSink, @unchecked Sendable {
        weak var work: BackgroundWork?
        let update: @Sendable (String, Int, Int) -> Void
        init(work: BackgroundWork, update: @escaping @Sendable (String, Int, Int) -> Void) {
            self.work = work
            self.update = update
        }
        func update(label: String, done: Int, total: Int) { update(label, done, total) }
        func finish(label: String) {}
        var isCancelled: Bool { work?.isStopped ?? true }
    }
}
