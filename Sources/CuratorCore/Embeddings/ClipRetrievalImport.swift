import Foundation

/// clip-retrieval's output, read as it is: `img_emb/img_emb_N.npy` shards of
/// embeddings and, row for row, `metadata/metadata_N.parquet` with the
/// `image_path` of each image (`url` when it was made from URLs) and its
/// `caption` when it has one.
extension EmbeddingImport {
    /// The folder inside an output folder that holds the embedding shards.
    public static let clipEmbeddingsFolder = "img_emb"

    /// Whether `folder` is a clip-retrieval output folder (it has
    /// `img_emb/img_emb_N.npy` shards), which `Album.open` opens as an
    /// index-only album rather than scanning it for images.
    public static func isClipRetrievalOutput(_ folder: String) -> Bool {
        let embeddings = (folder as NSString).appendingPathComponent(clipEmbeddingsFolder)
        return !((try? shardFiles(in: URL(fileURLWithPath: embeddings))) ?? []).isEmpty
    }

    /// The files an import of the output folder `folder` reads (shards,
    /// metadata, `paths.txt`), whose sizes and times tell when to import again.
    static func clipRetrievalFiles(_ folder: String) -> [String] {
        let fm = FileManager.default
        var files: [String] = []
        for sub in [clipEmbeddingsFolder, "metadata"] {
            let path = (folder as NSString).appendingPathComponent(sub)
            for name in ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted() {
                files.append((path as NSString).appendingPathComponent(name))
            }
        }
        return files + [(folder as NSString).appendingPathComponent("paths.txt")]
    }

    /// Imports a clip-retrieval output folder (or its `img_emb` folder).
    public static func clipRetrieval(_ folder: URL, pathList: URL? = nil) throws -> ImportedEmbeddings {
        try clipRetrieval(folder, pathList: pathList, into: ImportedRows.inMemory)
    }

    /// `clipRetrieval(_:pathList:)` with the matrix in the rows `make` makes.
    static func clipRetrieval(_ folder: URL, pathList: URL?, into make: ImportedRows.Maker) throws -> ImportedEmbeddings {
        let fm = FileManager.default
        var embeddingsFolder = folder.appendingPathComponent(clipEmbeddingsFolder)
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

        let metadata = try clipMetadata(root: root, shards: shards, rowsPerShard: rowsPerShard, pathList: pathList)
        let matrix = try make(rowsPerShard.reduce(0, +), dimension ?? 0, embeddingsFolder.path)  // every shard fills its rows or throws
        // Each shard goes from its file into its rows a block at a time, never
        // whole: peak memory stays the rows plus a block per core.
        var row = 0
        for (shard, rows) in zip(shards, rowsPerShard) {
            let file = try RawFile(shard.url)
            let header = try NumpyArray.header(of: file)
            guard header.shape == [rows, matrix.dimension], header.dtype.isFloat else {
                throw EmbeddingFileError(.mismatch, shard.url.path, "changed while it was being read")
            }
            try NumpyArray.streamFloats(from: file, header: header, into: matrix, firstRow: row)
            row += rows
        }
        try finish(matrix, paths: metadata.paths, location: embeddingsFolder.path)
        var imported = ImportedEmbeddings(
            fileSystemPaths: metadata.paths, matrix: try matrix.matrix(), modelID: nil,
            source: "clip-retrieval shards \(embeddingsFolder.path) (\(shards.count) shard\(shards.count == 1 ? "" : "s")) with paths from \(metadata.source)",
            notes: [])
        imported.captions = metadata.captions
        return imported
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

    /// The paths (and captions) of every shard's rows, in shard order, and where they came from.
    private static func clipMetadata(root: URL, shards: [(number: Int, url: URL)], rowsPerShard: [Int],
                                     pathList: URL?) throws -> (paths: [FileSystemPath], captions: [String?]?, source: String) {
        let fm = FileManager.default
        let total = rowsPerShard.reduce(0, +)
        let shardSource = shards.count == 1 ? shards[0].url.path : "the \(shards.count) shards in \(shards[0].url.deletingLastPathComponent().path)"
        for list in [pathList, root.appendingPathComponent("paths.txt")].compactMap({ $0 }) where fm.fileExists(atPath: list.path) {
            let paths = try PathList.readPaths(list)
            try checkCount(paths.count, pathSource: list.path, rows: total, matrixSource: shardSource)
            return (paths, nil, list.path)
        }
        if let pathList { throw EmbeddingFileError(.unreadable, pathList.path, "no such path list") }

        // Per-shard metadata: clip-retrieval's Parquet, else a list curator reads.
        let metadata = root.appendingPathComponent("metadata")
        let files = shards.map { shard in
            ["parquet", "txt", "csv", "json"].map { metadata.appendingPathComponent("metadata_\(shard.number).\($0)") }
                .first { fm.fileExists(atPath: $0.path) }
        }
        guard files.contains(where: { $0 != nil }) else {
            throw EmbeddingFileError(.missing, root.path, "no paths for the shards: expected metadata/metadata_N.parquet for each shard (as clip-retrieval writes them), paths.txt here, metadata/metadata_N.txt (.csv, .json), or a path list given explicitly")
        }
        var paths: [FileSystemPath] = []
        paths.reserveCapacity(total)
        var captions: [String?] = []
        var columns: Set<String> = []
        for ((shard, rows), file) in zip(zip(shards, rowsPerShard), files) {
            guard let file else {
                throw EmbeddingFileError(.missing, shard.url.path, "has no metadata: expected \(metadata.path)/metadata_\(shard.number).parquet beside the other shards' metadata")
            }
            guard file.pathExtension == "parquet" else {
                let shardPaths = try PathList.readPaths(file)
                try checkCount(shardPaths.count, pathSource: file.path, rows: rows, matrixSource: shard.url.path)
                paths += shardPaths
                captions += repeatElement(nil, count: rows)
                continue
            }
            let parquet = try ParquetFile(contentsOf: file)
            guard parquet.rowCount == rows else {
                throw EmbeddingFileError(.mismatch, file.path, "has \(parquet.rowCount) row\(parquet.rowCount == 1 ? "" : "s") but its shard \(shard.url.path) has \(rows); each metadata_N.parquet describes img_emb_N.npy row for row")
            }
            guard let pathColumn = PathList.pathFields.first(where: parquet.contains) else {
                throw EmbeddingFileError(.missing, file.path, "has no path column (looked for \(PathList.pathFields.joined(separator: ", ")); columns: \(parquet.columnNames.joined(separator: ", ")))")
            }
            columns.insert("'\(pathColumn)'")
            let values = try parquet.strings(pathColumn, maximumRows: rows)
            for row in 0..<values.count {
                guard let path = values[row] else {
                    throw EmbeddingFileError(.corrupt, "\(file.path): column '\(pathColumn)'", "row \(row) is null; every row needs the path of its image")
                }
                paths.append(FileSystemPath(bytes: Array(path)))
            }
            if parquet.contains("caption") {
                let text = try parquet.strings("caption", maximumRows: rows)
                for row in 0..<text.count { captions.append(text.string(row)) }
            } else {
                captions += repeatElement(nil, count: rows)
            }
        }
        let hasCaptions = captions.contains { $0 != nil }
        let kinds = Set(files.compactMap { $0?.pathExtension })
        let source = "\(metadata.path)/metadata_N.\(kinds.sorted().joined(separator: "|"))"
            + (columns.isEmpty ? "" : " (column \(columns.sorted().joined(separator: ", "))\(hasCaptions ? ", with captions" : ""))")
        return (paths, hasCaptions ? captions : nil, source)
    }
}
