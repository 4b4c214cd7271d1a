#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Copies a selection into a folder for a trainer to read (README: Export): flat,
/// or in kohya's `<repeats>_<concept>` layout, each image with its sidecars.
///
/// - Excluded images are never exported.
/// - Names follow PhotoMapAI (`CollisionNaming`), checked against what is in
///   the folder and what this export already planned; a name is used only
///   when the image's name and all its sidecars' names are free, so captions
///   always share their image's final name.
/// - An image whose exact bytes are already in the target folder (an
///   earlier export into the same folder) is not copied again: its item is
///   `unchanged`, pointing at the file that is there.
/// - Nothing is ever overwritten: each file is written under a hidden
///   temporary name in the destination, flushed to disk, then given its name
///   by a rename or hard link that fails rather than replace. Bytes are
///   always copied, so the destination may be on another device.
/// - An image and its sidecars are exported together or not at all.
/// - Symbolic links (images or sidecars) are followed: their content is
///   copied, never a link. Copies keep the source's modification and access
///   times; their permissions are those of new files (umask applies).
/// - Every failure is in the report with its path and reason; nothing is
///   silently skipped. The export only throws for invalid options.
public struct FolderExporter: Sendable {
    /// The folder to export into; created when missing (not in a dry run).
    public var destination: FileSystemPath
    /// Layout, sidecars and dry run.
    public var options: ExportOptions
    /// The file system (tests substitute one that fails on cue).
    public var fileSystem: any ExportFileSystem

    /// Creates an exporter into `destination`.
    public init(destination: FileSystemPath, options: ExportOptions = ExportOptions(),
                fileSystem: any ExportFileSystem = POSIXFileSystem()) {
        self.destination = destination
        self.options = options
        self.fileSystem = fileSystem
    }

    /// Creates an exporter into the folder at `destination`.
    public init(destination: String, options: ExportOptions = ExportOptions(),
                fileSystem: any ExportFileSystem = POSIXFileSystem()) {
        self.init(destination: FileSystemPath(destination), options: options, fileSystem: fileSystem)
    }

    /// The folder the images are written into: the destination, or its
    /// `<repeats>_<concept>` folder in the kohya layout.
    public var targetFolder: FileSystemPath {
        switch options.layout {
        case .flat, .imagefolder: return destination
        case let .kohya(kohya): return destination.appending(kohya.folderName)
        }
    }

    /// Exports the included images of `entries` in their order, or with
    /// `options.dryRun` only plans it. `progress` sees one step per image and
    /// can cancel between images; the report then says what was not reached.
    ///
    /// - Throws: `ExportError.invalidOption` only; every other problem is in the report.
    public func export(_ entries: [CurationEntry], progress: (any ProgressSink)? = nil) throws -> ExportReport {
        try options.validate()
        switch options.mode {
        case .add, .update:
            var report = options.mode == .add ? try exportAdding(entries, progress: progress)
                                              : try exportUpdating(entries, progress: progress)
            writeCompanionFiles(into: destination, replacing: options.mode == .update, report: &report)
            return report
        case .replace: return try exportReplacing(entries, progress: progress)
        }
    }

