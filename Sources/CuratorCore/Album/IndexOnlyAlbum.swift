import Foundation
import GRDB

extension Album {
    /// Opens an embeddings file (`.npz`, `.npy`) or a clip-retrieval output
    /// folder as an index-only album: its images are the file's rows, named
    /// by the paths it records (with the captions it records, if any); the
    /// image files themselves may be absent.
    /// The index sits beside the file (`.curator/<file name>.sqlite`) and is
    /// refreshed when the file changes.
    /// With `forceImport`, the file is imported again even when the index is current.
    static func openEmbeddingsFile(_ path: String, options: OpenOptions, progress: (any ProgressSink)?,
                                   forceImport: Bool = false) throws -> Album {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        if let reason = options.readOnlyReason {
            // Only an index made from this very file will do: re-importing writes.
            let signature = try FileSignature(path: path)
            guard let existing = IndexDatabase.existingLocation(besides: folder, fileName: url.lastPathComponent + ".sqlite") else {
                throw IndexError.noIndex(path: path, reason: reason)
            }
            let database = try IndexDatabase(path: existing, readOnlyReason: reason)
            guard try database.meta("source") == signature.text, let root = try database.meta("root") else {
                throw IndexError.readOnly(change: "re-importing \(path) (changed since it was indexed)", reason: reason)
            }
            return try Album(location: path, root: FileSystemPath(root), isIndexOnly: true, database: database)
        }
        let indexFolder = (folder as NSString).appendingPathComponent(".curator")
        let hadIndexFolder = FileManager.default.fileExists(atPath: indexFolder)
        do {
            return try openEmbeddingsFile(url, folder: folder, options: options, progress: progress, forceImport: forceImport)
        } catch {
            // A file that cannot be opened leaves nothing behind: not even the folder made for its index.
            if !hadIndexFolder { rmdir(indexFolder) }
            throw error
        }
    }

