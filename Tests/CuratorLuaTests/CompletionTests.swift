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
            shelves = {{name = "top", books = {lib}}, [3] = 1}
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
        XCTAssertEqual(complete("b."), ["b.library", "b.pages", "b.prequel", "b.read", "b.sequel", "b.title"])
        XCTAssertEqual(complete("b:"), ["b:read"])
        XCTAssertEqual(complete("b.library:ad"), ["b.library:add"], "a property's documented host type is followed")
        XCTAssertEqual(complete("b.library.library"), [], "Library has no property 'library'")
        XCTAssertEqual(complete("lib:g"), ["lib:get"])
        XCTAssertEqual(BookHandle.getterRuns, 0, "no getter ran")
        XCTAssertEqual(state.stack.top, 0)
    }

    func testIndexExpressionsAreFollowedStatically() {
        BookHandle.getterRuns = 0
        XCTAssertEqual(complete("lib[1]."), ["lib[1].library", "lib[1].pages", "lib[1].prequel", "lib[1].read", "lib[1].sequel", "lib[1].title"],
                       "a Library's elements are Books (from the catalog; lib[1] is not read)")
        XCTAssertEqual(complete("lib[99].ti"), ["lib[99].title"], "past the end: the type is still known")
        XCTAssertEqual(complete("lib[i + 1]:re"), ["lib[i + 1]:read"], "any index expression, never evaluated")
        XCTAssertEqual(complete("b.library[2].library:ad"), ["b.library[2].library:add"])
        XCTAssertEqual(complete("shelves[1].na"), ["shelves[1].name"], "tables are indexed raw by integer literals")
        XCTAssertEqual(complete("shelves[1].books[1]:g"), ["shelves[1].books[1]:get"])
        XCTAssertEqual(complete("shelves[k].na"), [], "a table index that would need evaluating is not followed")
        XCTAssertEqual(complete("shelves[3].x"), [], "not a table")
        XCTAssertEqual(complete("trap[1].x"), [], "__index functions are never called")
        XCTAssertEqual(complete("b[1].x"), [], "Book has no elements")
        XCTAssertEqual(complete("lib[[1]].x"), [])
        XCTAssertEqual(complete("[1].x"), [])
        XCTAssertEqual(BookHandle.getterRuns, 0, "no getter ran")
        XCTAssertEqual(state.stack.top, 0)
    }

    func testInsideAnOpenBracketTheInnerExpressionIsCompleted() {
        XCTAssertEqual(complete("lib[sett"), ["lib[settings"])
        XCTAssertEqual(complete("lib[settings.al"), ["lib[settings.alpha"])
        XCTAssertEqual(complete("shelves[1].books[lib:g"), ["shelves[1].books[lib:get"])
        XCTAssertEqual(state.stack.top, 0)
    }
}