    /// The `add` export, which the other modes build on.
    func exportAdding(_ entries: [CurationEntry], progress: (any ProgressSink)?) throws -> ExportReport {
        let target = targetFolder
        var report = ExportReport(destination: target, dryRun: options.dryRun)
        report.excluded = entries.lazy.filter(\.excluded).count

        var included: [CurationEntry] = []
        var seen = Set<FileSystemPath>()
        for entry in entries where !entry.excluded {
            if seen.insert(entry.absolutePath).inserted {
                included.append(entry)
            } else {
                report.errors.append(ExportFailure(path: entry.absolutePath,
                                                   reason: "listed twice in the selection; exported once"))
            }
        }

        if let problem = prepareFolders() {
            report.errors.append(problem)
            report.items = included.map {
                ExportItem(albumPath: FileSystemPath(bytes: $0.path.bytes), source: $0.absolutePath,
                           status: .failed, reason: "not exported: \(problem.description)")
            }
            return report
        }

        if !options.dryRun {
            // What an export killed mid-copy left behind goes now, and is listed.
            let folders = targetFolder == destination ? [destination] : [destination, targetFolder]
            report.removedLeftovers = folders.flatMap { StagedFile.removeLeftovers(in: $0) }
        }

        var taken = Set<[UInt8]>()
        var plans: [Plan] = []
        var alreadyThere = SameBytesFinder(folder: target, fileSystem: fileSystem)
        for entry in included {
            plans.append(plan(entry, in: target, taken: &taken, alreadyThere: &alreadyThere))
        }

        var copying = Copying(exporter: self, target: target, taken: taken)
        let (steps, cancelled) = ExportLoop.run(&copying, items: plans, dryRun: options.dryRun, progress: progress)
        report.cancelled = cancelled
        for (var plan, step) in zip(plans, steps) {
            switch step {
            case .stored(let copied): plan = copied
            case .planned: plan.outcome = .planned
            case .notAttempted: plan.outcome = .notAttempted
            case .settled:
                // Already reported by planning, or nothing to copy; an image
                // already there may have had its caption changed since.
                if case .alreadyThere = plan.outcome, options.mode == .update, !options.dryRun {
                    refreshSidecars(of: plan, in: target, into: &report)
                }
            case .failed(let error): plan.outcome = .failed(ExportFailure(path: plan.entry.absolutePath, reason: Self.reason(error)))
            }
            record(plan, in: target, into: &report)
        }
        if options.layout == .imagefolder, !options.dryRun, !report.cancelled {
            ImageFolderMetadata.write(for: plans.map(\.entry), report: &report, in: target,
                                      keepingEarlier: options.mode == .add, fileSystem: fileSystem)
        }
        if !options.dryRun { fileSystem.synchronizeDirectory(target) }
        return report
    }

    /// The copying half of the export, for `ExportLoop`: a planned image is
    /// stored by copying it and its sidecars under their planned names.
    private struct Copying: Exporter {
        let exporter: FolderExporter
        let target: FileSystemPath
        /// The names planned or written so far (a name taken while copying moves the image on).
        var taken: Set<[UInt8]>

        func needsStoring(_ plan: Plan) -> Bool {
            switch plan.outcome {
            case .failed, .alreadyThere: return false
            default: return true
            }
        }

        /// Copies the image; its failures are in the returned plan's outcome.
        mutating func store(_ plan: Plan, number: Int, total: Int) -> Plan {
            var plan = plan
            exporter.execute(&plan, in: target, taken: &taken)
            return plan
        }
    }

    // MARK: - Planning

    /// One image on its way: what is copied and under which name.
    private struct Plan {
        var entry: CurationEntry
        var sidecars: [PlannedSidecar] = []
        var attempt = 0
        var name: [UInt8] = []
        var outcome: Outcome = .pending

        enum Outcome {
            case pending, planned, exported, notAttempted
            /// The same bytes are already in the target folder under `name`.
            case alreadyThere
            /// Nothing of the image is in the destination; the failure names the file at fault.
            case failed(ExportFailure)
        }

        var names: [[UInt8]] {
            [name] + sidecars.map { CollisionNaming.sidecarName(forImageNamed: name, fileExtension: $0.fileExtension) }
        }
    }

    /// A sidecar to write with its image.
    private struct PlannedSidecar {
        /// The file to copy, or nil for generated text.
        var source: FileSystemPath?
        /// The content when generated (the kohya concept caption).
        var text: [UInt8] = []
        /// The extension it gets beside the image's final name.
        var fileExtension: [UInt8]
    }

