import CLuaShims
import CuratorCore
import CuratorReview
import Foundation

/// curator's Lua environment: a `LuaState` with the `curator` table
/// (albums, JSON, the pretty printer, extension registries, plugins) and
/// `help`. Scripts, the REPL and plugins all run in one host.
///
/// Confined to the thread that created it, like its `LuaState`.
public final class CuratorHost {
    /// How the host is set up.
    public struct Options: Sendable {
        /// Run untrusted code: no io, os.execute/remove/rename/exit/getenv,
        /// package.loadlib, file loading, binary chunks or debug, and albums
        /// open read-only (see `SafeMode`).
        public var safe: Bool
        /// The most bytes Lua may hold; nil for `defaultMemoryLimit`, 0 for no limit.
        public var memoryLimit: Int?
        /// How many seconds each chunk (a script, an -e code, a REPL line)
        /// may run before it is interrupted; nil for `defaultTimeout`, 0 for none.
        public var timeout: Double?
        /// Creates options.
        public init(safe: Bool = false, memoryLimit: Int? = nil, timeout: Double? = nil) {
            self.safe = safe
            self.memoryLimit = memoryLimit
            self.timeout = timeout
        }

        /// A quarter of the machine's memory: a runaway script stops long
        /// before the machine starts swapping.
        public static var defaultMemoryLimit: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory / 4) }

        /// Safe mode's deadline when none is given: 300 s (no deadline otherwise).
        public static let defaultSafeTimeout: Double = 300

        /// The deadline that applies: the given one, else 300 s in safe mode, else none (0).
        public var effectiveTimeout: Double { timeout ?? (safe ? Self.defaultSafeTimeout : 0) }
    }

    /// The Lua state everything is registered in.
    public let state: LuaState
    /// How the host was set up.
    public let options: Options
    /// What happened to each plugin loaded so far.
    public internal(set) var pluginReports: [PluginReport] = []
    /// The plugin being loaded (extensions it registers are attributed to it).
    var loadingPlugin: String?
    /// Every host type (Album, Image, ImageSet, Run, SamplerContext, Map), for bindings that take or return them.
    public private(set) var types: CuratorTypes!
    private var albumSerial: Int64 = 0
    private var openAlbums: [String: WeakAlbum] = [:]

    private struct WeakAlbum {
        weak var handle: AlbumHandle?
    }

    static let docNamesKey = "curator.docnames"

    /// Creates the environment: standard libraries, `curator.*`, `help`, and,
    /// with `options.safe`, the sandbox. Plugins are loaded separately
    /// (`loadPlugins(from:)`), after which safe mode is applied to them too.
    public init(options: Options = Options()) throws(LuaError) {
        self.options = options
        state = try LuaState()
        state.memoryLimit = options.memoryLimit ?? Options.defaultMemoryLimit
        try install()
    }

    /// Runs a top-level chunk (`body` loads and calls it) under the host's
    /// limits: the deadline armed while it runs, and any interrupt cleared
    /// before and after, so an interrupt stops exactly the code it hit (its
    /// hook keeps raising until here, so no `pcall` in the script swallows
    /// it). A memory error says what the limit is.
    public func runChunk<T>(_ body: () throws(LuaError) -> T) throws(LuaError) -> T {
        let L = state.L
        curator_clear_interrupt(L)
        let timeout = options.effectiveTimeout
        if timeout > 0 { _ = curator_arm_deadline(L, timeout) }
        defer {
            if timeout > 0 { curator_disarm_deadline() }
            curator_clear_interrupt(L)
        }
        do {
            return try body()
        } catch where error.kind == .memory && state.memoryLimit > 0 {
            throw LuaError(.memory, "\(error.message) (Lua may hold at most \(ByteCount.describe(state.memoryLimit)); raise it with --max-memory)")
        }
    }

    private func install() throws(LuaError) {
        let lua = state.stack
        let top = lua.top
        defer { lua.top = top }

        // A weak-keyed table mapping documented Lua functions to their names.
        lua.newTable()
        lua.newTable()
        lua.push("k"); lua.rawSet(-2, "__mode")
        lua_setmetatable(lua.L, -2)
        lua_setfield(lua.L, curator_registryindex(), CuratorHost.docNamesKey)

        lua.pushGlobals()
        lua.newTable()
        lua.push(CuratorVersion.string); lua.rawSet(-2, "version")
        lua.newTable(); lua.rawSet(-2, "plugins")
        lua.rawSet(-2, "curator")
        lua.pop()

        LuaJSON.install(in: state)

        try state.run(PrettyPrinter.source, name: "=curator.pretty", results: 1)
        lua.pushGlobals(); lua.rawGet(-1, "curator"); lua.pushValue(at: -3); lua.rawSet(-2, "pretty")
        lua.top = top
        document("curator.pretty", signature: "curator.pretty(value [, {depth=4, items=100, width=80}]) -> string",
                 summary: "Renders a value as the REPL shows it (sorted keys, depth and length limits, cycle marks)")

        state.defineFunction("help", signature: "help([x])",
                             summary: "Explains x (an object, a function or a name like \"album:select\"); help() lists the API") { [unowned self] call in
            // On a terminal the lines wrap between words at its width, not mid-word at its edge.
            let terminal = TerminalDisplay.detect(environment: ProcessInfo.processInfo.environment)
            print(self.helpText(for: call.count == 0 ? nil : call.index(1), in: call.lua,
                                width: terminal.isTerminal ? terminal.columns : nil), terminator: "")
            fflush(nil)
            return 0
        }
        state.defineFunction("curator.doc", signature: "curator.doc([x]) -> string",
                             summary: "The text help(x) prints, one line per entry (help() on a terminal wraps it at the width)") { [unowned self] call in
            call.lua.push(self.helpText(for: call.count == 0 ? nil : call.index(1), in: call.lua))
            return 1
        }

        state.defineFunction("curator.catalog",
                             signature: "curator.catalog() -> {functions={...}, types={...}}",
                             summary: "Every documented function and host type, with signatures (for tools and docs)") { [unowned self] call in
            self.pushCatalog(on: call.lua)
            return 1
        }

        state.defineFunction("curator.api_reference",
                             signature: "curator.api_reference() -> string",
                             summary: "The API reference as Markdown, from the same catalog as help() (for the README)") { [unowned self] call in
            call.lua.push(self.state.catalog.markdownReference())
            return 1
        }

        Extensions.install(in: self)
        types = CuratorTypes.install(in: self)
        lua.top = top
    }

    /// Wraps an opened album for Lua, giving it a serial that scopes its
    /// images' identities, and remembers it so opening the same location again
    /// while it is alive gives the same album (one in-memory state per index).
    public func adopt(_ album: Album) -> AlbumHandle {
        albumSerial += 1
        let handle = AlbumHandle(album: album, serial: albumSerial)
        openAlbums[album.location] = WeakAlbum(handle: handle)
        openAlbums = openAlbums.filter { $0.value.handle != nil }
        return handle
    }

    /// The album already open at `location` (as `curator.open` was given it), if alive.
    public func openAlbum(at location: String) -> AlbumHandle? {
        openAlbums[CuratorHost.absolutePath(location)]?.handle
    }

    /// `~` expanded, made absolute and standardized, as `Album.open` does.
    static func absolutePath(_ location: String) -> String {
        var path = (location as NSString).expandingTildeInPath
        if !path.hasPrefix("/") {
            path = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        }
        return (path as NSString).standardizingPath
    }

    /// Prints a warning on stderr (the operation went on).
    public func warn(_ message: String) {
        fflush(nil)
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    /// Applies safe mode (when asked for) once plugins have loaded, so that
    /// scripts, the REPL and the plugins' functions all run without it.
    public func seal() throws(LuaError) {
        if options.safe {
            try state.run(SafeMode.source, name: "=safe mode", results: 0)
            isSandboxed = true
        }
    }

    /// Whether safe mode applies now (after `seal()` with `options.safe`).
    public private(set) var isSandboxed = false

    /// The review pages this host started and has not closed (kept alive
    /// even when Lua drops their `Review` objects: `v:close()` or the end of
    /// the process stops them).
    public internal(set) var openReviews: [ReviewServer] = []

    /// Stops every review page still served (Ctrl-C at the REPL's prompt);
    /// returns their ports, in the order they were started.
    @discardableResult
    public func closeReviews() -> [Int] {
        let open = openReviews.filter { !$0.isClosed }
        openReviews.removeAll()
        for server in open { server.close() }
        return open.map(\.port)
    }

    /// What a binding may need beyond computing in memory. Every binding that
    /// reaches outside the Lua state asks the host (`allows`, `require`),
    /// so what safe mode forbids is decided here, in one place.
    public enum Capability: Sendable, CaseIterable {
        /// Writing files where the script says (exports, CSV, reports, plots).
        case writingFiles
        /// Changing an album's index: creating it, scanning, embedding,
        /// importing, exclusions, favorites, saved runs, the map cache.
        case changingIndex
        /// Listening on a network port (a review server).
        case serving

        /// What the capability does, as a refusal says it.
        var action: String {
            switch self {
            case .writingFiles: return "writes files"
            case .changingIndex: return "changes the album's index"
            case .serving: return "starts a server"
            }
        }
    }

    /// The end of every refusal safe mode makes.
    public static let safeModeRefusal = "which safe mode (--safe) does not allow"

    /// Whether scripts may do what `capability` stands for now: all of it,
    /// unless safe mode applies.
    public func allows(_ capability: Capability) -> Bool { !isSandboxed }

    /// Raises, when `capability` is not allowed, an error naming the binding
    /// of `call`, e.g. "run:csv: writes files, which safe mode (--safe) does not allow".
    public func require(_ capability: Capability, _ call: LuaCall) throws {
        if !allows(capability) { throw call.failure("\(capability.action), \(Self.safeModeRefusal)") }
    }

    // MARK: Documentation

    /// Records documentation for a function written in Lua and reachable by
    /// its dotted name, e.g. `curator.pretty`, so `help()` lists it and
    /// `help(fn)` finds it.
    public func document(_ qualifiedName: String, signature: String, summary: String, returns: String? = nil) {
        state.catalog.add(function: BindingDoc(name: qualifiedName, signature: signature, summary: summary,
                                               kind: .function, owner: nil, valueType: returns))
        let lua = state.stack
        let top = lua.top
        defer { lua.top = top }
        lua.pushGlobals()
        for component in qualifiedName.split(separator: ".") {
            guard lua.type(at: -1) == .table else { return }
            lua.rawGet(-1, String(component))
            lua.remove(at: -2)
        }
        guard lua.type(at: -1) == .function else { return }
        nameDocumentedFunction(at: -1, qualifiedName)
    }

    /// Records that the function at `index` is documented under
    /// `qualifiedName` (so `help(fn)` finds it without a global path to it).
    func nameDocumentedFunction(at index: Int32, _ qualifiedName: String) {
        let lua = state.stack
        let index = lua.absolute(index)
        lua_getfield(lua.L, curator_registryindex(), CuratorHost.docNamesKey)
        lua.pushValue(at: index)
        lua.push(qualifiedName)
        lua_rawset(lua.L, -3)
        lua.pop()
    }

    /// The text `help(x)` prints for the value at `index` (nil: the
    /// overview), wrapped at `width` columns when given.
    func helpText(for index: Int32?, in lua: LuaStack, width: Int? = nil) -> String {
        let help = Help(catalog: state.catalog, width: width)
        guard let index, !lua.isNoneOrNil(index) else { return help.overview() }
        switch lua.type(at: index) {
        case .string:
            return help.named(lua.string(at: index) ?? "")
        case .userdata:
            if let type = state.hostType(at: index, in: lua), let doc = state.catalog.type(named: type.name) {
                return help.type(doc)
            }
        case .function:
            if let name = state.bindingName(ofFunctionAt: index) ?? documentedName(ofFunctionAt: index, lua),
               let doc = state.catalog.binding(named: name) {
                return help.binding(doc)
            }
            return "a Lua function without documentation; help() lists the API\n"
        case .table:
            lua.pushGlobals()
            defer { lua.pop(2) }
            lua.rawGet(-1, "curator")
            if lua.rawEqual(-1, index) { return help.named("curator") }
        default:
            break
        }
        return "a \(lua.typeName(at: index)) value; help() lists the API\n"
    }

    private func documentedName(ofFunctionAt index: Int32, _ lua: LuaStack) -> String? {
        let index = lua.absolute(index)
        lua_getfield(lua.L, curator_registryindex(), CuratorHost.docNamesKey)
        defer { lua.pop(2) }
        lua.pushValue(at: index)
        lua_rawget(lua.L, -2)
        return lua.string(at: -1)
    }

    private func pushCatalog(on lua: LuaStack) {
        let catalog = state.catalog
        func push(_ doc: BindingDoc, member: Bool) {
            lua.newTable(record: 6)
            lua.push(member ? doc.member : doc.name); lua.rawSet(-2, "name")
            lua.push(doc.name); lua.rawSet(-2, "full_name")
            lua.push(doc.signature); lua.rawSet(-2, "signature")
            lua.push(doc.summary); lua.rawSet(-2, "summary")
            if let valueType = doc.valueType { lua.push(valueType); lua.rawSet(-2, "type") }
            if case .property(let writable) = doc.kind { lua.push(writable); lua.rawSet(-2, "writable") }
        }
        lua.newTable(record: 2)
        lua.newTable(array: catalog.functions.count)
        for (i, doc) in catalog.functions.enumerated() {
            push(doc, member: false)
            lua.rawSet(-2, index: i + 1)
        }
        lua.rawSet(-2, "functions")
        lua.newTable(array: catalog.types.count)
        for (i, type) in catalog.types.enumerated() {
            lua.newTable(record: 6)
            lua.push(type.name); lua.rawSet(-2, "name")
            lua.push(type.prefix); lua.rawSet(-2, "prefix")
            lua.push(type.summary); lua.rawSet(-2, "summary")
            lua.push(strings: type.operators); lua.rawSet(-2, "operators")
            for (key, docs) in [("methods", type.methods), ("properties", type.properties)] {
                lua.newTable(array: docs.count)
                for (j, doc) in docs.enumerated() {
                    push(doc, member: true)
                    lua.rawSet(-2, index: j + 1)
                }
                lua.rawSet(-2, key)
            }
            lua.rawSet(-2, index: i + 1)
        }
        lua.rawSet(-2, "types")
    }

    // MARK: Values

    /// The value at `index` as the REPL shows it (`curator.pretty`).
    public func pretty(at index: Int32) -> String {
        let lua = state.stack
        let index = lua.absolute(index)
        let top = lua.top
        defer { lua.top = top }
        lua.pushGlobals()
        guard lua.rawGet(-1, "curator") == .table, lua.rawGet(-1, "pretty") == .function else {
            return lua.describe(at: index)
        }
        lua.pushValue(at: index)
        do {
            try lua.call(arguments: 1, results: 1)
            return lua.string(at: -1) ?? lua.describe(at: index)
        } catch {
            return lua.describe(at: index)
        }
    }

    /// Sets the global `arg` as `lua` does: `arg[0]` is the script,
    /// `arg[1...]` its arguments, negative indices the interpreter and the
    /// options before the script.
    /// Words are bytes, passed through unchanged.
    public func setArguments(interpreter: [[UInt8]], script: [UInt8], arguments: [[UInt8]]) {
        let lua = state.stack
        lua.newTable(array: arguments.count, record: interpreter.count + 1)
        for (i, word) in interpreter.enumerated() {
            lua.push(bytes: word)
            lua.rawSet(-2, index: i - interpreter.count)
        }
        lua.push(bytes: script); lua.rawSet(-2, index: 0)
        for (i, word) in arguments.enumerated() {
            lua.push(bytes: word)
            lua.rawSet(-2, index: i + 1)
        }
        lua.pushGlobals()
        lua.insert(at: -2)
        lua.rawSet(-2, "arg")
        lua.pop()
    }

    /// The names registered for an extension kind, sorted (for the selection
    /// and export code, and tests).
    public func registeredNames(_ kind: ExtensionKind) -> [String] {
        Extensions.registeredNames(kind, state.stack).sorted()
    }

    /// Pushes the registry entry of extension `name` (a table: `fn` or
    /// `export`, `description`, `plugin`) and returns true, or pushes nothing
    /// and returns false.
    public func pushExtension(_ kind: ExtensionKind, named name: String, on lua: LuaStack) -> Bool {
        lua_getfield(lua.L, curator_registryindex(), kind.registryKey)
        if lua.rawGet(-1, name) == .table {
            lua.remove(at: -2)
            return true
        }
        lua.pop(2)
        return false
    }
}
