import CLuaShims
import CuratorCore
import Foundation

/// `r:export(dir, opts)`: the core's folder export (flat, kohya or
/// imagefolder), or a Lua exporter registered with `curator.register_exporter`
/// (`LuaExporter`); the options are read once, here, for both.
enum RunExportBinding {
    /// Every option `r:export` takes.
    private static let keys = ["layout", "repeats", "concept", "caption_ext", "concept_caption", "captions",
                               "dry_run", "into_album", "mode", "files", "exporter", "params", "progress"]
    /// The options of the folder layouts, which a custom exporter does not take.
    private static let folderKeys = ["layout", "repeats", "concept", "caption_ext", "concept_caption", "captions", "mode", "files"]
    /// The options of the kohya layout only.
    private static let kohyaKeys = ["repeats", "concept", "caption_ext", "concept_caption"]

    static func export(_ h: RunHandle, _ call: LuaCall, host: CuratorHost, types: CuratorTypes, runType: HostType<RunHandle>) throws {
        let dir = try call.string(1)
        // Read once; both kinds of exporter take their settings from here.
        let options = try call.options(2, allowed: keys)
        if let exporter = try options.string("exporter") {
            for key in folderKeys where options.has(key) {
                throw call.failure("\(key) does not apply to a custom exporter (exporter=\"\(exporter)\"); pass exporter settings in params={...}")
            }
            try options.checkKeys(allowed: ["dry_run", "exporter", "params", "progress"])
            try LuaExporter.export(exporter, h, call, options: options, dir: dir, host: host, types: types, runType: runType)
            return
        }
        if options.has("params") { throw call.failure("params only applies with exporter=name") }
        let export = try folderOptions(options, call)
        let report = try LuaProgress.withSink(call, options: options) { _, sink in
            try h.owner.album.export(h.run, to: dir, options: export, progress: sink)
        }
        push(report, owner: h.owner, types: types, on: call.lua)
    }

    /// The folder export's `ExportOptions`, checked (messages name the Lua option).
    private static func folderOptions(_ options: LuaOptions, _ call: LuaCall) throws -> ExportOptions {
        var export = ExportOptions(dryRun: try options.boolean("dry_run") ?? false,
                                   intoAlbum: try options.boolean("into_album") ?? false)
        export.mode = ExportMode(rawValue: try options.choice("mode", ExportMode.allCases.map(\.rawValue)) ?? "add") ?? .add
        let layout = try options.choice("layout", ["flat", "kohya", "imagefolder"]) ?? "flat"
        let lua = call.lua
        if options.pushValue("captions") != .nil {
            defer { lua.pop() }
            if lua.type(at: -1) == .boolean, !lua.truthy(at: -1) {
                export.captionExtensions = []
            } else if lua.type(at: -1) == .table {
                var extensions: [String] = []
                for i in stride(from: 1, through: lua.rawLength(at: -1), by: 1) {
                    lua.rawGet(-1, index: i)
                    defer { lua.pop() }
                    guard let ext = lua.string(at: -1), lua.type(at: -1) == .string else {
                        throw call.failure("captions[\(i)] must be an extension like \".txt\" (got \(LuaCall.shown(lua, -1)))")
                    }
                    extensions.append(ext)
                }
                export.captionExtensions = extensions
            } else {
                throw call.failure("captions must be a list of extensions like {\".txt\"} or false (got \(LuaCall.shown(lua, -1)))")
            }
        } else {
            lua.pop()
        }
        if options.pushValue("files") != .nil {
            defer { lua.pop() }
            guard lua.type(at: -1) == .table else {
                throw call.failure("files must be a table of name = text (got \(LuaCall.shown(lua, -1)))")
            }
            var files: [CompanionFile] = []
            lua.pushNil()
            while lua.next(-2) {
                defer { lua.pop() }
                guard lua.type(at: -2) == .string, lua.type(at: -1) == .string,
                      let name = lua.string(at: -2), let text = lua.bytes(at: -1) else {
                    throw call.failure("files must map file names to their text (got \(LuaCall.shown(lua, -2)) = \(LuaCall.shown(lua, -1)))")
                }
                files.append(CompanionFile(name: name, contents: text))
            }
            export.companionFiles = files.sorted { $0.name < $1.name }
        } else {
            lua.pop()
        }
        if layout == "kohya" {
            guard let concept = try options.string("concept") else { throw call.failure("layout=\"kohya\" needs concept=\"name\"") }
            export.layout = .kohya(KohyaLayout(repeats: try options.positiveInteger("repeats") ?? 1, concept: concept,
                                               captionExtension: try options.string("caption_ext") ?? ".txt",
                                               conceptAsMissingCaption: try options.boolean("concept_caption") ?? false))
        } else {
            if layout == "imagefolder" { export.layout = .imagefolder }
            for key in kohyaKeys where options.has(key) {
                throw call.failure("\(key) only applies to layout=\"kohya\"")
            }
        }
        do {
            try export.validate()
        } catch let ExportError.invalidOption(name, reason) {
            throw call.failure("\(name) \(reason)")
        }
        return export
    }

