import XCTest
import CLuaShims

final class LuaLinkTests: XCTestCase {
    func testLuaStateOpensAndRuns() {
        let L = luaL_newstate()!
        defer { lua_close(L) }
        luaL_openlibs(L)
        XCTAssertEqual(luaL_loadstring(L, "return 6*7"), LUA_OK)
        XCTAssertEqual(curator_pcall_traceback(L, 0, 1), LUA_OK)
        XCTAssertEqual(lua_tointegerx(L, -1, nil), 42)
    }
}
