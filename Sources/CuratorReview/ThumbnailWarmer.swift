import CuratorCore
import Dispatch
import Foundation

/// Makes the thumbnails the page will ask for next (a run's ranked images)
/// in the background, one per core at a time, so scrolling finds them made.
/// Requests from the page do not wait for it: they make their own thumbnail at once.
/// `@unchecked Sendable`: its queue state is read and written only under `lock`, and the work runs on its own serial queues.
final class ThumbnailWarmer: @unchecked Sendable {
    private let cache: ThumbnailCache
    /// One serial queue per core: as many thumbnails at once as there are cores, never more threads.
    private let queues = (0..<availableCoreCount).map {
        DispatchQueue(label: "curator.review.thumbnails.\($0)", qos: .utility)
    }
    private let lock = NSLock()
    private var queued = Set<Int64>()
    private var done = 0
    private var total = 0
    private var stopped = false

    init(cache: ThumbnailCache) { self.cache = cache }

    /// How many of the queued thumbnails are made.
    var progress: (done: Int, total: Int) {
        lock.lock(); defer { lock.unlock() }
        return (done, total)
    }

    /// Queues `images` (with their absolute paths) not queued before.
    func enqueue(_ images: [(ImageRecord, FileSystemPath)]) {
        lock.lock()
        let fresh = images.filter { queued.insert($0.0.id).inserted }
        total += fresh.count
        lock.unlock()
        for (k, (image, source)) in fresh.enumerated() {
            queues[k % queues.count].async { [self] in
                lock.lock()
                let skip = stopped
                lock.unlock()
                if !skip, !cache.contains(image) { _ = try? cache.thumbnail(of: image, source: source) }
                lock.lock()
                done += 1
                lock.unlock()
            }
        }
    }

    /// Drops what is still queued.
    func stop() {
        lock.lock(); defer { lock.unlock() }
        stopped = true
    }
}
