import Foundation

/// Embeddings imported from files another tool wrote, with the image path of each row.
public struct ImportedEmbeddings: Sendable {
    /// One path per row, as the file or path list gives it (absolute or
    /// relative), for display (bytes that are not UTF-8 show as U+FFFD).
    public let paths: [String]
    /// The same paths as exact file-system bytes: match rows to files by these.
    public let pathBytes: [[UInt8]]
    /// One L2-normalised float32 row per path.
    public let matrix: EmbeddingMatrix
    /// The model that made the embeddings, when the file says (`model_id`).
    public let modelID: String?
    /// What was read, for the user: e.g. `clip-retrieval shards /x/img_emb (2 shards) with paths from /x/paths.txt`.
    public let source: String
    /// Things worth telling the user that are not errors (skipped keys and the like).
    public let notes: [String]
}

/// Imports embedding matrices with their paths, for index-only albums and
/// `album:import(file)`:
/// - an `.npz` with a matrix key (`embeddings`, `emb`, `img_emb`, or its only
///   2-D float array) and a path key (`filenames`, `paths`, `files`); a
///   PhotoMapAI index is read as such;
/// - an `.npy` matrix with a path list beside it (`<stem>.txt`,
///   `<stem>.paths.txt` or `paths.txt`), or given explicitly;
/// - a clip-retrieval output folder: `img_emb/img_emb_N.npy` shards in shard
///   order, with paths from `paths.txt`, from per-shard
///   `metadata/metadata_N.{txt,csv,json}`, or given explicitly.
/// A path list given explicitly (text, CSV or JSON, see `PathList`) always wins.
public enum EmbeddingImport {
    /// Keys tried, in order, for the matrix of an `.npz`.
    public static let matrixKeys = ["embeddings", "emb", "img_emb"]
    /// Keys tried, in order, for the paths of an `.npz`.
    public static let pathKeys = ["filenames", "paths", "files"]

