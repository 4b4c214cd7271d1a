import CuratorCore
import Dispatch
import Foundation

/// The album's map for the review page, made once in the background on an
/// album connection of its own (a UMAP that is not cached yet takes minutes
/// on a large album, and the page must stay usable meanwhile). The page asks
/// again until it is ready; its progress is in the session's state.
/// `@unchecked Sendable`: its phase and flags are read and written only under `lock`; the album it owns is used only by its one background task.
final class ReviewMapper: @unchecked Sendable {
    private enum Phase {
        case idle
        case computing(label: String, done: Int, total: Int)
        case ready(AlbumMap)
        case failed(String)
    }

    private let album: Album
    private let lock = NSLock()
    private var phase = Phase.idle
    /// Whether the image list changed since the album was read (the next map reads it again).
    private var stale = false
    /// The computation under way, which `stop` waits for.
    private let work = BackgroundWork()

    init(album: Album) { self.album = album }

    /// `{"state": "idle"|"computing"|"ready"|"failed", ...}` for the page's status line.
    var status: [String: Any] {
        lock.lock(); defer { lock.unlock() }
        switch phase {
        case .idle: return ["state": "idle"]
        case let .computing(label, done, total): return ["state": "computing", "label": label, "done": done, "total": total]
        case let .ready(map): return ["state": "ready", "description": map.description, "points": map.count]
        case let .failed(message): return ["state": "failed", "error": message]
        }
    }

    /// The points in `order` (the page's album order), or 202 with progress
    /// while computing, or `{"state": "failed", "error": …}` when no map can be made.
    func reply(order: [Int64]) -> ReviewReply {
        lock.lock()
        let current = phase
        if case .idle = phase { startLocked() }
        lock.unlock()
        switch current {
        case let .ready(map):
            var bytes = [UInt8]()
            bytes.reserveCapacity(order.count * 8)
            for id in order {
                let point = map.point(of: id) ?? SIMD2(.nan, .nan)
                withUnsafeBytes(of: point.x.bitPattern.littleEndian) { bytes += $0 }
                withUnsafeBytes(of: point.y.bitPattern.littleEndian) { bytes += $0 }
            }
            return ReviewReply(contentType: "application/octet-stream", body: bytes,
                               headers: [("X-Curator-Map", map.description.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")])
        case let .failed(message):
            // An answer, not an error: an album without embeddings has no map, and the
            // page says why; a 4xx would also put an error in the browser's console.
            return .json(["state": "failed", "error": message])
        default:
            return .json(["state": "computing"], status: 202)
        }
    }

    /// Starts making the map now, so that it is ready when the page asks for it.
    func prepare() {
        lock.lock(); defer { lock.unlock() }
        if case .idle = phase { startLocked() }
    }

    /// Forgets the map (the image list changed); the next request makes it again.
    func invalidate() {
        lock.lock(); defer { lock.unlock() }
        stale = true
        // A computation under way finishes on the old list; it is then dropped (see startLocked).
        if case .computing = phase { return }
        phase = .idle
    }

    /// Cancels the computation under way and waits (at most `timeout`
    /// seconds) until it has ended (see `BackgroundWork`).
    func stop(timeout: Double = 60) { work.stop(timeout: timeout) }

    /// Whether a computation is under way.
    var isWorking: Bool { work.isWorking }

    private func startLocked() {
        phase = .computing(label: "map", done: 0, total: 1)
        let progress = work.progress { [weak self] label, done, total in self?.report(label: label, done: done, total: total) }
        // The album was copied from the caller's when the session started: read it again only after a change.
        let reload = stale
        stale = false
        work.start { [album] in
            var result: Phase
            do {
                if reload { try album.reload() }
                result = .ready(try album.map(AlbumMapOptions(source: .auto), progress: progress))
            } catch let error as IndexError {
                result = .failed("no map: \(error)")
            } catch is CancelledError {
                result = .idle
            } catch {
                result = .failed("the map could not be made: \(error)")
            }
            self.lock.lock()
            // The list changed while the map was made: the next request makes it again.
            if self.stale, case .ready = result { result = .idle }
            self.phase = result
            self.lock.unlock()
        }
    }

    /// Relays the map's progress to the page's status line.
    private func report(label: String, done: Int, total: Int) {
        lock.lock(); defer { lock.unlock() }
        if case .computing = phase { phase = .computing(label: label, done: done, total: total) }
    }
}
