import CLuaShims
import Foundation

/// What happened to one plugin at start-up.
public struct PluginReport: Sendable, Equatable {
    /// The plugin's name: its `name` field, else its file (or folder) name.
    public let name: String
    /// The file that was run (`x.lua` or `x/init.lua`).
    public let path: String
    /// Lua's message when loading failed (`file:line: message`), nil when it loaded.
    public let error: String?
}

/// Where plugins come from.
///
/// Folders are searched in this order, and a plugin found later replaces
/// one of the same name found earlier (so users can override shipped ones):
/// 1. the shipped plugins: the `plugins/` folder of the installation (see
///    `Installation`: `$CURATOR_HOME`, the source checkout, `<prefix>/share/curator`
///    beside an installed binary, or the folder of a copied one);
/// 2. each folder of `$CURATOR_PLUGIN_PATH` (colon-separated);
/// 3. `$XDG_CONFIG_HOME/curator/plugins` (default `~/.config/curator/plugins`).
///
/// In a folder, a plugin is a `name.lua` file or a `name/init.lua` folder;
/// names starting with `.` or `_` are skipped; they load in name order.
public enum PluginLocations {
    /// The folders to search, in order, for this process.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment,
                                executable: URL? = Bundle.main.executableURL) -> [URL] {
        var folders: [URL] = []
        if let shipped = shippedFolder(environment: environment, executable: executable) { folders.append(shipped) }
        if let path = environment["CURATOR_PLUGIN_PATH"] {
            for entry in path.split(separator: ":") where !entry.isEmpty {
                folders.append(URL(fileURLWithPath: expandTilde(String(entry), environment: environment)))
            }
        }
        folders.append(userFolder(environment: environment))
        return folders
    }

    /// The shipped plugins folder (see the type's documentation), if one exists.
    public static func shippedFolder(environment: [String: String], executable: URL?) -> URL? {
        guard let folder = Installation.folder(environment: environment, executable: executable) else { return nil }
        let plugins = folder.appendingPathComponent("plugins")
        if environment["CURATOR_HOME"]?.isEmpty == false { return plugins }
        return FileManager.default.fileExists(atPath: plugins.path) ? plugins : nil
    }

    /// `$XDG_CONFIG_HOME/curator/plugins`, default `~/.config/curator/plugins`.
    public static func userFolder(environment: [String: String]) -> URL {
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") {
            return URL(fileURLWithPath: config).appendingPathComponent("curator/plugins")
        }
        return URL(fileURLWithPath: home(environment)).appendingPathComponent(".config/curator/plugins")
    }

    static func home(_ environment: [String: String]) -> String {
        environment["HOME"] ?? NSHomeDirectory()
    }

    static func expandTilde(_ path: String, environment: [String: String]) -> String {
        if path == "~" { return home(environment) }
        if path.hasPrefix("~/") { return home(environment) + path.dropFirst() }
        return path
    }

    /// The plugins in `folders`: (name, file) in load order, later folders
    /// replacing earlier plugins of the same name.
    public static func plugins(in folders: [URL]) -> [(name: String, file: URL)] {
        let fm = FileManager.default
        var found: [(name: String, file: URL)] = []
        for folder in folders {
            guard let entries = try? fm.contentsOfDirectory(atPath: folder.path) else { continue }
            for entry in entries.sorted() where !entry.hasPrefix(".") && !entry.hasPrefix("_") {
                let url = folder.appendingPathComponent(entry)
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
                let plugin: (String, URL)?
                if isDirectory.boolValue {
                    let initFile = url.appendingPathComponent("init.lua")
                    plugin = fm.fileExists(atPath: initFile.path) ? (entry, initFile) : nil
                } else if entry.hasSuffix(".lua") {
                    plugin = (String(entry.dropLast(4)), url)
                } else {
                    plugin = nil
                }
                guard let (name, file) = plugin else { continue }
                if let i = found.firstIndex(where: { $0.name == name }) { found.remove(at: i) }
                found.append((name, file))
            }
        }
        return found
    }
}

extension CuratorHost {
    /// Loads every plugin in `folders` (see `PluginLocations`), each in a
    /// protected call with its own environment (reads fall through to the
    /// globals; its globals stay its own). A plugin that fails is reported
    /// and the rest still load. Each loaded plugin's returned table
    /// (`{name=, description=, ...}`) is added to `curator.plugins`, with
    /// `name` (default: file name) and `path` filled in.
    @discardableResult
    public func loadPlugins(from folders: [URL]) -> [PluginReport] {
        var reports: [PluginReport] = []
        for (name, file) in PluginLocations.plugins(in: folders) {
            reports.append(loadPlugin(name: name, file: file))
        }
        pluginReports += reports
        return reports
    }

