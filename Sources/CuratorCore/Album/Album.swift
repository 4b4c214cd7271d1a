import Foundation
import GRDB

/// A folder of images (searched recursively) and its index: the images, their
/// embeddings and statistics, and what the user decided about them
/// (exclusions, favorites). Opening an album rescans it incrementally.
///
/// An album is used from one thread at a time (the Lua host's); its heavy
/// steps spread their own work over every core.
/// `@unchecked Sendable`: an album is used from one thread at a time (the Lua host's, or the review session's under its lock); its parallel steps share only read-only matrices.
public final class Album: @unchecked Sendable {
    /// How to open an album.
    public struct OpenOptions: Sendable {
        /// The embedder to use: "auto", "photomap", "pixels", …
        public var embedder = "auto"
        /// Whether to rescan the folder on opening.
        public var scan = true
        /// Whether to compute missing embeddings on opening.
        public var embed = true
        /// Set to open the index read-only: the album must have been indexed
        /// before, nothing is scanned, embedded or written (runs and maps
        /// stay in memory), and every change is refused with a message
        /// ending in this reason, e.g. "which safe mode (--safe) does not allow".
        public var readOnlyReason: String?
        /// The CLIP model folder (vision and text towers) for this session;
        /// nil uses `$CURATOR_CLIP_MODEL` or the installed models.
        public var model: URL?
        /// How to keep the matrix from now on (`setPrecision`); nil keeps
        /// what the album has (float32 unless chosen before).
        public var precision: MatrixPrecision?
        /// The default options.
        public init(embedder: String = "auto", scan: Bool = true, embed: Bool = true, readOnlyReason: String? = nil,
                    model: URL? = nil, precision: MatrixPrecision? = nil) {
            self.embedder = embedder
            self.scan = scan
            self.embed = embed
            self.readOnlyReason = readOnlyReason
            self.model = model
            self.precision = precision
        }
    }

    /// The absolute path that was opened: the album folder, or an embeddings file.
    public let location: String
    /// The folder image paths are relative to.
    public let root: FileSystemPath
    /// Whether the album is an embeddings file's rows rather than a folder.
    public let isIndexOnly: Bool
    /// The index.
    public let database: IndexDatabase
    /// The images, ordered by path.
    public private(set) var images: [ImageRecord] = []
    /// The images excluded from every selection (persisted).
    public let exclusions: ImageIDSet
    /// The user's favorites (persisted).
    public let favorites: ImageIDSet
    /// The embedder selections use.
    public private(set) var embedder: String?
    /// The active embedder's vector length (0 when it has none yet).
    public private(set) var dimension = 0
    /// The active embedder's model, when it names one.
    public private(set) var modelID: String?
    /// The CLIP model folder chosen for this session (`curator.open`'s
    /// `model=`), used by the `clip` embedder and the text tower.
    public var modelFolder: URL? {
        didSet { textTower = nil }
    }
    /// The text tower paired with the active vectors, once loaded.
    var textTower: CLIPTextEncoder? {
        didSet { phraseVectors = nil }
    }
    /// The text vectors of the last cluster vocabulary (see `clusterLabels`), by its key.
    var phraseVectors: (key: String, vectors: EmbeddingMatrix)?
    /// What the last scan found, when one ran in this session.
    public private(set) var lastScan: ScanReport?
    /// What the last embedding step did, when one ran in this session.
    public var lastEmbed: EmbedReport? { lastEmbedReport }
    var lastEmbedReport: EmbedReport?

    /// Runs made in this session and kept in memory (the index is read-only).
    var unsavedRuns: [SelectionRun] = []
    /// The embedder chosen in this session when the index is read-only.
    private var unsavedEmbedder: String?

    /// Whether the index was opened read-only.
    public var isReadOnly: Bool { database.isReadOnly }

    private var indexByID = IDPositions(ids: [])
    private var indexByPath: [RelativePath: Int]?
    /// Positions of the images with each file name, built on the first bare-name lookup.
    private var indexByName: [ArraySlice<UInt8>: [Int]]?
    private var cachedMatrix: AlbumMatrix?
    /// What needed a float32 copy of the float16 matrix this session (`precisionNote`).
    private var float32Purposes: [String] = []
    /// Uniqueness and typicality, for the matrix they were computed from.
    var cachedNeighborScores: (matrix: EmbeddingMatrix, scores: NeighborScores)?
    /// The int8 copy large albums' searches scan, for the matrix it was made from.
    var cachedQuantizedRows: QuantizedRows?

    var store: EmbeddingStore { EmbeddingStore(database: database) }

    /// Reads and writes this album's vectors.
    public var embeddingStore: EmbeddingStore { store }

