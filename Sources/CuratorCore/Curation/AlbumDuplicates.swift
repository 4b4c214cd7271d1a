import Foundation

/// One group of an album's near-duplicate images, in album terms.
public struct AlbumDuplicates: Sendable, Equatable {
    /// The group's images, by id (in matrix order).
    public let ids: [Int64]
    /// The image suggested to keep.
    public let keeper: Int64
    /// The lowest cosine similarity of a member to the keeper.
    public let similarity: Double
    /// `.score` when every member has statistics (the sharpest is kept), else `.central`.
    public let keptBy: DuplicateGroup.KeeperRule
}

extension Album {
    /// Groups of near-duplicate images among the album minus its exclusions
    /// (cosine similarity ≥ `threshold`, joined transitively), each with a
    /// suggested keeper: the sharpest member when the pixels embedder measured
    /// them all, else the most central one.
    public func duplicates(threshold: Float, progress: (any ProgressSink)? = nil) throws -> [AlbumDuplicates] {
        let album = try matrix()
        let rows = album.imageIDs.enumerated().filter { !exclusions.contains($0.element) }.map(\.offset)
        let groups = try NearDuplicateFinder(threshold: threshold).groups(matrix: album.matrix, rows: rows, score: { row in
            guard let record = self.image(id: album.imageIDs[row]) else { return nil }
            return try self.statistics(of: record)?.sharpness
        }, progress: progress)
        return groups.map { group in
            AlbumDuplicates(ids: group.rows.map { album.imageIDs[$0] }, keeper: album.imageIDs[group.keeper],
                            similarity: Double(group.similarity), keptBy: group.keptBy)
        }
    }
}
