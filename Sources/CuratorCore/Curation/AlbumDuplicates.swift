import Foundation

/// One group of an album's near-duplicate images, in album terms.
public struct AlbumDuplicates: Sendable, Equatable {
    /// The group's images, by id (in matrix order).
    public let ids: [Int64]
    /// The image suggested to keep.
    public let keeper: Int64
    /// The lowest cosine similarity of a member to the keeper.
    public let similarity: Double
    /// `.score` when every member has statistics (`DuplicateKeeper`'s rule),
    /// `.chosen` when the caller chose, else `.central`.
    public let keptBy: DuplicateGroup.KeeperRule
    /// Groups with the same number were one chain of pairs before it was
    /// split around keepers (`DuplicateGroup.chain`).
    public var chain: Int = 1
}

/// How `Album.duplicates` compares images.
public enum DuplicateMethod: String, Sendable, CaseIterable {
    /// `exact` below `Album.duplicateIndexRows` embedded images (or when the
    /// index would compare nearly every pair anyway, at low thresholds), else `index`.
    case auto
    /// Every pair, by blocked GEMMs: cost grows with the square of the album.
    case exact
    /// The album's duplicate index (`InvertedFile`): only pairs in the same or neighbouring lists.
    case index
}

/// What `Album.duplicates` found, and how.
public struct DuplicateSearch: Sendable {
    /// The groups, largest first.
    public var groups: [AlbumDuplicates]
    /// `.exact` or `.index`: how pairs were compared.
    public var method: DuplicateMethod
    /// With `.index`: where the index came from.
    public var index: IndexSource?
    /// With `.index`: its number of lists.
    public var lists: Int?

    /// Where the duplicate index of a search came from.
    public enum IndexSource: Sendable, Equatable {
        /// The album's stored index, every image's vector unchanged.
        case stored
        /// The stored index, with `assigned` images that arrived or whose vector changed assigned to it.
        case updated(assigned: Int)
        /// Built now: there was none, or it was for other vectors (another
        /// embedder or dimension, or most vectors changed), or damaged.
        case built
    }
}

extension Album {
    /// The number of embedded images from which `.auto` searches through the
    /// duplicate index rather than every pair. Where building the index and
    /// searching it overtakes comparing every pair was measured with
    /// scripts/bench/duplicates (crossover part: 512-d, threshold 0.97):
    /// between 5,000 and 10,000 rows. Below this size the search is exact
    /// by construction, and its result the same as before the index existed.
    public static let duplicateIndexRows = 8_000

    /// The similarity near-duplicates start from with this album's vectors.
    /// The pixels embedder describes tone and texture, not content, so
    /// different drawings of one kind come close: 106 clip-art stars joined
    /// at 0.96, while its re-encoded and resized copies score 0.999 and up
    /// and distinct pictures of one texture 0.994 (the sample album). CLIP
    /// and other semantic vectors place copies from 0.95 up.
    public var defaultDuplicateThreshold: Double {
        embedder == PixelEmbedder.name ? 0.997 : 0.96
    }

    /// Groups of near-duplicate images among the album minus its exclusions
    /// (cosine similarity ≥ `threshold` to the group's suggested keeper:
    /// `DuplicateKeeper`'s choice when the pixels embedder measured them all,
    /// else the most central one; see `NearDuplicateFinder`).
    public func duplicates(threshold: Float, progress: (any ProgressSink)? = nil) throws -> [AlbumDuplicates] {
        try duplicateSearch(threshold: threshold, progress: progress).groups
    }

