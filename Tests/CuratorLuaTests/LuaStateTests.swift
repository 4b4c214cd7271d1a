import CLuaShims
import XCTest
import CuratorCore
@testable import CuratorLua

final class LuaStateTests: XCTestCase {
    func testRunsCodeAndReportsErrorsWithATraceback() throws {
        let state = try LuaState()
        XCTAssertEqual(try state.evaluate("return 6*7"), "42")
        XCTAssertThrowsError(try state.run("local function f() error('deep') end f()", name: "=t")) { error in
            let error = error as? LuaError
            XCTAssertEqual(error?.kind, .runtime)
            XCTAssertTrue(error?.message.hasPrefix("t:1: deep\nstack traceback:") ?? false, error?.message ?? "")
            XCTAssertTrue(error?.message.contains("in local 'f'") ?? false)
        }
        XCTAssertEqual(state.stack.top, 0, "a failed run leaves the stack as it was")
    }

    func testLoadTellsIncompleteChunksFromSyntaxErrors() throws {
        let state = try LuaState()
        let lua = state.stack
        XCTAssertThrowsError(try lua.load(Array("function f()".utf8), name: "=stdin")) {
            XCTAssertEqual(($0 as? LuaError)?.kind, .incomplete)
        }
        XCTAssertThrowsError(try lua.load(Array("x = 'unfinished".utf8), name: "=stdin")) {
            XCTAssertEqual(($0 as? LuaError)?.kind, .incomplete, "a string open at the end may go on, as in lua.c")
        }
        XCTAssertThrowsError(try lua.load(Array("x = 'unfinished\ny = 1".utf8), name: "=stdin")) {
            XCTAssertEqual(($0 as? LuaError)?.kind, .syntax, "a string cut by a newline is a syntax error")
        }
        XCTAssertThrowsError(try lua.load(Array("if then".utf8), name: "=stdin")) {
            XCTAssertEqual(($0 as? LuaError)?.kind, .syntax)
            XCTAssertEqual(($0 as? LuaError)?.message, "stdin:1: unexpected symbol near 'then'")
        }
        XCTAssertThrowsError(try lua.load([0x1B, 0x4C, 0x75, 0x61], name: "=bin")) {
            XCTAssertTrue(($0 as? LuaError)?.message.contains("binary chunk") ?? false, "text-only loading refuses bytecode")
        }
        XCTAssertEqual(lua.top, 0)
        try lua.load([], name: "=empty")
        XCTAssertEqual(lua.type(at: -1), .function, "an empty chunk is a valid chunk")
    }

    func testBytesPassThroughUnchanged() throws {
        let state = try LuaState()
        let lua = state.stack
        let bytes: [UInt8] = [0x63, 0x61, 0x66, 0xE9, 0x00, 0xFF]
        lua.push(bytes: bytes)
        XCTAssertEqual(lua.bytes(at: -1), bytes)
        XCTAssertEqual(lua.rawLength(at: -1), 6)
        XCTAssertEqual(lua.string(at: -1), "caf\u{FFFD}\0\u{FFFD}", "display decoding replaces invalid bytes")
    }

    func testReadersNeverCoerce() throws {
        let state = try LuaState()
        let lua = state.stack
        lua.push(42)
        XCTAssertNil(lua.string(at: -1), "a number is not read as a string")
        XCTAssertEqual(lua.type(at: -1), .number, "and is not converted in place")
        lua.push("42")
        XCTAssertNil(lua.integer(at: -1), "a numeric string is not read as a number")
        lua.push(2.0)
        XCTAssertEqual(lua.integer(at: -1), 2)
        XCTAssertFalse(lua.isIntegerValue(at: -1))
        lua.push(2.5)
        XCTAssertNil(lua.integer(at: -1))
    }

    func testNumbersAreShownAsLuaShowsThem() {
        XCTAssertEqual(LuaStack.format(number: 1.5), "1.5")
        XCTAssertEqual(LuaStack.format(number: 3), "3.0")
        XCTAssertEqual(LuaStack.format(number: .nan), "nan")
        XCTAssertEqual(LuaStack.format(number: -.infinity), "-inf")
        XCTAssertEqual(LuaStack.format(number: 1e300), "1e+300")
    }

    func testHostFunctionsRunInsideCoroutinesOnTheCoroutinesStack() throws {
        let state = try LuaState()
        state.defineFunction("test.echo", signature: "test.echo(x)", summary: "Returns x twice") { call in
            let s = try call.string(1)
            call.lua.push(s)
            call.lua.push(s)
            return 2
        }
        let result = try state.evaluate("""
            local co = coroutine.wrap(function() local a, b = test.echo('x'); coroutine.yield(a .. b); return test.echo(5) end)
            local first = co()
            local ok, err = pcall(co)
            return first .. '|' .. tostring(ok) .. '|' .. err
            """)
        XCTAssertEqual(result, "xx|false|(curator):1: test.echo: bad argument #1 (string expected, got number)")
    }

