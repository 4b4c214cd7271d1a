import CLuaShims
import CuratorCore
import XCTest
@testable import CuratorLua

final class LuaProgressTests: XCTestCase {
    func testCallsTheLuaCallbackWithDoneTotalAndLabel() throws {
        let state = try LuaState()
        let lua = state.stack
        try state.run("seen = {} function record(d, t, l) seen[#seen+1] = d .. '/' .. t .. ' ' .. l end", results: 0)
        lua.pushGlobals()
        lua.rawGet(-1, "record")
        let sink = LuaProgress(lua: lua, callback: -1, terminal: false)
        sink.update(label: "scan", done: 1, total: 3)
        sink.update(label: "scan", done: 3, total: 3)
        sink.finish(label: "scan")
        XCTAssertFalse(sink.isCancelled)
        XCTAssertNoThrow(try sink.rethrowCallbackError())
        XCTAssertEqual(try state.evaluate("return table.concat(seen, ',')"), "1/3 scan,3/3 scan")
    }

    func testAnErrorInTheCallbackCancelsAndIsRaisedAfterwards() throws {
        let state = try LuaState()
        let lua = state.stack
        try state.run("function bad() error('stop!') end", name: "=cb", results: 0)
        lua.pushGlobals()
        lua.rawGet(-1, "bad")
        let sink = LuaProgress(lua: lua, callback: -1, terminal: false)
        let top = lua.top
        sink.update(label: "embed", done: 1, total: 2)
        XCTAssertEqual(lua.top, top, "the callback leaves the stack as it was")
        XCTAssertTrue(sink.isCancelled, "the operation is asked to stop")
        XCTAssertThrowsError(try sink.rethrowCallbackError()) {
            XCTAssertEqual(($0 as? LuaError)?.message, "cb:1: stop!")
        }
    }

    func testCtrlCCancels() throws {
        let state = try LuaState()
        let sink = LuaProgress(lua: state.stack, callback: nil, terminal: false)
        XCTAssertFalse(sink.isCancelled)
        curator_request_interrupt(nil)
        XCTAssertTrue(sink.isCancelled)
        curator_clear_interrupt(nil)
        XCTAssertFalse(sink.isCancelled)
        let optional: (any ProgressSink)? = sink
        curator_request_interrupt(nil)
        XCTAssertThrowsError(try optional.checkCancellation("scan")) {
            XCTAssertEqual(($0 as? CancelledError)?.description, "scan: interrupted")
        }
        curator_clear_interrupt(nil)
    }
}
