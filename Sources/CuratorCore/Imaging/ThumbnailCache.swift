import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// JPEG thumbnails of an album's images, made with libvips on first request
/// and kept beside the index (`.curator/thumbnails/<size>/`), so a page
/// showing thousands of images decodes each file once.
///
/// A cached file is named for the image's id and for the size and time its
/// file had when it was indexed: an image whose file changed (and was
/// rescanned) gets a new thumbnail, never the old one. Files are written
/// whole (temporary file, then rename), so two threads making the same
/// thumbnail, or a reader beside a writer, never see a part. Safe to use from
/// several threads at once.
public struct ThumbnailCache: Sendable {
    /// The folder that holds this size's thumbnails.
    public let folder: String
    /// Thumbnails fit within `size × size` pixels.
    public let size: Int
    /// JPEG quality (1–100).
    public let quality: Int

    /// The cache of `size`-pixel thumbnails for the index at `indexPath`:
    /// `<folder of the index>/thumbnails/<size>` for an index called
    /// `album.sqlite`, `<folder>/<index name>.thumbnails/<size>` for the
    /// per-album files of the shared cache folder (so albums never share one).
    public init(indexPath: String, size: Int = 256, quality: Int = 82) {
        let url = URL(fileURLWithPath: indexPath)
        let name = url.lastPathComponent == "album.sqlite" ? "thumbnails" : url.deletingPathExtension().lastPathComponent + ".thumbnails"
        folder = url.deletingLastPathComponent().appendingPathComponent(name).appendingPathComponent(String(size)).path
        self.size = max(16, size)
        self.quality = min(100, max(1, quality))
    }

    /// Where the thumbnail of `image` is (or will be) kept.
    public func file(for image: ImageRecord) -> String {
        folder + "/" + Self.name(for: image)
    }

    /// The file name of `image`'s thumbnail: its id, and the indexed size and
    /// time that name the file's version (bit patterns: exact, no formatting).
    static func name(for image: ImageRecord) -> String {
        "\(image.id)-\(String(UInt64(bitPattern: image.size) ^ image.mtime.bitPattern.byteSwapped, radix: 36)).jpg"
    }

    /// Deletes the thumbnails no image of `images` (the album as it is now)
    /// would be shown with — of images gone from the album, or of an older
    /// version of a file changed and rescanned since — and the temporary
    /// files of writes that never finished (older than an hour). Only files
    /// named as this cache names them are touched. Returns how many it deleted.
    @discardableResult
    public func removeStale(keeping images: [ImageRecord]) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return 0 }
        var current = Set<String>(minimumCapacity: images.count)
        for image in images { current.insert(Self.name(for: image)) }
        let abandoned = Date().addingTimeInterval(-3600)
        var removed = 0
        for name in names where !current.contains(name) {
            let path = folder + "/" + name
            if name.hasSuffix(".tmp") {
                // "<thumbnail>.<pid>.<random>.tmp", written by `store`: only when no writer can still be at it.
                guard Self.isThumbnailName(String(name.prefix { $0 != "." }) + ".jpg"),
                      let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                      modified < abandoned else { continue }
            } else if !Self.isThumbnailName(name) {
                continue
            }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// Whether `name` is "<digits>-<base 36>.jpg", as `name(for:)` makes them.
    static func isThumbnailName(_ name: String) -> Bool {
        guard name.hasSuffix(".jpg") else { return false }
        let parts = name.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[0].allSatisfy { $0.isASCII && $0.isNumber }
            && !parts[1].isEmpty && parts[1].allSatisfy { $0.isASCII && ($0.isNumber || $0.isLowercase) }
    }

    /// Whether the thumbnail of `image` is already made.
    public func contains(_ image: ImageRecord) -> Bool {
        access(file(for: image), F_OK) == 0
    }

    /// The JPEG bytes of `image`'s thumbnail: read from the cache, or made
    /// from the file at `source` (its absolute path) and stored.
    ///
    /// - Throws: `ImageDecodeError` when the file is gone or cannot be read
    ///   (nothing is cached then, so a file put back is read again).
    public func thumbnail(of image: ImageRecord, source: FileSystemPath) throws -> [UInt8] {
        let path = file(for: image)
        if let cached = FileManager.default.contents(atPath: path), !cached.isEmpty {
            return [UInt8](cached)
        }
        let bytes = try make(source: source)
        store(bytes, at: path)
        return bytes
    }

    /// Makes a thumbnail without caching it (for images too big to keep, or a page's preview).
    ///
    /// On libvips' process-wide pool of one thread (`Libvips.start`): every
    /// caller already makes one thumbnail per core at a time (the review
    /// server's decoders and its warmer, the benchmark), and a pool of a
    /// thread per core for each image only added threads contending for the
    /// same cores: 1,000 JPEGs 1600×1200 → 256 px on two cores
    /// (`curator-bench thumbnails`, alternating), 105–114 images/s with such
    /// a pool against 122–128 without; in a slower minute, medians of six
    /// 100.4 against 106.0. A lone preview loses little: a JPEG decodes on
    /// one thread either way.
    public func make(source: FileSystemPath) throws -> [UInt8] {
        try ImageDecoder(thumbnailSize: size).jpeg(path: source, quality: quality)
    }

    /// Writes `bytes` at `path` through a temporary file and a rename. A
    /// cache that cannot be written (read-only album, full disk) only costs
    /// speed: the thumbnail is still served, and made again next time.
    private func store(_ bytes: [UInt8], at path: String) {
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = path + ".\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }
}
