import CLuaShims

/// Names of private metatable fields.
enum HostTypeKeys {
    /// The host type's index in `LuaState.hostTypes` (1-based).
    static let typeIndex = "__curator_type"
}

/// Identifies the thing a host object stands for, so that pushing the same
/// thing twice gives the same Lua value (and `==`, table keys and weak tables
/// behave). `scope` separates id spaces, e.g. one per open album.
public struct LuaIdentity: Hashable, Sendable {
    /// The id space (0 when there is only one).
    public let scope: Int64
    /// The id within the scope.
    public let id: Int64
    /// Creates an identity.
    public init(scope: Int64 = 0, id: Int64) {
        self.scope = scope
        self.id = id
    }
}

/// What the bridge needs of a host type without knowing its Swift object type.
protocol AnyHostType: AnyObject {
    var name: String { get }
    var prefix: String { get }
    var variable: String { get }
    /// Pushes the object's JSON-ready value and returns true; false when the
    /// type has no JSON form.
    func pushJSONValue(at index: Int32, in lua: LuaStack) throws -> Bool
}

/// Releases the Swift reference a host userdata held (called by `__gc`).
private let releaseHostObject: @convention(c) (UnsafeMutableRawPointer?) -> Void = { pointer in
    guard let pointer else { return }
    Unmanaged<AnyObject>.fromOpaque(pointer).release()
}

/// A Lua type backed by Swift objects: full userdata holding a retained
/// reference, with one metatable named `name`.
///
/// Indexing looks for a method, then a property getter, then (for integer
/// keys) the element accessor; an unknown field is an error with a "did you
/// mean". Assigning runs the property's setter; read-only, unknown and method
/// fields are errors naming the type and field. `#obj`, `obj[i]` (and so
/// `ipairs`), `pairs`, `==` and `tostring` work once their closures are set.
///
/// Objects should be cheap handles (an id plus the owner that resolves it),
/// so a handle whose target is gone raises a clear "stale" error when used.
public final class HostType<Object: AnyObject>: AnyHostType {
    /// The metatable's `__name`, e.g. `Image`.
    public let name: String
    /// How binding names spell the type, e.g. `image` in `image:caption`.
    public let prefix: String
    /// How signatures name an object of the type, e.g. `img` in `img.width -> integer`.
    public let variable: String

    // The state owns its host types and the bindings that capture them, so
    // neither outlives the other; unowned(unsafe) avoids atomic reference
    // counting on every call.
    unowned(unsafe) let state: LuaState
    let index: Int
    /// Unique addresses used as registry keys: metatable, methods, getters,
    /// setters, identity cache.
    private let keys: UnsafeMutableRawPointer
    var metatableKey: UnsafeRawPointer { UnsafeRawPointer(keys) }
    private var methodsKey: UnsafeRawPointer { UnsafeRawPointer(keys + 1) }
    private var gettersKey: UnsafeRawPointer { UnsafeRawPointer(keys + 2) }
    private var settersKey: UnsafeRawPointer { UnsafeRawPointer(keys + 3) }
    private var cacheKey: UnsafeRawPointer { UnsafeRawPointer(keys + 4) }

    private var getters: [String: (Object, LuaStack) throws -> Void] = [:]
    private var propertyNames: [String] = []
    private var writableNames: Set<String> = []
    private var methodNames: [String] = []
    private var identify: ((Object) -> LuaIdentity?)?
    private var lengthBody: ((Object) throws -> Int)?
    private var elementBody: ((Object, Int, LuaStack) throws -> Bool)?
    private var describeBody: ((Object) throws -> String)?
    private var prettyBody: ((Object) throws -> String)?
    private var jsonBody: ((Object, LuaStack) throws -> Void)?

    init(state: LuaState, name: String, prefix: String, variable: String, index: Int) {
        self.state = state
        self.name = name
        self.prefix = prefix
        self.variable = variable
        self.index = index
        keys = UnsafeMutableRawPointer.allocate(byteCount: 5, alignment: 1)
    }

    deinit { keys.deallocate() }

    // MARK: Setting up the metatable