    /// Checks the destination (and creates it unless dry-running); returns
    /// the problem that stops the whole export, if any.
    private func prepareFolders() -> ExportFailure? {
        var folders = [destination]
        if targetFolder != destination { folders.append(targetFolder) }
        for folder in folders {
            do {
                if let status = try fileSystem.status(of: folder, followingLinks: true) {
                    if status.kind != .directory { return ExportFailure(path: folder, reason: "is not a folder") }
                } else if !options.dryRun {
                    try fileSystem.makeFolders(folder)
                }
            } catch let error as SystemCallError {
                return ExportFailure(path: error.path, reason: "\(error.operation): \(error.reason)")
            } catch let error as ExportError {
                if case let .notADirectory(path) = error { return ExportFailure(path: path, reason: "is not a folder") }
                return ExportFailure(path: folder, reason: error.description)
            } catch {
                return ExportFailure(path: folder, reason: String(describing: error))
            }
        }
        return nil
    }

    /// Plans one image: checks its source, finds its sidecars and a free name.
    private func plan(_ entry: CurationEntry, in target: FileSystemPath, taken: inout Set<[UInt8]>,
                      alreadyThere: inout SameBytesFinder) -> Plan {
        var plan = Plan(entry: entry)
        let source = entry.absolutePath
        do {
            guard let status = try fileSystem.status(of: source, followingLinks: true) else {
                plan.outcome = .failed(ExportFailure(path: source, reason: "not on disk (no such file)"))
                return plan
            }
            if status.kind != .regular {
                plan.outcome = .failed(ExportFailure(path: source, reason: status.kind == .directory
                                                      ? "is a folder, not an image file" : "is not a regular file"))
                return plan
            }
            if let existing = alreadyThere.match(source: source, size: status.size) {
                plan.name = existing
                plan.outcome = .alreadyThere
                taken.insert(existing)
                // Its captions, as they are in the album now, beside the copy there.
                if options.mode == .update { plan.sidecars = sidecars(of: entry) }
                return plan
            }
        } catch {
            plan.outcome = .failed(ExportFailure(path: source, reason: Self.reason(error)))
            return plan
        }

        plan.sidecars = sidecars(of: entry)
        if Set(plan.names).count != plan.names.count {
            plan.outcome = .failed(ExportFailure(path: source, reason: "a sidecar has the image's own name"))
            return plan
        }
        do {
            try chooseName(&plan, from: 0, in: target, taken: &taken)
        } catch {
            plan.outcome = .failed(ExportFailure(path: source, reason: error.reason))
        }
        return plan
    }

    /// The sidecars written with `entry`, by layout.
    private func sidecars(of entry: CurationEntry) -> [PlannedSidecar] {
        switch options.layout {
        case .imagefolder:
            return []  // the captions go into metadata.jsonl
        case .flat:
            let found = entry.sidecars?.filter { options.captionExtensions.contains($0.fileExtension) }
                ?? Sidecar.discover(besideImageAt: entry.absolutePath, extensions: options.captionExtensions,
                                    fileSystem: fileSystem)
            return found.map { PlannedSidecar(source: $0.absolutePath, fileExtension: Array($0.fileExtension.utf8)) }
        case let .kohya(kohya):
            let found = entry.sidecars?.filter { kohya.captionSources.contains($0.fileExtension) }
                ?? Sidecar.discover(besideImageAt: entry.absolutePath, extensions: kohya.captionSources,
                                    fileSystem: fileSystem)
            let ext = Array(kohya.captionExtension.utf8)
            for preferred in kohya.captionSources {
                if let caption = found.first(where: { $0.fileExtension == preferred }) {
                    return [PlannedSidecar(source: caption.absolutePath, fileExtension: ext)]
                }
            }
            if kohya.conceptAsMissingCaption {
                return [PlannedSidecar(source: nil, text: Array(kohya.concept.utf8), fileExtension: ext)]
            }
            return []
        }
    }

