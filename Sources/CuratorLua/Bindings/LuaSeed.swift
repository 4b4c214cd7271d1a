import Foundation

/// How seeds cross the Lua boundary: Lua integers are signed, seeds are
/// UInt64, so seeds above `math.maxinteger` travel as decimal strings.
enum LuaSeed {
    /// Pushes a UInt64 seed: a Lua integer when it fits, else its decimal string.
    static func push(_ seed: UInt64, on lua: LuaStack) {
        if seed <= UInt64(Int64.max) { lua.push(Int64(seed)) } else { lua.push(String(seed)) }
    }

    /// Reads option `seed`: a non-negative integer or a decimal string of one up to 2^64-1.
    static func read(_ options: LuaOptions) throws -> UInt64? {
        let lua = options.call.lua
        let type = options.pushValue("seed")
        defer { lua.pop() }
        let bad = options.call.failure("seed must be a non-negative integer or a decimal string of one up to 18446744073709551615 (got \(LuaCall.shown(lua, -1)))")
        switch type {
        case .nil: return nil
        case .number:
            guard let value = lua.integer(at: -1), value >= 0 else { throw bad }
            return UInt64(value)
        case .string:
            guard let text = lua.string(at: -1), let value = UInt64(text) else { throw bad }
            return value
        default: throw bad
        }
    }
}
