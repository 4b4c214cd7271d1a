import CLuaShims
import CuratorCore

/// An exporter registered with `curator.register_exporter` (darktable-storage
/// style: `initialize(ctx, items)`, `store(ctx, item, n, total)`,
/// `finalize(ctx, results)`), run by the core's `ExportLoop` like the folder
/// layouts: the loop decides progress (one step per stored item, unless
/// `spec.progress` is `"initialize"`), cancellation and dry runs; this type
/// only calls `store` and keeps its answer in the `results` table.
struct LuaExporter: Exporter {
    let lua: LuaStack
    /// Stack slots of the exporter's spec, its ctx, the items and the results.
    let spec: Int32, ctx: Int32, items: Int32, results: Int32

    /// Calls `store(ctx, items[n], n, total)`; `results[n]` becomes
    /// `{item=, ok=true, value=}` or `{item=, ok=false, error=}`.
    /// Throws `LuaError` when `store` raised.
    mutating func store(_ n: Int, number: Int, total: Int) throws {
        lua.newTable(record: 3)
        let result = lua.absolute(-1)
        defer { lua.rawSet(results, index: n) }
        lua.rawGet(items, index: n); lua.rawSet(result, "item")
        lua.rawGet(spec, "store")
        lua.pushValue(at: ctx)
        lua.rawGet(items, index: n)
        lua.push(n)
        lua.push(total)
        do {
            try lua.call(arguments: 4, results: 1, traceback: true)
        } catch {
            lua.push(false); lua.rawSet(result, "ok")
            lua.push(error.message); lua.rawSet(result, "error")
            throw error
        }
        lua.rawSet(result, "value")
        lua.push(true); lua.rawSet(result, "ok")
    }

    /// `r:export(dir, {exporter=name, params=, dry_run=, progress=})`: builds
    /// ctx and the items, calls `initialize`, runs the loop, calls
    /// `finalize`, and leaves the report on the stack.
    static func export(_ name: String, _ h: RunHandle, _ call: LuaCall, options: LuaOptions, dir: String, host: CuratorHost,
                       types: CuratorTypes, runType: HostType<RunHandle>) throws {
        let lua = call.lua
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

        // ctx = {dir=, data={}, run=, album=, dry_run=, params=, exporter=, progress=}:
        // progress is r:export's progress= function (nil without one), for an
        // exporter whose initialize does the long work itself (kohya_toml's copies).
        lua.newTable(record: 8)
        let ctx = lua.absolute(-1)
        lua.push(CuratorHost.absolutePath(dir)); lua.rawSet(ctx, "dir")
        lua.newTable(); lua.rawSet(ctx, "data")
        runType.push(h, on: lua); lua.rawSet(ctx, "run")
        types.album.push(h.owner, on: lua); lua.rawSet(ctx, "album")
        lua.push(dryRun); lua.rawSet(ctx, "dry_run")
        lua.push(name); lua.rawSet(ctx, "exporter")
        _ = options.pushValue("params"); lua.rawSet(ctx, "params")
        if let callback { lua.pushValue(at: callback); lua.rawSet(ctx, "progress") }

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
            lua.push(bytes: album.absolutePath(of: record).bytes); lua.rawSet(-2, "path")
            lua.push(bytes: record.path.bytes); lua.rawSet(-2, "album_path")
            lua.push(bytes: record.path.nameBytes); lua.rawSet(-2, "name")
            lua.push(album.caption(of: record)); lua.rawSet(-2, "caption")
            lua.push(h.run.frequency(of: id)); lua.rawSet(-2, "frequency")
            lua.push(h.run.votes(of: id)); lua.rawSet(-2, "votes")
            lua.push(h.run.tier(of: id)?.rawValue); lua.rawSet(-2, "tier")
            lua.rawSet(items, index: i + 1)
        }

        // initialize(ctx, items) may return a new list.
        if lua.rawGet(spec, "initialize") == .function {
            lua.pushValue(at: ctx)
            lua.pushValue(at: items)
            do { try lua.call(arguments: 2, results: 1, traceback: true) } catch {
                lua.top = top
                throw call.failure("exporter '\(name)' failed in initialize: \(error.message)")
            }
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
        func appendError(path: () -> Void, reason: String) {
            lua.newTable(record: 2)
            path(); lua.rawSet(-2, "path")
            lua.push(reason); lua.rawSet(-2, "reason")
            lua.rawSet(errors, index: lua.rawLength(at: errors) + 1)
        }
        for failure in refused { appendError(path: { lua.push(bytes: failure.path.bytes) }, reason: failure.reason) }

        var exporter = LuaExporter(lua: lua, spec: spec, ctx: ctx, items: items, results: results)
        // An exporter whose initialize did the long work and reported it
        // (spec.progress = "initialize", like kohya_toml's copies) would show
        // a second bar for its quick store loop: the loop stays quiet.
        if lua.rawGet(spec, "progress") == .string, lua.string(at: -1) == "initialize" { sink.isQuiet = true }
        lua.pop()
        let (steps, cancelled) = ExportLoop.run(&exporter, items: Array(stride(from: 1, through: total, by: 1)),
                                                dryRun: dryRun, progress: sink)
        var exported = 0, failed = 0
        for (offset, step) in steps.enumerated() {
            switch step {
            case .stored: exported += 1
            case .failed(let error):
                failed += 1
                let n = offset + 1
                appendError(path: {
                    lua.rawGet(items, index: n)
                    if lua.type(at: -1) == .table { lua.rawGet(-1, "path"); lua.remove(at: -2) }
                    if lua.type(at: -1) != .string { lua.pop(); lua.push("item \(n)") }
                }, reason: (error as? LuaError)?.message ?? String(describing: error))
            case .planned, .settled, .notAttempted: break
            }
        }
        if !dryRun {
            if lua.rawGet(spec, "finalize") == .function {
                lua.pushValue(at: ctx)
                lua.pushValue(at: results)
                do {
                    try lua.call(arguments: 2, results: 0, traceback: true)
                } catch {
                    appendError(path: { lua.push(CuratorHost.absolutePath(dir)) }, reason: "finalize: \(error.message)")
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
