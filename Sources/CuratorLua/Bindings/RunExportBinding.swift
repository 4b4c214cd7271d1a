import CLuaShims
import CuratorCore
import Foundation

/// `r:export(dir, opts)`: the core's folder export (flat or kohya), or a Lua
/// exporter registered with `curator.register_exporter` (darktable-storage style:
/// `initialize(ctx, items)`, `store(ctx, item, n, total)`, `finalize(ctx, results)`).
enum RunExportBinding {
    static func export(_ h: RunHandle, _ call: LuaCall, host: CuratorHost, types: CuratorTypes, runType: HostType<RunHandle>) throws {
        let dir = try call.string(1)
        let probe = try call.options(2, allowed: ["layout", "repeats", "concept", "caption_ext", "concept_caption", "captions",
                                                  "dry_run", "into_album", "mode", "exporter", "params", "progress"])
        if let exporter = try probe.string("exporter") {
            for key in ["layout", "repeats", "concept", "caption_ext", "concept_caption", "captions", "mode"] where probe.has(key) {
                throw call.failure("\(key) does not apply to a custom exporter (exporter=\"\(exporter)\"); pass exporter settings in params={...}")
            }
            try custom(exporter, h, call, dir: dir, host: host, types: types, runType: runType)
            return
        }
        if probe.has("params") { throw call.failure("params only applies with exporter=name") }
        let report = try LuaProgress.withSink(call, options: 2, allowed: probe.table == nil ? [] : allKeys(probe)) { options, sink in
            var export = ExportOptions(dryRun: try options.boolean("dry_run") ?? false,
                                       intoAlbum: try options.boolean("into_album") ?? false)
            export.mode = ExportMode(rawValue: try options.choice("mode", ExportMode.allCases.map(\.rawValue)) ?? "add") ?? .add
            let layout = try options.choice("layout", ["flat", "kohya", "imagefolder"]) ?? "flat"
            if options.pushValue("captions") != .nil {
                let lua = call.lua
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
                    defer { lua.pop() }
                    throw call.failure("captions must be a list of extensions like {\".txt\"} or false (got \(LuaCall.shown(lua, -1)))")
                }
            }
            call.lua.pop()
            if layout == "kohya" {
                guard let concept = try options.string("concept") else { throw call.failure("layout=\"kohya\" needs concept=\"name\"") }
                export.layout = .kohya(KohyaLayout(repeats: try options.positiveInteger("repeats") ?? 1, concept: concept,
                                                   captionExtension: try options.string("caption_ext") ?? ".txt",
                                                   conceptAsMissingCaption: try options.boolean("concept_caption") ?? false))
            } else {
                if layout == "imagefolder" { export.layout = .imagefolder }
                for key in ["repeats", "concept", "caption_ext", "concept_caption"] where options.has(key) {
                    throw call.failure("\(key) only applies to layout=\"kohya\"")
                }
            }
            do {
                try export.validate()
            } catch let ExportError.invalidOption(name, reason) {
                throw call.failure("\(name) \(reason)")
            }
            return try h.owner.album.export(h.run, to: dir, options: export, progress: sink)
        }
        push(report, owner: h.owner, types: types, on: call.lua)
    }

    private static func allKeys(_ options: LuaOptions) -> [String] {
        ["layout", "repeats", "concept", "caption_ext", "concept_caption", "captions", "dry_run", "into_album", "mode", "exporter", "params", "progress"]
    }

    private static func push(_ report: ExportReport, owner: AlbumHandle, types: CuratorTypes, on lua: LuaStack) {
        lua.newTable(record: 13)
        lua.push(report.exported); lua.rawSet(-2, "exported")
        lua.push(report.renamed); lua.rawSet(-2, "renamed")
        lua.push(report.unchanged); lua.rawSet(-2, "unchanged")
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

    // MARK: Custom exporters

    private static func custom(_ name: String, _ h: RunHandle, _ call: LuaCall, dir: String, host: CuratorHost,
                               types: CuratorTypes, runType: HostType<RunHandle>) throws {
        let lua = call.lua
        let options = try call.options(2, allowed: ["dry_run", "exporter", "params", "progress"])
        let dryRun = try options.boolean("dry_run") ?? false
        guard lua.ensureSpace(12) else { throw call.failure("stack overflow") }
        let top = lua.top
        guard host.pushExtension(.exporter, named: name, on: lua) else {
            let names = host.registeredNames(.exporter)
            var message = "unknown exporter '\(name)'"
            if let guess = DidYouMean.suggestion(for: name, among: names) { message += " (did you mean '\(guess)'?)" }
            message += names.isEmpty ? " (register one with curator.register_exporter)" : " (registered: \(names.joined(separator: ", ")))"
            throw call.failure(message)
        }
        let spec = lua.absolute(-1)
        let callback = try options.pushFunction("progress")
        let sink = LuaProgress(lua: lua, callback: callback)

        // ctx = {dir=, data={}, run=, album=, dry_run=, params=, name=}
        lua.newTable(record: 7)
        let ctx = lua.absolute(-1)
        lua.push(CuratorHost.absolutePath(dir)); lua.rawSet(ctx, "dir")
        lua.newTable(); lua.rawSet(ctx, "data")
        runType.push(h, on: lua); lua.rawSet(ctx, "run")
        types.album.push(h.owner, on: lua); lua.rawSet(ctx, "album")
        lua.push(dryRun); lua.rawSet(ctx, "dry_run")
        lua.push(name); lua.rawSet(ctx, "exporter")
        _ = options.pushValue("params"); lua.rawSet(ctx, "params")

        // items: the selection minus excluded images, and minus files that are
        // not images under the album's root (listed in the report's errors):
        // a custom exporter reads the files too.
        let album = h.owner.album
        let ids = h.run.selection.filter { !album.exclusions.contains($0) }
        let records = ids.compactMap { album.image(id: $0) }
        let (allowed, refused) = try album.screenForExport(records.map { CurationEntry(path: $0.path, albumRoot: album.root, index: 0) })
        let allowedPaths = Set(allowed.map(\.path))
        lua.newTable(array: allowed.count)
        var items = lua.absolute(-1)
        for (i, record) in records.filter({ allowedPaths.contains($0.path) }).enumerated() {
            let id = record.id
            lua.newTable(record: 8)
            types.push(image: id, of: h.owner, on: lua); lua.rawSet(-2, "image")
            lua.push(bytes: album.absolutePath(of: record)); lua.rawSet(-2, "path")
            lua.push(bytes: record.path.bytes); lua.rawSet(-2, "album_path")
            lua.push(bytes: record.path.nameBytes); lua.rawSet(-2, "name")
            lua.push(album.caption(of: record)); lua.rawSet(-2, "caption")
            lua.push(h.run.frequency(of: id)); lua.rawSet(-2, "frequency")
            lua.push(h.run.votes(of: id)); lua.rawSet(-2, "votes")
            lua.push(h.run.tier(of: id)?.rawValue); lua.rawSet(-2, "tier")
            lua.rawSet(items, index: i + 1)
        }

        func fail(_ stage: String, _ error: LuaError) -> LuaBindingError {
            call.failure("exporter '\(name)' failed in \(stage): \(error.message)")
        }
        // initialize(ctx, items) may return a new list.
        if lua.rawGet(spec, "initialize") == .function {
            lua.pushValue(at: ctx)
            lua.pushValue(at: items)
            do { try lua.call(arguments: 2, results: 1, traceback: true) } catch { lua.top = top; throw fail("initialize", error) }
            switch lua.type(at: -1) {
            case .nil: lua.pop()
            case .table: items = lua.absolute(-1)
            default:
                let got = lua.typeName(at: -1)
                lua.top = top
                throw call.failure("exporter '\(name)': initialize returned a \(got), not a list of items (or nothing)")
            }
        } else {
            lua.pop()
        }

        let total = lua.rawLength(at: items)
        lua.newTable(array: total) // results
        let results = lua.absolute(-1)
        lua.newTable() // errors
        let errors = lua.absolute(-1)
        for (i, failure) in refused.enumerated() {
            lua.newTable(record: 2)
            lua.push(bytes: failure.path.bytes); lua.rawSet(-2, "path")
            lua.push(failure.reason); lua.rawSet(-2, "reason")
            lua.rawSet(errors, index: i + 1)
        }
        var exported = 0, failed = 0
        var cancelled = false
        if !dryRun {
            for n in stride(from: 1, through: total, by: 1) {
                if sink.isCancelled { cancelled = true; break }
                sink.update(label: "export", done: n - 1, total: total)
                lua.newTable(record: 3)
                let result = lua.absolute(-1)
                lua.rawGet(items, index: n); lua.rawSet(result, "item")
                lua.rawGet(spec, "store")
                lua.pushValue(at: ctx)
                lua.rawGet(items, index: n)
                lua.push(n)
                lua.push(total)
                do {
                    try lua.call(arguments: 4, results: 1, traceback: true)
                    lua.rawSet(result, "value")
                    lua.push(true); lua.rawSet(result, "ok")
                    exported += 1
                } catch {
                    failed += 1
                    lua.push(false); lua.rawSet(result, "ok")
                    lua.push(error.message); lua.rawSet(result, "error")
                    lua.newTable(record: 2)
                    lua.rawGet(items, index: n)
                    if lua.type(at: -1) == .table { lua.rawGet(-1, "path"); lua.remove(at: -2) }
                    if lua.type(at: -1) != .string { lua.pop(); lua.push("item \(n)") }
                    lua.rawSet(-2, "path")
                    lua.push(error.message); lua.rawSet(-2, "reason")
                    lua.rawSet(errors, index: lua.rawLength(at: errors) + 1)
                }
                lua.rawSet(results, index: n)
            }
            sink.update(label: "export", done: total, total: total)
            sink.finish(label: "export")
            if lua.rawGet(spec, "finalize") == .function {
                lua.pushValue(at: ctx)
                lua.pushValue(at: results)
                do {
                    try lua.call(arguments: 2, results: 0, traceback: true)
                } catch {
                    lua.newTable(record: 2)
                    lua.push(CuratorHost.absolutePath(dir)); lua.rawSet(-2, "path")
                    lua.push("finalize: \(error.message)"); lua.rawSet(-2, "reason")
                    lua.rawSet(errors, index: lua.rawLength(at: errors) + 1)
                }
            } else {
                lua.pop()
            }
        }
        try sink.rethrowCallbackError()

        lua.newTable(record: 8)
        lua.push(name); lua.rawSet(-2, "exporter")
        lua.push(exported); lua.rawSet(-2, "exported")
        lua.push(failed); lua.rawSet(-2, "failed")
        lua.push(dryRun); lua.rawSet(-2, "dry_run")
        lua.push(cancelled); lua.rawSet(-2, "cancelled")
        lua.push(CuratorHost.absolutePath(dir)); lua.rawSet(-2, "destination")
        lua.pushValue(at: errors); lua.rawSet(-2, "errors")
        lua.pushValue(at: dryRun ? items : results); lua.rawSet(-2, "items")
        lua.pushValue(at: ctx); lua.rawGet(-1, "data"); lua.remove(at: -2); lua.rawSet(-2, "data")
        lua.insert(at: top + 1)
        lua.top = top + 1
    }
}
