import CLuaShims
import XCTest
@testable import CuratorLua

/// curator's string.find/match/gmatch/gsub (which an interrupt can stop)
/// against the standard library's, on the same calls: every result and
/// every error message must be the same.
final class LuaPatternsTests: XCTestCase {
    /// Runs `code` in a fresh state with the standard library, with or
    /// without curator's pattern functions; returns what it returned.
    private func run(_ code: String, curatorPatterns: Bool) throws -> String {
        let L = try XCTUnwrap(luaL_newstate())
        defer { lua_close(L) }
        luaL_openlibs(L)
        if curatorPatterns { curator_install_patterns(L) }
        XCTAssertEqual(luaL_loadstring(L, code), LUA_OK)
        let status = curator_pcall(L, 0, 1, 0)
        let text = String(cString: curator_tolstring(L, -1, nil))
        XCTAssertEqual(status, LUA_OK, text)
        return text
    }

    /// The Lua that makes the calls and writes down their outcomes.
    private func calls(seed: Int, count: Int) -> String {
        """
        math.randomseed(\(seed))
        local out = {}
        local function note(...)
          local t = {}
          for i = 1, select("#", ...) do
            local v = select(i, ...)
            t[i] = type(v) == "string" and string.format("%q", v) or tostring(v)
          end
          out[#out + 1] = table.concat(t, " ")
        end
        local atoms = { "a", "b", "c", ".", "%a", "%d", "%s", "%w", "%A", "%p", "%%", "%.", "%x", "%g", "%u", "%l",
          "[ab]", "[^a]", "[a-c]", "[%d_]", "[]a]", "[^]]", "[a-]", "[-a]", "[%]]", "%b()", "%bab", "%f[%w]",
          "%f[%W]", "%f[a]", "(", ")", "()", "%1", "%2", "%0", "x", "(a)", "(%d+)", "-", "*", "+", "?", "$", "^",
          "[", "%", "%z", "]", "(.-)", "(a*)", "%b", "%f", "\\0", "é" }
        local chars = { "a", "b", "c", "(", ")", " ", "1", "2", "_", "x", "\\0", "é", "A", "-", "]", "%" }
        local function pick(list, most)
          local t = {}
          for i = 1, math.random(0, most) do t[i] = list[math.random(#list)] end
          return table.concat(t)
        end
        local inits = { 1, 2, -1, -3, 0, 20, -20 }
        local templates = { "<%0>", "%1-%2", "%%", "x%", "%9", "%1", "", "%a", 7 }
        local fixed = { "%f[%a]%a+", "%b()", "^(a*)(.-)$", "(a)(b)()%2%1", "[%]]", "[]", "[^]", "%", "(()",
          "())", "%g+", "[%w_]+", "a-b", ".-", "$", "^$", "^", "", "%z", "(", "%1", "()", "(()())", "[a-%%]",
          "[%a-z]", "a?b?c?", "^a-$", "(a)%1", "((a)(b))", ("(a)"):rep(33), "%bxy", "%b)(", "[%" }
        for n = 1, \(count) do
          local p = n <= #fixed and fixed[n] or pick(atoms, 6)
          local s = pick(chars, 12)
          local init = inits[math.random(#inits)]
          note(n, p, s, init)
          note(pcall(string.find, s, p))
          note(pcall(string.find, s, p, init))
          note(pcall(string.find, s, p, init, true))
          note(pcall(string.match, s, p, init))
          note(pcall(function()
            local t = {}
            for a, b in string.gmatch(s, p, init) do t[#t + 1] = tostring(a) .. "," .. tostring(b) end
            return table.concat(t, ";")
          end))
          note(pcall(string.gsub, s, p, templates[math.random(#templates)], math.random(0, 2) == 0 and math.random(0, 3) or nil))
          note(pcall(string.gsub, s, p, function(x, y) if y then return x .. "|" .. tostring(y) end end))
          note(pcall(string.gsub, s, p, { a = "A", ["1"] = 1, b = false, c = {} }))
          note(pcall(s.gsub, s, p))
        end
        -- Limits: recursion ("pattern too complex"), long subjects, many matches.
        note(pcall(string.find, ("a"):rep(300), ("a?"):rep(300)))
        note(pcall(string.find, ("a"):rep(12), ("a?"):rep(12) .. "b"))
        note(pcall(string.gsub, ("ab"):rep(5000), "(a)(b)", "%2%1"))
        note(pcall(string.gsub, ("x y "):rep(3000), "%s*", "-"))
        note(pcall(string.match, ("k=v;"):rep(2000), "^(.-)=(.*)$"))
        return table.concat(out, "\\n")
        """
    }

    func testCuratorsPatternsGiveWhatTheStandardLibraryGives() throws {
        for seed in 1...4 {
            let code = calls(seed: seed, count: 2500)
            let stock = try run(code, curatorPatterns: false).split(separator: "\n", omittingEmptySubsequences: false)
            let ours = try run(code, curatorPatterns: true).split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(stock.count, ours.count)
            var lastCase = ""
            for (a, b) in zip(stock, ours) {
                if a.first?.isNumber == true, !a.hasPrefix("true"), !a.hasPrefix("false") { lastCase = String(a) }
                if a != b {
                    XCTFail("case \(lastCase)\nstandard: \(a)\ncurator:  \(b)")
                    break
                }
            }
        }
    }

    func testABacktrackingPatternStopsWhenInterrupted() throws {
        let state = try LuaState()
        nonisolated(unsafe) let L = state.L
        let thread = Thread { usleep(200_000); curator_request_interrupt(L) }
        thread.start()
        let started = Date()
        XCTAssertThrowsError(try state.run("return string.find(('a'):rep(40), ('a*'):rep(40) .. 'b')")) { error in
            XCTAssertTrue("\(error)".contains("interrupted!"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        curator_clear_interrupt(L)
        XCTAssertEqual(try state.evaluate("return (('a'):rep(10)):find('a*b')"), "nil")
    }
}
