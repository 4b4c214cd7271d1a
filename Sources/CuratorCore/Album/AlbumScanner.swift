import Dispatch
import Foundation
import GRDB

/// Brings an album's index in line with its folder: new files are probed and
/// added, changed ones re-probed (their embeddings dropped so they are
/// recomputed), removed ones dropped. Work is committed in batches, so an
/// index interrupted part-way resumes where it stopped instead of starting over.
struct AlbumScanner {
    let database: IndexDatabase
    let root: FileSystemPath
    /// The images the index holds, sorted by path.
    let known: [ImageRecord]
    /// Files probed and committed together.
    var batchSize = 256

    private struct Known {
        var id: Int64?
        var size: Int64
        var mtime: Double
    }

    private enum Probe {
        case image(FoundFile, ImageHeader, existing: Int64?)
        case skipped(FoundFile, String, existing: Int64?)
    }

    func scan(progress: (any ProgressSink)?) throws -> (report: ScanReport, removedIDs: Set<Int64>) {
        var report = ScanReport()
        let (found, problems) = FolderWalker(root: root).walk()

        var skippedBefore: [RelativePath: Known] = [:]
        // The last scan's walk problems (size -1), with their reasons.
        var problemsBefore: [RelativePath: String] = [:]
        try database.pool.read { db in
            let skipped = try Row.fetchCursor(db, sql: "SELECT path, size, mtime, reason FROM skipped")
            while let row = try skipped.next() {
                let path = RelativePath(bytes: [UInt8](row[0] as Data))
                let known = Known(id: nil, size: row[1], mtime: row[2])
                skippedBefore[path] = known
                if known.size < 0 { problemsBefore[path] = row[3] }
            }
        }

        // Both lists are sorted by path bytes: one merge pass pairs them.
        var work: [(FoundFile, Int64?)] = []
        var removed: [Int64] = []
        var seen = Set<RelativePath>()
        var k = 0
        for file in found {
            while k < known.count, known[k].path < file.path {
                removed.append(known[k].id)
                k += 1
            }
            if k < known.count, known[k].path == file.path {
                let image = known[k]
                k += 1
                if image.size == file.size && image.mtime == file.mtime {
                    report.unchanged += 1
                } else {
                    work.append((file, image.id))
                }
            } else if let before = skippedBefore[file.path] {
                seen.insert(file.path)
                if before.size == file.size && before.mtime == file.mtime { continue }  // still unusable: not probed again
                work.append((file, nil))
            } else {
                work.append((file, nil))
            }
        }
        removed += known[k...].map(\.id)
        // Without libvips every file would be recorded as unreadable (and
        // images already indexed dropped): fail the scan instead, before
        // anything is written.
        if !work.isEmpty, let reason = Libvips.unavailableReason { throw IndexError.libraryUnavailable(purpose: "read images", reason: reason) }

        try database.pool.write { db in
            for chunk in removed.chunked(into: 500) {
                try db.execute(sql: "DELETE FROM image WHERE id IN (\(chunk.map(String.init).joined(separator: ",")))")
            }
            for path in skippedBefore.keys where !seen.contains(path) && skippedBefore[path]!.size >= 0 {
                try db.execute(sql: "DELETE FROM skipped WHERE path = ?", arguments: [Data(path.bytes)])
            }
            // Walk problems (unreadable folders, link loops, images in formats
            // not indexed) are facts of this scan only. Only those that came,
            // went or changed their reason are written: rewriting them all
            // cost a reopen about 11 µs a file, 0.14 s for a folder of 10,000 SVGs.
            let problemsNow = Dictionary(problems, uniquingKeysWith: { _, last in last })
            let forget = try db.cachedStatement(sql: "DELETE FROM skipped WHERE path = ? AND size = -1")
            for path in problemsBefore.keys where problemsNow[path] == nil {
                try forget.execute(arguments: [Data(path.bytes)])
            }
            let record = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO skipped(path, size, mtime, reason) VALUES (?, -1, 0, ?)")
            for (path, reason) in problemsNow where problemsBefore[path] != reason {
                try record.execute(arguments: [Data(path.bytes), reason])
            }
        }
        report.removed = removed.count

        let total = work.count
        var done = 0
        progress.update(label: "scan", done: 0, total: total)
        for batch in work.chunked(into: batchSize) {
            try progress.checkCancellation("scan")
            let probes = probeConcurrently(Array(batch))
            try database.pool.write { db in
                for probe in probes {
                    switch probe {
                    case .image(let file, let header, let existing):
                        let path = Data(file.path.bytes)
                        try db.execute(sql: "DELETE FROM skipped WHERE path = ?", arguments: [path])
                        if let id = existing {
                            try db.execute(
                                sql: "UPDATE image SET size = ?, mtime = ?, width = ?, height = ? WHERE id = ?",
                                arguments: [file.size, file.mtime, header.width, header.height, id])
                            // The pixels changed: what was computed from them is stale.
                            try db.execute(sql: "DELETE FROM embedding WHERE image_id = ?", arguments: [id])
                            try db.execute(sql: "DELETE FROM stats WHERE image_id = ?", arguments: [id])
                            try db.execute(sql: "DELETE FROM embed_failure WHERE image_id = ?", arguments: [id])
                        } else {
                            try db.execute(
                                sql: "INSERT INTO image(path, size, mtime, width, height) VALUES (?, ?, ?, ?, ?)",
                                arguments: [path, file.size, file.mtime, header.width, header.height])
                        }
                    case .skipped(let file, let reason, let existing):
                        if let id = existing {
                            try db.execute(sql: "DELETE FROM image WHERE id = ?", arguments: [id])
                        }
                        try db.execute(
                            sql: "INSERT OR REPLACE INTO skipped(path, size, mtime, reason) VALUES (?, ?, ?, ?)",
                            arguments: [Data(file.path.bytes), file.size, file.mtime, reason])
                    }
                }
            }
            for probe in probes {
                switch probe {
                case .image(_, _, let existing): if existing == nil { report.added += 1 } else { report.changed += 1 }
                case .skipped(_, _, let existing): if existing != nil { report.removed += 1 }
                }
            }
            done += batch.count
            progress.update(label: "scan", done: done, total: total)
        }
        progress?.finish(label: "scan")

        report.skipped = try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT path, reason FROM skipped ORDER BY path").map {
                SkippedFile(path: RelativePath(bytes: [UInt8]($0[0] as Data)), reason: $0[1])
            }
        }
        let removedIDs = Set(removed)
        return (report, removedIDs)
    }

    /// Reads the headers of a batch on every core; results keep the batch's order.
    private func probeConcurrently(_ batch: [(FoundFile, Int64?)]) -> [Probe] {
        let results = UnsafeMutableBufferPointer<Probe?>.allocate(capacity: batch.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let slots = UncheckedSendable(results.baseAddress!)
        let root = self.root
        let decoder = ImageDecoder()
        DispatchQueue.concurrentPerform(iterations: batch.count) { i in
            let (file, existing) = batch[i]
            do throws(ImageDecodeError) {
                let header = try decoder.probe(path: file.path.absolute(under: root))
                slots.value[i] = .image(file, header, existing: existing)
            } catch {
                slots.value[i] = .skipped(file, error.reason.description, existing: existing)
            }
        }
        return results.map { $0! }
    }
}

extension Array {
    /// The array cut into consecutive pieces of at most `size` elements.
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
