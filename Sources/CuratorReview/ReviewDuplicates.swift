import CuratorCore
import Dispatch
import Foundation

/// The album's near-duplicate groups for the review page's Duplicates view,
/// found in the background on an album connection of its own: on a million
/// images `a:duplicates` takes half a minute, and the page (its thumbnails,
/// its clicks) must stay usable meanwhile. The page asks again until they are
/// ready; groups found for other exclusions or images, or at another
/// threshold (the view's similarity field), are found again.
/// `@unchecked Sendable`: its phase is read and written only under `lock`; the album it owns is used only by its one background task.
final class ReviewDuplicates: @unchecked Sendable {
    private enum Phase {
        case idle
        case computing
        /// The reply, the index's generations and the threshold it was found at.
        case ready([UInt8], IndexGenerations, Double)
        /// Why there are none (no embeddings), and the generations then.
        case failed(String, IndexGenerations?)
    }

    private let album: Album
    private let lock = NSLock()
    private var phase = Phase.idle
    /// The generations the album's image list was last read at.
    private var listRead: IndexGenerations?
    private let work = BackgroundWork()

    init(album: Album) {
        self.album = album
        listRead = try? album.database.generations()
    }

    /// The groups at `threshold` as JSON, or 202 while they are being found;
    /// found again when the exclusions, the images or the vectors changed
    /// since, or when they were found at another threshold.
    func reply(threshold: Double) -> ReviewReply {
        let now = try? album.database.generations()
        /// Whether what was found at `at` still holds.
        func current(_ at: IndexGenerations?) -> Bool {
            guard let now, let at else { return now == nil }
            return now.imageSets == at.imageSets && !now.imagesDiffer(from: at)
        }
        lock.lock()
        defer { lock.unlock() }
        switch phase {
        case let .ready(bytes, at, found) where current(at) && found == threshold:
            return .json(bytes: bytes)
        case let .failed(message, at) where current(at):
            // An answer, not an error (as the map's): a 4xx would also put an error in the browser's console.
            return .json(["state": "failed", "error": message])
        case .computing:
            return .json(["state": "computing"], status: 202)
        default:
            startLocked(threshold: threshold)
            return .json(["state": "computing"], status: 202)
        }
    }

    /// Cancels the search under way and waits (at most `timeout` seconds)
    /// for it to end (see `BackgroundWork`).
    func stop(timeout: Double = 60) { work.stop(timeout: timeout) }

    /// Whether a search is under way.
    var isWorking: Bool { work.isWorking }

    private func startLocked(threshold: Double) {
        phase = .computing
        let progress = work.progress()
        work.start { [album] in
            var result: Phase
            var at: IndexGenerations?
            do {
                let now = try album.database.generations()
                at = now
                if let read = self.listRead, now.imagesDiffer(from: read) {
                    try album.reload()
                }
                self.listRead = now
                try album.exclusions.refresh()
                let search = try album.duplicateSearch(threshold: Float(threshold), progress: progress)
                result = .ready(Self.json(search, threshold: threshold), now, threshold)
            } catch is CancelledError {
                result = .idle
            } catch {
                result = .failed("no near-duplicates to show: \(error)", at)
            }
            self.lock.lock()
            self.phase = result
            self.lock.unlock()
        }
    }

    /// `{"threshold":, "method":, "groups": [{"keeper":, "similarity":, "chain":, "ids": [keeper, copies…]}]}`.
    private static func json(_ search: DuplicateSearch, threshold: Double) -> [UInt8] {
        var out: [UInt8] = Array("{\"threshold\":\(threshold),\"method\":\"\(search.method.rawValue)\",\"groups\":[".utf8)
        for (k, group) in search.groups.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"keeper\":\(group.keeper),\"similarity\":\(group.similarity),\"chain\":\(group.chain),\"ids\":".utf8)
            ReviewJSON.appendIntegers([group.keeper] + group.ids.filter { $0 != group.keeper }, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out += Array("]}".utf8)
        return out
    }
}