    /// The album's name: its folder's (or embeddings file's) last component.
    public var name: String {
        let url = URL(fileURLWithPath: location)
        if isIndexOnly, url.deletingLastPathComponent().lastPathComponent == "photomap_index" {
            return url.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent
        }
        return url.lastPathComponent
    }

    /// The album folder as a string (for display and Foundation APIs).
    public var rootPath: String { root.string }

    /// An album on `database`, its images read from the index (`load`), or
    /// left for the caller to fill in (`reopened`, which copies them).
    init(location: String, root: FileSystemPath, isIndexOnly: Bool, database: IndexDatabase, load: Bool = true) throws {
        self.location = location
        self.root = root
        self.isIndexOnly = isIndexOnly
        self.database = database
        exclusions = try ImageIDSet(name: "exclusions", database: database)
        favorites = try ImageIDSet(name: "favorites", database: database)
        if load { try reload() }
    }

    /// A second `Album` on this album's index, with its own connection pool
    /// and its own copy of the image list, for another thread (the review
    /// server) that must never share this one. It does not rescan the folder;
    /// `reload()` catches up with changes made through other connections.
    ///
    /// Call it on the thread that uses this album: the image list is copied
    /// (Swift's copy-on-write makes that instant) rather than read again,
    /// which took 0.3 s per copy at 85,000 images. When the index holds a
    /// different list than this album (another process rescanned it), the
    /// copy reads the index's.
    public func reopened() throws -> Album {
        let copy = try Album(location: location, root: root, isIndexOnly: isIndexOnly,
                             database: IndexDatabase(path: database.path), load: false)
        let now = try copy.database.generations()
        if unsavedEmbedder == nil, now.imageCount == images.count, now.maximumImageID == (indexByID.maximum ?? 0) {
            copy.images = images
            copy.indexByID = indexByID
            copy.embedder = embedder
            copy.dimension = dimension
            copy.modelID = modelID
        } else {
            try copy.reload()
        }
        copy.modelFolder = modelFolder
        return copy
    }

