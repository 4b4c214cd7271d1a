import CLuaShims
import CuratorCore
import Foundation

/// One Swift binding the C trampoline can call: its Lua-visible name (for
/// error messages) and its body, which pushes results and returns their count.
final class HostBinding {
    let name: String
    let body: (LuaStack) throws -> Int32

    init(name: String, body: @escaping (LuaStack) throws -> Int32) {
        self.name = name
        self.body = body
    }
}

/// A registered host function, pushed with `LuaState.push(_:on:)`.
public struct HostFunction: Sendable, Hashable {
    /// Its binding id.
    let id: Int
}

/// The C entry point of every host binding. Non-capturing, so it converts to
/// the C function pointer the trampoline calls; it finds the Swift state
/// through the Lua state's extra space (shared by all its coroutines).
let hostDispatch: curator_host_fn = { L, id in
    guard let L, let raw = curator_get_host(L) else { return 0 }
    let state = Unmanaged<LuaState>.fromOpaque(raw).takeUnretainedValue()
    return state.runBinding(Int(id), on: L)
}

/// A Lua 5.4 state and the Swift bindings registered in it.
///
/// Confined to the thread that created it (Lua states are not thread-safe);
/// it is deliberately not `Sendable`. Host functions, host types and the
/// documentation catalog are registered through `defineFunction` and
/// `defineType`.
public final class LuaState {
    /// The main thread's `lua_State`.
    public let L: OpaquePointer
    /// The documentation of everything registered, for `help()`, completion
    /// and the README.
    public internal(set) var catalog = BindingCatalog()

    // Read on every binding call; only ever appended to outside calls that
    // read them, so the dynamic exclusivity check is skipped (it costs ~10%
    // of a property read from Lua).
    @exclusivity(unchecked) var bindings: ContiguousArray<HostBinding> = []
    @exclusivity(unchecked) var hostTypes: [AnyHostType] = []

    /// The main thread's stack. A `LuaStack` does not keep the state alive:
    /// use it only while this `LuaState` is referenced.
    public var stack: LuaStack { LuaStack(L) }

    /// Opens a state with Lua's standard libraries.
    public init() throws(LuaError) {
        guard let L = luaL_newstate() else { throw LuaError(.memory, "cannot create a Lua state: not enough memory") }
        self.L = L
        curator_install_allocator(L)
        luaL_openlibs(L)
        curator_install_coroutines(L)
        curator_install_patterns(L)
        curator_set_host(L, Unmanaged.passUnretained(self).toOpaque())
        installScalarCallMistakes()
    }

    deinit {
        // Host objects' finalizers only release Swift references; no binding runs.
        curator_close_state(L)
    }

    // MARK: Dispatch

    func runBinding(_ id: Int, on L: OpaquePointer) -> Int32 {
        let lua = LuaStack(L)
        guard id > 0, id <= bindings.count else {
            lua.push("invalid host binding #\(id)")
            return CURATOR_LUA_RAISE
        }
        let binding = bindings[id - 1]
        do {
            return try binding.body(lua)
        } catch let error as LuaBindingError {
            lua.push(error.message)
            return CURATOR_LUA_RAISE_WHERE
        } catch let error as LuaError {
            // Raised by Lua code the binding called: already positioned.
            lua.push(error.message)
            return CURATOR_LUA_RAISE
        } catch is CancelledError {
            // Ctrl-C or --timeout: say which.
            lua.push("\(binding.name): \(String(cString: curator_interrupt_message()))")
            return CURATOR_LUA_RAISE_WHERE
        } catch {
            lua.push("\(binding.name): \(LuaState.describe(error))")
            return CURATOR_LUA_RAISE_WHERE
        }
    }

    /// A Swift error's message for users (its `errorDescription`, else its
    /// `description`).
    static func describe(_ error: any Error) -> String {
        if let localized = error as? LocalizedError, let text = localized.errorDescription { return text }
        return String(describing: error)
    }

    /// Registers a binding body and returns the id its closure carries.
    func register(name: String, body: @escaping (LuaStack) throws -> Int32) -> Int {
        bindings.append(HostBinding(name: name, body: body))
        return bindings.count
    }

    /// The name of the host binding behind the function at `index`, if it is one.
    public func bindingName(ofFunctionAt index: Int32) -> String? {
        let id = Int(curator_host_function_id_at(L, index))
        guard id > 0, id <= bindings.count else { return nil }
        return bindings[id - 1].name
    }

    // MARK: Functions

