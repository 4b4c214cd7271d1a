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
/// 1. the shipped plugins: `$CURATOR_HOME/plugins` when `CURATOR_HOME` is
///    set; otherwise the `plugins/` folder of the source checkout the
///    executable was built in (found by walking up from the executable to
///    the folder holding `Package.swift`); otherwise
///    `<prefix>/share/curator/plugins` next to an installed `<prefix>/bin/curator`;
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
        let fm = FileManager.default
        if let home = environment["CURATOR_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: expandTilde(home, environment: environment)).appendingPathComponent("plugins")
        }
        guard let executable else { return nil }
        var folder = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            if fm.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                let plugins = folder.appendingPathComponent("plugins")
                return fm.fileExists(atPath: plugins.path) ? plugins : nil
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        let installed = executable.resolvingSymlinksInPath().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("share/curator/plugins")
        return fm.fileExists(atPath: installed.path) ? installed : nil
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
        }
        return PluginReport(name: finalName, path: path, error: nil)
    }
}
