/// An export format, in the style of darktable's storages: the export is
/// planned (the exporter's own business: folders, names, a Lua
/// `initialize`), then `ExportLoop` stores the planned items one by one, then
/// the exporter finishes (metadata, a Lua `finalize`).
///
/// The folder layouts (`FolderExporter`: flat, kohya, imagefolder) and the
/// exporters Lua registers with `curator.register_exporter` (CuratorLua's
/// `LuaExporter`) all conform, so progress, cancellation, dry runs and what
/// counts as exported or failed mean the same for every format.
///
/// A new format conforms and hands its planned items to `ExportLoop.run`.
public protocol Exporter {
    /// One planned thing to export (an image with its names, a Lua item).
    associatedtype Item
    /// What storing an item gives back, for the report.
    associatedtype Stored

    /// Whether `item` still has to be stored; false when planning already
    /// settled it (it failed, or its bytes are already there). Such items
    /// are neither stored nor counted as cancelled.
    func needsStoring(_ item: Item) -> Bool

    /// Stores one item (`number` counts from 1 up to `total`). Throwing marks
    /// only this item as failed; the loop goes on with the next.
    mutating func store(_ item: Item, number: Int, total: Int) throws -> Stored
}

extension Exporter {
    /// Every item is stored.
    public func needsStoring(_ item: Item) -> Bool { true }
}

/// What became of one planned item in `ExportLoop.run`.
public enum ExportStep<Stored> {
    /// Stored; the exporter's answer.
    case stored(Stored)
    /// Storing it threw this error.
    case failed(any Error)
    /// A dry run: it would have been stored.
    case planned
    /// Planning had settled it (`needsStoring` was false).
    case settled
    /// The export was cancelled before its turn.
    case notAttempted
}

/// The one export loop: stores each planned item in order, reports progress
/// after each, stops taking new items once `progress` says `isCancelled`,
/// and records every failure without stopping. A dry run stores nothing.
public enum ExportLoop {
    /// The progress label of every export.
    public static let label = "export"

    /// Runs `exporter` over `items`; returns one step per item, in order, and
    /// whether the export was cancelled. `finish` goes to `progress` after a
    /// real (not dry) run.
    public static func run<E: Exporter>(_ exporter: inout E, items: [E.Item], dryRun: Bool,
                                        progress: (any ProgressSink)?) -> (steps: [ExportStep<E.Stored>], cancelled: Bool) {
        var steps: [ExportStep<E.Stored>] = []
        steps.reserveCapacity(items.count)
        var cancelled = false
        for (offset, item) in items.enumerated() {
            if !exporter.needsStoring(item) {
                steps.append(.settled)
            } else if dryRun {
                steps.append(.planned)
            } else if cancelled || progress?.isCancelled == true {
                cancelled = true
                steps.append(.notAttempted)
            } else {
                do {
                    steps.append(.stored(try exporter.store(item, number: offset + 1, total: items.count)))
                } catch {
                    steps.append(.failed(error))
                }
                progress.update(label: label, done: offset + 1, total: items.count)
            }
        }
        if !dryRun { progress?.finish(label: label) }
        return (steps, cancelled)
    }
}