    private static func push(_ report: ExportReport, owner: AlbumHandle, types: CuratorTypes, on lua: LuaStack) {
        lua.newTable(record: 15)
        lua.push(report.exported); lua.rawSet(-2, "exported")
        lua.push(report.renamed); lua.rawSet(-2, "renamed")
        lua.push(report.unchanged); lua.rawSet(-2, "unchanged")
        lua.push(report.refreshedCaptions); lua.rawSet(-2, "refreshed_captions")
        lua.newTable(array: report.companionFiles.count)
        for (i, path) in report.companionFiles.enumerated() { lua.push(bytes: path.bytes); lua.rawSet(-2, index: i + 1) }
        lua.rawSet(-2, "files")
        if let trash = report.trash { lua.push(bytes: trash.bytes); lua.rawSet(-2, "trash") }
        lua.newTable(array: report.trashed.count)
        for (i, path) in report.trashed.enumerated() { lua.push(bytes: path.bytes); lua.rawSet(-2, index: i + 1) }
        lua.rawSet(-2, "trashed")
        lua.push(report.captions); lua.rawSet(-2, "captions")
        lua.push(report.excluded); lua.rawSet(-2, "excluded")
        lua.push(report.dryRun); lua.rawSet(-2, "dry_run")
        lua.push(report.cancelled); lua.rawSet(-2, "cancelled")
        lua.push(bytes: report.destination.bytes); lua.rawSet(-2, "destination")
        lua.newTable(array: report.errors.count)
        for (i, failure) in report.errors.enumerated() {
            lua.newTable(record: 2)
            lua.push(bytes: failure.path.bytes); lua.rawSet(-2, "path")
            lua.push(failure.reason); lua.rawSet(-2, "reason")
            lua.rawSet(-2, index: i + 1)
        }
        lua.rawSet(-2, "errors")
        lua.newTable(array: report.items.count)
        for (i, item) in report.items.enumerated() {
            lua.newTable(record: 7)
            if let record = owner.album.image(path: item.albumPath.bytes) {
                types.push(image: record.id, of: owner, on: lua); lua.rawSet(-2, "image")
            }
            lua.push(bytes: item.albumPath.bytes); lua.rawSet(-2, "path")
            lua.push(bytes: item.source.bytes); lua.rawSet(-2, "source")
            if let destination = item.destination { lua.push(bytes: destination.bytes); lua.rawSet(-2, "destination") }
            lua.push(item.renamed); lua.rawSet(-2, "renamed")
            lua.push(item.status.rawValue); lua.rawSet(-2, "status")
            lua.push(item.reason); lua.rawSet(-2, "reason")
            lua.newTable(array: item.sidecars.count)
            for (j, file) in item.sidecars.enumerated() {
                lua.push(bytes: file.destination.bytes)
                lua.rawSet(-2, index: j + 1)
            }
            lua.rawSet(-2, "sidecars")
            lua.rawSet(-2, index: i + 1)
        }
        lua.rawSet(-2, "items")
        lua.newTable(array: report.removedLeftovers.count)
        for (i, path) in report.removedLeftovers.enumerated() {
            lua.push(bytes: path.bytes)
            lua.rawSet(-2, index: i + 1)
        }
        lua.rawSet(-2, "removed_leftovers")
    }
}