    /// `duplicates`, with the method to use and a report of how it went.
    ///
    /// With `.index` (and `.auto` on large albums) the album's duplicate
    /// index is used: read from the index file when it was built for these
    /// vectors, updated when images arrived or changed (their vectors are
    /// reassigned, never trusted), built when there is none or it was built
    /// for other vectors; then stored again unless the index is read-only.
    ///
    /// `keeper` chooses each group's keeper instead of the built-in rule,
    /// from the ids of the images of one chain still to place; it must
    /// return one of them.
    public func duplicateSearch(threshold: Float, method: DuplicateMethod = .auto,
                                keeper choose: (([Int64]) throws -> Int64)? = nil,
                                progress: (any ProgressSink)? = nil) throws -> DuplicateSearch {
        let album = try matrix()
        let rows = album.imageIDs.enumerated().filter { !exclusions.contains($0.element) }.map(\.offset)
        let finder = NearDuplicateFinder(threshold: threshold)
        func result(_ groups: [DuplicateGroup], _ method: DuplicateMethod, _ source: DuplicateSearch.IndexSource? = nil,
                    lists: Int? = nil) -> DuplicateSearch {
            DuplicateSearch(groups: groups.map { group in
                AlbumDuplicates(ids: group.rows.map { album.imageIDs[$0] }, keeper: album.imageIDs[group.keeper],
                                similarity: Double(group.similarity), keptBy: group.keptBy, chain: group.chain)
            }, method: method, index: source, lists: lists)
        }
        // The caller's choice, else `DuplicateKeeper`'s rule where every
        // member has statistics (the pixels embedder's), else the finder's
        // most central member.
        let keeper: NearDuplicateFinder.Chooser
        if let choose {
            keeper = { rows in
                let ids = rows.map { album.imageIDs[$0] }
                let id = try choose(ids)
                guard let at = ids.firstIndex(of: id) else {
                    throw SelectionError.invalidParameter(name: "keeper", reason: "must return one of the images it is given")
                }
                return (rows[at], .chosen)
            }
        } else {
            // Each row's facts read once (its statistics are a query): the rule
            // sees a chain's rows again for every keeper it picks there.
            var known: [Int: DuplicateKeeper.Facts?] = [:]
            func facts(of row: Int) throws -> DuplicateKeeper.Facts? {
                if let fact = known[row] { return fact }
                var fact: DuplicateKeeper.Facts?
                if let record = self.image(id: album.imageIDs[row]), let sharpness = try self.statistics(of: record)?.sharpness {
                    fact = DuplicateKeeper.Facts(sharpness: sharpness, pixels: record.width * record.height,
                                                 bytes: record.size, path: record.path.bytes)
                }
                known[row] = fact
                return fact
            }
            keeper = { rows in
                var chain: [DuplicateKeeper.Facts] = []
                chain.reserveCapacity(rows.count)
                for row in rows {
                    guard let fact = try facts(of: row) else { return nil }
                    chain.append(fact)
                }
                return DuplicateKeeper.choose(chain).map { (rows[$0], .score) }
            }
        }
        // Validate before building anything.
        try finder.validate(matrix: album.matrix, candidates: [])
        if method == .exact || (method == .auto && album.matrix.rows < Self.duplicateIndexRows) {
            return result(try finder.groups(matrix: album.matrix, rows: rows, keeper: keeper, progress: progress), .exact)
        }
        let (index, source) = try duplicateIndex(album, threshold: threshold, progress: progress)
        if method == .auto {
            var isCandidate = [Bool](repeating: false, count: album.matrix.rows)
            for row in rows { isCandidate[row] = true }
            let work = index.work(threshold: threshold, isCandidate: isCandidate)
            if work.index * 2 > work.allPairs {
                return result(try finder.groups(matrix: album.matrix, rows: rows, keeper: keeper, progress: progress), .exact)
            }
        }
        let groups = try finder.groups(matrix: album.matrix, rows: rows, index: index, keeper: keeper, progress: progress)
        return result(groups, .index, source, lists: index.listCount)
    }

    /// The album's duplicate index for the active embedder's vectors, with a
    /// horizon reaching `threshold`: the stored one, updated, or built (see
    /// `duplicateSearch`).
    func duplicateIndex(_ album: AlbumMatrix, threshold: Float,
                        progress: (any ProgressSink)?) throws -> (InvertedFile, DuplicateSearch.IndexSource) {
        let cache = DuplicateIndexCache(database: database)
        let matrix = album.matrix
        let fingerprints = matrix.rowFingerprints()
        let horizon = InvertedFile.horizon(for: threshold)
        var index: InvertedFile?
        var source = DuplicateSearch.IndexSource.built
        // A damaged entry is rebuilt like a missing one.
        if let stored = try? cache.entry(embedder: album.embedder), stored.index.dimension == matrix.dimension {
            let rowOf = Dictionary(zip(stored.imageIDs, stored.imageIDs.indices), uniquingKeysWith: { a, _ in a })
            var known = [InvertedFile.RowAssignment?](repeating: nil, count: matrix.rows)
            var reused = 0
            for (row, id) in album.imageIDs.enumerated() {
                if let old = rowOf[id], stored.fingerprints[old] == fingerprints[row] {
                    known[row] = stored.index.assignment(of: old)
                    reused += 1
                }
            }
            // Centres fitted to other vectors (most of them gone or changed) would make poor lists: rebuild then.
            if reused * 2 >= matrix.rows {
                let wider = horizon > stored.index.horizon
                index = try InvertedFile(centres: stored.index.centres, matrix: matrix,
                                           horizon: max(horizon, stored.index.horizon),
                                           known: wider ? nil : known, progress: progress)
                let assigned = wider ? matrix.rows : matrix.rows - reused
                source = assigned == 0 && stored.imageIDs.count == matrix.rows ? .stored : .updated(assigned: assigned)
            }
        }
        let built = try index ?? InvertedFile.duplicateIndex(matrix: matrix, horizon: horizon, progress: progress)
        if source != .stored && !database.isReadOnly {
            try cache.store(built, imageIDs: album.imageIDs, fingerprints: fingerprints, embedder: album.embedder)
        }
        return (built, source)
    }
}
