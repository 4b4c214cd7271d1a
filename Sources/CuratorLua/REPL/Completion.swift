import CLuaShims

/// Tab completion for the REPL: globals, `t.` fields and `obj:` methods,
/// also after index expressions (`a[2].ca`, `t[1].x`) and inside an open
/// bracket (`a[ima`).
///
/// Tables are read raw (following `__index` tables, never functions); host
/// objects are completed from the binding catalog, and a property whose
/// documented type is a host type (`a.exclusions` is an `ImageSet`) or an
/// element of a type whose elements are host objects (`a[i]` is an `Image`,
/// whatever `i` is) is followed statically, so completing never runs a
/// getter, an `__index` or any other Lua code. A table is indexed only by
/// an integer literal (`t[1]`), read raw.
struct Completer {
    let state: LuaState

    private static let keywords = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function",
                                   "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return",
                                   "then", "true", "until", "while"]

    /// One step of a prefix expression: `.name` (or the first name), or `[expr]`.
    private enum Step {
        case field(String)
        case index(String)
    }

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

        // Inside an open bracket ("a[ima"): complete what follows it.
        if let open = word.lastIndex(of: "["), !word[open...].contains("]") {
            let prefix = String(word[...open])
            return candidates(for: String(word[word.index(after: open)...])).map { prefix + $0 }
        }

        guard let cut = word.lastIndex(where: { $0 == "." || $0 == ":" }) else {
            lua.pushGlobals()
            let names = tableKeys(at: -1, functionsOnly: false) + Completer.keywords
            return unique(names.filter { $0.hasPrefix(word) })
        }
        let base = String(word[..<cut])
        let separator = word[cut]
        let partial = String(word[word.index(after: cut)...])
        guard let path = Completer.steps(base), let target = resolve(path) else { return [] }

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

    /// Splits a prefix expression into steps: `a.b[2][k].c` is `a`, `.b`,
    /// `[2]`, `[k]`, `.c`. Nil for anything else (calls, nested brackets,
    /// a method call `:` in the middle, empty names).
    private static func steps(_ base: String) -> [Step]? {
        var steps: [Step] = []
        var rest = Substring(base)
        var expectName = true
        while !rest.isEmpty {
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                guard !steps.isEmpty, !inner.isEmpty, !inner.contains("[") else { return nil }
                steps.append(.index(inner.trimmingSpaces))
                rest = rest[rest.index(after: close)...]
                expectName = false
            } else if rest.first == "." && !expectName {
                rest = rest.dropFirst()
                expectName = true
            } else if expectName {
                let end = rest.firstIndex(where: { $0 == "." || $0 == "[" || $0 == "]" }) ?? rest.endIndex
                let name = String(rest[..<end])
                guard !name.isEmpty, !name.contains(":") else { return nil }
                steps.append(.field(name))
                rest = rest[end...]
                expectName = false
            } else {
                return nil
            }
        }
        return expectName || steps.isEmpty ? nil : steps
    }

    /// Walks `path` from the globals, leaving the value pushed.
    private func resolve(_ path: [Step]) -> Target? {
        let lua = state.stack
        lua.pushGlobals()
        var target = Target.value
        for step in path {
            switch (target, step) {
            case (.hostType(let name), .field(let member)):
                guard let next = propertyType(of: name, member) else { return nil }
                target = .hostType(next)
            case (.hostType(let name), .index):
                guard let next = elementType(of: name) else { return nil }
                target = .hostType(next)
            case (.value, _):
                switch (lua.type(at: -1), step) {
                case (.table, .field(let member)):
                    guard rawLookup(member) else { return nil }
                case (.table, .index(let expression)):
                    // Only a literal integer: anything else would need evaluating.
                    guard let i = Int(expression), lua.rawGet(-1, index: i) != .nil else { return nil }
                    lua.remove(at: -2)
                case (.userdata, _):
                    guard let type = state.hostType(at: -1, in: lua) else { return nil }
                    let next: String?
                    switch step {
                    case .field(let member): next = propertyType(of: type.name, member)
                    case .index: next = elementType(of: type.name)
                    }
                    guard let next else { return nil }
                    lua.pop()
                    target = .hostType(next)
                default:
                    return nil
                }
            }
        }
        return target
    }

    /// The host type of `obj[i]` for objects of type `typeName`, if registered.
    private func elementType(of typeName: String) -> String? {
        guard let element = state.catalog.type(named: typeName)?.elementType,
              state.catalog.type(named: element) != nil else { return nil }
        return element
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

private extension Substring {
    /// The text without leading and trailing spaces.
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
