import CLuaShims
import CuratorCore
import Foundation

/// A kind of Lua extension plugins and scripts register by name.
public enum ExtensionKind: String, CaseIterable, Sendable {
    /// `curator.register_sampler(name, fn [, {description=}])`: a custom
    /// selection method, run by the Monte Carlo harness like FPS and K-Means.
    case sampler
    /// `curator.register_score(name, fn [, {description=}])`: a per-image score.
    case score
    /// `curator.register_exporter(name, spec)`: an export format in the style
    /// of darktable storages; `spec` is `{initialize=, store=, finalize=,
    /// description=, progress=}` (only `store` is required) or the `store`
    /// function. `progress` says which phase reports progress: `"store"`
    /// (default: the host's loop, one step per item) or `"initialize"` (the
    /// exporter reports its own long work through `ctx.progress`).
    case exporter

    /// The registry key of the Lua table holding this kind's entries.
    var registryKey: String { "curator.\(rawValue)s" }

    /// Names that cannot be registered (built in).
    var reserved: [String] {
        switch self {
        case .sampler: return BuiltInSampler.names
        case .score: return NeighborScore.allCases.map(\.rawValue)
        case .exporter: return []
        }
    }
}

/// The registries of samplers, scores and exporters. Entries live in Lua
/// registry tables (`registry["curator.samplers"][name]`), each a table
/// `{name=, fn=, description=, plugin=}` (exporters: `{name=, store=, ...}`
/// with the spec's other fields kept), so the selection and export code can
/// call them with `pushExtension`.
enum Extensions {
    /// Defines `curator.register_*` and the listing functions `curator.samplers()` etc.
    static func install(in host: CuratorHost) {
        let state = host.state
        let lua = state.stack
        for kind in ExtensionKind.allCases {
            lua.newTable()
            lua_setfield(lua.L, curator_registryindex(), kind.registryKey)
        }

        for kind in ExtensionKind.allCases {
            let noun = kind.rawValue
            let signature = kind == .exporter
                ? "curator.register_exporter(name, {initialize=fn, store=fn, finalize=fn, description=, progress=\"store\"|\"initialize\"} | store_fn)"
                : "curator.register_\(noun)(name, fn [, {description=}])"
            let summary: String
            switch kind {
            case .sampler: summary = "Registers a selection method usable as a:select{method=name}"
            case .score: summary = "Registers a per-image score function"
            case .exporter: summary = "Registers an export format usable by run:export"
            }
            state.defineFunction("curator.register_\(noun)", signature: signature, summary: summary) { [unowned host] call in
                try register(kind, call, plugin: host.loadingPlugin)
                return 0
            }
            state.defineFunction(
                "curator.\(noun)s", signature: "curator.\(noun)s() -> {{name=, description=, plugin=}, ...}",
                summary: "Lists the registered \(noun)s, sorted by name"
            ) { call in
                try list(kind, call)
                return 1
            }
        }
    }

    /// `[A-Za-z_][A-Za-z0-9_.-]*`, checked by hand: building a regular
    /// expression starts ICU, a millisecond of start-up when the shipped
    /// plugins register at launch.
    static func isExtensionName(_ name: String) -> Bool {
        var bytes = name.utf8.makeIterator()
        guard let first = bytes.next(), first == UInt8(ascii: "_") || isLetter(first) else { return false }
        while let byte = bytes.next() {
            guard isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") else { return false }
        }
        return true
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func register(_ kind: ExtensionKind, _ call: LuaCall, plugin: String?) throws {
        let lua = call.lua
        let name = try call.string(1)
        guard isExtensionName(name) else {
            throw call.failure("name must be a word of letters, digits, '_', '-' or '.' starting with a letter (got \(call.shown(1)))")
        }
        if kind.reserved.contains(name) { throw call.failure("'\(name)' is built in and cannot be replaced") }

        lua.newTable()
        let entry = lua.absolute(-1)
        lua.push(name); lua.rawSet(entry, "name")
        if let plugin { lua.push(plugin); lua.rawSet(entry, "plugin") }

        if kind == .exporter {
            switch call.type(2) {
            case .function:
                lua.pushValue(at: call.index(2)); lua.rawSet(entry, "store")
            case .table:
                let spec = call.index(2)
                if lua.rawGet(spec, "store") != .function {
                    let got = LuaCall.shown(lua, -1)
                    lua.pop()
                    throw call.failure("spec.store must be a function (got \(got))")
                }
                lua.pop()
                for optional in ["initialize", "finalize"] {
                    let type = lua.rawGet(spec, optional)
                    let got = LuaCall.shown(lua, -1)
                    lua.pop()
                    if type != .nil && type != .function { throw call.failure("spec.\(optional) must be a function (got \(got))") }
                }
                let progress = lua.rawGet(spec, "progress")
                let phase = progress == .string ? lua.string(at: -1) : nil
                let shownProgress = LuaCall.shown(lua, -1)
                lua.pop()
                if progress != .nil && phase != "store" && phase != "initialize" {
                    throw call.failure("spec.progress must be \"store\" or \"initialize\" (got \(shownProgress))")
                }
                // Keep every field of the spec (format options, extensions…).
                lua.pushNil()
                while lua.next(spec) {
                    lua.pushValue(at: -2)
                    lua.insert(at: -2)
                    if lua.type(at: -2) == .string, let key = lua.string(at: -2), key != "name" {
                        lua_rawset(lua.L, entry)
                    } else {
                        lua.pop(2)
                    }
                }
                if lua.rawGet(entry, "description") != .nil, lua.type(at: -1) != .string {
                    lua.pop()
                    throw call.failure("spec.description must be a string")
                }
                lua.pop()
            default:
                throw call.typeError(2, expected: "table or function")
            }
        } else {
            let fn = try call.function(2)
            lua.pushValue(at: fn); lua.rawSet(entry, "fn")
            let options = try call.options(3, allowed: ["description"])
            if let description = try options.string("description") { lua.push(description); lua.rawSet(entry, "description") }
        }

        lua_getfield(lua.L, curator_registryindex(), kind.registryKey)
        lua.pushValue(at: entry)
        lua.rawSet(-2, name)
        lua.pop(2)
    }

    private static func list(_ kind: ExtensionKind, _ call: LuaCall) throws {
        let lua = call.lua
        var names = registeredNames(kind, lua)
        names.sort()
        lua.newTable(array: names.count)
        lua_getfield(lua.L, curator_registryindex(), kind.registryKey)
        for (i, name) in names.enumerated() {
            lua.newTable()
            lua.push(name); lua.rawSet(-2, "name")
            lua.rawGet(-2, name)
            for field in ["description", "plugin"] {
                lua.rawGet(-1, field)
                lua.rawSet(-3, field)
            }
            lua.pop()
            lua.rawSet(-3, index: i + 1)
        }
        lua.pop()
    }

    /// The names registered for `kind`, unsorted.
    static func registeredNames(_ kind: ExtensionKind, _ lua: LuaStack) -> [String] {
        var names: [String] = []
        lua_getfield(lua.L, curator_registryindex(), kind.registryKey)
        lua.pushNil()
        while lua.next(-2) {
            lua.pop()
            if let name = lua.string(at: -1) { names.append(name) }
        }
        lua.pop()
        return names
    }
}
