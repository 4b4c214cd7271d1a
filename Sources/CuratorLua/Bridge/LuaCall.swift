import CLuaShims

/// The arguments of one host binding call, read with types checked.
///
/// Arguments are numbered as the user sees them: for a method `a:get(x)`,
/// `x` is argument #1 (`self` is not counted), as in Lua's own messages.
/// Every reader throws a `LuaBindingError` phrased for the user and named
/// after the binding:
///
///     album:get: bad argument #1 (string or integer expected, got table)
///     album:select: count must be a positive integer (got -3)
///
/// Conventions for bindings: programmer errors (wrong types, out-of-range
/// values, stale objects) raise; expected failures (a missing file, a folder
/// that is not an album) return `nil, message`.
public struct LuaCall {
    /// The stack of the calling thread.
    public let lua: LuaStack
    /// The binding's Lua-visible name, e.g. `album:get`.
    public let name: String
    /// The stack index of argument #1.
    public let base: Int32
    /// Set for property assignments: the value is argument #1 and messages
    /// read `image.excluded: boolean expected, got string`.
    public let isAssignment: Bool

    /// How many arguments were passed (not counting `self`), fixed when the
    /// call began: values the binding pushes later are not arguments.
    public let count: Int

    /// Describes a call whose argument #1 is at stack index `base`.
    public init(_ lua: LuaStack, name: String, base: Int32, isAssignment: Bool = false) {
        self.lua = lua
        self.name = name
        self.base = base
        self.isAssignment = isAssignment
        count = max(0, Int(lua.top - base + 1))
    }

    /// The stack index of argument `n`.
    public func index(_ n: Int) -> Int32 { base + Int32(n) - 1 }

    /// The type of argument `n` (`.none` past the end).
    public func type(_ n: Int) -> LuaType { n >= 1 && n <= count ? lua.type(at: index(n)) : .none }

    /// Whether argument `n` is nil or absent.
    public func isNil(_ n: Int) -> Bool { n < 1 || n > count || lua.isNoneOrNil(index(n)) }

    // MARK: Errors

    /// `name: bad argument #n (detail)`.
    public func badArgument(_ n: Int, _ detail: String) -> LuaBindingError {
        if isAssignment { return LuaBindingError("\(name): \(detail)") }
        return LuaBindingError("\(name): bad argument #\(n) (\(detail))")
    }

    /// `name: bad argument #n (expected expected, got <type>)`.
    public func typeError(_ n: Int, expected: String) -> LuaBindingError {
        let got = type(n) == .none ? "no value" : lua.typeName(at: index(n))
        return badArgument(n, "\(expected) expected, got \(got)")
    }

    /// `name: message`, for failed checks that are not about one argument's type.
    public func failure(_ message: String) -> LuaBindingError {
        LuaBindingError("\(name): \(message)")
    }

    /// The value at argument `n` for messages: numbers and short strings as
    /// written, other values by type name.
    public func shown(_ n: Int) -> String { n >= 1 && n <= count ? LuaCall.shown(lua, index(n)) : "no value" }

    static func shown(_ lua: LuaStack, _ index: Int32) -> String {
        switch lua.type(at: index) {
        case .number: return lua.describe(at: index)
        case .string:
            let s = lua.string(at: index) ?? ""
            return s.count <= 40 ? "\"\(s)\"" : "\"\(s.prefix(37))...\""
        case .boolean: return lua.truthy(at: index) ? "true" : "false"
        case .none: return "no value"
        default: return lua.typeName(at: index)
        }
    }

    // MARK: Strings

    /// Argument `n` as a string (numbers are not accepted).
    public func string(_ n: Int) throws -> String {
        guard type(n) == .string, let s = lua.string(at: index(n)) else { throw typeError(n, expected: "string") }
        return s
    }

    /// Argument `n` as a string's exact bytes (file names pass through unchanged).
    public func bytes(_ n: Int) throws -> [UInt8] {
        guard type(n) == .string, let b = lua.bytes(at: index(n)) else { throw typeError(n, expected: "string") }
        return b
    }

    /// Argument `n` as a string, or nil when it is nil or absent.
    public func optionalString(_ n: Int) throws -> String? {
        isNil(n) ? nil : try string(n)
    }

    // MARK: Numbers

