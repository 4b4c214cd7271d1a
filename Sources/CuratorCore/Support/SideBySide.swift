import Dispatch
import Foundation

/// Runs `count` independent lanes of work at once, one per core, and
/// returns their results in lane order. Lane 0 runs on the calling thread,
/// the others on worker threads.
///
/// It is for work that reports progress to, and is cancelled from, something
/// only the calling thread may touch (a Lua callback, the terminal's bar):
/// every lane calls the `step` closure it is given with the work it has done
/// so far; lane 0's call (on the calling thread) hands the sum over all
/// lanes to `poll`, which reports it and throws to stop; the other lanes'
/// calls only record their work and throw once a stop was asked (as does
/// lane 0's once another lane failed). When lane 0
/// ends first, the calling thread goes on polling every 50 ms until the
/// others end. Nothing returns before every lane has ended, so lanes may use
/// memory the caller owns.
///
/// The error thrown is `poll`'s when it stopped the lanes, else the error of
/// the lowest lane that failed.
func sideBySide<Result>(
    _ count: Int, poll: (_ workDone: Double) throws -> Void,
    _ body: (_ lane: Int, _ step: (_ laneWorkDone: Double) throws -> Void) throws -> Result
) throws -> [Result] {
    // Escaping only in name: every lane has ended before this returns.
    try withoutActuallyEscaping(poll) { poll in
        try withoutActuallyEscaping(body) { body in
            try runLanes(count, poll: poll, body)
        }
    }
}

private func runLanes<Result>(
    _ count: Int, poll: @escaping (Double) throws -> Void,
    _ body: @escaping (Int, (Double) throws -> Void) throws -> Result
) throws -> [Result] {
    let board = LaneBoard(count: max(1, count))
    guard count > 1 else {
        return [try body(0) { work in board.record(lane: 0, work: work); try poll(board.total) }]
    }
    let results = UncheckedSendable(UnsafeMutableBufferPointer<Result?>.allocate(capacity: count))
    results.value.initialize(repeating: nil)
    defer {
        results.value.deinitialize()
        results.value.deallocate()
    }
    let group = DispatchGroup()
    // The workers reach `body` through an unretained reference, so that
    // nothing of theirs holds it once they have left the group: a thread's
    // closure can outlive its last statement, and `body` must not escape.
    let box = LaneBody(body)
    let reference = UncheckedSendable(Unmanaged.passUnretained(box))
    for lane in 1..<count {
        group.enter()
        // A thread of its own per lane, not a queue's: the system shares the
        // cores between more lanes than cores, where a queue runs as many at once as there are cores.
        startDetachedThread {
            runWorkerLane(lane, reference.value, results: results.value, board: board)
            group.leave()
        }
    }
    // Lane 0 and then the polling; every path waits for the workers before leaving.
    defer { withExtendedLifetime(box) {} }   // until every worker has left the group
    var pollError: (any Error)?
    do {
        results.value[0] = try body(0) { work in
            board.record(lane: 0, work: work)
            do { try poll(board.total) } catch { pollError = error; throw error }
            if board.isStopped { throw LaneBoard.Stopped() }   // another lane failed
        }
        while group.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            guard !board.isStopped else { continue }
            do { try poll(board.total) } catch { pollError = error; board.stop() }
        }
    } catch {
        if pollError == nil { board.fail(lane: 0, error) }
        board.stop()
        group.wait()
    }
    if let pollError { board.fail(lane: -1, pollError) }
    if let error = board.firstError { throw error }
    return (0..<count).map { results.value[$0]! }
}

/// Runs `body` on a new detached POSIX thread (Foundation's `Thread` when
/// that cannot be made). Not Foundation's own: the first `Thread` of a
/// process set up its name, dictionary and current-thread machinery, 0.13 ms
/// inside the user's first selection, for nothing lanes use.
private func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    #if canImport(Darwin)
    var thread: pthread_t?
    let started = pthread_create(&thread, nil, { context in
        Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().run()
        return nil
    }, context)
    #else
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { context in
        Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    #endif
    guard started == 0 else {
        let body = Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue()
        Thread { body.run() }.start()
        return
    }
    #if canImport(Darwin)
    pthread_detach(thread!)
    #else
    pthread_detach(thread)
    #endif
}

/// The closure a POSIX thread runs, boxed to cross `pthread_create`'s pointer.
private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// One worker lane of `runLanes`; everything it retains is released when it returns.
private func runWorkerLane<Result>(_ lane: Int, _ reference: Unmanaged<LaneBody<Result>>,
                                   results: UnsafeMutableBufferPointer<Result?>, board: LaneBoard) {
    do {
        results[lane] = try reference.takeUnretainedValue().body(lane) { work in
            board.record(lane: lane, work: work)
            if board.isStopped { throw LaneBoard.Stopped() }
        }
    } catch {
        board.fail(lane: lane, error)
    }
}

/// A lane's work, kept alive by `runLanes` alone.
private final class LaneBody<Result> {
    let body: (Int, (Double) throws -> Void) throws -> Result
    init(_ body: @escaping (Int, (Double) throws -> Void) throws -> Result) { self.body = body }
}

/// The lanes' shared state in `sideBySide`: the work each has done, whether
/// they should stop, and the first failure. `@unchecked Sendable`: every
/// field is read and written under `lock`.
private final class LaneBoard: @unchecked Sendable {
    /// What a lane throws once the others were asked to stop (never surfaces).
    struct Stopped: Error {}

    private let lock = NSLock()
    private var work: [Double]
    private var stopped = false
    private var failure: (lane: Int, error: any Error)?

    init(count: Int) { work = [Double](repeating: 0, count: count) }

    func record(lane: Int, work done: Double) { lock.withLock { work[lane] = done } }

    /// The work of every lane so far.
    var total: Double { lock.withLock { work.reduce(0, +) } }

    var isStopped: Bool { lock.withLock { stopped } }

    func stop() { lock.withLock { stopped = true } }

    /// Records `error` of `lane` (−1: the poll's, which wins) and stops the others.
    func fail(lane: Int, _ error: any Error) {
        lock.withLock {
            stopped = true
            if error is Stopped { return }
            if failure == nil || lane < failure!.lane { failure = (lane, error) }
        }
    }

    var firstError: (any Error)? { lock.withLock { failure?.error } }
}