    /// Imports `url` (an `.npz`, an `.npy` or a clip-retrieval folder), with
    /// paths from `pathList` when given.
    public static func load(_ url: URL, pathList: URL? = nil) throws -> ImportedEmbeddings {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw EmbeddingFileError(.unreadable, url.path, "no such file or folder")
        }
        if isDirectory.boolValue { return try clipRetrieval(url, pathList: pathList) }
        switch url.pathExtension.lowercased() {
        case "npy": return try npy(url, pathList: pathList)
        default: return try npz(url, pathList: pathList)
        }
    }

    // MARK: .npz

    /// Imports an `.npz` archive.
    public static func npz(_ url: URL, pathList: URL? = nil) throws -> ImportedEmbeddings {
        let archive = try NumpyArchive(contentsOf: url)
        if pathList == nil, PhotoMapIndex.looksLikeIndex(archive) {
            let index = try PhotoMapIndex.read(archive)
            return ImportedEmbeddings(paths: index.filenames, pathBytes: index.filenameBytes, matrix: index.matrix, modelID: index.modelID,
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
        let paths: [[UInt8]]
        let pathSource: String
        if let pathList {
            (paths, pathSource) = (try PathList.readBytes(pathList), pathList.path)
        } else if let key = pathKeys.first(where: archive.contains) {
            if matrixHeader.shape.count == 2 { try archive.requireEntries(key, rows: matrixHeader.shape[0], of: matrixKey) }
            (paths, pathSource) = (try archive.array(key).fileSystemPaths(), "key '\(key)'")
        } else if let list = companionPathList(of: url) {
            (paths, pathSource) = (try PathList.readBytes(list), list.path)
        } else {
            throw EmbeddingFileError(.missing, url.path, "no paths: expected key \(quotedList(pathKeys)) or a path list beside it (\(companionNames(of: url).joined(separator: ", "))); keys: \(archive.keys.joined(separator: ", "))")
        }
        if matrixHeader.shape.count == 2 {
            try checkCount(paths.count, pathSource: pathSource, rows: matrixHeader.shape[0], matrixSource: "\(url.path): key '\(matrixKey)'")
        }
        let matrix = try archive.floatMatrix(matrixKey)
        try checkCount(paths.count, pathSource: pathSource, rows: matrix.rows, matrixSource: "\(url.path): key '\(matrixKey)'")

        var modelID: String?
        if archive.contains("model_id"), let id = try? archive.array("model_id").scalarString(), !id.isEmpty { modelID = id }
        try finish(matrix, paths: paths, location: archive.location(of: matrixKey))
        return ImportedEmbeddings(paths: paths.map(display), pathBytes: paths, matrix: matrix, modelID: modelID,
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
        guard let list = pathList ?? companionPathList(of: url) else {
            throw EmbeddingFileError(.missing, url.path, "no path list: looked for \(companionNames(of: url).joined(separator: ", ")) beside it; give one explicitly (text, one path per line)")
        }
        let matrix = try NumpyArray.floatMatrix(contentsOf: url)
        let paths = try PathList.readBytes(list)
        try checkCount(paths.count, pathSource: list.path, rows: matrix.rows, matrixSource: url.path)
        try finish(matrix, paths: paths, location: url.path)
        return ImportedEmbeddings(paths: paths.map(display), pathBytes: paths, matrix: matrix, modelID: nil,
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

    // MARK: clip-retrieval

    /// Imports a clip-retrieval output folder (or its `img_emb` folder).
    public static func clipRetrieval(_ folder: URL, pathList: URL? = nil) throws -> ImportedEmbeddings {
        let fm = FileManager.default
        var embeddingsFolder = folder.appendingPathComponent("img_emb")
        var root = folder
        var isDirectory: ObjCBool = false
        if !(fm.fileExists(atPath: embeddingsFolder.path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            embeddingsFolder = folder
            root = folder.deletingLastPathComponent()
        }
        let shards = try shardFiles(in: embeddingsFolder)
        guard !shards.isEmpty else {
            throw EmbeddingFileError(.missing, folder.path, "no embeddings found: expected clip-retrieval shards img_emb/img_emb_0.npy, img_emb_1.npy, …")
        }

        // Headers first: check every shard and size the matrix once.
        var dimension: Int?
        var rowsPerShard: [Int] = []
        for shard in shards {
            let header = try NumpyArray.header(contentsOf: shard.url)
            guard header.dtype.isFloat, header.shape.count == 2 else {
                throw EmbeddingFileError(.wrongType, shard.url.path, "has dtype \(header.dtype) and shape \(header.shapeText); expected a 2-D float matrix")
            }
            if let d = dimension, d != header.shape[1] {
                throw EmbeddingFileError(.mismatch, shard.url.path, "rows have \(header.shape[1]) values but \(shards[0].url.lastPathComponent) has \(d)")
            }
            dimension = header.shape[1]
            rowsPerShard.append(header.shape[0])
        }

        let (paths, pathSource) = try clipPaths(root: root, shards: shards, rowsPerShard: rowsPerShard, pathList: pathList)
        let matrix = try EmbeddingMatrix(uninitializedRows: rowsPerShard.reduce(0, +), dimension: dimension ?? 0,
                                         location: embeddingsFolder.path)  // every shard fills its rows or throws
        var row = 0
        for (shard, rows) in zip(shards, rowsPerShard) {
            let array = try NumpyArray(contentsOf: shard.url)
            guard array.shape == [rows, matrix.dimension] else {
                throw EmbeddingFileError(.mismatch, shard.url.path, "changed while it was being read")
            }
            array.copyFloats(into: matrix.row(row))
            row += rows
        }
        try finish(matrix, paths: paths, location: embeddingsFolder.path)
        return ImportedEmbeddings(paths: paths.map(display), pathBytes: paths, matrix: matrix, modelID: nil,
                                  source: "clip-retrieval shards \(embeddingsFolder.path) (\(shards.count) shard\(shards.count == 1 ? "" : "s")) with paths from \(pathSource)",
                                  notes: [])
    }

    /// `img_emb_N.npy` files in shard-number order (10 after 9, not after 1).
    static func shardFiles(in folder: URL) throws -> [(number: Int, url: URL)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            throw EmbeddingFileError(.unreadable, folder.path, "cannot list the folder")
        }
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("img_emb_"), name.hasSuffix(".npy"),
                  let n = Int(name.dropFirst(8).dropLast(4)) else { return nil }
            return (n, folder.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    static func clipPaths(root: URL, shards: [(number: Int, url: URL)], rowsPerShard: [Int], pathList: URL?) throws -> ([[UInt8]], String) {
        let fm = FileManager.default
        let total = rowsPerShard.reduce(0, +)
        let shardSource = shards.count == 1 ? shards[0].url.path : "the \(shards.count) shards in \(shards[0].url.deletingLastPathComponent().path)"
        for list in [pathList, root.appendingPathComponent("paths.txt")].compactMap({ $0 }) where fm.fileExists(atPath: list.path) {
            let paths = try PathList.readBytes(list)
            try checkCount(paths.count, pathSource: list.path, rows: total, matrixSource: shardSource)
            return (paths, list.path)
        }
        if let pathList { throw EmbeddingFileError(.unreadable, pathList.path, "no such path list") }

        // Per-shard metadata, as clip-retrieval writes it (but in a format curator reads).
        let metadata = root.appendingPathComponent("metadata")
        var paths: [[UInt8]] = []
        paths.reserveCapacity(total)
        var missing = false
        for (shard, rows) in zip(shards, rowsPerShard) {
            let candidates = ["txt", "csv", "json"].map { metadata.appendingPathComponent("metadata_\(shard.number).\($0)") }
            guard let list = candidates.first(where: { fm.fileExists(atPath: $0.path) }) else { missing = true; break }
            let shardPaths = try PathList.readBytes(list)
            try checkCount(shardPaths.count, pathSource: list.path, rows: rows, matrixSource: shard.url.path)
            paths += shardPaths
        }
        if !missing { return (paths, metadata.path + "/metadata_N") }

        let parquet = (try? fm.contentsOfDirectory(atPath: metadata.path))?.filter { $0.hasSuffix(".parquet") } ?? []
        if !parquet.isEmpty {
            throw EmbeddingFileError(.unsupported, metadata.path, """
                clip-retrieval's paths are in Parquet files (\(parquet.sorted().prefix(3).joined(separator: ", "))\(parquet.count > 3 ? ", …" : "")), \
                which curator does not read. Convert them once to a text list, then import again:
                  cd \(shellQuoted(root.path)) && \(parquetCommand)
                (use the 'url' column instead of 'image_path' if the embeddings were made from URLs)
                """)
        }
        throw EmbeddingFileError(.missing, root.path, "no paths for the shards: expected paths.txt here, metadata/metadata_N.txt (.csv, .json) for each shard, or a path list given explicitly")
    }

    /// The one-line conversion of clip-retrieval's Parquet metadata to `paths.txt`, in shard order.
    public static let parquetCommand = #"python -c "import pandas as pd, glob, re; fs = sorted(glob.glob('metadata/metadata_*.parquet'), key=lambda f: int(re.findall(r'\d+', f)[-1])); open('paths.txt', 'w').write(''.join(p + '\n' for f in fs for p in pd.read_parquet(f)['image_path']))""#

    // MARK: Shared checks

    static func checkCount(_ count: Int, pathSource: String, rows: Int, matrixSource: String) throws {
        guard count != rows else { return }
        throw EmbeddingFileError(.mismatch, pathSource, "has \(count) path\(count == 1 ? "" : "s") but \(matrixSource) has \(rows) row\(rows == 1 ? "" : "s")")
    }

    /// Refuses rows that cannot be compared, then normalises (see `normalizeImportedRows`).
    static func finish(_ matrix: EmbeddingMatrix, paths: [[UInt8]], location: String) throws {
        try normalizeImportedRows(matrix, location: location) { display(paths[$0]) }
    }

    static func display(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }

    static func quotedList(_ names: [String]) -> String {
        names.dropLast().map { "'\($0)'" }.joined(separator: ", ") + ", or '\(names.last ?? "")'"
    }

    static func shellQuoted(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