    /// Registers an undocumented host function (an iterator, a callback
    /// handed to Lua) once, to push as often as needed with `push(_:on:)`.
    /// `name` prefixes its error messages. Registering is for set-up time:
    /// bindings are never unregistered.
    public func makeFunction(name: String, _ body: @escaping (LuaCall) throws -> Int32) -> HostFunction {
        HostFunction(id: register(name: name) { lua in try body(LuaCall(lua, name: name, base: 1)) })
    }

    /// Pushes a host function made with `makeFunction`.
    public func push(_ function: HostFunction, on lua: LuaStack) {
        curator_push_host_function(lua.L, hostDispatch, lua_Integer(function.id), 0)
    }

    /// Defines a documented function reachable by its dotted name, e.g.
    /// `curator.json.encode` (missing tables on the way are created), and
    /// records it in the catalog. `returns` names a host type the function
    /// returns, so completion can follow it.
    public func defineFunction(
        _ qualifiedName: String, signature: String, summary: String, returns: String? = nil,
        _ body: @escaping (LuaCall) throws -> Int32
    ) {
        var path = qualifiedName.split(separator: ".").map(String.init)
        guard let last = path.popLast() else { return }
        let lua = stack
        let top = lua.top
        defer { lua.top = top }
        lua.pushGlobals()
        for component in path {
            if lua.rawGet(-1, component) != .table {
                lua.pop()
                lua.newTable()
                lua.pushValue(at: -1)
                lua.rawSet(-3, component)
            }
            lua.remove(at: -2)
        }
        push(makeFunction(name: qualifiedName, body), on: lua)
        lua.rawSet(-2, last)
        catalog.add(function: BindingDoc(name: qualifiedName, signature: signature, summary: summary,
                                         kind: .function, owner: nil, valueType: returns))
    }

    // MARK: Host types

    /// Defines a host type: Lua userdata with a metatable named `name`,
    /// wrapping Swift objects of `Object`. Add methods and properties to the
    /// returned `HostType`. `prefix` is how binding names spell the type
    /// (`album` in `album:get`); `variable` is how signatures name an
    /// object of it (`a` in `a.path -> string`), by default the prefix.
    public func defineType<Object: AnyObject>(
        _ objectType: Object.Type, name: String, prefix: String, variable: String? = nil, summary: String
    ) -> HostType<Object> {
        let type = HostType<Object>(state: self, name: name, prefix: prefix, variable: variable ?? prefix,
                                    index: hostTypes.count + 1)
        hostTypes.append(type)
        catalog.add(type: TypeDoc(name: name, prefix: prefix, summary: summary))
        type.install(dispatch: hostDispatch)
        return type
    }

    /// The host type of the object at `index`, if it is a host object.
    func hostType(at index: Int32, in lua: LuaStack) -> AnyHostType? {
        guard curator_is_host_object(lua.L, index) != 0, lua.pushMetatable(of: index) else { return nil }
        defer { lua.pop(2) }
        lua.rawGet(-1, HostTypeKeys.typeIndex)
        guard let i = lua.integer(at: -1), i > 0, i <= hostTypes.count else { return nil }
        return hostTypes[Int(i) - 1]
    }

    // MARK: Running code

    /// Loads and runs `code` in protected mode with a traceback, returning
    /// the number of results left on the stack.
    @discardableResult
    public func run(_ code: String, name: String = "=(curator)", results: Int32 = LUA_MULTRET) throws(LuaError) -> Int32 {
        let lua = stack
        let base = lua.top
        try lua.load(Array(code.utf8), name: name)
        try lua.call(arguments: 0, results: results, traceback: true)
        return lua.top - base
    }

    /// Runs `code` and returns its first result rendered by `tostring`, for tests
    /// and small queries.
    public func evaluate(_ code: String) throws(LuaError) -> String {
        let lua = stack
        let base = lua.top
        defer { lua.top = base }
        let n = try run(code, results: 1)
        return n > 0 ? lua.describe(at: -1) : "nil"
    }

    /// Runs a full garbage collection (finalizing unreachable host objects).
    public func collectGarbage() {
        _ = curator_gc(L, LUA_GCCOLLECT, 0)
    }

    /// Kilobytes of memory Lua is using.
    public var memoryInUse: Int { Int(curator_gc(L, LUA_GCCOUNT, 0)) }

    /// The most bytes Lua code may hold (0: no limit). Past it, allocations
    /// fail: Lua collects garbage, retries, then raises "not enough memory",
    /// which unwinds to the nearest `pcall` like any error.
    public var memoryLimit: Int {
        get { Int(curator_memory_limit(L)) }
        set { curator_set_memory_limit(L, max(0, newValue)) }
    }
}
