import CLuaShims

/// The type of a Lua value, as `lua_type` reports it.
public enum LuaType: Int32, Sendable {
    case none = -1
    case `nil` = 0
    case boolean = 1
    case lightUserdata = 2
    case number = 3
    case string = 4
    case table = 5
    case function = 6
    case userdata = 7
    case thread = 8

    /// The name Lua's `type()` gives it.
    public var name: String {
        switch self {
        case .none: return "no value"
        case .nil: return "nil"
        case .boolean: return "boolean"
        case .lightUserdata, .userdata: return "userdata"
        case .number: return "number"
        case .string: return "string"
        case .table: return "table"
        case .function: return "function"
        case .thread: return "thread"
        }
    }
}

/// A view of one Lua thread's stack (the main state or a coroutine).
///
/// Everything here is safe to call from Swift: lookups are raw (no metamethod
/// runs, so nothing can raise and `longjmp` across a Swift frame), conversions
/// never coerce in place, and code runs only through protected calls. The one
/// exception Lua allows no way around: running out of memory while pushing.
public struct LuaStack {
    /// The thread's `lua_State`.
    public let L: OpaquePointer

    /// Wraps a thread's state pointer.
    public init(_ L: OpaquePointer) { self.L = L }

    // MARK: Stack shape

    /// The index of the top element (the number of values on the stack).
    public var top: Int32 {
        get { lua_gettop(L) }
        nonmutating set { lua_settop(L, newValue) }
    }

    /// Makes a relative index absolute, so it survives pushes.
    public func absolute(_ index: Int32) -> Int32 { lua_absindex(L, index) }

    /// Removes `count` values from the top.
    public func pop(_ count: Int32 = 1) { lua_settop(L, -count - 1) }

    /// Removes the value at `index`, shifting the ones above down.
    public func remove(at index: Int32) { curator_remove(L, index) }

    /// Moves the top value to `index`, shifting the ones above up.
    public func insert(at index: Int32) { curator_insert(L, index) }

    /// Makes room for `extra` more values; false when the stack cannot grow.
    public func ensureSpace(_ extra: Int32) -> Bool { lua_checkstack(L, extra) != 0 }

    // MARK: Types

    /// The type of the value at `index`.
    public func type(at index: Int32) -> LuaType { LuaType(rawValue: lua_type(L, index)) ?? .none }

    /// The value's type name for messages: a host object's type (`__name` of its
    /// metatable, e.g. "Album"), otherwise Lua's type name.
    public func typeName(at index: Int32) -> String {
        let index = lua_absindex(L, index)
        let type = self.type(at: index)
        if type == .userdata || type == .table, lua_getmetatable(L, index) != 0 {
            defer { pop() }
            push("__name")
            defer { pop() }
            if lua_rawget(L, -2) == LUA_TSTRING, let name = string(at: -1) {
                // A host object whose __gc a script called by hand has let go
                // of its Swift object: say so, not "Album expected, got Album".
                if type == .userdata, curator_is_host_object(L, index) != 0,
                   let slot = lua_touserdata(L, index), slot.load(as: UnsafeRawPointer?.self) == nil {
                    return "\(name) finalized by a call to its __gc (it can no longer be used)"
                }
                return name
            }
        }
        return type.name
    }

    /// Whether the value at `index` is nil or absent.
    public func isNoneOrNil(_ index: Int32) -> Bool { lua_type(L, index) <= LUA_TNIL }

    // MARK: Pushing

