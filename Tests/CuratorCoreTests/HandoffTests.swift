@testable import CuratorCore
import Foundation
import XCTest

final class HandoffTests: XCTestCase {
    func testTakeWaitsForTheValueFromAnotherThread() throws {
        let handoff = Handoff<Int>()
        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            handoff.put(42)
        }
        thread.start()
        XCTAssertEqual(try handoff.take(), 42)
        XCTAssertEqual(try handoff.take(), 42, "a value stays for later takes")
    }

    func testTakeThrowsOnceTheValueWillNeverCome() {
        let handoff = Handoff<Int>()
        Thread { handoff.fail() }.start()
        XCTAssertThrowsError(try handoff.take()) { XCTAssertTrue($0 is Handoff<Int>.Abandoned) }
    }

    func testFailAfterPutKeepsTheValue() throws {
        let handoff = Handoff<String>()
        handoff.put("engine")
        handoff.fail()
        XCTAssertEqual(try handoff.take(), "engine")
    }
}