    /// Opens the album at `location` — a folder, or a `.npz`/`.npy` embeddings
    /// file or a clip-retrieval output folder (an index-only album) — creating
    /// or updating its index.
    public static func open(_ location: String, options: OpenOptions = OpenOptions(),
                            progress: (any ProgressSink)? = nil) throws -> Album {
        let path = Self.absolutePath(location)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw IndexError.albumNotFound(path: location)
        }
        if !isFolder.boolValue || EmbeddingImport.isClipRetrievalOutput(path) {
            let album = try openEmbeddingsFile(path, options: options, progress: progress)
            album.modelFolder = options.model
            if let precision = options.precision { try album.setPrecision(precision) }
            return album
        }
        if let reason = options.readOnlyReason {
            guard let existing = IndexDatabase.existingLocation(besides: path) else {
                throw IndexError.noIndex(path: path, reason: reason)
            }
            let database = try IndexDatabase(path: existing, readOnlyReason: reason)
            let album = try Album(location: path, root: FileSystemPath(path), isIndexOnly: false, database: database)
            album.modelFolder = options.model
            if options.embedder != "auto" { try album.activate(embedder: options.embedder) }
            if let precision = options.precision { try album.setPrecision(precision) }
            return album
        }
        let database = try IndexDatabase(path: IndexDatabase.location(besides: path))
        try database.setMeta("root", path)
        let album = try Album(location: path, root: FileSystemPath(path), isIndexOnly: false, database: database)
        album.modelFolder = options.model
        if options.scan { _ = try album.scan(progress: progress) }
        if options.embed {
            // The embedder switches only once its vectors are in place.
            _ = try album.embed(options.embedder, progress: progress)
        } else {
            try album.activate(embedder: options.embedder)
        }
        if let precision = options.precision { try album.setPrecision(precision) }
        return album
    }

    /// `~` expanded, relative paths made absolute, `.`/`..` and trailing slashes removed.
    static func absolutePath(_ location: String) -> String {
        var path = (location as NSString).expandingTildeInPath
        if !path.hasPrefix("/") {
            path = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        }
        return (path as NSString).standardizingPath
    }

    /// Re-reads the images and the active embedder from the index.
    public func reload() throws {
        // Rows are usually stored in path order (imports insert them sorted,
        // scans walk folders sorted): then a plain table scan reads them, a
        // sequential pass. Only rows out of order pay for the path index's
        // lookups, read again in its order.
        let records = try database.pool.read { db in
            try ImageListReader.read(db, orderedByPath: false) ?? ImageListReader.read(db, orderedByPath: true)!
        }
        try adopt(images: records)
    }

    /// Takes `images` (ordered by path, as the index has them) as the
    /// album's list, and re-reads the active embedder: an import that has
    /// just written the images need not read them back.
    func adopt(images: [ImageRecord]) throws {
        self.images = images
        indexByID = IDPositions(ids: images.map(\.id))
        indexByPath = nil
        indexByName = nil
        try reloadEmbedder()
    }

    /// Re-reads which embedder is active and its shape.
    func reloadEmbedder() throws {
        if let name = try unsavedEmbedder ?? database.meta("embedder") {
            embedder = name
            let info = try store.embedders().first { $0.name == name }
            dimension = info?.dimension ?? 0
            modelID = info?.modelID
        }
        cachedMatrix = nil
        textTower = nil
    }

    /// Rescans the folder: new files are added, changed ones re-read (their
    /// embeddings recomputed by the next `embed`), removed ones dropped.
    /// Index-only albums have no folder to scan; this reports no change.
    @discardableResult
    public func scan(progress: (any ProgressSink)? = nil) throws -> ScanReport {
        guard !isIndexOnly else { return ScanReport() }
        try database.checkWritable("rescanning the folder")
        let (report, removed) = try AlbumScanner(database: database, root: root, known: images).scan(progress: progress)
        exclusions.forget(removed)
        favorites.forget(removed)
        lastScan = report
        if report.added + report.changed + report.removed > 0 { try reload() }
        return report
    }

    /// The image with index id `id`.
    public func image(id: Int64) -> ImageRecord? {
        indexByID[id].map { images[$0] }
    }

    /// The position (0-based) of image `id` in `images`.
    public func position(of id: Int64) -> Int? { indexByID[id] }

    /// The image at `path`: relative to the album, or absolute under its root.
    public func image(path bytes: [UInt8]) -> ImageRecord? {
        var relative = bytes
        let prefix = root.bytes + [UInt8(ascii: "/")]
        if relative.starts(with: prefix) { relative.removeFirst(prefix.count) }
        while relative.starts(with: [UInt8(ascii: "."), UInt8(ascii: "/")]) { relative.removeFirst(2) }
        if indexByPath == nil {
            indexByPath = Dictionary(uniqueKeysWithValues: images.enumerated().map { ($0.element.path, $0.offset) })
        }
        return indexByPath?[RelativePath(bytes: relative)].map { images[$0] }
    }

    /// The image at `path` (a string).
    public func image(path: String) -> ImageRecord? { image(path: Array(path.utf8)) }

    /// What a user's words name: the image at `path` (as `image(path:)`
    /// finds it), or, for a bare file name that is no path in the album
    /// (e.g. `note_025_b.png`), the one image with that name anywhere —
    /// or every image with it, when several folders hold one.
    public func lookup(_ path: [UInt8]) -> ImageLookup {
        if let record = image(path: path) { return .found(record) }
        guard !path.isEmpty, !path.contains(UInt8(ascii: "/")) else { return .missing }
        if indexByName == nil {
            var byName: [ArraySlice<UInt8>: [Int]] = [:]
            for (position, record) in images.enumerated() { byName[record.path.nameBytes, default: []].append(position) }
            indexByName = byName
        }
        let positions = indexByName?[path[...]] ?? []
        switch positions.count {
        case 0: return .missing
        case 1: return .found(images[positions[0]])
        default: return .ambiguous(positions.map { images[$0] })
        }
    }

    /// The absolute path of an image's file.
    public func absolutePath(of image: ImageRecord) -> FileSystemPath { image.path.absolute(under: root) }

    /// The files the index could not use, with their reasons: files that are
    /// not images at all, and images whose pixels the active embedder could
    /// not read (a truncated JPEG's header reads; its pixels do not).
    public func skipped() throws -> [SkippedFile] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: "\(Self.skippedFiles) ORDER BY 1", arguments: [embedder ?? ""]).map {
                SkippedFile(path: RelativePath(bytes: [UInt8]($0[0] as Data)), reason: $0[1])
            }
        }
    }

    /// How many files `skipped()` lists, without reading them (an album's
    /// one-line description shows it, and a folder of camera raws may list tens of thousands).
    public func skippedCount() throws -> Int {
        try database.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (\(Self.skippedFiles))", arguments: [embedder ?? ""]) ?? 0
        }
    }

    /// The files `skipped()` lists, as (path, reason) rows; its one argument is the active embedder.
    private static let skippedFiles = """
        SELECT path, reason FROM skipped
        UNION ALL
        SELECT image.path, embed_failure.reason FROM embed_failure JOIN image ON image.id = embed_failure.image_id
        WHERE embed_failure.embedder = ?
        """

    /// Whether the image is excluded.
    public func isExcluded(_ image: ImageRecord) -> Bool { exclusions.contains(image.id) }

    /// The embedders known to curator, in the order `auto` considers them.
    public static var embedderNames: [String] { BuiltInEmbedder.names }

    /// Makes `name` the embedder selections use ("auto" picks the first that applies).
    public func activate(embedder name: String) throws {
        let chosen = try resolveEmbedder(name)
        if isReadOnly {
            // Switching embedders only changes what this session reads.
            guard try store.embedders().contains(where: { $0.name == chosen }) else {
                try database.checkWritable("computing '\(chosen)' embeddings")
                return
            }
            unsavedEmbedder = chosen
            try reloadEmbedder()
            return
        }
        try database.pool.write { db in try record(db, activeEmbedder: chosen, chosenByName: name != "auto") }
        try reloadEmbedder()
    }

    /// Stores `name` as the active embedder (and, when the user named it, as
    /// their choice) inside the caller's transaction: callers put it in the
    /// one that writes the new vectors, so a switch never outlives a failure.
    func record(_ db: Database, activeEmbedder name: String, chosenByName: Bool) throws {
        if chosenByName, !isIndexOnly {
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('embedder_choice', ?)", arguments: [name])
        }
        if try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'embedder'") != name {
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('embedder', ?)", arguments: [name])
        }
    }

    private func resolveEmbedder(_ name: String) throws -> String {
        if name != "auto" {
            let stored = try store.embedders().map(\.name)
            guard Self.embedderNames.contains(name) || stored.contains(name) else {
                throw IndexError.unknownEmbedder(name: name, known: Self.embedderNames + stored.filter { !Self.embedderNames.contains($0) })
            }
            return name
        }
        // A choice the user made by name sticks; otherwise the best source
        // present now wins (PhotoMapAI may have indexed the album since).
        if let chosen = try database.meta("embedder_choice") { return chosen }
        if isIndexOnly, let current = try database.meta("embedder") { return current }
        let available = BuiltInEmbedder.allCases.first { $0.isAvailable(for: self) } ?? .pixels
        return available.rawValue
    }

    /// Computes (or imports) the vectors the active embedder — or `name` —
    /// lacks. Images that fail are listed in the report and not retried until
    /// their file changes. `name` becomes the active embedder only once its
    /// vectors are in place: when it cannot run, or no image gets a vector,
    /// this throws and the album keeps the embedder it had. `arithmetic` is
    /// the CLIP tower's (`CLIPPrecision`; nil: bfloat16 where the processor
    /// has AVX512_BF16). Both give the same embedder name: their vectors
    /// differ by a cosine under 0.00002, so images embedded either way
    /// belong together.
    @discardableResult
    public func embed(_ name: String? = nil, arithmetic: CLIPPrecision? = nil,
                      progress: (any ProgressSink)? = nil) throws -> EmbedReport {
        try database.checkWritable("computing embeddings")
        let target = try name.map(resolveEmbedder) ?? embedder ?? resolveEmbedder("auto")
        let switching = name != nil || target != embedder
        let (embedded, failed) = try store.counts(embedder: target)
        var report: EmbedReport
        let upToDate = embedded + failed == images.count && !(BuiltInEmbedder(rawValue: target)?.mayHaveChanged(for: self) ?? false)
        if upToDate {
            report = EmbedReport(embedder: target)
            report.alreadyEmbedded = embedded
            report.notes.append("nothing to compute: each of the \(images.count) images has a '\(target)' vector (\(embedded)) or a recorded failure (\(failed))")
        } else {
            report = try compute(target, arithmetic: arithmetic, progress: progress)
        }
        // CLIP reads no pixel statistics: measure them too, for the quality checks and the keeper rule.
        if target == BuiltInEmbedder.clip.rawValue, !isIndexOnly, !isReadOnly {
            let measured = try measureMissingStatistics(skipping: target, progress: progress)
            if measured > 0 {
                report.notes.append("measured the statistics (sharpness, brightness, contrast, colourfulness, entropy) of \(measured) images for the quality checks")
            }
        }
        if switching {
            // Leaving one embedder for another that has no vector at all would
            // make every selection fail; a first embedder is taken as it is.
            let now = try store.counts(embedder: target).embedded
            guard now > 0 || images.isEmpty || embedder == nil || embedder == target else {
                let first = report.failed.first.map { " (\($0.path.string): \($0.reason))" } ?? ""
                throw IndexError.embedderUnavailable(name: target, reason: "no image got a vector\(first); the album keeps embedder '\(embedder ?? "none")'")
            }
            try activate(embedder: name ?? "auto")
        }
        lastEmbedReport = report
        // Nothing computed and nothing switched leaves the image list as it
        // was read: reading it again cost a million-image reopen a second pass.
        if !upToDate || switching { try reload() }
        return report
    }

    /// Runs the embedder `name` over the images that lack its vectors.
    private func compute(_ name: String, arithmetic: CLIPPrecision?, progress: (any ProgressSink)?) throws -> EmbedReport {
        guard let builtIn = BuiltInEmbedder(rawValue: name) else {
            throw IndexError.embedderUnavailable(name: name, reason: "curator cannot compute it here; import its vectors with a:import(file)")
        }
        return try builtIn.compute(for: self, arithmetic: arithmetic, progress: progress)
    }

    /// The active embedder's vectors of every embedded image, as one matrix
    /// (loaded once, then kept until the embeddings change).
    ///
    /// A matrix mapped from its file is checked first (one `fstat`): when
    /// another program cut the file short, reading it would end the process
    /// (SIGBUS), so the album loads its vectors again instead (a folder
    /// album from its index; an index-only album's error says to re-import).
    public func matrix() throws -> AlbumMatrix {
        if let cachedMatrix {
            do {
                try cachedMatrix.matrix.checkFile()
                return cachedMatrix
            } catch {
                self.cachedMatrix = nil
            }
        }
        guard let embedder else { throw IndexError.noEmbeddings(album: name) }
        // Everything computed from the matrix (selections, maps, duplicates)
        // goes through BLAS: say so here if it cannot be loaded.
        if let reason = BLAS.unavailableReason { throw IndexError.libraryUnavailable(purpose: "compute", reason: reason) }
        let loaded = try store.matrix(embedder: embedder)
        guard loaded.matrix.rows > 0 else { throw IndexError.noEmbeddings(album: name) }
        cachedMatrix = loaded
        return loaded
    }

    /// How the album keeps its matrix: float32, or float16 (half the memory).
    public var precision: MatrixPrecision { (try? store.precision()) ?? .float32 }

    /// Keeps the album's matrix at `precision` from now on (persisted in the
    /// index): the matrix file is converted now, atomically (see
    /// `EmbeddingStore.matrix(embedder:)`); going back to float32 reads the
    /// exact float32 vectors again (from the index, or by re-importing an
    /// index-only album's embeddings file). When the conversion fails the
    /// album keeps its old precision and file, and the error says why.
    public func setPrecision(_ precision: MatrixPrecision) throws {
        let before = try store.precision()
        guard before != precision else { return }
        try database.checkWritable("keeping the vectors as \(precision.rawValue)")
        if isIndexOnly, precision == .float32, let embedder, try store.currentMatrixPrecision(embedder: embedder) == .float16 {
            // The float16 file is the only copy here: the exact values are in the embeddings file.
            try store.setPrecision(precision)
            _ = try Self.openEmbeddingsFile(location, options: OpenOptions(precision: .float32), progress: nil, forceImport: true)
            try reload()
            return
        }
        try store.setPrecision(precision)
        cachedMatrix = nil
        do {
            _ = try matrix()
        } catch IndexError.noEmbeddings {
            // Nothing to convert yet: vectors embedded later are kept at the new precision.
        } catch {
            try? store.setPrecision(before)
            cachedMatrix = nil
            throw error
        }
    }

    /// The album's vectors as float32, for work that reads rows in place
    /// (the map's neighbour search and layout): the matrix itself, or for a
    /// float16 album a float32 copy made now and freed when the work ends,
    /// which `precisionNote` then mentions (selection, search, coverage and
    /// duplicates read a float16 matrix a block at a time instead).
    func float32(_ album: AlbumMatrix, for purpose: String) -> EmbeddingMatrix {
        guard album.matrix.precision != .float32 else { return album.matrix }
        if !float32Purposes.contains(purpose) { float32Purposes.append(purpose) }
        return album.matrix.float32()
    }

    /// What ran on a temporary float32 copy of this float16 album's vectors
    /// in this session (nil when nothing did): each such step briefly needs
    /// the float32 matrix's memory as well as the float16 one.
    public var precisionNote: String? {
        guard !float32Purposes.isEmpty, let album = cachedMatrix else { return nil }
        let megabytes = Double(album.matrix.rows * album.matrix.dimension * 4) / 1e6
        return "the float16 vectors were widened to a float32 copy (\(String(format: "%.1f", megabytes)) MB while in use) for \(float32Purposes.joined(separator: ", "))"
    }
}
