import CLuaShims
import XCTest
@testable import CuratorLua

/// A small core for exercising the bridge: a library of books addressed by id,
/// as albums address images.
final class Library {
    struct Book { var title: String; var pages: Int }
    var books: [Int: Book] = [:]
    var order: [Int] = []
    var nextID = 1
    let serial: Int64

    init(serial: Int64) { self.serial = serial }

    func add(_ title: String, pages: Int) -> Int {
        let id = nextID
        nextID += 1
        books[id] = Book(title: title, pages: pages)
        order.append(id)
        return id
    }

    func remove(_ id: Int) {
        books[id] = nil
        order.removeAll { $0 == id }
    }
}

/// A core error (not a bridge one): the binding's name is put in front.
struct StaleBook: Error, CustomStringConvertible {
    let id: Int
    var description: String { "stale object: book #\(id) was removed" }
}

/// A handle to one book: the library plus the book's id.
final class BookHandle {
    nonisolated(unsafe) static var live = 0 // tests run on one thread
    nonisolated(unsafe) static var getterRuns = 0
    let library: Library
    let id: Int
    init(library: Library, id: Int) {
        self.library = library
        self.id = id
        BookHandle.live += 1
    }
    deinit { BookHandle.live -= 1 }

    func book() throws -> Library.Book {
        guard let book = library.books[id] else { throw StaleBook(id: id) }
        return book
    }
}

/// Binds Library and Book the way the album bindings do.
struct LibraryBindings {
    let books: HostType<BookHandle>
    let libraries: HostType<Library>

    init(state: LuaState) {
        let books = state.defineType(BookHandle.self, name: "Book", prefix: "book", summary: "A book of a library")
        let libraries = state.defineType(Library.self, name: "Library", prefix: "library", summary: "A set of books")
        self.books = books
        self.libraries = libraries

        books.identity { LuaIdentity(scope: $0.library.serial, id: Int64($0.id)) }
        books.describe { handle in
            guard let book = try? handle.book() else { return "<Book #\(handle.id) (removed)>" }
            return "<Book \"\(book.title)\">"
        }
        books.property("title", type: "string", summary: "The title", get: { handle, lua in
            lua.push(try handle.book().title)
        }, set: { handle, call in
            _ = try handle.book()
            handle.library.books[handle.id]?.title = try call.string(1)
        })
        books.property("pages", type: "integer", summary: "Number of pages") { handle, lua in
            lua.push(try handle.book().pages)
        }
        books.property("library", type: "Library", summary: "The library holding it") { handle, lua in
            BookHandle.getterRuns += 1
            libraries.push(handle.library, on: lua)
        }
        books.property("sequel", type: "Book|nil", summary: "The next book, if the library has one") { handle, lua in
            guard let at = handle.library.order.firstIndex(of: handle.id), at + 1 < handle.library.order.count else {
                lua.pushNil()
                return
            }
            books.push(BookHandle(library: handle.library, id: handle.library.order[at + 1]), on: lua)
        }
        books.property("prequel", type: "Book|nil", summary: "The book before it, if the library has one") { handle, lua in
            guard let at = handle.library.order.firstIndex(of: handle.id), at > 0 else {
                lua.pushNil()
                return
            }
            books.push(BookHandle(library: handle.library, id: handle.library.order[at - 1]), on: lua)
        }
        books.method("read", signature: "b:read(pages) -> integer", summary: "Pages left after reading") { handle, call in
            let pages = try call.positiveInteger(1, "pages")
            call.lua.push(max(0, try handle.book().pages - pages))
            return 1
        }
        books.json { handle, lua in lua.push(try handle.book().title) }

        libraries.identity { LuaIdentity(id: $0.serial) }
        libraries.describe { "<Library: \($0.order.count) books>" }
        libraries.length(note: "#lib — number of books") { $0.order.count }
        libraries.elements(note: "lib[i] — the i-th book", elementType: "Book") { library, i, lua in
            guard i >= 1, i <= library.order.count else { return false }
            books.push(BookHandle(library: library, id: library.order[i - 1]), on: lua)
            return true
        }
        libraries.method("add", signature: "lib:add(title, pages) -> Book", summary: "Adds a book") { library, call in
            let title = try call.string(1)
            let pages = try call.integer(2, "pages", in: 1...100_000)
            books.push(BookHandle(library: library, id: library.add(title, pages: pages)), on: call.lua)
            return 1
        }
        libraries.method("get", signature: "lib:get(title_or_id) -> Book|nil", summary: "Finds a book") { library, call in
            switch call.type(1) {
            case .number:
                let id = try call.integer(1)
                guard library.books[id] != nil else { call.lua.pushNil(); return 1 }
                books.push(BookHandle(library: library, id: id), on: call.lua)
            case .string:
                let title = try call.string(1)
                guard let id = library.order.first(where: { library.books[$0]?.title == title }) else {
                    call.lua.pushNil()
                    call.lua.push("no book titled '\(title)'")
                    return 2
                }
                books.push(BookHandle(library: library, id: id), on: call.lua)
            default:
                throw call.typeError(1, expected: "string or integer")
            }
            return 1
        }
        libraries.method("remove", signature: "lib:remove(book)", summary: "Removes a book") { library, call in
            let handle = try call.object(1, books)
            library.remove(handle.id)
            return 0
        }
        libraries.method("each", signature: "lib:each(fn)", summary: "Calls fn(book) for each book") { library, call in
            let fn = try call.function(1)
            for id in library.order {
                call.lua.pushValue(at: fn)
                books.push(BookHandle(library: library, id: id), on: call.lua)
                try call.lua.call(arguments: 1, results: 0)
            }
            return 0
        }
        libraries.method("configure", signature: "lib:configure{count=, mode=}", summary: "Checks options") { _, call in
            let options = try call.options(1, allowed: ["count", "mode", "ratio"])
            let count = try options.positiveInteger("count") ?? 1
            let mode = try options.choice("mode", ["fast", "slow"]) ?? "fast"
            let ratio = try options.number("ratio") ?? 0.5
            call.lua.push("\(count) \(mode) \(ratio)")
            return 1
        }
    }
}