    private func loadPlugin(name: String, file: URL) -> PluginReport {
        let lua = state.stack
        let top = lua.top
        defer { lua.top = top; loadingPlugin = nil }
        loadingPlugin = name
        let path = file.path
        guard let data = FileManager.default.contents(atPath: path) else {
            return PluginReport(name: name, path: path, error: "\(path): cannot read the file")
        }
        do {
            try lua.load(Array(data), name: "@" + path)
            // Its own environment: a table whose misses fall through to the globals.
            lua.newTable()
            lua.newTable()
            lua.pushGlobals()
            lua.rawSet(-2, "__index")
            lua_setmetatable(lua.L, -2)
            _ = lua_setupvalue(lua.L, -2, 1)
            lua.push(name)
            lua.push(path)
            try lua.call(arguments: 2, results: 1, traceback: true)
        } catch {
            let message = error.message.split(separator: "\n").first.map(String.init) ?? error.message
            return PluginReport(name: name, path: path, error: message)
        }

        // The result: metadata, or nothing.
        let result = lua.absolute(-1)
        switch lua.type(at: result) {
        case .nil: lua.pop(); lua.newTable()
        case .table: break
        default:
            return PluginReport(name: name, path: path,
                                error: "\(path): a plugin must return a table {name=, description=, ...} or nothing (got \(lua.typeName(at: result)))")
        }
        var finalName = name
        switch lua.rawGet(result, "name") {
        case .nil: break
        case .string: finalName = lua.string(at: -1) ?? name
        default:
            return PluginReport(name: name, path: path, error: "\(path): the plugin's name must be a string")
        }
        lua.pop()
        if lua.rawGet(result, "description") != .nil, lua.type(at: -1) != .string {
            return PluginReport(name: name, path: path, error: "\(path): the plugin's description must be a string")
        }
        lua.pop()

        if let problem = documentFunctions(of: result, plugin: finalName) {
            return PluginReport(name: name, path: path, error: "\(path): \(problem)")
        }

        // curator.plugins[#+1] = shallow copy of the metadata + name + path
        lua.newTable()
        let entry = lua.absolute(-1)
        lua.pushNil()
        while lua.next(result) {
            lua.pushValue(at: -2)
            lua.insert(at: -2)
            if lua.type(at: -2) == .string { lua_rawset(lua.L, entry) } else { lua.pop(2) }
        }
        lua.push(finalName); lua.rawSet(entry, "name")
        lua.push(path); lua.rawSet(entry, "path")
        lua.pushGlobals()
        if lua.rawGet(-1, "curator") == .table, lua.rawGet(-1, "plugins") == .table {
            // Replace an earlier entry of the same name (a reload).
            let plugins = lua.absolute(-1)
            var slot = lua.rawLength(at: plugins) + 1
            for i in 1..<slot {
                let mark = lua.top
                if lua.rawGet(plugins, index: i) == .table, lua.rawGet(-1, "name") == .string, lua.string(at: -1) == finalName {
                    slot = i
                }
                lua.top = mark
            }
            lua.pushValue(at: entry)
            lua.rawSet(plugins, index: slot)
            // Also by name: `curator.plugins.quality`.
            lua.pushValue(at: entry)
            lua.rawSet(plugins, finalName)
        }
        return PluginReport(name: finalName, path: path, error: nil)
    }

    /// Documents the plugin's functions for `help()` from its `help` table:
    /// `help = { flag = "quality.flag(album [, opts]) -> list\nWhat it does." }`,
    /// the first line the signature, the rest the summary. Returns what is
    /// wrong with the table, or nil.
    private func documentFunctions(of table: Int32, plugin: String) -> String? {
        let lua = state.stack
        let top = lua.top
        defer { lua.top = top }
        switch lua.rawGet(table, "help") {
        case .nil: return nil
        case .table: break
        default: return "the plugin's help must be a table {function_name = \"signature\\nsummary\", ...}"
        }
        let docs = lua.absolute(-1)
        var entries: [(String, String)] = []
        lua.pushNil()
        while lua.next(docs) {
            guard lua.type(at: -2) == .string, lua.type(at: -1) == .string,
                  let key = lua.string(at: -2), let text = lua.string(at: -1) else {
                return "the plugin's help must map function names to strings"
            }
            entries.append((key, text))
            lua.pop()
        }
        for (key, text) in entries.sorted(by: { $0.0 < $1.0 }) {
            guard lua.rawGet(table, key) == .function else {
                return "help.\(key) documents a function the plugin does not have"
            }
            let lines = text.split(separator: "\n", maxSplits: 1).map(String.init)
            let qualified = "\(plugin).\(key)"
            state.catalog.add(function: BindingDoc(name: qualified, signature: lines.first ?? qualified,
                                                   summary: lines.count > 1 ? lines[1].trimmingCharacters(in: .whitespacesAndNewlines) : "",
                                                   kind: .function, owner: nil, valueType: nil))
            nameDocumentedFunction(at: -1, qualified)
            lua.pop()
        }
        return nil
    }
}