    /// Argument `n` as an integer: a Lua integer or a float with an exact
    /// integer value; NaN, infinities, fractions and out-of-range floats are errors.
    public func integer(_ n: Int) throws -> Int {
        let i = index(n)
        guard type(n) == .number else { throw typeError(n, expected: "integer") }
        guard let value = lua.integer(at: i) else { throw badArgument(n, "integer expected, got \(shown(n))") }
        return Int(value)
    }

    /// Argument `n` as an integer, or nil when it is nil or absent.
    public func optionalInteger(_ n: Int) throws -> Int? {
        isNil(n) ? nil : try integer(n)
    }

    /// Argument `n` as an integer ≥ 1; `what` names it in the message
    /// (`count must be a positive integer (got -3)`).
    public func positiveInteger(_ n: Int, _ what: String) throws -> Int {
        let value = try integer(n)
        guard value >= 1 else { throw failure("\(what) must be a positive integer (got \(shown(n)))") }
        return value
    }

    /// Argument `n` as an integer in `range`; `what` names it in the message.
    public func integer(_ n: Int, _ what: String, in range: ClosedRange<Int>) throws -> Int {
        let value = try integer(n)
        guard range.contains(value) else {
            throw failure("\(what) must be an integer from \(range.lowerBound) to \(range.upperBound) (got \(shown(n)))")
        }
        return value
    }

    /// Argument `n` as a number (integer or float); with `finite`, NaN and
    /// infinities are errors.
    public func number(_ n: Int, finite: Bool = true) throws -> Double {
        guard type(n) == .number, let value = lua.number(at: index(n)) else { throw typeError(n, expected: "number") }
        if finite && !value.isFinite { throw badArgument(n, "finite number expected, got \(shown(n))") }
        return value
    }

    /// Argument `n` as a finite number, or nil when it is nil or absent.
    public func optionalNumber(_ n: Int) throws -> Double? {
        isNil(n) ? nil : try number(n)
    }

    /// Argument `n` as a finite number in `range`; `what` names it in the message.
    public func number(_ n: Int, _ what: String, in range: ClosedRange<Double>) throws -> Double {
        let value = try number(n)
        guard range.contains(value) else {
            throw failure("\(what) must be a number from \(LuaStack.format(number: range.lowerBound)) to \(LuaStack.format(number: range.upperBound)) (got \(shown(n)))")
        }
        return value
    }

    // MARK: Other types

    /// Argument `n` as a boolean (only `true` and `false`; not truthiness).
    public func boolean(_ n: Int) throws -> Bool {
        guard type(n) == .boolean else { throw typeError(n, expected: "boolean") }
        return lua.truthy(at: index(n))
    }

    /// Argument `n` as a boolean, or `defaultValue` when nil or absent.
    public func optionalBoolean(_ n: Int, default defaultValue: Bool) throws -> Bool {
        isNil(n) ? defaultValue : try boolean(n)
    }

    /// The stack index of argument `n`, which must be a table.
    public func table(_ n: Int) throws -> Int32 {
        guard type(n) == .table else { throw typeError(n, expected: "table") }
        return index(n)
    }

    /// The stack index of argument `n`, which must be a function.
    public func function(_ n: Int) throws -> Int32 {
        guard type(n) == .function else { throw typeError(n, expected: "function") }
        return index(n)
    }

    /// Argument `n` as a host object of `type`; another value (including an
    /// object of another host type) is a type error naming both.
    public func object<Object>(_ n: Int, _ type: HostType<Object>) throws -> Object {
        guard n >= 1, n <= count, let object = type.object(at: index(n), in: lua) else {
            if type.isFinalized(at: index(n), in: lua) { throw failure("\(type.name) object was already finalized") }
            throw typeError(n, expected: type.name)
        }
        return object
    }

    /// Argument `n` as a host object of `type`, or nil when it is nil or absent.
    public func optionalObject<Object>(_ n: Int, _ type: HostType<Object>) throws -> Object? {
        isNil(n) ? nil : try object(n, type)
    }

    /// Argument `n` as an option table (nil or absent gives an empty one).
    /// Keys not in `allowed` are errors with a "did you mean".
    public func options(_ n: Int, allowed: [String]) throws -> LuaOptions {
        if isNil(n) { return LuaOptions(call: self, table: nil) }
        let table = try self.table(n)
        let options = LuaOptions(call: self, table: table)
        try options.checkKeys(allowed: allowed)
        return options
    }
}