    private static func openEmbeddingsFile(_ url: URL, folder: String, options: OpenOptions, progress: (any ProgressSink)?,
                                           forceImport: Bool) throws -> Album {
        let path = url.path
        let databasePath = try IndexDatabase.location(besides: folder, fileName: url.lastPathComponent + ".sqlite")
        let signature = try FileSignature(path: path)
        // The rows are imported at the precision asked for, else the one the index keeps.
        var precision = options.precision ?? .float32
        if FileManager.default.fileExists(atPath: databasePath) {
            let database = try IndexDatabase(path: databasePath)
            if options.precision == nil { precision = try EmbeddingStore(database: database).precision() }
            if !forceImport, try database.meta("source") == signature.text, let root = try database.meta("root") {
                let album = try Album(location: path, root: FileSystemPath(root), isIndexOnly: true, database: database)
                // The vectors' only copy is the matrix file: without a current one, import again.
                // A float16 file asked back to float32 is imported again too: its exact values are in the embeddings file.
                if let embedder = album.embedder, let kept = try album.store.currentMatrixPrecision(embedder: embedder),
                   !(kept == .float16 && options.precision == .float32) {
                    return album
                }
            }
        }

        // Read the file before creating anything beside it: a bad file leaves no index behind.
        progress.update(label: "import", done: 0, total: 1)
        // The rows are written block by block, at the album's precision,
        // straight into the file that will keep them (see `ImportedRows`),
        // named for its embedder once that is known.
        var filled: MatrixFile.Writer?
        let imported = try EmbeddingImport.load(url) { rows, dimension, location in
            let file = EmbeddingStore.matrixFile(embedder: "import", besides: databasePath)
            guard filled == nil, let writer = MatrixFile.Writer(streaming: file.path, rows: rows, dimension: dimension, precision: precision) else {
                return try ImportedRows(rows: rows, dimension: dimension, precision: precision, normalizing: true, location: location)
            }
            filled = writer
            return ImportedRows(writer: writer)
        }
        let rootPath = commonFolder(of: imported.fileSystemPaths) ?? FileSystemPath(folder)
        let root = rootPath.string
        let embedder = imported.source.hasPrefix("PhotoMapAI") ? PhotoMapEmbedder.name : "imported"
        let prefix = rootPath.bytes + [UInt8(ascii: "/")]
        let relative: [RelativePath] = imported.fileSystemPaths.map { path in
            let bytes = path.bytes
            return bytes.starts(with: prefix) ? RelativePath(bytes: Array(bytes[prefix.count...])) : RelativePath(bytes: bytes)
        }
        let ascending = zip(relative, relative.dropFirst()).allSatisfy { RelativePath.compare($0, $1) < 0 }
        if !ascending { try refuseDuplicates(relative, in: path) }
        let database = try IndexDatabase(path: databasePath)
        let store = EmbeddingStore(database: database)
        // The rows go to the matrix file on another thread while the images
        // go into the index: the disk writes the one as the CPU does the other.
        let matrix = imported.matrix
        let writing = DispatchGroup()
        let begun = WriterOutcome()
        let filledWriter = filled
        DispatchQueue.global().async(group: writing) {
            begun.result = Result { try store.beginFileHomed(embedder: embedder, matrix: matrix, filled: filledWriter) }
        }

        // One transaction and one prepared statement for the images; the
        // vectors are written once, to the matrix file, below.
        var rowIDs: [Int64] = []
        rowIDs.reserveCapacity(relative.count)
        var sizes: [Int64] = [], mtimes: [Double] = []
        sizes.reserveCapacity(relative.count)
        mtimes.reserveCapacity(relative.count)
        var reimported = false
        // When the images' folder is not there (embeddings copied from another
        // machine), no file is: skip a million failing stat calls.
        var rootInfo = stat()
        let rootExists = stat(root, &rootInfo) == 0
        let transaction = Result {
            try database.pool.write { db in
                try db.execute(sql: "DELETE FROM embedding")
                try db.execute(sql: "DELETE FROM embed_failure")
                var existing: [RelativePath: Int64] = [:]
                let rows = try Row.fetchCursor(db, sql: "SELECT id, path FROM image")
                while let row = try rows.next() {
                    existing[RelativePath(bytes: [UInt8](row[1] as Data))] = row[0]
                }
                reimported = !existing.isEmpty
                var keep = Set<Int64>()
                try BulkInsert.run(db, sql: "UPDATE image SET size = ?, mtime = ? WHERE id = ?") { update in
                    try BulkInsert.run(db, sql: "INSERT INTO image(path, size, mtime) VALUES (?, ?, ?)") { insert in
                        for path in relative {
                            var info = stat()
                            let present = rootExists && path.absolute(under: rootPath).withCPath { stat($0, &info) } == 0
                            let size = present ? Int64(info.st_size) : 0
                            let mtime = present ? FolderWalker.modificationTime(info) : 0
                            sizes.append(size)
                            mtimes.append(mtime)
                            if let id = existing[path] {
                                try update.insert { bind in
                                    bind.int64(size, at: 1); bind.double(mtime, at: 2); bind.int64(id, at: 3)
                                }
                                keep.insert(id)
                                rowIDs.append(id)
                            } else {
                                rowIDs.append(try insert.insert { bind in
                                    bind.blob(path.bytes, at: 1); bind.int64(size, at: 2); bind.double(mtime, at: 3)
                                })
                            }
                        }
                    }
                }
                for (_, id) in existing where !keep.contains(id) {
                    try db.execute(sql: "DELETE FROM image WHERE id = ?", arguments: [id])
                }
                try db.execute(sql: "DELETE FROM embedder WHERE name <> ?", arguments: [embedder])
                try store.register(db, embedder: embedder, modelID: imported.modelID, dimension: imported.matrix.dimension, source: path)
                try store.recordFileHomed(db, embedder: embedder)
                for (key, value) in [("root", root), ("source", signature.text), ("embedder", embedder),
                                     (EmbeddingStore.precisionKey, precision.rawValue)] {
                    try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
                }
            }
        }
        writing.wait()
        if case .failure(let error) = transaction {
            if case .success(let unfinished) = begun.result { unfinished.abandon() }
            throw error
        }
        try store.finishFileHomed(try begun.result!.get(), embedder: embedder, imageIDs: rowIDs)
        try ImportedCaptions.replace(with: imported.captions, imageIDs: rowIDs, in: database)
        // The log held every inserted page; fold it into the database so the
        // index is one file of its size, not that plus a log as large.
        try database.checkpoint()
        progress.update(label: "import", done: 1, total: 1)
        progress?.finish(label: "import")

        // A first import knows its images already (a re-import kept some rows' sizes): no need to read them back.
        let album = try Album(location: path, root: rootPath, isIndexOnly: true, database: database, load: reimported)
        if !reimported {
            var order = Array(relative.indices)
            if !ascending { order.sort { RelativePath.compare(relative[$0], relative[$1]) < 0 } }
            try album.adopt(images: order.map {
                ImageRecord(id: rowIDs[$0], path: relative[$0], size: sizes[$0], mtime: mtimes[$0], width: 0, height: 0)
            })
        }
        var report = EmbedReport(embedder: embedder)
        report.embedded = rowIDs.count
        report.notes = imported.notes + ["imported \(imported.source)"]
        album.lastEmbedReport = report
        return album
    }

    /// The matrix file writer begun on another thread (read after the group's wait).
    private final class WriterOutcome: @unchecked Sendable {
        var result: Result<MatrixFile.Writer, Error>?
    }

    /// Throws, naming them, when rows name the same file: each row of an
    /// index-only album is one image, and a file listed twice is a damaged
    /// or concatenated index, not two images. (Paths in strictly ascending
    /// order, as PhotoMapAI writes them, have none: callers skip this.)
    static func refuseDuplicates(_ paths: [RelativePath], in file: String) throws {
        var seen = Set<RelativePath>(minimumCapacity: paths.count)
        guard paths.contains(where: { !seen.insert($0).inserted }) else { return }
        var rows: [RelativePath: [Int]] = [:]
        for (row, path) in paths.enumerated() { rows[path, default: []].append(row) }
        let repeated = rows.filter { $0.value.count > 1 }.sorted { $0.value[0] < $1.value[0] }
        guard !repeated.isEmpty else { return }
        let listed = repeated.prefix(5).map { "\($0.key.string) (rows \($0.value.map(String.init).joined(separator: ", ")))" }
        let more = repeated.count > 5 ? " and \(repeated.count - 5) more" : ""
        throw EmbeddingFileError(.mismatch, file, "\(repeated.count) file name\(repeated.count == 1 ? " is" : "s are") listed more than once: \(listed.joined(separator: "; "))\(more); each row must name a different image")
    }

