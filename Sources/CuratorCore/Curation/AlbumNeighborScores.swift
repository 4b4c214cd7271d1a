/// The neighbour scores curator computes itself, usable wherever a
/// registered score is (`filter={score=...}`, `ctx.score`).
public enum NeighborScore: String, CaseIterable, Sendable {
    /// FiftyOne's uniqueness: 0 (a near-duplicate) to 1 (the most isolated image).
    case uniqueness
    /// Lightly's typicality: 1 / mean distance to the 20 nearest images.
    case typicality
}

extension Album {
    /// Uniqueness and typicality of every embedded image (matrix rows),
    /// computed once per matrix (they change when the embeddings do).
    public func neighborScores() throws -> NeighborScores {
        try neighborScores(of: matrix())
    }

    /// The scores of `album`, the matrix `matrix()` just gave: taken once
    /// per call, so a per-image lookup checks the mapped file once, not twice.
    private func neighborScores(of album: AlbumMatrix) throws -> NeighborScores {
        if let cached = cachedNeighborScores, cached.matrix === album.matrix { return cached.scores }
        let scores = try NeighborScores(matrix: album.matrix)
        cachedNeighborScores = (album.matrix, scores)
        return scores
    }

    /// Score `score` of image `id`; nil when the image has no vector.
    public func neighborScore(_ score: NeighborScore, of id: Int64) throws -> Double? {
        let album = try matrix()
        guard let row = album.rowOf[id] else { return nil }
        let scores = try neighborScores(of: album)
        return score == .uniqueness ? scores.uniqueness[row] : scores.typicality[row]
    }
}