    func install(dispatch: curator_host_fn) {
        let lua = state.stack
        let top = lua.top
        defer { lua.top = top }
        let L = lua.L

        lua.newTable()                                    // metatable
        let mt = lua.absolute(-1)
        lua.push(name); lua.rawSet(mt, "__name")
        lua.push(index); lua.rawSet(mt, HostTypeKeys.typeIndex)
        curator_mark_host_metatable(L)
        lua.pushValue(at: mt); lua_rawsetp(L, curator_registryindex(), metatableKey)

        for key in [methodsKey, gettersKey, settersKey] {
            lua.newTable(); lua_rawsetp(L, curator_registryindex(), key)
        }

        // __index: methods, then getters, then the fallback.
        let indexFallback = state.register(name: "\(name) index") { [unowned(unsafe) self] lua in
            try self.indexFallback(lua)
        }
        lua_rawgetp(L, curator_registryindex(), methodsKey)
        lua_rawgetp(L, curator_registryindex(), gettersKey)
        curator_push_keyed_function(L, dispatch, lua_Integer(indexFallback), 1)
        lua.rawSet(mt, "__index")

        // __newindex: setters, then the fallback that explains the refusal.
        let newIndexFallback = state.register(name: "\(name) assignment") { [unowned(unsafe) self] lua in
            try self.assignmentFallback(lua)
        }
        lua.newTable()
        lua_rawgetp(L, curator_registryindex(), settersKey)
        curator_push_keyed_function(L, dispatch, lua_Integer(newIndexFallback), 0)
        lua.rawSet(mt, "__newindex")

        curator_push_gc_function(L, releaseHostObject)
        lua.rawSet(mt, "__gc")

        setMeta("__tostring", in: mt, dispatch: dispatch) { [unowned(unsafe) self] lua in
            guard let object = self.object(at: 1, in: lua) else { lua.push("\(self.name) (finalized)"); return 1 }
            lua.push(try self.describeBody?(object) ?? self.name)
            return 1
        }
        // The REPL's longer form (curator.pretty calls it for a value shown
        // on its own); tostring's one line when a type gives none.
        setMeta("__pretty", in: mt, dispatch: dispatch) { [unowned(unsafe) self] lua in
            guard let object = self.object(at: 1, in: lua) else { lua.push("\(self.name) (finalized)"); return 1 }
            lua.push(try self.prettyBody?(object) ?? self.describeBody?(object) ?? self.name)
            return 1
        }
        setMeta("__eq", in: mt, dispatch: dispatch) { [unowned(unsafe) self] lua in
            guard let a = self.object(at: 1, in: lua), let b = self.object(at: 2, in: lua) else { lua.push(false); return 1 }
            if a === b { lua.push(true); return 1 }
            if let identify = self.identify, let ia = identify(a), let ib = identify(b) { lua.push(ia == ib); return 1 }
            lua.push(false)
            return 1
        }
        // Host objects are values, never functions. Calling one is nearly
        // always a field read as a method (`r:selection()` for `r.selection`),
        // where Lua's own "attempt to call a ImageSet value" does not say what to write.
        setMeta("__call", in: mt, dispatch: dispatch) { [unowned(unsafe) self] lua in
            throw LuaBindingError(self.callMistake(lua))
        }
        let iterator = state.makeFunction(name: "\(prefix) pairs iterator") { [unowned(unsafe) self] call in
            try self.pairsStep(call.lua)
        }
        setMeta("__pairs", in: mt, dispatch: dispatch) { [unowned(unsafe) self] lua in
            _ = try self.selfObject(lua, "pairs")
            self.state.push(iterator, on: lua)
            lua.pushValue(at: 1)
            lua.pushNil()
            return 3
        }
    }

    private func setMeta(_ event: String, in mt: Int32, dispatch: curator_host_fn, _ body: @escaping (LuaStack) throws -> Int32) {
        let lua = state.stack
        let id = state.register(name: "\(name).\(event)", body: body)
        curator_push_host_function(lua.L, dispatch, lua_Integer(id), 0)
        lua.rawSet(mt, event)
    }