    /// Sets the first name from `attempt` on whose image and sidecar names
    /// are all free: neither planned by this export nor present on disk.
    /// Throws the reason when no name can be checked or found.
    private func chooseName(_ plan: inout Plan, from attempt: Int, in target: FileSystemPath,
                            taken: inout Set<[UInt8]>) throws(NameFailure) {
        let name = plan.entry.absolutePath.name
        let parent = plan.entry.absolutePath.parentName
        for candidate in attempt..<(attempt + 100_000) {
            plan.attempt = candidate
            plan.name = CollisionNaming.candidate(candidate, name: name, parent: parent)
            let names = plan.names
            if names.contains(where: taken.contains) { continue }
            var free = true
            for n in names {
                let path = target.appending(n)
                do {
                    if try fileSystem.status(of: path, followingLinks: false) != nil { free = false; break }
                } catch let error as SystemCallError {
                    throw NameFailure(reason: "no usable name: \(path): \(error.operation): \(error.reason)")
                } catch {
                    throw NameFailure(reason: "no usable name: \(error)")
                }
            }
            if free {
                taken.formUnion(names)
                return
            }
        }
        throw NameFailure(reason: "no free name after 100000 attempts")
    }

    private struct NameFailure: Error { let reason: String }

    // MARK: - Copying

    /// Copies one planned image and its sidecars, then publishes them under
    /// their names; on failure removes everything of it.
    private func execute(_ plan: inout Plan, in target: FileSystemPath, taken: inout Set<[UInt8]>) {
        let source = plan.entry.absolutePath
        var staged: [StagedFile] = []
        func discardStaged() { for file in staged { file.discard(fileSystem: fileSystem) } }

        let imageDestination = target.appending(plan.name)
        do {
            staged.append(try StagedFile.copy(from: source, into: target, fileSystem: fileSystem))
            for sidecar in plan.sidecars {
                let destination = target.appending(CollisionNaming.sidecarName(forImageNamed: plan.name,
                                                                               fileExtension: sidecar.fileExtension))
                do {
                    if let source = sidecar.source {
                        staged.append(try StagedFile.copy(from: source, into: target, fileSystem: fileSystem))
                    } else {
                        staged.append(try StagedFile.write(sidecar.text, into: target, fileSystem: fileSystem))
                    }
                } catch {
                    discardStaged()
                    var failure = error.exportFailure(source: sidecar.source ?? source, destination: destination)
                    failure.reason += " (so its image was not exported)"
                    plan.outcome = .failed(failure)
                    return
                }
            }
        } catch {
            discardStaged()
            plan.outcome = .failed(error.exportFailure(source: source, destination: imageDestination))
            return
        }

        // Publish; a name taken since planning (another program, or a
        // case-insensitive file system) moves the image to its next name.
        for _ in 0..<1000 {
            var published: [(StagedFile, FileSystemPath)] = []
            var conflict = false
            for (file, name) in zip(staged, plan.names) {
                let path = target.appending(name)
                do {
                    try file.publish(as: path, fileSystem: fileSystem)
                    published.append((file, path))
                } catch let error as SystemCallError where error.code == EEXIST {
                    conflict = true
                    break
                } catch {
                    let undone = unpublish(published)
                    discardStaged()
                    plan.outcome = .failed(ExportFailure(path: source, reason: "copying to \(path): \(Self.reason(error))\(undone)"))
                    return
                }
            }
            if !conflict {
                plan.outcome = .exported
                return
            }
            let undone = unpublish(published)
            if !undone.isEmpty {
                discardStaged()
                plan.outcome = .failed(ExportFailure(path: source, reason: "a name was taken while copying\(undone)"))
                return
            }
            taken.formUnion(plan.names)
            do {
                try chooseName(&plan, from: plan.attempt + 1, in: target, taken: &taken)
            } catch {
                discardStaged()
                plan.outcome = .failed(ExportFailure(path: source, reason: error.reason))
                return
            }
        }
        discardStaged()
        plan.outcome = .failed(ExportFailure(path: source, reason: "names kept being taken while copying"))
    }

