import Foundation

/// The documentation of one Lua-visible binding: what `help()` prints, what
/// tab completion offers and what the README's API reference lists.
public struct BindingDoc: Sendable, Equatable {
    /// How the binding is reached from Lua.
    public enum Kind: Sendable, Equatable {
        /// A function in a table, e.g. `curator.open`.
        case function
        /// A method of a host type, called with `:`, e.g. `album:get`.
        case method
        /// A property of a host type, read with `.` (and assigned when writable).
        case property(writable: Bool)
    }

    /// The name as users write it in `help("…")`: `curator.open`,
    /// `album:get`, `image.width`.
    public let name: String
    /// How it is called, e.g. `a:get(path_or_id) -> Image|nil`.
    public let signature: String
    /// One line saying what it does.
    public let summary: String
    /// Function, method or property.
    public let kind: Kind
    /// The host type it belongs to (`Album`), nil for functions.
    public let owner: String?
    /// For properties (and functions that return a host object): the Lua type
    /// of the value, e.g. `integer` or `ImageSet`. Completion follows host
    /// types statically through it, never running a getter.
    public let valueType: String?

    /// The last component: `open`, `get`, `width`.
    public var member: String {
        if let i = name.lastIndex(where: { $0 == "." || $0 == ":" }) { return String(name[name.index(after: i)...]) }
        return name
    }
}

/// The documentation of a host type: its one-line summary, methods and properties.
public struct TypeDoc: Sendable {
    /// The metatable's `__name`, e.g. `Album`.
    public let name: String
    /// The lower-case prefix binding names use, e.g. `album` in `album:get`.
    public let prefix: String
    /// One line saying what an object of this type is.
    public let summary: String
    /// Methods in registration order.
    public internal(set) var methods: [BindingDoc] = []
    /// Properties in registration order.
    public internal(set) var properties: [BindingDoc] = []
    /// Notes on operators the type supports, e.g. `#a` and `a[i]`.
    public internal(set) var operators: [String] = []
    /// The host type of `obj[i]` when its elements are host objects (an
    /// Album's are `Image`s), so completion can follow `a[2].` statically.
    public internal(set) var elementType: String?
}

/// Every binding the host registers, with its documentation. Filled as
/// bindings are defined; read by `help()`, tab completion and the README's
/// API reference (`markdownReference()`).
public struct BindingCatalog: Sendable {
    /// Functions (`curator.open`, `help`) in registration order.
    public private(set) var functions: [BindingDoc] = []
    /// Host types in registration order.
    public private(set) var types: [TypeDoc] = []

    /// Creates an empty catalog.
    public init() {}

    mutating func add(function doc: BindingDoc) {
        functions.removeAll { $0.name == doc.name }
        functions.append(doc)
    }

    mutating func add(type doc: TypeDoc) {
        types.removeAll { $0.name == doc.name }
        types.append(doc)
    }

    mutating func add(member doc: BindingDoc, to typeName: String) {
        guard let i = types.firstIndex(where: { $0.name == typeName }) else { return }
        switch doc.kind {
        case .method:
            types[i].methods.removeAll { $0.name == doc.name }
            types[i].methods.append(doc)
        case .property:
            types[i].properties.removeAll { $0.name == doc.name }
            types[i].properties.append(doc)
        case .function:
            break
        }
    }

    mutating func add(operator note: String, to typeName: String) {
        guard let i = types.firstIndex(where: { $0.name == typeName }) else { return }
        types[i].operators.append(note)
    }

    mutating func set(elementType: String?, of typeName: String) {
        guard let i = types.firstIndex(where: { $0.name == typeName }) else { return }
        types[i].elementType = elementType
    }

    /// The type called `name` (`Album`), also found by its prefix (`album`).
    public func type(named name: String) -> TypeDoc? {
        types.first { $0.name == name } ?? types.first { $0.prefix == name }
    }

    /// The binding called `name`: `curator.open`, `album:get`, `image.width`;
    /// `album.get` and `album:width` find the method and property too.
    public func binding(named name: String) -> BindingDoc? {
        if let f = functions.first(where: { $0.name == name }) { return f }
        guard let i = name.lastIndex(where: { $0 == "." || $0 == ":" }) else { return nil }
        let owner = String(name[..<i])
        let member = String(name[name.index(after: i)...])
        guard let type = type(named: owner) else { return nil }
        return type.methods.first { $0.member == member } ?? type.properties.first { $0.member == member }
    }

    /// Every name `help("…")` understands, for "did you mean" suggestions.
    public var allNames: [String] {
        functions.map(\.name) + types.flatMap { [$0.name] + $0.methods.map(\.name) + $0.properties.map(\.name) }
    }

    /// The API reference as Markdown: functions, then each type's operators,
    /// properties and methods, each with its signature and summary.
    public func markdownReference() -> String {
        var out = "## Functions\n\n"
        for f in functions {
            out += "- `\(f.signature)` — \(f.summary)\n"
        }
        for type in types {
            out += "\n## \(type.name)\n\n\(type.summary)\n\n"
            for op in type.operators {
                let parts = op.components(separatedBy: " — ")
                out += parts.count > 1 ? "- `\(parts[0])` — \(parts.dropFirst().joined(separator: " — "))\n" : "- `\(op)`\n"
            }
            for p in type.properties {
                let access: String
                if case .property(writable: true) = p.kind { access = "read/write" } else { access = "read-only" }
                out += "- `\(p.signature)` (\(access)) — \(p.summary)\n"
            }
            for m in type.methods { out += "- `\(m.signature)` — \(m.summary)\n" }
        }
        return out
    }
}
