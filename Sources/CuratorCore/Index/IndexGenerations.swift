import GRDB

/// Counters that change whenever the index does, read in one query: another
/// connection (the review page's server, a script beside the REPL) compares
/// them with what it saw last to know what to read again.
public struct IndexGenerations: Sendable, Equatable, Codable {
    /// Bumped by every change to the exclusions and favorites (a trigger, schema v5).
    public var imageSets: Int64
    /// Bumped by every change to the vectors, including those a rescan drops (schema v2).
    public var embeddings: Int64
    /// How many images the index holds.
    public var imageCount: Int64
    /// The largest image id (a rescan that adds and removes as many images still moves it).
    public var maximumImageID: Int64
    /// The newest saved run's id (0 when there is none).
    public var latestRun: Int64
    /// Bumped by every change to the images' statistics (schema v11).
    public var statistics: Int64 = 0

    /// Whether the image list may have changed between `self` and `other`.
    public func imagesDiffer(from other: IndexGenerations) -> Bool {
        embeddings != other.embeddings || imageCount != other.imageCount || maximumImageID != other.maximumImageID
    }

    /// Whether the images' statistics (what the quality checks read) may
    /// have changed between `self` and `other`: measured, or their images'
    /// vectors or list changed.
    public func statisticsDiffer(from other: IndexGenerations) -> Bool {
        statistics != other.statistics || imagesDiffer(from: other)
    }
}

extension IndexDatabase {
    /// The index's generation counters, read in one transaction.
    public func generations() throws -> IndexGenerations {
        try pool.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'image_set_generation'),
                       (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'embedding_generation'),
                       (SELECT COUNT(*) FROM image), (SELECT COALESCE(MAX(id), 0) FROM image),
                       (SELECT COALESCE(MAX(id), 0) FROM run),
                       (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'statistics_generation')
                """)
            return IndexGenerations(imageSets: row?[0] ?? 0, embeddings: row?[1] ?? 0, imageCount: row?[2] ?? 0,
                                    maximumImageID: row?[3] ?? 0, latestRun: row?[4] ?? 0, statistics: row?[5] ?? 0)
        }
    }
}