    /// Pushes nil.
    public func pushNil() { lua_pushnil(L) }
    /// Pushes a boolean.
    public func push(_ value: Bool) { lua_pushboolean(L, value ? 1 : 0) }
    /// Pushes an integer.
    public func push(_ value: Int) { lua_pushinteger(L, lua_Integer(value)) }
    /// Pushes an integer.
    public func push(_ value: Int64) { lua_pushinteger(L, lua_Integer(value)) }
    /// Pushes a float.
    public func push(_ value: Double) { lua_pushnumber(L, value) }
    /// Pushes a string (its UTF-8 bytes).
    public func push(_ value: String) {
        var value = value
        value.withUTF8 { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }
    /// Pushes a byte string unchanged (Lua strings are bytes).
    public func push<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
            }
        }
    }
    /// Pushes an optional string, nil when absent.
    public func push(_ value: String?) { if let value { push(value) } else { pushNil() } }
    /// Pushes an optional integer, nil when absent.
    public func push(_ value: Int?) { if let value { push(value) } else { pushNil() } }
    /// Pushes an optional float, nil when absent.
    public func push(_ value: Double?) { if let value { push(value) } else { pushNil() } }
    /// Pushes a copy of the value at `index`.
    public func pushValue(at index: Int32) { lua_pushvalue(L, index) }
    /// Pushes a new table with room for `array` sequence and `record` other entries.
    public func newTable(array: Int = 0, record: Int = 0) {
        lua_createtable(L, Int32(clamping: array), Int32(clamping: record))
    }
    /// Pushes the globals table.
    public func pushGlobals() { curator_pushglobaltable(L) }
    /// Pushes an array of strings as a Lua sequence.
    public func push(strings: [String]) {
        newTable(array: strings.count)
        for (i, s) in strings.enumerated() {
            push(s)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
    }

    // MARK: Reading (no coercion)

    /// The boolean at `index` (Lua truthiness: only nil and false are false).
    public func truthy(at index: Int32) -> Bool { lua_toboolean(L, index) != 0 }

    /// The integer at `index` when it is a number with an exact integer value.
    public func integer(at index: Int32) -> Int64? {
        guard lua_type(L, index) == LUA_TNUMBER else { return nil }
        var isInteger: Int32 = 0
        let value = lua_tointegerx(L, index, &isInteger)
        return isInteger != 0 ? Int64(value) : nil
    }

    /// Whether the number at `index` is stored as a Lua integer (not a float).
    public func isIntegerValue(at index: Int32) -> Bool { curator_isinteger(L, index) != 0 }

    /// The number at `index` when it is a number (never a numeric string).
    public func number(at index: Int32) -> Double? {
        guard lua_type(L, index) == LUA_TNUMBER else { return nil }
        return lua_tonumberx(L, index, nil)
    }

    /// The bytes of the string at `index` (never a number converted in place).
    public func bytes(at index: Int32) -> [UInt8]? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = curator_tolstring(L, index, &length) else { return nil }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// Calls `body` with the string's bytes in place (valid only during the call).
    public func withBytes<R>(at index: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = curator_tolstring(L, index, &length) else { return nil }
        return try pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            try body(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// The string at `index`, decoded as UTF-8 (invalid bytes replaced).
    public func string(at index: Int32) -> String? {
        withBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// The value rendered as `tostring` would (running `__tostring` in a
    /// protected call; an error there gives a placeholder, never a raise).
    public func describe(at index: Int32) -> String {
        let index = absolute(index)
        switch type(at: index) {
        case .string: return string(at: index) ?? ""
        case .nil, .none: return "nil"
        case .boolean: return truthy(at: index) ? "true" : "false"
        case .number:
            if let i = integer(at: index), isIntegerValue(at: index) { return String(i) }
            return LuaStack.format(number: number(at: index) ?? .nan)
        default:
            _ = curator_pcall_tostring(L, index)
            defer { pop() }
            return string(at: -1) ?? "?"
        }
    }

    /// Formats a float as Lua's `%.14g` does ("1.5", "1e+300", "inf", "nan").
    public static func format(number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        if number == number.rounded(), abs(number) < 1e15 {
            return String(Int64(number)) + ".0"
        }
        var text = String(number)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    // MARK: Raw table access

    /// Pushes `table[key]` without metamethods and returns its type.
    @discardableResult
    public func rawGet(_ table: Int32, _ key: String) -> LuaType {
        let table = absolute(table)
        push(key)
        return LuaType(rawValue: lua_rawget(L, table)) ?? .nil
    }

    /// Pushes `table[index]` without metamethods and returns its type.
    @discardableResult
    public func rawGet(_ table: Int32, index: Int) -> LuaType {
        LuaType(rawValue: lua_rawgeti(L, table, lua_Integer(index))) ?? .nil
    }

    /// Pops a value and stores it as `table[key]` without metamethods.
    public func rawSet(_ table: Int32, _ key: String) {
        let table = absolute(table)
        push(key)
        insert(at: -2)
        lua_rawset(L, table)
    }

    /// Pops a value and stores it as `table[index]` without metamethods.
    public func rawSet(_ table: Int32, index: Int) {
        lua_rawseti(L, table, lua_Integer(index))
    }

    /// The raw length of the table or string at `index` (no `__len`).
    public func rawLength(at index: Int32) -> Int { Int(lua_rawlen(L, index)) }

    /// Advances a raw traversal of `table`: pops a key, pushes the next key and
    /// value and returns true, or pushes nothing and returns false at the end.
    /// The table must not gain keys during the traversal.
    public func next(_ table: Int32) -> Bool { lua_next(L, table) != 0 }

    /// Whether the two values are the same (no `__eq`).
    public func rawEqual(_ a: Int32, _ b: Int32) -> Bool { lua_rawequal(L, a, b) != 0 }

    /// Whether `value[key]` (metamethods included, in protected mode, so an
    /// error there is only a false) is the value at `other`, raw equality.
    public func field(_ key: String, of value: Int32, isSameAs other: Int32) -> Bool {
        let other = absolute(other)
        defer { pop() }
        return curator_pcall_getfield(L, value, key) == LUA_OK && rawEqual(-1, other)
    }

    /// Pushes the metatable of the value at `index` and returns true, or pushes
    /// nothing and returns false.
    public func pushMetatable(of index: Int32) -> Bool { lua_getmetatable(L, index) != 0 }

    // MARK: Running code

    /// Loads a chunk. On success the function is pushed; on failure nothing
    /// is pushed and the message is thrown as a `LuaError`.
    public func load(_ code: [UInt8], name: String, textOnly: Bool = true) throws(LuaError) {
        let terminated = code + [0] // never an empty buffer without a base address
        let status = terminated.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                curator_load_chunk(L, $0.baseAddress!, $0.count - 1, name, textOnly ? "t" : "bt")
            }
        }
        if status != LUA_OK {
            let message = string(at: -1) ?? "syntax error"
            pop()
            let kind: LuaError.Kind = status == CURATOR_LUA_INCOMPLETE ? .incomplete
                : status == LUA_ERRMEM ? .memory : .syntax
            throw LuaError(kind, message)
        }
    }

    /// Calls the function below `arguments` values in protected mode. With
    /// `traceback`, string errors get a stack traceback appended. On failure
    /// the error is popped and thrown; on success `results` values are pushed
    /// (`LUA_MULTRET` for all).
    public func call(arguments: Int32, results: Int32, traceback: Bool = false) throws(LuaError) {
        let status = traceback ? curator_pcall_traceback(L, arguments, results)
            : curator_pcall(L, arguments, results, 0)
        if status != LUA_OK {
            let message = describe(at: -1)
            pop()
            let kind: LuaError.Kind = status == LUA_ERRMEM ? .memory : .runtime
            throw LuaError(kind, message)
        }
    }
}