    private func pushRegistryTable(_ key: UnsafeRawPointer, _ lua: LuaStack) {
        lua_rawgetp(lua.L, curator_registryindex(), key)
    }

    // MARK: Objects

    /// Pushes `object` as a Lua value. With an identity function set, the same
    /// identity pushed twice (while Lua still holds the first) is the same value.
    public func push(_ object: Object, on lua: LuaStack) {
        let identity = identify?(object)
        if let identity {
            if curator_cache_get(lua.L, cacheKey, lua_Integer(identity.scope), lua_Integer(identity.id)) == LUA_TUSERDATA,
               curator_to_object(lua.L, -1, metatableKey) != nil {
                return
            }
            lua.pop()
        }
        let retained = Unmanaged.passRetained(object).toOpaque()
        curator_new_object(lua.L, retained, metatableKey)
        if let identity {
            curator_cache_put(lua.L, cacheKey, lua_Integer(identity.scope), lua_Integer(identity.id))
        }
    }

    /// Pushes the object with `identity`: the live Lua value when there is
    /// one, else a new one wrapping `make()` (called only then, so pushing a
    /// cached object allocates nothing).
    public func push(_ identity: LuaIdentity, on lua: LuaStack, make: () -> Object) {
        if curator_cache_get(lua.L, cacheKey, lua_Integer(identity.scope), lua_Integer(identity.id)) == LUA_TUSERDATA,
           curator_to_object(lua.L, -1, metatableKey) != nil {
            return
        }
        lua.pop()
        let retained = Unmanaged.passRetained(make()).toOpaque()
        curator_new_object(lua.L, retained, metatableKey)
        curator_cache_put(lua.L, cacheKey, lua_Integer(identity.scope), lua_Integer(identity.id))
    }

