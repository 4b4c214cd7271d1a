import Foundation
import GRDB

/// The `photomap` embedder: PhotoMapAI's CLIP vectors, read from the album's
/// `photomap_index/embeddings.npz` and matched to the album's files by path.
/// The file is read again only when it changes; images it does not cover are
/// recorded as such, so opening the album does not re-read it for them.
struct PhotoMapEmbedder {
    static let name = BuiltInEmbedder.photomap.rawValue

    /// Where PhotoMapAI keeps its index inside an album.
    static func indexFile(of album: Album) -> String {
        PhotoMapIndex.url(inAlbum: URL(fileURLWithPath: album.rootPath)).path
    }

    /// Whether the album has a PhotoMapAI index.
    static func isAvailable(for album: Album) -> Bool {
        !album.isIndexOnly && FileManager.default.fileExists(atPath: indexFile(of: album))
    }

    func embed(album: Album, progress: (any ProgressSink)?) throws -> EmbedReport {
        let file = Self.indexFile(of: album)
        guard Self.isAvailable(for: album) else {
            throw IndexError.embedderUnavailable(name: Self.name, reason: "\(file) does not exist; index the album with PhotoMapAI first")
        }
        let store = album.embeddingStore
        var report = EmbedReport(embedder: Self.name)
        let signature = try FileSignature(path: file)
        let unchanged = try album.database.meta("photomap_source") == signature.text
        if unchanged {
            let missing = try store.missing(embedder: Self.name)
            if missing.isEmpty {
                report.alreadyEmbedded = try store.counts(embedder: Self.name).embedded
                return report
            }
        }

        progress.update(label: Self.name, done: 0, total: 1)
        let index = try PhotoMapIndex.read(URL(fileURLWithPath: file))
        report.notes += index.notes
        try album.database.pool.write { db in
            // A new PhotoMapAI index replaces the old one whole (it may even use another model).
            try db.execute(sql: "DELETE FROM embedding WHERE embedder = ?", arguments: [Self.name])
            try db.execute(sql: "DELETE FROM embed_failure WHERE embedder = ?", arguments: [Self.name])
        }
        try store.register(embedder: Self.name, modelID: index.modelID, dimension: index.dimension, source: file)

        let matcher = PathMatcher(album: album)
        var rowIDs: [Int64?] = []
        rowIDs.reserveCapacity(index.filenames.count)
        var covered = Set<Int64>()
        var unmatched = 0, stale = 0
        for (row, filename) in index.filenamePaths.enumerated() {
            guard let id = matcher.imageID(for: filename), covered.insert(id).inserted else {
                unmatched += 1
                rowIDs.append(nil)
                continue
            }
            rowIDs.append(id)
            if let times = index.modificationTimes, let image = album.image(id: id), image.mtime > times[row] + 1 {
                stale += 1
            }
        }
        try store.write(embedder: Self.name, imageIDs: rowIDs, matrix: index.matrix)
        let uncovered = album.images.filter { !covered.contains($0.id) }
        try store.recordFailures(embedder: Self.name, failures: uncovered.map {
            (imageID: $0.id, reason: "not in PhotoMapAI's index; re-index with PhotoMapAI or use the pixels embedder")
        })
        try album.database.setMeta("photomap_source", signature.text)

        report.embedded = covered.count
        report.failed = uncovered.map { SkippedFile(path: $0.path, reason: "not in PhotoMapAI's index") }
        if unmatched > 0 {
            report.notes.append("\(unmatched) of PhotoMapAI's \(index.filenames.count) rows name no image of this album (moved or deleted files)")
        }
        if stale > 0 {
            report.notes.append("\(stale) images changed after PhotoMapAI embedded them; re-index with PhotoMapAI to refresh their vectors")
        }
        progress.update(label: Self.name, done: 1, total: 1)
        progress?.finish(label: Self.name)
        return report
    }
}

/// A file's size and modification time, to notice when it changes. For a
/// clip-retrieval output folder: the files an import reads, their sizes
/// summed, the newest time and how many there are.
struct FileSignature: Equatable {
    let size: Int64
    let mtime: Double
    /// How many files were summed (nil for a single file).
    let files: Int?

    init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw IndexError.albumNotFound(path: path) }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            (size, mtime, files) = (Int64(info.st_size), FolderWalker.modificationTime(info), nil)
            return
        }
        var (total, newest, count) = (Int64(0), 0.0, 0)
        for file in EmbeddingImport.clipRetrievalFiles(path) where stat(file, &info) == 0 {
            (total, newest, count) = (total + Int64(info.st_size), max(newest, FolderWalker.modificationTime(info)), count + 1)
        }
        (size, mtime, files) = (total, newest, count)
    }

    var text: String { "\(size):\(mtime)" + (files.map { ":\($0) files" } ?? "") }
}
