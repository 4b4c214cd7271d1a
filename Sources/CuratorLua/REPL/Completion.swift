import CLuaShims

/// Tab completion for the REPL: globals, `t.` fields and `obj:` methods.
///
/// Tables are read raw (following `__index` tables, never functions); host
/// objects are completed from the binding catalog, and a property whose
/// documented type is a host type (`a.exclusions` is an `ImageSet`) is
/// followed statically, so completing never runs a getter or any Lua code.
struct Completer {
    let state: LuaState

    private static let keywords = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function",
                                   "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return",
                                   "then", "true", "until", "while"]

    /// What a prefix expression resolved to.
    private enum Target {
        /// A Lua value, pushed on the stack.
        case value
        /// A host type known only from the catalog (nothing pushed).
        case hostType(String)
    }

    /// The completions of `word` (the text readline gives: `a.exclusions:ad`),
    /// each the whole word completed, sorted.
    func candidates(for word: String) -> [String] {
        let lua = state.stack
        let top = lua.top
        defer { lua.top = top }
        guard lua.ensureSpace(20) else { return [] }

        guard let cut = word.lastIndex(where: { $0 == "." || $0 == ":" }) else {
            lua.pushGlobals()
            let names = tableKeys(at: -1, functionsOnly: false) + Completer.keywords
            return unique(names.filter { $0.hasPrefix(word) })
        }
        let base = String(word[..<cut])
        let separator = word[cut]
        let partial = String(word[word.index(after: cut)...])
        let path = base.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !path.contains(where: { $0.isEmpty || $0.contains(":") }) else { return [] }
        guard let target = resolve(path) else { return [] }

        var names: [String] = []
        switch target {
        case .hostType(let name):
            names = members(of: name, methods: separator == ":")
        case .value:
            switch lua.type(at: -1) {
            case .table:
                names = tableKeys(at: -1, functionsOnly: separator == ":")
            case .userdata:
                if let type = state.hostType(at: -1, in: lua) { names = members(of: type.name, methods: separator == ":") }
            case .string where separator == ":":
                lua.pushGlobals()
                lua.rawGet(-1, "string")
                names = tableKeys(at: -1, functionsOnly: true)
            default:
                break
            }
        }
        return unique(names.filter { $0.hasPrefix(partial) }.map { base + String(separator) + $0 })
    }

    /// Walks `path` from the globals, leaving the value pushed.
    private func resolve(_ path: [String]) -> Target? {
        let lua = state.stack
        lua.pushGlobals()
        var target = Target.value
        for component in path {
            switch target {
            case .hostType(let name):
                guard let next = propertyType(of: name, component) else { return nil }
                target = .hostType(next)
            case .value:
                switch lua.type(at: -1) {
                case .table:
                    guard rawLookup(component) else { return nil }
                case .userdata:
                    guard let type = state.hostType(at: -1, in: lua), let next = propertyType(of: type.name, component) else {
                        return nil
                    }
                    lua.pop()
                    target = .hostType(next)
                default:
                    return nil
                }
            }
        }
        return target
    }

    /// Replaces the table on top with `table[key]`, following `__index` tables.
    private func rawLookup(_ key: String) -> Bool {
        let lua = state.stack
        for _ in 0..<8 {
            if lua.rawGet(-1, key) != .nil {
                lua.remove(at: -2)
                return true
            }
            lua.pop()
            guard lua.pushMetatable(of: -1) else { return false }
            guard lua.rawGet(-1, "__index") == .table else { return false }
            lua.remove(at: -2) // metatable
            lua.remove(at: -2) // the table we came from
        }
        return false
    }

    /// The host type of property `member` of type `typeName`, if documented.
    private func propertyType(of typeName: String, _ member: String) -> String? {
        guard let type = state.catalog.type(named: typeName),
              let property = type.properties.first(where: { $0.member == member }),
              let valueType = property.valueType,
              state.catalog.type(named: valueType) != nil else { return nil }
        return valueType
    }

    private func members(of typeName: String, methods: Bool) -> [String] {
        guard let type = state.catalog.type(named: typeName) else { return [] }
        return methods ? type.methods.map(\.member) : type.properties.map(\.member) + type.methods.map(\.member)
    }

    /// Identifier keys of the table on top and of its `__index` tables.
    private func tableKeys(at index: Int32, functionsOnly: Bool) -> [String] {
        let lua = state.stack
        var names: [String] = []
        lua.pushValue(at: index)
        for _ in 0..<8 {
            let table = lua.absolute(-1)
            lua.pushNil()
            while lua.next(table) {
                if lua.type(at: -2) == .string, let key = lua.string(at: -2), Completer.isIdentifier(key),
                   !functionsOnly || lua.type(at: -1) == .function {
                    names.append(key)
                }
                lua.pop()
            }
            guard lua.pushMetatable(of: table), lua.rawGet(-1, "__index") == .table else { break }
            lua.remove(at: -2)
        }
        return names
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    private func unique(_ names: [String]) -> [String] {
        Array(Set(names)).sorted()
    }
}
