import ArgumentParser
import CuratorCore
import Dispatch
import Foundation

/// `curator-bench thumbnails DIR`: fills the review page's thumbnail cache
/// (`ThumbnailCache`, as the server makes them) for every image of a folder,
/// from empty, with one thread per core as the server decodes; reports
/// images, failed, seconds and images_per_second. The folder is scanned
/// (not embedded) before the clock starts.
struct Thumbnails: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time making the review page's thumbnail cache of a folder.")
    @Argument var folder: String
    @Option(help: "The thumbnails' box, in pixels.") var size = 256
    @Option(help: "Threads (default: one per core).") var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let album = try Album.open(folder, options: Album.OpenOptions(scan: true, embed: false))
        let cache = ThumbnailCache(indexPath: album.database.path, size: size)
        try? FileManager.default.removeItem(atPath: cache.folder)
        let images = album.images
        let sources = images.map { album.absolutePath(of: $0) }
        let workers = max(1, threads)
        let failures = FailureCount()
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: images.count, by: workers) {
                if (try? cache.thumbnail(of: images[i], source: sources[i])) == nil { failures.add() }
            }
            Libvips.threadDone()
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        BenchOutput.emit(["images": images.count, "failed": failures.value, "seconds": seconds,
                          "images_per_second": Double(images.count) / seconds])
    }
}

/// Failed thumbnails, counted from every worker.
/// `@unchecked Sendable`: its count is changed and read only under its lock.
private final class FailureCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
