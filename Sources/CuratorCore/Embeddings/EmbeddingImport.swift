import Foundation

/// Embeddings imported from files another tool wrote, with the image path of each row.
public struct ImportedEmbeddings: Sendable {
    /// One path per row, as the file or path list gives it (absolute or
    /// relative), for display (bytes that are not UTF-8 show as U+FFFD);
    /// made when asked for.
    public var paths: [String] { fileSystemPaths.map(\.string) }
    /// The same paths as the file system spells them: match rows to files by these.
    public let fileSystemPaths: [FileSystemPath]
    /// One L2-normalised float32 row per path.
    public let matrix: EmbeddingMatrix
    /// The model that made the embeddings, when the file says (`model_id`).
    public let modelID: String?
    /// What was read, for the user: e.g. `clip-retrieval shards /x/img_emb (2 shards) with paths from /x/paths.txt`.
    public let source: String
    /// Things worth telling the user that are not errors (skipped keys and the like).
    public let notes: [String]
    /// One caption per row (nil where a row has none) when the file has
    /// them: clip-retrieval's `caption` column. Nil when it has none at all.
    public var captions: [String?]? = nil
}

/// Imports embedding matrices with their paths, for index-only albums and
/// `album:import(file)`:
/// - an `.npz` with a matrix key (`embeddings`, `emb`, `img_emb`, or its only
///   2-D float array) and a path key (`filenames`, `paths`, `files`); a
///   PhotoMapAI index is read as such;
/// - an `.npy` matrix with a path list beside it (`<stem>.txt`,
///   `<stem>.paths.txt` or `paths.txt`), or given explicitly;
/// - a clip-retrieval output folder: `img_emb/img_emb_N.npy` shards in shard
///   order, with paths (and captions) from per-shard
///   `metadata/metadata_N.parquet` as clip-retrieval writes them, from
///   `paths.txt`, from per-shard `metadata/metadata_N.{txt,csv,json}`, or
///   given explicitly (see `ClipRetrievalImport.swift`).
/// A path list given explicitly (text, CSV or JSON, see `PathList`) always wins.
public enum EmbeddingImport {
    /// Keys tried, in order, for the matrix of an `.npz`.
    public static let matrixKeys = ["embeddings", "emb", "img_emb"]
    /// Keys tried, in order, for the paths of an `.npz`.
    public static let pathKeys = ["filenames", "paths", "files"]

    /// Imports `url` (an `.npz`, an `.npy` or a clip-retrieval folder), with
    /// paths from `pathList` when given.
    public static func load(_ url: URL, pathList: URL? = nil) throws -> ImportedEmbeddings {
        try load(url, pathList: pathList, into: ImportedRows.inMemory)
    }

