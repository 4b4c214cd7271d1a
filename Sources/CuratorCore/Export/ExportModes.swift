#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `update` and `replace` modes of a folder export (see `ExportMode`):
/// re-running a workflow into the same folder leaves exactly the new
/// selection there, and never deletes a file.
extension FolderExporter {
    /// Adds what is new, then moves every file of the image folder that is
    /// not part of this export (an image no longer selected, its captions)
    /// into the trash. A dry run lists them without moving anything.
    func exportUpdating(_ entries: [CurationEntry], progress: (any ProgressSink)?) throws -> ExportReport {
        var report = try exportAdding(entries, progress: progress)
        guard !report.cancelled, report.errors.isEmpty else { return report }  // never trash after a partial export
        let target = targetFolder
        var keep = Set<[UInt8]>()
        var keptStems = Set<[UInt8]>()
        for item in report.items {
            guard let destination = item.destination else { continue }
            keep.insert(destination.name)
            keep.formUnion(item.sidecars.map(\.destination.name))
            // An image found already there keeps its own captions.
            if item.status == .unchanged { keptStems.insert(PathBytes.splitExtension(destination.name).stem) }
        }
        if options.layout == .imagefolder { keep.insert(ImageFolderMetadata.fileName) }
        var leaving: [[UInt8]] = []
        for name in SameBytesFinder.names(in: target) where name.first != PathBytes.dot && !keep.contains(name) {
            if keptStems.contains(PathBytes.splitExtension(name).stem) { continue }
            guard let status = try? fileSystem.status(of: target.appending(name), followingLinks: false),
                  status.kind == .regular || status.kind == .symbolicLink else { continue }
            leaving.append(name)
        }
        guard !leaving.isEmpty else { return report }
        let trash = trashFolder()
        report.trash = trash
        if options.dryRun {
            report.trashed = leaving.map { trash.appending($0) }
            return report
        }
        do {
            try fileSystem.makeFolders(trash)
        } catch {
            report.errors.append(ExportFailure(path: trash, reason: "cannot create the trash folder: \(error)"))
            return report
        }
        for name in leaving {
            let from = target.appending(name), to = trash.appending(name)
            do {
                try Self.moveAside(from, to: to)
                report.trashed.append(to)
            } catch {
                report.errors.append(ExportFailure(path: from, reason: "could not move it to the trash: \(error)"))
            }
        }
        fileSystem.synchronizeDirectory(target)
        return report
    }

    /// Exports into a new hidden folder beside the destination, then swaps
    /// it in with one atomic exchange (`renameat2(RENAME_EXCHANGE)`); the old
    /// folder goes to the trash. Readers see the old folder or the new one,
    /// never a mix; a failed export leaves the destination as it was.
    func exportReplacing(_ entries: [CurationEntry], progress: (any ProgressSink)?) throws -> ExportReport {
        var staging = self
        staging.options.mode = .add
        let destination = self.destination
        if options.dryRun {
            // Planned as into an empty folder, which is what the swap gives.
            let plan = destination.hiddenSibling(".curator-plan-\(getpid())")
            staging.destination = plan
            var report = try staging.exportAdding(entries, progress: progress)
            report = report.movingPaths(from: plan, to: destination)
            if (try? fileSystem.status(of: destination, followingLinks: true)) != nil {
                report.trash = trashFolder()
            }
            return report
        }
        let parent = destination.parent
        try? fileSystem.makeFolders(parent)
        let stagingFolder = destination.hiddenSibling(".curator-new-\(getpid())-\(time(nil))")
        staging.destination = stagingFolder
        var report = try staging.exportAdding(entries, progress: progress)
        // Into the new folder, so the swap brings the images and their config at once.
        staging.writeCompanionFiles(into: stagingFolder, replacing: false, report: &report)
        report = report.movingPaths(from: stagingFolder, to: destination)
        guard !report.cancelled, report.errors.isEmpty else {
            report.errors.append(ExportFailure(path: destination,
                                               reason: "left as it was; the incomplete new folder is \(stagingFolder)"))
            return report
        }
        do {
            if (try fileSystem.status(of: destination, followingLinks: false)) != nil {
                try Self.exchange(stagingFolder, destination)
                // The staging name now holds the old folder: off to the trash.
                let trash = trashFolder()
                try fileSystem.makeFolders(trash.parent)
                try Self.moveAside(stagingFolder, to: trash)
                report.trash = trash
                report.trashed = [trash]
            } else {
                try Self.moveAside(stagingFolder, to: destination)
            }
        } catch {
            report.errors.append(ExportFailure(path: destination,
                                               reason: "could not swap in the new folder \(stagingFolder): \(error)"))
        }
        fileSystem.synchronizeDirectory(parent)
        return report
    }

