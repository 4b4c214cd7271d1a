import Foundation
import XCTest
@testable import CuratorCore

/// The work queue every parallel dispenser uses (duplicate index blocks and
/// lists, the image tower's groups): each task runs exactly once, and a
/// report that throws (a cancelled progress) stops the handing out.
final class SupportWorkQueueTests: XCTestCase {
    private struct Stop: Error {}

    func testEveryTaskRunsOnceAndThreadZeroReportsTheCountFinished() throws {
        var runs = [Int](repeating: 0, count: 500)
        let lock = NSLock()
        var reported: [Int] = []
        try WorkQueue(count: 500).run(threads: 3, report: { finished in reported.append(finished) }) { thread, task in
            XCTAssertTrue((0..<3).contains(thread))
            lock.lock(); runs[task] += 1; lock.unlock()
        }
        XCTAssertEqual(runs, [Int](repeating: 1, count: 500))
        XCTAssertFalse(reported.isEmpty)
        XCTAssertEqual(reported, reported.sorted(), "finished counts only grow")
        XCTAssertLessThanOrEqual(reported.last ?? 0, 500)
    }

    func testAThrowingReportStopsTheQueueAndIsRethrown() {
        let lock = NSLock()
        var ran = 0
        XCTAssertThrowsError(try WorkQueue(count: 1000).run(threads: 1, report: { finished in
            if finished == 10 { throw Stop() }
        }) { _, _ in
            lock.lock(); ran += 1; lock.unlock()
        }) { error in
            XCTAssertTrue(error is Stop, "\(error)")
        }
        XCTAssertEqual(ran, 10, "no task is handed out after the report threw")
    }
}
