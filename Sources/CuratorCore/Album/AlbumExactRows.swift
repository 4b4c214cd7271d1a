import Foundation
import GRDB

extension Album {
    /// The exact float32 rows of `album` (this album's matrix) when it is
    /// kept at float16, for FPS to settle near-ties with (`TieSettling`):
    ///
    /// - a folder album's come from its index, which keeps every vector as
    ///   float32 (one indexed lookup per row; only rows near a tie are read);
    /// - an index-only album's from the embeddings file it was imported from,
    ///   row for row (the matrix file keeps the file's row order), widened
    ///   to float32 and scaled as the import did (float16, float32 or float64
    ///   values: a float16 `.npy` gives the float32 rows a float32 album of
    ///   it holds); a clip-retrieval folder's from its shards the same way.
    ///
    /// Nil for a float32 matrix (its rows are exact), an embeddings file
    /// changed since it was imported, or one whose matrix is not stored
    /// uncompressed in C order (a deflated npz member, a Fortran-order
    /// array): its rows cannot be read one by one.
    func exactRows(of album: AlbumMatrix) -> ExactRows? {
        let matrix = album.matrix
        guard matrix.precision == .float16 else { return nil }
        guard isIndexOnly else { return indexedExactRows(of: album) }
        guard let signature = try? FileSignature(path: location), (try? database.meta("source")) == signature.text else { return nil }
        if EmbeddingImport.isClipRetrievalOutput(location) {
            return Self.shardedExactRows(location, rows: matrix.rows, dimension: matrix.dimension)
        }
        guard let source = try? Self.storedRows(location),
              source.rows == matrix.rows, source.dimension == matrix.dimension else { return nil }
        return Self.exactRows(file: source.file, offset: source.offset, dimension: source.dimension, dtype: source.dtype)
    }

    /// Row `row` of a C-order float matrix stored at `offset` of `file`,
    /// widened to float32 and scaled as an import scales it.
    private static func exactRows(file: RawFile, offset: Int, dimension: Int, dtype: NumpyDType) -> ExactRows {
        let rowBytes = dimension * dtype.itemSize
        return ExactRows { row, target in
            #if _endian(little)
            if dtype == .float32 {
                try file.read(into: target, count: rowBytes, at: offset + row * rowBytes, what: "row \(row)")
                _ = EmbeddingMatrix.normalize(rows: row..<row + 1, at: target, dimension: dimension)
                return
            }
            #endif
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(rowBytes, 1), alignment: 8)
            defer { raw.deallocate() }
            try file.read(into: raw, count: rowBytes, at: offset + row * rowBytes, what: "row \(row)")
            NumpyArray.convertFloats(raw, dtype: dtype, count: dimension, into: target)
            _ = EmbeddingMatrix.normalize(rows: row..<row + 1, at: target, dimension: dimension)
        }
    }

    /// A clip-retrieval folder's rows, from its `img_emb_N.npy` shards in the
    /// order the import stacked them; nil unless every shard is a C-order
    /// float matrix of `dimension` columns and they hold `rows` in all.
    private static func shardedExactRows(_ folder: String, rows: Int, dimension: Int) -> ExactRows? {
        let embeddings = URL(fileURLWithPath: folder).appendingPathComponent(EmbeddingImport.clipEmbeddingsFolder)
        guard let shards = try? EmbeddingImport.shardFiles(in: embeddings) else { return nil }
        var starts: [Int] = [], readers: [ExactRows] = []
        var total = 0
        for shard in shards {
            guard let file = try? RawFile(shard.url), let header = try? NumpyArray.header(of: file),
                  header.dtype.isFloat, !header.isFortranOrder, header.shape.count == 2, header.shape[1] == dimension else { return nil }
            starts.append(total)
            readers.append(exactRows(file: file, offset: header.dataOffset, dimension: dimension, dtype: header.dtype))
            total += header.shape[0]
        }
        guard total == rows, !readers.isEmpty else { return nil }
        let (shardStarts, shardReaders) = (starts, readers)
        return ExactRows { row, target in
            // The last shard starting at or before `row`.
            var low = 0, high = shardStarts.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if shardStarts[middle] <= row { low = middle } else { high = middle - 1 }
            }
            try shardReaders[low].copyRow(row - shardStarts[low], target)
        }
    }

    /// A folder album's rows from the float32 vectors its index keeps (what
    /// its float32 matrix is loaded from, unchanged).
    private func indexedExactRows(of album: AlbumMatrix) -> ExactRows? {
        let (database, embedder, ids, dimension) = (database, album.embedder, album.imageIDs, album.matrix.dimension)
        guard (try? store.isFileHomed(embedder: embedder)) == false else { return nil }
        return ExactRows { row, target in
            let found = try database.pool.read { db in
                try Data.fetchOne(db, sql: "SELECT vector FROM embedding WHERE image_id = ? AND embedder = ?",
                                  arguments: [ids[row], embedder])
            }
            guard let found, found.count == dimension * 4 else {
                throw IndexError.unreadableIndex(path: database.path, reason: "image \(ids[row]) has no '\(embedder)' vector of \(dimension) float32 values")
            }
            found.withUnsafeBytes { UnsafeMutableRawPointer(target).copyMemory(from: $0.baseAddress!, byteCount: dimension * 4) }
        }
    }

    /// The stored (uncompressed, C-order) float matrix of the embeddings file
    /// at `path` (an `.npz` as `EmbeddingImport` reads it, or an `.npy`), if it is one.
    private static func storedRows(_ path: String) throws -> (file: RawFile, offset: Int, rows: Int, dimension: Int, dtype: NumpyDType)? {
        let url = URL(fileURLWithPath: path)
        if url.pathExtension.lowercased() == "npy" {
            let file = try RawFile(url)
            let header = try NumpyArray.header(of: file)
            guard header.dtype.isFloat, !header.isFortranOrder, header.shape.count == 2 else { return nil }
            return (file, header.dataOffset, header.shape[0], header.shape[1], header.dtype)
        }
        let archive = try NumpyArchive(contentsOf: url)
        let key = PhotoMapIndex.looksLikeIndex(archive) ? "embeddings" : try EmbeddingImport.findMatrixKey(archive)
        return try archive.storedRows(key)
    }
}
