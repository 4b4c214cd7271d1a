import Foundation
import XCTest
@testable import CuratorCore

final class SideBySideTests: XCTestCase {
    /// The cores the loops split over are the ones Foundation says this process may use
    /// (affinity and cgroup quota), read without Foundation.
    func testAvailableCoresAgreeWithFoundation() {
        XCTAssertEqual(availableCoreCount, ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertEqual(activeCoreCount, min(availableCoreCount, 8))
    }

    /// Lanes run at once and their results come back in lane order, whatever order they end in.
    func testResultsComeBackInLaneOrder() throws {
        let results = try sideBySide(4, poll: { _ in }) { lane, step in
            usleep(useconds_t((4 - lane) * 2_000))   // the last lane ends first
            try step(1)
            return lane * 10
        }
        XCTAssertEqual(results, [0, 10, 20, 30])
    }

    /// Progress and the stop question reach the caller on its own thread only, with every lane's work summed.
    func testPollRunsOnTheCallingThreadWithTheSumOfAllLanes() throws {
        let caller = Thread.current
        var polled: [Double] = []
        var offThread = 0
        _ = try sideBySide(3, poll: { work in
            if Thread.current != caller { offThread += 1 }
            polled.append(work)
        }) { lane, step in
            for done in 1...5 {
                try step(Double(done))
                if lane > 0 { usleep(20_000) }   // the workers outlast lane 0: the caller keeps polling
            }
            return lane
        }
        XCTAssertEqual(offThread, 0)
        XCTAssertGreaterThan(polled.count, 5, "the caller polls while the other lanes work")
        XCTAssertEqual(polled.last, 15, "the last poll sees every lane's work")
        XCTAssertEqual(polled, polled.sorted(), "work only grows")
    }

    /// A stop asked through `poll` ends every lane at its next step, and its error is the one thrown.
    func testAStopFromPollEndsEveryLane() {
        let steps = UncheckedSendable(UnsafeMutableBufferPointer<Int>.allocate(capacity: 2))
        steps.value.initialize(repeating: 0)
        defer { steps.value.deallocate() }
        XCTAssertThrowsError(try sideBySide(2, poll: { work in
            if work >= 4 { throw CancelledError("select") }
        }) { lane, step in
            for done in 1...1_000 {
                steps.value[lane] = done
                try step(Double(done))
                usleep(1_000)
            }
            return lane
        }) { error in
            XCTAssertTrue(error is CancelledError, "\(error)")
        }
        XCTAssertLessThan(steps.value[0], 1_000)
        XCTAssertLessThan(steps.value[1], 1_000, "the worker lane stopped too")
    }

    /// A lane's own failure is thrown (the lowest lane's when several fail), after the others stopped.
    func testTheLowestFailingLanesErrorIsThrown() {
        struct Failure: Error, Equatable { let lane: Int }
        var laneZeroSteps = 0
        XCTAssertThrowsError(try sideBySide(3, poll: { _ in }) { lane, step in
            if lane > 0 { throw Failure(lane: lane) }
            for done in 1...1_000 {
                laneZeroSteps = done
                try step(Double(done))
                usleep(1_000)
            }
            return lane
        }) { error in
            XCTAssertEqual(error as? Failure, Failure(lane: 1))
        }
        XCTAssertLessThan(laneZeroSteps, 1_000, "lane 0 stopped once another lane failed")
    }
}