    func testSwiftErrorsBecomeLuaErrorsNamedAfterTheBinding() throws {
        struct Failure: Error, CustomStringConvertible { var description: String { "disk on fire" } }
        let state = try LuaState()
        state.defineFunction("test.fail", signature: "test.fail()", summary: "Fails") { _ in throw Failure() }
        XCTAssertEqual(try state.evaluate("return select(2, pcall(test.fail))"), "test.fail: disk on fire")
        XCTAssertEqual(try state.evaluate("local ok, e = pcall(function() test.fail() end) return e"),
                       "(curator):1: test.fail: disk on fire")
    }

    func testFunctionsAreRecordedInTheCatalogAndFoundFromTheirValue() throws {
        let state = try LuaState()
        state.defineFunction("a.b.c", signature: "a.b.c()", summary: "Deep") { _ in 0 }
        XCTAssertEqual(try state.evaluate("return type(a.b.c)"), "function")
        state.stack.pushGlobals()
        state.stack.rawGet(-1, "a"); state.stack.rawGet(-1, "b"); state.stack.rawGet(-1, "c")
        XCTAssertEqual(state.bindingName(ofFunctionAt: -1), "a.b.c")
        state.stack.rawGet(1, "print")
        XCTAssertNil(state.bindingName(ofFunctionAt: -1), "Lua's own functions are not host bindings")
        XCTAssertEqual(state.catalog.binding(named: "a.b.c")?.summary, "Deep")
    }

    func testDidYouMeanFindsTyposButNotStrangers() {
        XCTAssertEqual(DidYouMean.suggestion(for: "widht", among: ["width", "height"]), "width")
        XCTAssertEqual(DidYouMean.suggestion(for: "Width", among: ["width"]), "width")
        XCTAssertEqual(DidYouMean.suggestion(for: "excl", among: ["exclusions", "embed"]), "exclusions")
        XCTAssertNil(DidYouMean.suggestion(for: "zzzz", among: ["width", "height"]))
        // As close to both; a dropped letter is likelier than a changed one, whatever the order.
        XCTAssertEqual(DidYouMean.suggestion(for: "limt", among: ["list", "limit"]), "limit")
        XCTAssertEqual(DidYouMean.suggestion(for: "limt", among: ["limit", "list"]), "limit")
        XCTAssertEqual(DidYouMean.suggestion(for: "lisst", among: ["list", "limit"]), "list")
        XCTAssertEqual(DidYouMean.distance("kitten", "sitting"), 3)
        XCTAssertEqual(DidYouMean.distance("ab", "ba"), 1)
    }
}

/// The memory limit (`--max-memory`) and the size words that set it.
final class LuaMemoryLimitTests: XCTestCase {
    func testLuaCodeOverTheLimitGetsNotEnoughMemoryAndTheStateGoesOn() throws {
        let state = try LuaState()
        state.memoryLimit = 32 << 20
        XCTAssertEqual(try state.evaluate("""
            local ok, e = pcall(function() local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(64) .. i end end)
            return tostring(ok) .. " " .. e
            """), "false not enough memory")
        state.collectGarbage()
        XCTAssertEqual(try state.evaluate("return #('y'):rep(1e6)"), "1000000")
        XCTAssertThrowsError(try state.run("local s = ('z'):rep(64 << 20)")) { error in
            XCTAssertEqual((error as? LuaError)?.kind, .memory)
        }
    }

    func testAHostFunctionMayGoOverTheLimitWithoutUnwindingThroughSwift() throws {
        let state = try LuaState()
        state.memoryLimit = 8 << 20
        // A binding pushing 16 MB: no longjmp may cross its Swift frame, so it succeeds;
        // the Lua code that goes on allocating meets the limit.
        state.defineFunction("big", signature: "big()", summary: "a large string") { call in
            call.lua.push(String(repeating: "b", count: 16 << 20))
            return 1
        }
        XCTAssertEqual(try state.evaluate("return #big()"), String(16 << 20))
        XCTAssertThrowsError(try state.run("local s = big() .. big()"))
    }

    func testSizesAreReadAsPeopleWriteThem() {
        XCTAssertEqual(ByteCount.parse("1048576"), 1 << 20)
        XCTAssertEqual(ByteCount.parse("512K"), 512 << 10)
        XCTAssertEqual(ByteCount.parse("512m"), 512 << 20)
        XCTAssertEqual(ByteCount.parse("1.5G"), 3 << 29)
        XCTAssertEqual(ByteCount.parse("2GB"), 2 << 30)
        XCTAssertEqual(ByteCount.parse("1GiB"), 1 << 30)
        XCTAssertEqual(ByteCount.parse("0"), 0)
        for bad in ["", "lots", "-1G", "1X", "G", "1e3", "99999999999T"] { XCTAssertNil(ByteCount.parse(bad), bad) }
        XCTAssertEqual(ByteCount.describe(64 << 20), "64 MB")
        XCTAssertEqual(ByteCount.describe(3 << 29), "1.5 GB")
        XCTAssertEqual(ByteCount.describe(900), "900 bytes")
    }
}
