import XCTest
@testable import CuratorLua

final class CompletionTests: XCTestCase {
    var state: LuaState!

    override func setUpWithError() throws {
        state = try LuaState()
        let library = Library(serial: 1)
        _ = library.add("Dune", pages: 412)
        let bindings = LibraryBindings(state: state)
        let lua = state.stack
        lua.pushGlobals()
        bindings.libraries.push(library, on: lua)
        lua.rawSet(-2, "lib")
        lua.pop()
        try state.run("""
            settings = {alpha = 1, beta = {gamma = 2}, ["not an id"] = 3, run = function() end}
            b = lib[1]
            proxy = setmetatable({}, {__index = {inherited = 1}})
            trap = setmetatable({}, {__index = function() error('must not run') end})
            """)
    }

    override func tearDown() { state = nil }

    func complete(_ word: String) -> [String] { Completer(state: state).candidates(for: word) }

    func testGlobalsAndKeywords() {
        XCTAssertEqual(complete("sett"), ["settings"])
        XCTAssertTrue(complete("pr").contains("print"))
        XCTAssertTrue(complete("pr").contains("proxy"))
        XCTAssertEqual(complete("functio"), ["function"])
        XCTAssertEqual(state.stack.top, 0, "completion leaves the stack as it found it")
    }

    func testTableFieldsAndFunctionsAfterAColon() {
        XCTAssertEqual(complete("settings."), ["settings.alpha", "settings.beta", "settings.run"])
        XCTAssertEqual(complete("settings.beta.g"), ["settings.beta.gamma"])
        XCTAssertEqual(complete("settings:"), ["settings:run"])
        XCTAssertEqual(complete("string.up"), ["string.upper"])
        XCTAssertEqual(complete("proxy.inh"), ["proxy.inherited"], "__index tables are followed")
        XCTAssertEqual(complete("trap.x"), [], "__index functions are never called")
        XCTAssertEqual(complete("nothing.x"), [])
        XCTAssertEqual(complete("settings..x"), [])
    }

    func testHostObjectsAreCompletedFromTheCatalogWithoutRunningGetters() {
        BookHandle.getterRuns = 0
        XCTAssertEqual(complete("b."), ["b.library", "b.pages", "b.read", "b.title"])
        XCTAssertEqual(complete("b:"), ["b:read"])
        XCTAssertEqual(complete("b.library:ad"), ["b.library:add"], "a property's documented host type is followed")
        XCTAssertEqual(complete("b.library.library"), [], "Library has no property 'library'")
        XCTAssertEqual(complete("lib:g"), ["lib:get"])
        XCTAssertEqual(BookHandle.getterRuns, 0, "no getter ran")
        XCTAssertEqual(state.stack.top, 0)
    }
}