final class HostTypeTests: XCTestCase {
    var state: LuaState!
    var library: Library!

    override func setUpWithError() throws {
        state = try LuaState()
        library = Library(serial: 7)
        _ = library.add("Dune", pages: 412)
        _ = library.add("Emma", pages: 320)
        let bindings = LibraryBindings(state: state)
        bindings.libraries.push(library, on: state.stack)
        state.stack.pushGlobals()
        state.stack.insert(at: -2)
        state.stack.rawSet(-2, "lib")
        state.stack.pop()
    }

    override func tearDown() {
        state = nil
        library = nil
    }

    /// Runs `code` and returns its error message (failing when it succeeds).
    func error(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try state.run(code, name: "=test")
            XCTFail("expected an error from: \(code)", file: file, line: line)
            return ""
        } catch {
            // The first line is the message; the traceback follows.
            return String(error.message.split(separator: "\n").first ?? "")
        }
    }

    func testPropertiesMethodsAndOperators() throws {
        XCTAssertEqual(try state.evaluate("return #lib"), "2")
        XCTAssertEqual(try state.evaluate("return lib[1].title"), "Dune")
        XCTAssertEqual(try state.evaluate("return lib[2].pages"), "320")
        XCTAssertEqual(try state.evaluate("return lib[3]"), "nil")
        XCTAssertEqual(try state.evaluate("return lib[1]:read(12)"), "400")
        XCTAssertEqual(try state.evaluate("return tostring(lib[1])"), "<Book \"Dune\">")
        XCTAssertEqual(try state.evaluate("return tostring(lib)"), "<Library: 2 books>")
        XCTAssertEqual(try state.evaluate("local n = 0 for i, b in ipairs(lib) do n = n + b.pages end return n"), "732")
        XCTAssertEqual(try state.evaluate("local t = {} for k, v in pairs(lib[1]) do t[#t+1] = k end return table.concat(t, ',')"),
                       "title,pages,library,sequel,prequel")
        XCTAssertEqual(try state.evaluate("local t = {} for i, b in pairs(lib) do t[#t+1] = b.title end return table.concat(t, ',')"),
                       "Dune,Emma")
        XCTAssertEqual(try state.evaluate("return lib[1].library == lib"), "true")
        XCTAssertEqual(try state.evaluate("return getmetatable(lib[1]).__name"), "Book")
    }

    func testSameThingIsTheSameValue() throws {
        XCTAssertEqual(try state.evaluate("return rawequal(lib[1], lib[1])"), "true")
        XCTAssertEqual(try state.evaluate("return rawequal(lib[1], lib:get('Dune'))"), "true")
        XCTAssertEqual(try state.evaluate("return lib[1] == lib[2]"), "false")
        XCTAssertEqual(try state.evaluate("local t = {[lib[1]] = 'x'} return t[lib:get(1)]"), "x")
    }

    func testAssignment() throws {
        try state.run("lib[1].title = 'Dune Messiah'")
        XCTAssertEqual(library.books[1]?.title, "Dune Messiah")
        XCTAssertEqual(error("lib[1].pages = 3"), "test:1: book.pages is read-only")
        XCTAssertEqual(error("lib[1].titel = 'x'"), "test:1: Book has no field 'titel' (did you mean 'title'?)")
        XCTAssertEqual(error("lib[1].read = 1"), "test:1: cannot assign to book:read: it is a method")
        XCTAssertEqual(error("lib[1].title = 5"), "test:1: book.title: string expected, got number")
        XCTAssertEqual(error("lib[1] = 5"), "test:1: cannot assign to Library[1]: Library elements are read-only")
    }

    func testUnknownFieldSuggestsTheClosestName() {
        XCTAssertEqual(error("return lib[1].tilte"), "test:1: Book has no field 'tilte' (did you mean 'title'?)")
        XCTAssertEqual(error("return lib[1].xyzzy"), "test:1: Book has no field 'xyzzy'")
        XCTAssertEqual(error("return lib:gte(1)"), "test:1: Library has no field 'gte' (did you mean 'get'?)")
    }

    func testCallingAnObjectNamesTheFieldItWasReadFrom() {
        XCTAssertEqual(error("return lib[1]:library()"), "test:1: Library is not a function: book.library is a field, read without ':' or '()'")
        XCTAssertEqual(error("return lib[1]:sequel()"), "test:1: Book is not a function: book.sequel is a field, read without ':' or '()'",
                       "a field of type Book|nil counts; of two such fields, the one holding the object")
        XCTAssertEqual(error("return lib[2]:prequel()"), "test:1: Book is not a function: book.prequel is a field, read without ':' or '()'")
        XCTAssertEqual(error("return lib[1]:sequel(1)"), "test:1: Book is not a function: book.sequel is a field, read without ':' or '()'")
        XCTAssertEqual(error("return lib[1]()"), "test:1: Book is not a function (a field is read without '()')")
    }

    func testBadArgumentsNameTheBinding() {
        XCTAssertEqual(error("lib:get({})"), "test:1: library:get: bad argument #1 (string or integer expected, got table)")
        XCTAssertEqual(error("lib:get()"), "test:1: library:get: bad argument #1 (string or integer expected, got no value)")
        XCTAssertEqual(error("lib:get(1.5)"), "test:1: library:get: bad argument #1 (integer expected, got 1.5)")
        XCTAssertEqual(error("lib:get(0/0)"), "test:1: library:get: bad argument #1 (integer expected, got nan)")
        XCTAssertEqual(error("lib:get(math.huge)"), "test:1: library:get: bad argument #1 (integer expected, got inf)")
        XCTAssertEqual(error("lib:get(-math.huge)"), "test:1: library:get: bad argument #1 (integer expected, got -inf)")
        XCTAssertEqual(error("lib:get(1e300)"), "test:1: library:get: bad argument #1 (integer expected, got 1e+300)")
        XCTAssertEqual(error("lib[1]:read(-3)"), "test:1: book:read: pages must be a positive integer (got -3)")
        XCTAssertEqual(error("lib[1]:read(0)"), "test:1: book:read: pages must be a positive integer (got 0)")
        XCTAssertEqual(error("lib:add('x', 1e6)"),
                       "test:1: library:add: pages must be an integer from 1 to 100000 (got 1000000.0)")
        XCTAssertEqual(error("lib:add(nil, 3)"), "test:1: library:add: bad argument #1 (string expected, got nil)")
        XCTAssertEqual(error("lib:remove(lib)"), "test:1: library:remove: bad argument #1 (Book expected, got Library)")
        XCTAssertEqual(error("lib.get(1)"),
                       "test:1: library:get: bad self (Library expected, got number); call it as library:get(...)")
        XCTAssertEqual(error("lib[1].read(lib, 1)"),
                       "test:1: book:read: bad self (Book expected, got Library); call it as book:read(...)")
    }

    func testExpectedFailuresReturnNilAndMessage() throws {
        XCTAssertEqual(try state.evaluate("local b, msg = lib:get('Nope') return tostring(b) .. '|' .. msg"),
                       "nil|no book titled 'Nope'")
    }

    func testOptionTables() throws {
        XCTAssertEqual(try state.evaluate("return lib:configure{count=3, mode='slow'}"), "3 slow 0.5")
        XCTAssertEqual(try state.evaluate("return lib:configure()"), "1 fast 0.5")
        XCTAssertEqual(error("lib:configure{count=-3}"), "test:1: library:configure: count must be a positive integer (got -3)")
        XCTAssertEqual(error("lib:configure{count=2.5}"), "test:1: library:configure: count must be a positive integer (got 2.5)")
        XCTAssertEqual(error("lib:configure{cout=3}"),
                       "test:1: library:configure: unknown option 'cout' (did you mean 'count'?)")
        XCTAssertEqual(error("lib:configure{mode='fsat'}"),
                       "test:1: library:configure: mode must be one of \"fast\", \"slow\" (got \"fsat\"); did you mean \"fast\"?")
        XCTAssertEqual(error("lib:configure{ratio=0/0}"), "test:1: library:configure: ratio must be a finite number (got nan)")
        XCTAssertEqual(error("lib:configure{[1]=2}"), "test:1: library:configure: option keys must be strings (got 1)")
        XCTAssertEqual(error("lib:configure(5)"), "test:1: library:configure: bad argument #1 (table expected, got number)")
    }

    func testStaleObjectRaisesAClearError() throws {
        try state.run("b = lib[1]; lib:remove(b)")
        XCTAssertEqual(error("return b.title"), "test:1: book.title: stale object: book #1 was removed")
        XCTAssertEqual(try state.evaluate("return tostring(b)"), "<Book #1 (removed)>")
        XCTAssertEqual(try state.evaluate("return #lib"), "1")
    }

    func testErrorsInCallbacksPropagateWithTheirPosition() {
        XCTAssertEqual(error("lib:each(function(b) error('boom') end)"), "test:1: boom")
        XCTAssertEqual(error("lib:each(function(b) return b.nope end)"), "test:1: Book has no field 'nope'")
    }

    func testHostObjectsAreReleasedWhenCollected() throws {
        state.collectGarbage()
        let before = BookHandle.live
        try state.run("for i = 1, 1000 do local b = lib[1 + i % 2]; local _ = b.title end")
        try state.run("local t = {} for i = 1, 100 do t[i] = lib:add('x' .. i, 10) end")
        state.collectGarbage()
        state.collectGarbage()
        XCTAssertEqual(BookHandle.live, before)
    }

    func testUsingObjectsRegistersNothingNew() throws {
        let before = state.bindings.count
        try state.run("for i = 1, 100 do for k, v in pairs(lib[1]) do end for i, b in pairs(lib) do end local _ = tostring(lib) end")
        XCTAssertEqual(state.bindings.count, before, "iterators and metamethods are registered once, not per use")
    }

    func testInterruptStopsARunawayLoop() throws {
        let L = state.L
        nonisolated(unsafe) let pointer = L
        let thread = Thread { usleep(50_000); curator_request_interrupt(pointer) }
        thread.start()
        XCTAssertTrue(error("while true do end").hasSuffix("interrupted!"))
        curator_clear_interrupt(L)
        XCTAssertEqual(try state.evaluate("return 1"), "1")
    }

    func testCatalogRecordsEveryBinding() {
        let catalog = state.catalog
        XCTAssertEqual(catalog.binding(named: "library:get")?.signature, "lib:get(title_or_id) -> Book|nil")
        XCTAssertEqual(catalog.binding(named: "book.title")?.kind, .property(writable: true))
        XCTAssertEqual(catalog.binding(named: "book.pages")?.kind, .property(writable: false))
        XCTAssertEqual(catalog.type(named: "Library")?.operators, ["#lib — number of books", "lib[i] — the i-th book"])
        XCTAssertTrue(catalog.markdownReference().contains("- `lib:add(title, pages) -> Book` — Adds a book"))
    }
}