    /// `load(_:pathList:)` with the matrix in the rows `make` makes.
    static func load(_ url: URL, pathList: URL? = nil, into make: ImportedRows.Maker) throws -> ImportedEmbeddings {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw EmbeddingFileError(.unreadable, url.path, "no such file or folder")
        }
        if isDirectory.boolValue { return try clipRetrieval(url, pathList: pathList, into: make) }
        switch url.pathExtension.lowercased() {
        case "npy": return try npy(url, pathList: pathList, into: make)
        default: return try npz(url, pathList: pathList, into: make)
        }
    }

    // MARK: .npz

    /// Imports an `.npz` archive.
    public static func npz(_ url: URL, pathList: URL? = nil) throws -> ImportedEmbeddings {
        try npz(url, pathList: pathList, into: ImportedRows.inMemory)
    }

    /// `npz(_:pathList:)` with the matrix in the rows `make` makes.
    static func npz(_ url: URL, pathList: URL?, into make: ImportedRows.Maker) throws -> ImportedEmbeddings {
        let archive = try NumpyArchive(contentsOf: url)
        if pathList == nil, PhotoMapIndex.looksLikeIndex(archive) {
            let index = try PhotoMapIndex.read(archive, into: make)
            return ImportedEmbeddings(fileSystemPaths: index.filenamePaths, matrix: index.matrix, modelID: index.modelID,
                                      source: "PhotoMapAI index \(url.path)", notes: index.notes)
        }

        let matrixKey = try findMatrixKey(archive)
        let matrixHeader = try archive.header(matrixKey)
        var notes: [String] = []
        for key in archive.keys where try archive.header(key).dtype == .object {
            notes.append("\(archive.location(of: key)): object array (pickled Python objects) skipped; curator never unpickles")
        }

        // Paths first, counted against the matrix's header: a header that
        // contradicts them is refused before the matrix is allocated.
        let paths: [FileSystemPath]
        let pathSource: String
        if let pathList {
            (paths, pathSource) = (try PathList.readPaths(pathList), pathList.path)
        } else if let key = pathKeys.first(where: archive.contains) {
            if matrixHeader.shape.count == 2 { try archive.requireEntries(key, rows: matrixHeader.shape[0], of: matrixKey) }
            (paths, pathSource) = (try archive.array(key).fileSystemPaths(), "key '\(key)'")
        } else if let list = companionPathList(of: url) {
            (paths, pathSource) = (try PathList.readPaths(list), list.path)
        } else {
            throw EmbeddingFileError(.missing, url.path, "no paths: expected key \(quotedList(pathKeys)) or a path list beside it (\(companionNames(of: url).joined(separator: ", "))); keys: \(archive.keys.joined(separator: ", "))")
        }
        if matrixHeader.shape.count == 2 {
            try checkCount(paths.count, pathSource: pathSource, rows: matrixHeader.shape[0], matrixSource: "\(url.path): key '\(matrixKey)'")
        }
        let rows = try archive.readRows(matrixKey, into: make)
        try checkCount(paths.count, pathSource: pathSource, rows: rows.rows, matrixSource: "\(url.path): key '\(matrixKey)'")

        var modelID: String?
        if archive.contains("model_id"), let id = try? archive.array("model_id").scalarString(), !id.isEmpty { modelID = id }
        try finish(rows, paths: paths, location: archive.location(of: matrixKey))
        return ImportedEmbeddings(fileSystemPaths: paths, matrix: try rows.matrix(), modelID: modelID,
                                  source: "\(url.path) (key '\(matrixKey)', paths from \(pathSource))", notes: notes)
    }

    /// The key holding the matrix: a conventional name, else the only 2-D float array.
    static func findMatrixKey(_ archive: NumpyArchive) throws -> String {
        if let key = matrixKeys.first(where: archive.contains) { return key }
        var candidates: [String] = []
        for key in archive.keys {
            let header = try archive.header(key)
            if header.dtype.isFloat && header.shape.count == 2 { candidates.append(key) }
        }
        switch candidates.count {
        case 1: return candidates[0]
        case 0:
            throw EmbeddingFileError(.missing, archive.url.path, "no embeddings matrix: expected key \(quotedList(matrixKeys)) or a single 2-D float array (keys: \(archive.keys.joined(separator: ", ")))")
        default:
            throw EmbeddingFileError(.mismatch, archive.url.path, "several 2-D float arrays (\(candidates.joined(separator: ", "))) and none named \(quotedList(matrixKeys)): name the embeddings 'embeddings'")
        }
    }

    // MARK: .npy

    /// Imports an `.npy` matrix with its path list.
    public static func npy(_ url: URL, pathList: URL? = nil) throws -> ImportedEmbeddings {
        try npy(url, pathList: pathList, into: ImportedRows.inMemory)
    }

    /// `npy(_:pathList:)` with the matrix in the rows `make` makes.
    static func npy(_ url: URL, pathList: URL?, into make: ImportedRows.Maker) throws -> ImportedEmbeddings {
        guard let list = pathList ?? companionPathList(of: url) else {
            throw EmbeddingFileError(.missing, url.path, "no path list: looked for \(companionNames(of: url).joined(separator: ", ")) beside it; give one explicitly (text, one path per line)")
        }
        let rows = try NumpyArray.readRows(contentsOf: url, into: make)
        let paths = try PathList.readPaths(list)
        try checkCount(paths.count, pathSource: list.path, rows: rows.rows, matrixSource: url.path)
        try finish(rows, paths: paths, location: url.path)
        return ImportedEmbeddings(fileSystemPaths: paths, matrix: try rows.matrix(), modelID: nil,
                                  source: "\(url.path) (paths from \(list.path))", notes: [])
    }

    /// The path-list files looked for beside an `.npy`/`.npz`, in order.
    public static func companionNames(of url: URL) -> [String] {
        let stem = url.deletingPathExtension().lastPathComponent
        return ["\(stem).txt", "\(stem).paths.txt", "paths.txt"]
    }

    static func companionPathList(of url: URL) -> URL? {
        let folder = url.deletingLastPathComponent()
        return companionNames(of: url).lazy.map { folder.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    // MARK: Shared checks

    static func checkCount(_ count: Int, pathSource: String, rows: Int, matrixSource: String) throws {
        guard count != rows else { return }
        throw EmbeddingFileError(.mismatch, pathSource, "has \(count) path\(count == 1 ? "" : "s") but \(matrixSource) has \(rows) row\(rows == 1 ? "" : "s")")
    }

    /// Refuses rows that cannot be compared (see `ImportedRows.refuseIncomparable`), naming their paths.
    static func finish(_ rows: ImportedRows, paths: [FileSystemPath], location: String) throws {
        try rows.refuseIncomparable(location: location) { paths[$0].string }
    }

    static func quotedList(_ names: [String]) -> String {
        names.dropLast().map { "'\($0)'" }.joined(separator: ", ") + ", or '\(names.last ?? "")'"
    }
}
