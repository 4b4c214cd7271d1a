import CLuaShims

extension LuaState {
    /// Gives strings, numbers and booleans a `__call` that raises Lua's own
    /// "attempt to call a string value (method 'path')" and, when the value
    /// was read as a method from a host object that documents a field of
    /// that name, says which field to read: `img:path()` meant `img.path`.
    /// Host objects held in fields say the same through their own `__call`
    /// (HostType); this covers the fields that hold plain values, where Lua
    /// raises before any binding runs.
    func installScalarCallMistakes() {
        let lua = stack
        let id = register(name: "call") { [unowned(unsafe) self] lua in
            throw LuaBindingError(self.scalarCallMistake(lua))
        }
        let samples: [(LuaStack) -> Void] = [{ $0.push("") }, { $0.push(0) }, { $0.push(false) }]
        for pushSample in samples {
            pushSample(lua)
            // Strings already have one (its __index is the string library).
            if !lua.pushMetatable(of: -1) { lua_createtable(L, 0, 1) }
            curator_push_host_function(L, hostDispatch, lua_Integer(id), 0)
            lua.rawSet(-2, "__call")
            lua_setmetatable(L, -2)
            lua.pop()
        }
    }

    /// The message for a call of the value at 1 (its arguments after it).
    private func scalarCallMistake(_ lua: LuaStack) -> String {
        var message = "attempt to call a \(lua.typeName(at: 1)) value"
        var frame = lua_Debug()
        // Level 0 is this call; its name is the one Lua's message would give.
        guard lua_getstack(lua.L, 0, &frame) != 0, lua_getinfo(lua.L, "n", &frame) != 0,
              let kindPointer = frame.namewhat, let namePointer = frame.name else { return message }
        let kind = String(cString: kindPointer), name = String(cString: namePointer)
        guard !kind.isEmpty else { return message }
        message += " (\(kind) '\(name)')"
        if kind == "method", lua.top >= 2, let owner = hostType(at: 2, in: lua),
           catalog.type(named: owner.name)?.properties.contains(where: { $0.member == name }) == true {
            message += ": " + fieldsCalledAsMethods([name], of: owner)
        }
        return message
    }
}