    /// The Swift object of the value at `index` when it is one of this type.
    public func object(at index: Int32, in lua: LuaStack) -> Object? {
        guard let pointer = curator_to_object(lua.L, index, metatableKey) else { return nil }
        return Unmanaged<Object>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Whether the value at `index` is an object of this type whose finalizer
    /// already ran (possible only for objects resurrected by other finalizers).
    func isFinalized(at index: Int32, in lua: LuaStack) -> Bool {
        guard lua.type(at: index) == .userdata, lua.pushMetatable(of: index) else { return false }
        defer { lua.pop(2) }
        lua_rawgetp(lua.L, curator_registryindex(), metatableKey)
        return lua.rawEqual(-1, -2)
    }

    private func selfObject(_ lua: LuaStack, _ member: String, separator: String = ":") throws -> Object {
        if let object = object(at: 1, in: lua) { return object }
        let got = lua.type(at: 1) == .none ? "no value" : lua.typeName(at: 1)
        throw LuaBindingError("\(prefix)\(separator)\(member): bad self (\(name) expected, got \(got)); call it as \(prefix)\(separator)\(member)\(separator == ":" ? "(...)" : "")")
    }

    // MARK: Registering members

    /// Sets how objects are identified, so the same thing pushed twice is the
    /// same Lua value and `==` compares identities.
    public func identity(_ body: @escaping (Object) -> LuaIdentity?) {
        identify = body
    }

    /// Adds a method `obj:name(...)`. `signature` shows its call, e.g.
    /// `a:get(path_or_id) -> Image|nil`; `summary` is one line. The body reads
    /// its arguments from the `LuaCall` (argument #1 is the first after self),
    /// pushes its results and returns their count.
    public func method(
        _ member: String, signature: String, summary: String, returns: String? = nil,
        _ body: @escaping (Object, LuaCall) throws -> Int32
    ) {
        let qualified = "\(prefix):\(member)"
        let id = state.register(name: qualified) { [unowned(unsafe) self] lua in
            let object = try self.selfObject(lua, member)
            return try body(object, LuaCall(lua, name: qualified, base: 2))
        }
        let lua = state.stack
        pushRegistryTable(methodsKey, lua)
        lua.push(member)
        curator_push_host_function(lua.L, hostDispatch, lua_Integer(id), 0)
        lua_rawset(lua.L, -3)
        lua.pop()
        if !methodNames.contains(member) { methodNames.append(member) }
        state.catalog.add(member: BindingDoc(name: qualified, signature: signature, summary: summary,
                                             kind: .method, owner: name, valueType: returns), to: name)
    }

    /// Adds a property `obj.name`: `type` is its Lua type for the docs and for
    /// completion (a host type name such as `ImageSet` lets completion go on
    /// through it). `get` pushes exactly one value. With `set`, the property is
    /// writable; the setter reads the assigned value as argument #1 of its call.
    public func property(
        _ member: String, type valueType: String, summary: String,
        get: @escaping (Object, LuaStack) throws -> Void,
        set: ((Object, LuaCall) throws -> Void)? = nil
    ) {
        let qualified = "\(prefix).\(member)"
        getters[member] = get
        if !propertyNames.contains(member) { propertyNames.append(member) }
        let lua = state.stack
        let getterID = state.register(name: qualified) { [unowned(unsafe) self] lua in
            let object = try self.selfObject(lua, member, separator: ".")
            try get(object, lua)
            return 1
        }
        pushRegistryTable(gettersKey, lua)
        lua.push(getterID)
        lua.rawSet(-2, member)
        lua.pop()
        if let set {
            writableNames.insert(member)
            let setterID = state.register(name: qualified) { [unowned(unsafe) self] lua in
                let object = try self.selfObject(lua, member, separator: ".")
                try set(object, LuaCall(lua, name: qualified, base: 3, isAssignment: true))
                return 0
            }
            pushRegistryTable(settersKey, lua)
            lua.push(setterID)
            lua.rawSet(-2, member)
            lua.pop()
        }
        let signature = "\(variable).\(member) -> \(valueType)"
        state.catalog.add(member: BindingDoc(name: qualified, signature: signature, summary: summary,
                                             kind: .property(writable: set != nil), owner: name, valueType: valueType),
                          to: name)
    }

    /// Sets what `tostring(obj)` (and the REPL) shows, e.g. `<Album "char": 1,204 images>`.
    public func describe(_ body: @escaping (Object) throws -> String) {
        describeBody = body
    }

    /// Sets what the REPL shows for an object that is the value of an
    /// expression on its own (`curator.pretty`): a longer form than
    /// `describe`'s one line, e.g. a set's first members. Inside tables and
    /// in `tostring` the `describe` form stays.
    public func pretty(_ body: @escaping (Object) throws -> String) {
        prettyBody = body
    }

    /// Makes `#obj` work; `note` documents it (e.g. `#a — number of images`).
    public func length(note: String, _ body: @escaping (Object) throws -> Int) {
        lengthBody = body
        let lua = state.stack
        lua_rawgetp(lua.L, curator_registryindex(), metatableKey)
        let id = state.register(name: "\(name).__len") { [unowned(unsafe) self] lua in
            let object = try self.selfObject(lua, "__len")
            lua.push(try body(object))
            return 1
        }
        curator_push_host_function(lua.L, hostDispatch, lua_Integer(id), 0)
        lua.rawSet(-2, "__len")
        lua.pop()
        state.catalog.add(operator: note, to: name)
    }

    /// Makes `obj[i]` (and so `ipairs`) work: the body pushes element `i` and
    /// returns true, or returns false for nil (past the end). `elementType`
    /// names the host type the elements are, when they are host objects.
    public func elements(note: String, elementType: String? = nil,
                         _ body: @escaping (Object, Int, LuaStack) throws -> Bool) {
        elementBody = body
        state.catalog.add(operator: note, to: name)
        state.catalog.set(elementType: elementType, of: name)
    }

    /// Sets what `curator.json.encode` writes for objects of this type: the
    /// body pushes a plain Lua value (string, number, table) to encode instead.
    public func json(_ body: @escaping (Object, LuaStack) throws -> Void) {
        jsonBody = body
    }

    func pushJSONValue(at index: Int32, in lua: LuaStack) throws -> Bool {
        guard let jsonBody, let object = object(at: index, in: lua) else { return false }
        try jsonBody(object, lua)
        return true
    }

    // MARK: Fallbacks

    private func indexFallback(_ lua: LuaStack) throws -> Int32 {
        let object = try selfObject(lua, "[]", separator: "")
        switch lua.type(at: 2) {
        case .number:
            if let elementBody, let i = lua.integer(at: 2), i >= Int64(Int.min), i <= Int64(Int.max) {
                if try !elementBody(object, Int(i), lua) { lua.pushNil() }
            } else {
                lua.pushNil()
            }
            return 1
        case .string:
            let key = lua.string(at: 2) ?? ""
            var message = "\(name) has no field '\(key)'"
            if let guess = DidYouMean.suggestion(for: key, among: propertyNames + methodNames) {
                message += " (did you mean '\(guess)'?)"
            }
            throw LuaBindingError(message)
        default:
            lua.pushNil()
            return 1
        }
    }

    /// What calling an object of this type (at 1, its arguments after it)
    /// says: the field it was read from, when the first argument is a host
    /// object whose catalogued properties hold this type (`r:selection()`).
    /// When several do (`a.exclusions`, `a.favorites`), the one holding this
    /// very object is named; all of them when none reads as it.
    private func callMistake(_ lua: LuaStack) -> String {
        let message = "\(name) is not a function"
        if lua.top >= 2, let owner = state.hostType(at: 2, in: lua) {
            // A declared type may name alternatives ("ImageSet|nil").
            var fields = (state.catalog.type(named: owner.name)?.properties ?? [])
                .filter { $0.valueType?.split(separator: "|").contains(Substring(name)) ?? false }
                .map(\.member)
            if fields.count > 1 {
                let holding = fields.filter { lua.field($0, of: 2, isSameAs: 1) }
                if !holding.isEmpty { fields = holding }
            }
            if !fields.isEmpty { return message + ": " + fieldsCalledAsMethods(fields, of: owner) }
        }
        return message + " (a field is read without '()')"
    }

    private func assignmentFallback(_ lua: LuaStack) throws -> Int32 {
        _ = try selfObject(lua, "[]", separator: "")
        guard lua.type(at: 2) == .string, let key = lua.string(at: 2) else {
            throw LuaBindingError("cannot assign to \(name)[\(LuaCall.shown(lua, 2))]: \(name) elements are read-only")
        }
        if propertyNames.contains(key) { throw LuaBindingError("\(prefix).\(key) is read-only") }
        if methodNames.contains(key) { throw LuaBindingError("cannot assign to \(prefix):\(key): it is a method") }
        var message = "\(name) has no field '\(key)'"
        if let guess = DidYouMean.suggestion(for: key, among: writableNames.isEmpty ? propertyNames : Array(writableNames).sorted()) {
            message += " (did you mean '\(guess)'?)"
        } else if !writableNames.isEmpty {
            message += " (writable fields: \(writableNames.sorted().joined(separator: ", ")))"
        }
        throw LuaBindingError(message)
    }

    /// One step of `pairs(obj)`: elements 1…n for types with elements,
    /// otherwise each property with its value, in registration order.
    private func pairsStep(_ lua: LuaStack) throws -> Int32 {
        let object = try selfObject(lua, "pairs")
        if let elementBody {
            let next = (lua.integer(at: 2).map(Int.init) ?? 0) + 1
            lua.push(next)
            if try elementBody(object, next, lua) { return 2 }
            lua.pop()
            lua.pushNil()
            return 1
        }
        var position = 0
        if lua.type(at: 2) == .string, let key = lua.string(at: 2), let i = propertyNames.firstIndex(of: key) {
            position = i + 1
        }
        guard position < propertyNames.count else { lua.pushNil(); return 1 }
        let key = propertyNames[position]
        lua.push(key)
        if let get = getters[key] { try get(object, lua) } else { lua.pushNil() }
        return 2
    }
}

/// The hint for fields called as methods (`r:selection()`, `img:path()`):
/// "r.selection is a field, read without ':' or '()'", every field named.
func fieldsCalledAsMethods(_ fields: [String], of owner: AnyHostType) -> String {
    let read = fields.map { "\(owner.variable).\($0)" }
    return "\(read.joined(separator: " and ")) \(fields.count == 1 ? "is a field" : "are fields"), read without ':' or '()'"
}