    /// Writes `options.companionFiles` into `folder` (each in one step:
    /// temporary file, then rename), when the export wrote every image and
    /// is not a dry run; what was written goes into `report.companionFiles`,
    /// what could not into its errors.
    func writeCompanionFiles(into folder: FileSystemPath, replacing: Bool, report: inout ExportReport) {
        guard !options.companionFiles.isEmpty, !options.dryRun, !report.cancelled, report.errors.isEmpty else { return }
        for file in options.companionFiles {
            let path = folder.appending(file.name)
            do {
                try AtomicFile.write(file.contents, to: path, overwrite: replacing, fileSystem: fileSystem)
                report.companionFiles.append(path)
            } catch {
                report.errors.append(ExportFailure(path: path, reason: "\(error)"))
            }
        }
    }

    /// `<destination>.trash/<date-time>` (with `-1`, `-2`… when taken).
    func trashFolder() -> FileSystemPath {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        let stamp = String(format: "%04d%02d%02d-%02d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                           Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        let root = FileSystemPath(bytes: destination.bytes + Array(".trash".utf8))
        var folder = root.appending(stamp)
        var n = 0
        while (try? fileSystem.status(of: folder, followingLinks: false)) != nil {
            n += 1
            folder = root.appending("\(stamp)-\(n)")
        }
        return folder
    }

    /// rename(2) to a fresh name (the trash and the destination of a first replacement): refuses to replace.
    static func moveAside(_ from: FileSystemPath, to: FileSystemPath) throws {
        if (try? POSIXFileSystem().status(of: to, followingLinks: false)) != nil {
            throw SystemCallError("rename", path: to, code: EEXIST)
        }
        let result = from.withCPath { f in to.withCPath { t in rename(f, t) } }
        if result != 0 { throw SystemCallError("rename", path: from, code: errno) }
    }

    /// Swaps two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`).
    static func exchange(_ a: FileSystemPath, _ b: FileSystemPath) throws {
        guard let call = POSIXFileSystem.renameat2 else {
            throw SystemCallError("renameat2", path: b, code: ENOSYS)
        }
        let exchange: UInt32 = 2  // RENAME_EXCHANGE
        let result = a.withCPath { x in b.withCPath { y in call(AT_FDCWD, x, AT_FDCWD, y, exchange) } }
        if result != 0 { throw SystemCallError("renameat2", path: b, code: errno) }
    }
}

extension ExportReport {
    /// The report with every path under `old` moved under `new` (the
    /// staging folder of a replacement becomes the destination).
    func movingPaths(from old: FileSystemPath, to new: FileSystemPath) -> ExportReport {
        func move(_ path: FileSystemPath) -> FileSystemPath { path.moved(from: old, to: new) }
        var report = self
        report.destination = move(destination)
        report.items = items.map { item in
            var item = item
            item.destination = item.destination.map(move)
            item.sidecars = item.sidecars.map { var f = $0; f.destination = move(f.destination); return f }
            if let reason = item.reason { item.reason = reason }
            return item
        }
        report.errors = errors.map { ExportFailure(path: move($0.path), reason: $0.reason) }
        report.companionFiles = companionFiles.map(move)
        return report
    }
}
