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
        // The indexed size and time name the file's version (bit patterns: exact, no formatting).
        let version = String(UInt64(bitPattern: image.size) ^ image.mtime.bitPattern.byteSwapped, radix: 36)
        return folder + "/\(image.id)-\(version).jpg"
    }

    /// Whether the thumbnail of `image` is already made.
    public func contains(_ image: ImageRecord) -> Bool {
        access(file(for: image), F_OK) == 0
    }

    /// The JPEG bytes of `image`'s thumbnail: read from the cache, or made
    /// from the file at `source` (its absolute path) and stored.
    ///
    /// - Throws: `ImageDecodeError` when the file is gone or cannot be read
    ///   (nothing is cached then, so a file put back is read again);
    ///   `ImageEncoder.Failure`.
    public func thumbnail(of image: ImageRecord, source: [UInt8]) throws -> [UInt8] {
        let path = file(for: image)
        if let cached = FileManager.default.contents(atPath: path), !cached.isEmpty {
            return [UInt8](cached)
        }
        let bytes = try make(source: source)
        store(bytes, at: path)
        return bytes
    }

    /// Makes a thumbnail without caching it (for images too big to keep, or a page's preview).
    public func make(source: [UInt8]) throws -> [UInt8] {
        let decoded = try ImageDecoder(thumbnailSize: size).decode(path: source)
        return try ImageEncoder.jpeg(decoded, quality: quality)
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