    /// Brings the caption files beside an image that was already in the
    /// destination up to date with the album's: each one whose bytes differ
    /// (or that is missing) is rewritten in one step (temporary file and
    /// rename). Counted in `report.refreshedCaptions`; a failure is reported
    /// against the caption.
    private func refreshSidecars(of plan: Plan, in target: FileSystemPath, into report: inout ExportReport) {
        for sidecar in plan.sidecars {
            let destination = target.appending(CollisionNaming.sidecarName(forImageNamed: plan.name,
                                                                           fileExtension: sidecar.fileExtension))
            do {
                let wanted = try sidecar.source.map { try readSmallFile($0) } ?? sidecar.text
                if let there = try? readSmallFile(destination), there == wanted { continue }
                try AtomicFile.write(wanted, to: destination, overwrite: true, fileSystem: fileSystem)
                report.refreshedCaptions += 1
            } catch {
                report.errors.append(ExportFailure(path: destination,
                                                   reason: "could not bring the caption up to date: \(Self.reason(error))"))
            }
        }
    }

    /// The bytes of a caption-sized file (at most 16 MiB: a caption larger
    /// than that is not one).
    private func readSmallFile(_ path: FileSystemPath) throws -> [UInt8] {
        let descriptor = try fileSystem.openForReading(path)
        defer { fileSystem.close(descriptor) }
        let limit = 16 << 20
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try fileSystem.read(descriptor, into: $0, path: path) }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            if bytes.count > limit { throw SystemCallError("read", path: path, code: EFBIG) }
        }
    }

    /// Takes back files already published for an item that cannot be
    /// completed, returning them to their temporary names so the item can
    /// be retried or discarded. Returns "" or a note on what could not be undone.
    private func unpublish(_ published: [(StagedFile, FileSystemPath)]) -> String {
        var stuck: [String] = []
        for (file, path) in published.reversed() {
            do { try fileSystem.moveWithoutReplacing(path, to: file.temporaryPath) } catch {
                stuck.append(path.string)
            }
        }
        return stuck.isEmpty ? "" : "; could not remove \(stuck.joined(separator: ", "))"
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? SystemCallError { return "\(error.operation): \(error.reason)" }
        return String(describing: error)
    }

    // MARK: - Reporting

    private func record(_ plan: Plan, in target: FileSystemPath, into report: inout ExportReport) {
        let entry = plan.entry
        var item = ExportItem(albumPath: FileSystemPath(bytes: entry.path.bytes), source: entry.absolutePath, status: .failed)
        if !plan.name.isEmpty {
            item.destination = target.appending(plan.name)
            item.renamed = plan.name != entry.absolutePath.name
            item.sidecars = plan.sidecars.map { sidecar in
                ExportedFile(source: sidecar.source,
                             destination: target.appending(
                                CollisionNaming.sidecarName(forImageNamed: plan.name, fileExtension: sidecar.fileExtension)))
            }
        }
        switch plan.outcome {
        case .pending, .failed:
            var failure = ExportFailure(path: item.source, reason: "not attempted")
            if case let .failed(reported) = plan.outcome { failure = reported }
            item.status = .failed
            item.reason = failure.path == item.source ? failure.reason : failure.description
            report.errors.append(failure)
        case .notAttempted:
            item.status = .notAttempted
            item.reason = "export cancelled"
        case .alreadyThere:
            item.status = .unchanged
            item.reason = "already in the destination with the same bytes: not copied again"
            report.unchanged += 1
        case .planned, .exported:
            if case .planned = plan.outcome { item.status = .planned } else { item.status = .exported }
            report.exported += 1
            report.captions += item.sidecars.count
            if item.renamed { report.renamed += 1 }
        }
        report.items.append(item)
    }
}
