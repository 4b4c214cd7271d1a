import Foundation

/// Why a run's coverage cannot be measured.
public enum RunCoverageError: Error, CustomStringConvertible, LocalizedError {
    /// The run's vectors are not the album's active ones.
    case otherEmbedder(run: Int64, runEmbedder: String, active: String)

    public var description: String {
        switch self {
        case .otherEmbedder(let run, let runEmbedder, let active):
            return "run \(run) was made with the \(runEmbedder) embedder, but the album now uses \(active): "
                + "distances would not be comparable (a:embed(\"\(runEmbedder)\") switches back)"
        }
    }

    public var errorDescription: String? { description }
}

extension Album {
    /// How well `run`'s selection covers `candidates` (image ids; nil: every
    /// embedded image not excluded now): each one's cosine distance to its
    /// nearest selected image, summarised (`r:coverage()`).
    public func coverage(of run: SelectionRun, candidates ids: [Int64]? = nil) throws -> SelectionCoverage {
        let album = try matrix()
        guard album.embedder == run.embedder else {
            throw RunCoverageError.otherEmbedder(run: run.id, runEmbedder: run.embedder, active: album.embedder)
        }
        let rows: [Int]
        if let ids {
            rows = ids.compactMap { album.rowOf[$0] }
        } else {
            rows = album.imageIDs.indices.filter { !exclusions.contains(album.imageIDs[$0]) }
        }
        let picks = run.selection.compactMap { album.rowOf[$0] }
        return SelectionCoverage.measure(matrix: album.matrix, candidates: rows, picks: picks)
    }
}