    /// The deepest folder holding every path (nil when the paths are
    /// relative or share nothing but `/`, or when the folder's name is not
    /// UTF-8, which the index's `root` could not record exactly).
    static func commonFolder(of paths: [FileSystemPath]) -> FileSystemPath? {
        let slash = UInt8(ascii: "/")
        guard let first = paths.first?.bytes, first.first == slash else { return nil }
        // The folder is first[..<end]; end 0 stands for "/".
        func parent(_ end: Int) -> Int { first[..<end].lastIndex(of: slash) ?? 0 }
        var end = parent(first.count)
        for path in paths.dropFirst().lazy.map(\.bytes) {
            while end > 0, !(path.count > end && path[end] == slash && path.withUnsafeBytes({ p in
                first.withUnsafeBytes { f in memcmp(p.baseAddress!, f.baseAddress!, end) == 0 }
            })) {
                end = parent(end)
            }
            if end == 0 { return nil }
        }
        let folder = end == 0 ? [slash] : Array(first[..<end])
        return String(validating: folder, as: UTF8.self) == nil ? nil : FileSystemPath(bytes: folder)
    }
}

extension Album {
    /// Imports vectors another tool computed (an `.npz`, a `.npy` with a path
    /// list, or a clip-retrieval output folder) as embedder `name`, matching
    /// its paths to this album's images by their longest common tail, and
    /// makes `name` the active embedder. Rows that name no image are counted
    /// in the report's notes; images the file lacks are listed as failed.
    @discardableResult
    public func importEmbeddings(from file: String, as name: String = "imported", pathList: String? = nil,
                                 progress: (any ProgressSink)? = nil) throws -> EmbedReport {
        guard !isIndexOnly else {
            throw IndexError.embedderUnavailable(name: name, reason: "an index-only album takes its vectors from the file it was opened from")
        }
        try database.checkWritable("importing embeddings")
        guard name != BuiltInEmbedder.pixels.rawValue, name != BuiltInEmbedder.photomap.rawValue else {
            throw IndexError.embedderUnavailable(name: name, reason: "'\(name)' is computed by curator; import under another name")
        }
        progress.update(label: "import", done: 0, total: 1)
        let imported = try EmbeddingImport.load(URL(fileURLWithPath: Self.absolutePath(file)),
                                                pathList: pathList.map { URL(fileURLWithPath: Self.absolutePath($0)) })
        let matcher = PathMatcher(album: self)
        var rowIDs: [Int64?] = []
        var covered = Set<Int64>()
        for path in imported.fileSystemPaths {
            if let id = matcher.imageID(for: path), covered.insert(id).inserted {
                rowIDs.append(id)
            } else {
                rowIDs.append(nil)
            }
        }
        guard !covered.isEmpty || imported.paths.isEmpty && images.isEmpty else {
            let example = imported.paths.first.map { " (the first is \($0))" } ?? ""
            throw IndexError.embedderUnavailable(name: name, reason: "none of the \(imported.paths.count) rows of \(file) names an image of this album\(example); nothing was imported and the album keeps embedder '\(embedder ?? "none")'")
        }
        let uncovered = images.filter { !covered.contains($0.id) }
        // One transaction: the old vectors of `name` go, the new ones come and
        // `name` becomes active together, or nothing changes.
        let store = self.store
        try database.pool.write { db in
            try db.execute(sql: "DELETE FROM embedding WHERE embedder = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM embed_failure WHERE embedder = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM embedder WHERE name = ?", arguments: [name])
            try store.register(db, embedder: name, modelID: imported.modelID, dimension: imported.matrix.dimension, source: file)
            try store.write(db, embedder: name, imageIDs: rowIDs, matrix: imported.matrix)
            try store.recordFailures(db, embedder: name, failures: uncovered.map { (imageID: $0.id, reason: "not in \(file)") })
            try record(db, activeEmbedder: name, chosenByName: true)
        }
        try reloadEmbedder()
        progress.update(label: "import", done: 1, total: 1)
        progress?.finish(label: "import")

        var report = EmbedReport(embedder: name)
        report.embedded = covered.count
        report.failed = uncovered.map { SkippedFile(path: $0.path, reason: "not in the imported file") }
        report.notes = imported.notes + ["imported \(imported.source)"]
        let unmatched = rowIDs.filter { $0 == nil }.count
        if unmatched > 0 { report.notes.append("\(unmatched) of the file's \(imported.paths.count) rows name no image of this album") }
        lastEmbedReport = report
        return report
    }
}
