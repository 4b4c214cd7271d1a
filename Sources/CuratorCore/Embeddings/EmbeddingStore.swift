import Foundation
import GRDB

/// An album's matrix of one embedder's vectors, with the image of each row.
public struct AlbumMatrix: Sendable {
    /// The embedder the vectors come from.
    public let embedder: String
    /// The vectors, one row per image, L2-normalised.
    public let matrix: EmbeddingMatrix
    /// The image id of each row.
    public let imageIDs: [Int64]
    /// The row of each image id (`rowOf[id]`, nil for an image without a vector).
    public let rowOf: IDPositions

    /// Creates the pairing of rows and images.
    public init(embedder: String, matrix: EmbeddingMatrix, imageIDs: [Int64]) {
        self.embedder = embedder
        self.matrix = matrix
        self.imageIDs = imageIDs
        rowOf = IDPositions(ids: imageIDs)
    }
}

/// Reads and writes embedding vectors in the index. Vectors are stored as
/// little-endian float32 BLOBs, one row per image and embedder.
public struct EmbeddingStore: Sendable {
    let database: IndexDatabase

    /// The embedders with vectors in the index: name, model id and dimension.
    public func embedders() throws -> [(name: String, modelID: String?, dimension: Int)] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, model_id, dimension FROM embedder ORDER BY name").map {
                (name: $0[0], modelID: $0[1], dimension: $0[2])
            }
        }
    }

    /// Registers `embedder` with its model and dimension, refusing to mix
    /// dimensions or models under one name.
    public func register(embedder: String, modelID: String?, dimension: Int, source: String) throws {
        try database.pool.write { db in try register(db, embedder: embedder, modelID: modelID, dimension: dimension, source: source) }
    }

    /// `register` inside the caller's transaction.
    func register(_ db: Database, embedder: String, modelID: String?, dimension: Int, source: String) throws {
        do {
            if let row = try Row.fetchOne(db, sql: "SELECT model_id, dimension FROM embedder WHERE name = ?", arguments: [embedder]) {
                let storedDimension: Int = row[1]
                let storedModel: String? = row[0]
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM embedding WHERE embedder = ?", arguments: [embedder]) ?? 0
                if count > 0 {
                    if storedDimension != dimension {
                        throw IndexError.dimensionMismatch(source: source, expected: storedDimension, got: dimension)
                    }
                    if let stored = storedModel, let model = modelID, stored != model {
                        throw IndexError.modelMismatch(embedder: embedder, stored: stored, got: model)
                    }
                }
                try db.execute(sql: "UPDATE embedder SET model_id = COALESCE(?, model_id), dimension = ? WHERE name = ?",
                               arguments: [modelID, dimension, embedder])
            } else {
                try db.execute(sql: "INSERT INTO embedder(name, model_id, dimension) VALUES (?, ?, ?)",
                               arguments: [embedder, modelID, dimension])
            }
        }
    }

    /// How many images have a vector of `embedder`, and how many failed it.
    public func counts(embedder: String) throws -> (embedded: Int, failed: Int) {
        try database.pool.read { db in
            if try isFileHomed(db, embedder: embedder) {
                return (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM image") ?? 0, 0)
            }
            let embedded = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM embedding WHERE embedder = ?", arguments: [embedder]) ?? 0
            let failed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM embed_failure WHERE embedder = ?", arguments: [embedder]) ?? 0
            return (embedded, failed)
        }
    }

    /// The ids of images that have no vector (and no recorded failure) for `embedder`.
    public func missing(embedder: String) throws -> [Int64] {
        try database.pool.read { db in
            if try isFileHomed(db, embedder: embedder) { return [] }
            return try Int64.fetchAll(db, sql: """
                SELECT id FROM image
                WHERE id NOT IN (SELECT image_id FROM embedding WHERE embedder = ?)
                  AND id NOT IN (SELECT image_id FROM embed_failure WHERE embedder = ?)
                ORDER BY id
                """, arguments: [embedder, embedder])
        }
    }

    /// Writes vectors (each `dimension` floats) for images, replacing earlier ones, in one transaction.
    public func write(embedder: String, vectors: [(imageID: Int64, vector: UnsafeBufferPointer<Float>)]) throws {
        try database.pool.write { db in try write(db, embedder: embedder, vectors: vectors) }
    }

    /// `write(embedder:vectors:)` inside the caller's transaction.
    func write(_ db: Database, embedder: String, vectors: [(imageID: Int64, vector: UnsafeBufferPointer<Float>)]) throws {
        do {
            let statement = try db.makeStatement(sql: "INSERT OR REPLACE INTO embedding(image_id, embedder, vector) VALUES (?, ?, ?)")
            for (id, vector) in vectors {
                let blob = Data(buffer: vector)  // float32 in memory order: little-endian on every platform we build for
                try statement.execute(arguments: [id, embedder, blob])
            }
        }
    }

    /// Writes row `i` of `matrix` as the vector of image `imageIDs[i]` (rows whose id is nil are skipped).
    public func write(embedder: String, imageIDs: [Int64?], matrix: EmbeddingMatrix) throws {
        try database.pool.write { db in try write(db, embedder: embedder, imageIDs: imageIDs, matrix: matrix) }
    }

    /// `write(embedder:imageIDs:matrix:)` inside the caller's transaction.
    func write(_ db: Database, embedder: String, imageIDs: [Int64?], matrix: EmbeddingMatrix) throws {
        var vectors: [(imageID: Int64, vector: UnsafeBufferPointer<Float>)] = []
        for (row, id) in imageIDs.enumerated() {
            if let id { vectors.append((id, UnsafeBufferPointer(start: matrix.row(row), count: matrix.dimension))) }
        }
        try write(db, embedder: embedder, vectors: vectors)
        withExtendedLifetime(matrix) {}
    }

    /// Records images the embedder could not process, so they are not retried until they change.
    public func recordFailures(embedder: String, failures: [(imageID: Int64, reason: String)]) throws {
        guard !failures.isEmpty else { return }
        try database.pool.write { db in try recordFailures(db, embedder: embedder, failures: failures) }
    }

    /// `recordFailures` inside the caller's transaction.
    func recordFailures(_ db: Database, embedder: String, failures: [(imageID: Int64, reason: String)]) throws {
        do {
            for (id, reason) in failures {
                try db.execute(sql: "INSERT OR REPLACE INTO embed_failure(image_id, embedder, reason) VALUES (?, ?, ?)",
                               arguments: [id, embedder, reason])
            }
        }
    }

    /// The recorded failures of `embedder`: image id and reason.
    public func failures(embedder: String) throws -> [(imageID: Int64, reason: String)] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT image_id, reason FROM embed_failure WHERE embedder = ? ORDER BY image_id",
                             arguments: [embedder]).map { (imageID: $0[0], reason: $0[1]) }
        }
    }

    /// The counter that every change to the stored vectors increases.
    public func generation() throws -> Int64 {
        try database.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'embedding_generation'") ?? 0
        }
    }

    /// The file beside the index that holds (or caches) `embedder`'s matrix.
    func matrixFile(embedder: String) -> MatrixFile {
        Self.matrixFile(embedder: embedder, besides: database.path)
    }

    /// The matrix file of `embedder` for the index at `databasePath` (which
    /// need not exist yet), named after the index: `matrix-<embedder>.bin`
    /// beside an album folder's `album.sqlite`, `<index>.matrix-<embedder>.bin`
    /// beside any other index. Indexes that share a folder (every read-only
    /// album's in the cache folder, or the indexes of several embeddings files
    /// in one folder's `.curator/`) so never share a matrix file.
    static func matrixFile(embedder: String, besides databasePath: String) -> MatrixFile {
        let folder = (databasePath as NSString).deletingLastPathComponent
        let index = (databasePath as NSString).lastPathComponent
        let prefix = index == "album.sqlite" ? "" : ((index as NSString).deletingPathExtension + ".")
        return MatrixFile(path: folder + "/\(prefix)matrix-\(safeName(embedder)).bin")
    }

    /// Where releases before the file was named after its index kept it:
    /// `matrix-<embedder>.bin` beside any index, shared by every index in the folder.
    static func sharedMatrixFile(embedder: String, besides databasePath: String) -> MatrixFile {
        MatrixFile(path: (databasePath as NSString).deletingLastPathComponent + "/matrix-\(safeName(embedder)).bin")
    }

    private static func safeName(_ embedder: String) -> String {
        String(embedder.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// `embedder`'s matrix file, after moving an older release's shared file
    /// to its own name when that file is this index's: its token (fresh per
    /// index and import, never 0 once set) must match, so a file another
    /// album wrote under the shared name is never taken. A file without a
    /// token (a folder album's cache) cannot be told apart; it is left, and
    /// the cache is rebuilt from the index under the new name.
    private func migratedMatrixFile(embedder: String, generation: Int64, token: Int64, dimension: Int) -> MatrixFile {
        let file = matrixFile(embedder: embedder)
        let shared = Self.sharedMatrixFile(embedder: embedder, besides: database.path)
        guard shared.path != file.path, token != 0, !database.isReadOnly,
              !file.isCurrent(generation: generation, token: token, dimension: dimension),
              shared.isCurrent(generation: generation, token: token, dimension: dimension) else { return file }
        rename(shared.path, file.path)
        return file
    }

    /// How this index keeps its matrix files (float32 unless a user chose float16).
    public func precision() throws -> MatrixPrecision {
        try database.meta(Self.precisionKey).flatMap { MatrixPrecision(rawValue: $0) } ?? .float32
    }

    /// Records how to keep the matrix from now on; the next `matrix(embedder:)` converts the file.
    func setPrecision(_ precision: MatrixPrecision) throws {
        try database.setMeta(Self.precisionKey, precision.rawValue)
    }

    static let precisionKey = "matrix_precision"

    /// Whether `embedder`'s vectors live only in its matrix file: an
    /// index-only album's, where every image is a row of the file it was
    /// opened from, so the index records no vector at all (a million rows
    /// saying "this image has one" would only slow the first open).
    public func isFileHomed(embedder: String) throws -> Bool {
        try database.pool.read { try isFileHomed($0, embedder: embedder) }
    }

    func isFileHomed(_ db: Database, embedder: String) throws -> Bool {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [Self.fileHomedKey]) == embedder
    }

    static let fileHomedKey = "vectors_in_matrix_file"

    /// Loads every vector of `embedder` into one matrix: mapped from the
    /// matrix file when it is current, else read from the index (and saved
    /// to the file for the next time). Vectors whose only copy is the file
    /// (an index-only album's) must find it current. The matrix comes at the
    /// index's `precision()`: a file of the other precision is converted
    /// (atomically: the old file stays whole and usable until the new one
    /// replaces it), except that a folder album going back to float32 reads
    /// its exact float32 vectors from the index again.
    public func matrix(embedder: String) throws -> AlbumMatrix {
        let generation = try generation()
        let dimension = try embedders().first { $0.name == embedder }?.dimension ?? 0
        let token = try ensureMatrixToken()
        let wanted = try precision()
        let file = migratedMatrixFile(embedder: embedder, generation: generation, token: token, dimension: dimension)
        let homed = try isFileHomed(embedder: embedder)
        if let saved = file.load(embedder: embedder, generation: generation, token: token, dimension: dimension) {
            if saved.matrix.precision == wanted { return saved }
            if homed || wanted == .float16 {
                return try converted(saved, to: wanted, file: file, generation: generation, token: token)
            }
        } else if homed {
            throw IndexError.unreadableIndex(path: file.path, reason: "the vectors file is missing, damaged or older than the index; open the embeddings file again to re-import it")
        }
        let loaded = try loadMatrix(embedder: embedder)
        // A read-only index gets nothing written beside it, not even this cache.
        guard loaded.matrix.rows > 0, !database.isReadOnly else { return Self.inMemory(loaded, at: wanted) }
        if wanted == .float32 {
            file.save(loaded, generation: generation, token: token)
            return loaded
        }
        return try converted(loaded, to: wanted, file: file, generation: generation, token: token)
    }

    /// `source` at `precision`, its file rewritten to match (mapped back
    /// from it), or converted in memory when the index is read-only.
    private func converted(_ source: AlbumMatrix, to precision: MatrixPrecision, file: MatrixFile,
                           generation: Int64, token: Int64) throws -> AlbumMatrix {
        guard !database.isReadOnly else { return Self.inMemory(source, at: precision) }
        guard file.saveConverted(source, to: precision, generation: generation, token: token),
              let mapped = file.load(embedder: source.embedder, generation: generation, token: token, dimension: source.matrix.dimension) else {
            throw IndexError.cannotCreateIndex(path: file.path, reason: "the \(precision == .float16 ? "float16" : "float32") vectors file could not be written (\(String(cString: strerror(errno)))); the old one is unchanged")
        }
        return mapped
    }

    private static func inMemory(_ source: AlbumMatrix, at precision: MatrixPrecision) -> AlbumMatrix {
        AlbumMatrix(embedder: source.embedder, matrix: source.matrix.converted(to: precision), imageIDs: source.imageIDs)
    }

    /// The token of this index's matrix files (0 until an import sets one).
    func matrixToken() throws -> Int64 {
        try database.meta(Self.matrixTokenKey).flatMap { Int64($0) } ?? 0
    }

    /// The matrix token, made now for an index that has none yet (a folder
    /// album's, whose file is a cache): with it, no other index's file is
    /// ever taken for this one's, even under the same name.
    private func ensureMatrixToken() throws -> Int64 {
        let token = try matrixToken()
        guard token == 0, !database.isReadOnly else { return token }
        let fresh = Int64.random(in: 1...Int64.max)
        try database.setMeta(Self.matrixTokenKey, String(fresh))
        return fresh
    }

    static let matrixTokenKey = "matrix_token"

    /// The precision of `embedder`'s matrix file when `matrix(embedder:)`
    /// would map it (checks its header only), nil when it would not.
    func currentMatrixPrecision(embedder: String) throws -> MatrixPrecision? {
        let dimension = try embedders().first { $0.name == embedder }?.dimension ?? 0
        let (generation, token) = (try generation(), try matrixToken())
        return migratedMatrixFile(embedder: embedder, generation: generation, token: token, dimension: dimension)
            .currentPrecision(generation: generation, token: token, dimension: dimension)
    }

    /// Whether `matrix(embedder:)` would map a current file (checks its header only).
    func hasCurrentMatrixFile(embedder: String) throws -> Bool {
        try currentMatrixPrecision(embedder: embedder) != nil
    }

    /// Records, inside the caller's transaction, that every image has a
    /// vector of `embedder` whose only copy will be its matrix file (the
    /// index keeps none of them). Call `saveFileHomed` after the transaction
    /// commits: the file carries the generation and token it leaves.
    func recordFileHomed(_ db: Database, embedder: String) throws {
        try db.execute(sql: "DELETE FROM embedding WHERE embedder = ?", arguments: [embedder])
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [Self.fileHomedKey, embedder])
        // A fresh token per import: no file from another index or import matches it.
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                       arguments: [Self.matrixTokenKey, String(Int64.random(in: 1...Int64.max))])
    }

    /// Starts writing the matrix file of vectors `recordFileHomed` will
    /// record (the rows, while the caller's transaction runs); hand the
    /// writer to `finishFileHomed` after the transaction commits. A writer
    /// whose mapped rows `matrix` is (`MatrixFile.Writer.mapRows()`) is
    /// taken as it is, renamed for `embedder`.
    func beginFileHomed(embedder: String, matrix: EmbeddingMatrix, filled: MatrixFile.Writer? = nil) throws -> MatrixFile.Writer {
        let file = matrixFile(embedder: embedder)
        if let filled, filled.matrix === matrix {
            filled.path = file.path  // its rows are in place already
            return filled
        }
        guard let writer = MatrixFile.Writer(path: file.path, matrix: matrix) else {
            throw IndexError.cannotCreateIndex(path: file.path, reason: "the vectors file could not be written (\(String(cString: strerror(errno))))")
        }
        return writer
    }

    /// Completes the matrix file begun by `beginFileHomed` with the image
    /// of each row, stamped with the generation and token the transaction left.
    func finishFileHomed(_ writer: MatrixFile.Writer, embedder: String, imageIDs: [Int64]) throws {
        guard writer.finish(imageIDs: imageIDs, generation: try generation(), token: try matrixToken()) else {
            throw IndexError.cannotCreateIndex(path: matrixFile(embedder: embedder).path,
                                               reason: "the vectors file could not be written (\(String(cString: strerror(errno))))")
        }
    }

    /// Loads every vector of `embedder` from the index into one matrix in a
    /// single pass, copying each BLOB straight into its row.
    public func loadMatrix(embedder: String) throws -> AlbumMatrix {
        try database.pool.read { db in
            guard let dimension = try Int.fetchOne(db, sql: "SELECT dimension FROM embedder WHERE name = ?", arguments: [embedder]) else {
                return AlbumMatrix(embedder: embedder, matrix: EmbeddingMatrix(rows: 0, dimension: 0), imageIDs: [])
            }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM embedding WHERE embedder = ?", arguments: [embedder]) ?? 0
            let matrix = EmbeddingMatrix(rows: count, dimension: dimension)
            var ids: [Int64] = []
            ids.reserveCapacity(count)
            let rowBytes = dimension * MemoryLayout<Float>.stride
            let cursor = try Row.fetchCursor(db, sql: "SELECT image_id, vector FROM embedding WHERE embedder = ?", arguments: [embedder])
            while let row = try cursor.next() {
                guard ids.count < count else { break }
                let target = UnsafeMutableRawPointer(matrix.row(ids.count))
                let ok = try row.withUnsafeData(atIndex: 1) { data -> Bool in
                    guard let data, data.count == rowBytes else { return false }
                    data.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: rowBytes) }
                    return true
                }
                if !ok {
                    throw IndexError.unreadableIndex(path: database.path,
                        reason: "a '\(embedder)' vector is not \(dimension) float32 values")
                }
                ids.append(row[0])
            }
            return AlbumMatrix(embedder: embedder, matrix: matrix, imageIDs: ids)
        }
    }
}
