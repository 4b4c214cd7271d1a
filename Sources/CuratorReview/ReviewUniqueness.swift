import CuratorCore
import Dispatch
import Foundation

/// Each image's uniqueness (FiftyOne's, `Album.neighborScores`) for the
/// side panel, computed once in the background on an album of its own —
/// only for albums of at most `limit` embedded images: the scores need
/// every image's nearest neighbours, seconds at 10,000 but minutes at 85,000,
/// which a page must not cost.
/// `@unchecked Sendable`: its scores are written once and read under `lock`.
final class ReviewUniqueness: @unchecked Sendable {
    /// The largest album whose scores are computed.
    static let limit = 10_000
    private let lock = NSLock()
    private var scores: [Int64: Double] = [:]
    /// The computation under way, which `stop` waits for.
    private let work = BackgroundWork()

    /// Starts computing the scores of `album` (an album of the caller's
    /// own, used only here) when it is small enough and has embeddings.
    func prepare(_ album: Album) {
        guard album.images.count <= Self.limit, album.embedder != nil else { return }
        work.start { [self] in
            guard !work.isStopped, let matrix = try? album.matrix(), let all = try? album.neighborScores() else { return }
            var out: [Int64: Double] = [:]
            out.reserveCapacity(matrix.imageIDs.count)
            for (row, id) in matrix.imageIDs.enumerated() { out[id] = all.uniqueness[row] }
            lock.lock(); scores = out; lock.unlock()
        }
    }

    /// The uniqueness of image `id` (0: a near-duplicate … 1: the most isolated), once computed.
    func value(of id: Int64) -> Double? {
        lock.lock(); defer { lock.unlock() }
        return scores[id]
    }

    /// Skips the computation if it has not started, or waits (at most
    /// `timeout` seconds; it is bounded by `limit`) until it has ended (see
    /// `BackgroundWork`).
    func stop(timeout: Double = 60) { work.stop(timeout: timeout) }

    /// Whether a computation is under way.
    var isWorking: Bool { work.isWorking }
}
