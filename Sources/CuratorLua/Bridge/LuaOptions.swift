/// The option table of a binding call, e.g. `{count=150, seed=1}` in
/// `a:select{...}`. Fields are read raw (no metamethods) and checked; messages
/// name the binding and the option: `album:select: count must be a positive
/// integer (got -3)`, `album:select: unknown option 'cout' (did you mean 'count'?)`.
public struct LuaOptions {
    /// The call the options belong to (for its stack and name).
    public let call: LuaCall
    /// The table's stack index, nil when no table was passed.
    public let table: Int32?

    var lua: LuaStack { call.lua }

    /// Rejects keys that are not strings or not in `allowed`.
    func checkKeys(allowed: [String]) throws {
        guard let table else { return }
        let lua = self.lua
        let top = lua.top
        defer { lua.top = top }
        guard lua.ensureSpace(4) else { throw call.failure("stack overflow reading options") }
        lua.pushNil()
        while lua.next(table) {
            lua.pop() // the value
            guard lua.type(at: -1) == .string, let key = lua.string(at: -1) else {
                throw call.failure("option keys must be strings (got \(LuaCall.shown(lua, -1)))")
            }
            if !allowed.contains(key) {
                var message = "unknown option '\(key)'"
                if let guess = DidYouMean.suggestion(for: key, among: allowed) { message += " (did you mean '\(guess)'?)" }
                else { message += " (options: \(allowed.sorted().joined(separator: ", ")))" }
                throw call.failure(message)
            }
        }
    }

    /// Pushes the field's value and returns its type; the caller pops.
    private func push(_ key: String) -> LuaType {
        guard let table else { lua.pushNil(); return .nil }
        return lua.rawGet(table, key)
    }

    private func mismatch(_ key: String, _ expectation: String) -> LuaBindingError {
        call.failure("\(key) must be \(expectation) (got \(LuaCall.shown(lua, -1)))")
    }

    /// Whether the option is present (not nil).
    public func has(_ key: String) -> Bool {
        defer { lua.pop() }
        return push(key) != .nil
    }

    /// The option as a string, nil when absent.
    public func string(_ key: String) throws -> String? {
        try read(key, as: .string, "a string") { lua.string(at: -1) }
    }

    /// The option as exact bytes (paths), nil when absent.
    public func bytes(_ key: String) throws -> [UInt8]? {
        try read(key, as: .string, "a string") { lua.bytes(at: -1) }
    }

    /// The option as an integer (exact-valued floats accepted), nil when absent.
    public func integer(_ key: String) throws -> Int? {
        try integer(key, "an integer") { _ in true }
    }

    /// The option as an integer ≥ 1, nil when absent.
    public func positiveInteger(_ key: String) throws -> Int? {
        try integer(key, "a positive integer") { $0 >= 1 }
    }

    /// The option as an integer that passes `valid`, nil when absent; any
    /// other value is refused as not being `expected`.
    private func integer(_ key: String, _ expected: String, _ valid: (Int) -> Bool) throws -> Int? {
        try read(key, as: .number, expected) {
            guard let value = lua.integer(at: -1).map({ Int($0) }), valid(value) else { throw mismatch(key, expected) }
            return value
        }
    }

    /// The option as a finite number, nil when absent.
    public func number(_ key: String) throws -> Double? {
        try read(key, as: .number, "a number") {
            guard let value = lua.number(at: -1), value.isFinite else { throw mismatch(key, "a finite number") }
            return value
        }
    }

    /// The option as a boolean, nil when absent.
    public func boolean(_ key: String) throws -> Bool? {
        try read(key, as: .boolean, "a boolean") { lua.truthy(at: -1) }
    }

    /// The one reading of a typed option: nil when absent; a value of
    /// another Lua type than `type` is refused as not being `expected`;
    /// otherwise what `value` makes of it (it may refuse it too). The value
    /// is on the stack while `value` runs and popped after.
    private func read<T>(_ key: String, as type: LuaType, _ expected: String, _ value: () throws -> T?) throws -> T? {
        defer { lua.pop() }
        let found = push(key)
        if found == .nil { return nil }
        guard found == type else { throw mismatch(key, expected) }
        return try value()
    }

    /// The option as one of `choices`, nil when absent.
    public func choice(_ key: String, _ choices: [String]) throws -> String? {
        guard let value = try string(key) else { return nil }
        guard choices.contains(value) else {
            var message = "\(key) must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")) (got \"\(value)\")"
            if let guess = DidYouMean.suggestion(for: value, among: choices) { message += "; did you mean \"\(guess)\"?" }
            throw call.failure(message)
        }
        return value
    }

    /// Pushes the option when it is a function and returns its absolute
    /// index (the caller pops it); pushes nothing and returns nil when absent.
    public func pushFunction(_ key: String) throws -> Int32? {
        switch push(key) {
        case .nil: lua.pop(); return nil
        case .function: return lua.absolute(-1)
        default:
            defer { lua.pop() }
            throw mismatch(key, "a function")
        }
    }

    /// Pushes the option's raw value (whatever its type) and returns its type;
    /// the caller pops it.
    public func pushValue(_ key: String) -> LuaType { push(key) }
}
