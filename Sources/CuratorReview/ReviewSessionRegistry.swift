import Foundation

/// The review sessions alive in this process, so that their background work
/// (the map, the uniqueness scores) ends before the process does, however it
/// ends: `os.exit()` in a script, a script that returns with a page still
/// open, XCTest's exit after its last test. OpenBLAS 0.3.21's exit handler
/// joins its worker threads and hangs when one of them is still running a
/// call (see `ReviewMapper.stop`), so a BLAS call must never outlive `exit`.
/// `@unchecked Sendable`: its table is read and written only under `lock`.
final class ReviewSessionRegistry: @unchecked Sendable {
    static let shared = ReviewSessionRegistry()

    private let lock = NSLock()
    private var sessions: [ObjectIdentifier: Weak] = [:]
    private var hooked = false

    private struct Weak { weak var session: ReviewSession? }

    /// Keeps `session` until it ends; the first one registers the exit hook.
    func add(_ session: ReviewSession) {
        lock.lock()
        sessions[ObjectIdentifier(session)] = Weak(session: session)
        let hook = !hooked
        hooked = true
        lock.unlock()
        // atexit handlers run in reverse order of registration, so this one
        // runs before the libraries' destructors (OpenBLAS's among them).
        if hook { atexit { ReviewSessionRegistry.shared.stopAll() } }
    }

    /// Forgets `session` (it has stopped).
    func remove(_ session: ReviewSession) {
        lock.lock(); defer { lock.unlock() }
        sessions[ObjectIdentifier(session)] = nil
    }

    /// Stops every live session's background work and waits for it.
    func stopAll() {
        lock.lock()
        let live = sessions.values.compactMap(\.session)
        sessions.removeAll()
        lock.unlock()
        for session in live { session.stop() }
    }
}
