import XCTest
@testable import CuratorLua

final class LuaStateTests: XCTestCase {
    func testRunsCode() throws {
        let state = try LuaState()
        XCTAssertEqual(try state.evaluate("return 6*7"), "42")
    }
}
