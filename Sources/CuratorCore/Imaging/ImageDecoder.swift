import CVipsShims
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An 8-bit sRGB image, three samples per pixel (R, G, B), row after row.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width * height * 3` samples: RGBRGB…, top row first.
    public let pixels: [UInt8]
    /// The width the file's header states (before EXIF rotation).
    public let sourceWidth: Int
    /// The height the file's header states (before EXIF rotation).
    public let sourceHeight: Int
    /// The opacity of each pixel (0 transparent … 255 opaque), `width * height`
    /// bytes, when the file had an alpha band; nil for an opaque image. The
    /// colour in `pixels` is already flattened on white.
    public let alpha: [UInt8]?

    /// Creates an image from interleaved RGB samples; the source size
    /// defaults to the image's own.
    public init(width: Int, height: Int, pixels: [UInt8], sourceWidth: Int? = nil, sourceHeight: Int? = nil,
                alpha: [UInt8]? = nil) {
        self.width = width
        self.height = height
        self.pixels = pixels
        self.sourceWidth = sourceWidth ?? width
        self.sourceHeight = sourceHeight ?? height
        self.alpha = alpha
    }
}

/// The size of a thumbnail `ImageDecoder` wrote into a caller's buffer, and
/// the size of the file it came from.
public struct DecodedSize: Sendable, Equatable {
    /// Thumbnail width in pixels.
    public let width: Int
    /// Thumbnail height in pixels.
    public let height: Int
    /// The width the file's header states (before EXIF rotation).
    public let sourceWidth: Int
    /// The height the file's header states (before EXIF rotation).
    public let sourceHeight: Int
    /// Whether the caller's alpha buffer received the image's opacity.
    public let hasAlpha: Bool

    /// Creates a size record.
    public init(width: Int, height: Int, sourceWidth: Int, sourceHeight: Int, hasAlpha: Bool = false) {
        self.width = width
        self.height = height
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.hasAlpha = hasAlpha
    }
}

/// What an image file's header states, read without decoding its pixels.
public struct ImageHeader: Sendable, Equatable {
    /// Width in pixels, as stored (before EXIF rotation).
    public let width: Int
    /// Height in pixels, as stored (before EXIF rotation).
    public let height: Int
    /// The format libvips recognised, e.g. "JPEG", "PNG", "GIF".
    public let format: String

    /// Creates a header record.
    public init(width: Int, height: Int, format: String) {
        self.width = width
        self.height = height
        self.format = format
    }
}

/// Why an image file could not be decoded: the album lists the file with
/// this reason and carries on.
public struct ImageDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong with the file.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// No such file (or a dangling symlink).
        case notFound
        /// The process may not read the file.
        case permissionDenied
        /// A directory, device, fifo or socket, not a file.
        case notARegularFile
        /// The file has zero bytes.
        case emptyFile
        /// No image loader recognises the bytes.
        case notAnImage
        /// The header states more pixels than the decoder's limit allows.
        case tooLarge(width: Int, height: Int, limit: Int)
        /// A loader recognised the format (e.g. "JPEG") but could not read the header.
        case unreadableHeader(format: String)
        /// The pixel data is truncated or corrupt.
        case corrupt(format: String)
        /// Another operating-system error (errno and its text), e.g. a symlink loop.
        case system(code: Int32, message: String)
        /// libvips itself cannot be loaded: nothing can be decoded (the
        /// message names the library and what the dynamic linker said).
        case decoderUnavailable(String)

        public var description: String {
            switch self {
            case .notFound: return "no such file"
            case .permissionDenied: return "permission denied"
            case .notARegularFile: return "not a regular file"
            case .emptyFile: return "empty file"
            case .notAnImage: return "not an image (no image loader recognises it)"
            case let .tooLarge(width, height, limit):
                return "too large: \(width)×\(height) exceeds the \(ImageDecoder.megapixels(limit))-megapixel limit"
            case let .unreadableHeader(format): return "unreadable \(format) header"
            case let .corrupt(format): return "truncated or corrupt \(format)"
            case let .system(code, message): return "\(message) (errno \(code))"
            case let .decoderUnavailable(message): return message
            }
        }
    }

    /// The file, as the bytes it was opened with.
    public let path: FileSystemPath
    /// What was wrong.
    public let reason: Reason
    /// libvips' own message, when it gave one (may mention other files that
    /// failed at the same moment: its error buffer is process-wide).
    public let detail: String?

    /// Creates an error for `path`.
    public init(path: FileSystemPath, reason: Reason, detail: String? = nil) {
        self.path = path
        self.reason = reason
        self.detail = detail
    }

    /// "<path>: <reason>", with libvips' message in parentheses when there is one.
    public var description: String {
        let file = path.string
        if let detail, !detail.isEmpty { return "\(file): \(reason) (\(detail))" }
        return "\(file): \(reason)"
    }
}

extension ImageDecodeError: LocalizedError {
    public var errorDescription: String? { description }
}

/// Decodes image files into small 8-bit sRGB thumbnails through libvips:
/// shrink-on-load (a 24-megapixel JPEG is decoded at 1/8 scale, not in full),
/// EXIF auto-rotation, alpha flattened on white (and, when asked for, kept
/// apart so statistics can weigh pixels by it), greyscale / CMYK / 16-bit
/// converted. Files whose header states more than `pixelLimit` pixels are
/// refused before any decoding; truncated or corrupt files fail instead of
/// coming back partly grey. Safe to use from several threads at once.
public struct ImageDecoder: Sendable {
    /// The default pixel limit: 20,000 × 20,000 = 400 megapixels.
    public static let defaultPixelLimit = 20_000 * 20_000

    /// Thumbnails fit within `thumbnailSize × thumbnailSize` (aspect kept, never enlarged).
    public let thumbnailSize: Int
    /// Images whose header states more pixels than this are refused (0: no limit).
    public let pixelLimit: Int

    /// Creates a decoder.
    public init(thumbnailSize: Int = 256, pixelLimit: Int = ImageDecoder.defaultPixelLimit) {
        self.thumbnailSize = max(1, thumbnailSize)
        self.pixelLimit = max(0, pixelLimit)
    }

    /// The bytes a buffer passed to `decode(path:into:)` must hold.
    public var bufferCapacity: Int { thumbnailSize * thumbnailSize * 3 }
    /// The bytes an alpha buffer passed to `decode(path:into:alpha:)` must hold.
    public var alphaCapacity: Int { thumbnailSize * thumbnailSize }

    /// Decodes the image at `path` into a new thumbnail,
    /// with its opacity when it has an alpha band.
    public func decode(path: FileSystemPath) throws(ImageDecodeError) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: bufferCapacity)
        var alpha = [UInt8](repeating: 0, count: alphaCapacity)
        let size = try pixels.withUnsafeMutableBufferPointer { buffer throws(ImageDecodeError) in
            try alpha.withUnsafeMutableBufferPointer { alphaBuffer throws(ImageDecodeError) in
                try decode(path: path, into: buffer, alpha: alphaBuffer)
            }
        }
        pixels.removeSubrange((size.width * size.height * 3)...)
        alpha.removeSubrange((size.width * size.height)...)
        return RGBImage(width: size.width, height: size.height, pixels: pixels,
                        sourceWidth: size.sourceWidth, sourceHeight: size.sourceHeight,
                        alpha: size.hasAlpha ? alpha : nil)
    }

    /// Decodes the image at `path` into `buffer` (at least `bufferCapacity`
    /// bytes; RGB rows, `width * 3` bytes each, from the start) — the form
    /// for hot loops that reuse one buffer per thread. When `alpha` is given
    /// (at least `alphaCapacity` bytes) and the image has an alpha band, its
    /// opacity goes there, a byte a pixel, and the result's `hasAlpha` says so.
    public func decode(path: FileSystemPath, into buffer: UnsafeMutableBufferPointer<UInt8>,
                       alpha: UnsafeMutableBufferPointer<UInt8>? = nil) throws(ImageDecodeError) -> DecodedSize {
        // Loads libvips on first use with curator's tuning; when it cannot
        // load, the shim reports CURATOR_THUMB_UNAVAILABLE below.
        Libvips.start()
        guard buffer.count >= bufferCapacity, let base = buffer.baseAddress else {
            // A programming error, not bad input: still reported, never a crash.
            throw ImageDecodeError(path: path, reason: .system(code: EINVAL,
                message: "decode buffer holds \(buffer.count) bytes, needs \(bufferCapacity)"))
        }
        if let alpha, alpha.count < alphaCapacity {
            throw ImageDecodeError(path: path, reason: .system(code: EINVAL,
                message: "alpha buffer holds \(alpha.count) bytes, needs \(alphaCapacity)"))
        }
        var info = curator_thumb_info()
        var message: UnsafeMutablePointer<CChar>? = nil
        let status = path.withCPath { cPath in
            curator_vips_thumbnail(cPath, Int32(clamping: thumbnailSize), Int64(pixelLimit),
                                   base, buffer.count, alpha?.baseAddress, &info, &message)
        }
        try check(status, &info, message, path: path)
        return DecodedSize(width: Int(info.width), height: Int(info.height),
                           sourceWidth: Int(info.source_width), sourceHeight: Int(info.source_height),
                           hasAlpha: info.has_alpha != 0)
    }

    /// The thumbnail of the image at `path` as the bytes of a JPEG of
    /// `quality` (1–100), made as `decode` makes its pixels and encoded by
    /// libvips straight from its pipeline: for pages and reports, which
    /// store or send the JPEG and never need the pixels. It runs on
    /// libvips' process-wide pool (one thread, as `Libvips.start` sets it).
    public func jpeg(path: FileSystemPath, quality: Int) throws(ImageDecodeError) -> [UInt8] {
        Libvips.start()
        var info = curator_thumb_info()
        var message: UnsafeMutablePointer<CChar>? = nil
        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        let status = path.withCPath { cPath in
            curator_vips_thumbnail_jpeg(cPath, Int32(clamping: thumbnailSize), Int64(pixelLimit),
                                        Int32(clamping: min(100, max(1, quality))), &out, &length, &info, &message)
        }
        defer { curator_vips_free(out) }
        try check(status, &info, message, path: path)
        guard let out else { return [] }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    /// Checks the image at `path` without decoding its pixels — it opens, a
    /// loader recognises it, its header reads, its size is within
    /// `pixelLimit` — and returns what the header states.
    public func probe(path: FileSystemPath) throws(ImageDecodeError) -> ImageHeader {
        Libvips.start()
        var info = curator_thumb_info()
        var message: UnsafeMutablePointer<CChar>? = nil
        let status = path.withCPath { curator_vips_probe($0, Int64(pixelLimit), &info, &message) }
        try check(status, &info, message, path: path)
        return ImageHeader(width: Int(info.source_width), height: Int(info.source_height), format: Self.formatName(&info))
    }

    /// Frees libvips' message and throws the error `status` stands for.
    private func check(_ status: curator_thumb_status, _ info: inout curator_thumb_info,
                       _ message: UnsafeMutablePointer<CChar>?, path: FileSystemPath) throws(ImageDecodeError) {
        let detail = message.map { pointer -> String in
            defer { free(pointer) }
            let text = String(cString: pointer)
            return text.count > 400 ? String(text.prefix(400)) + "…" : text
        }
        if status == CURATOR_THUMB_OK { return }
        let format = Self.formatName(&info)
        let reason: ImageDecodeError.Reason
        switch status {
        case CURATOR_THUMB_NOT_FOUND: reason = .notFound
        case CURATOR_THUMB_PERMISSION: reason = .permissionDenied
        case CURATOR_THUMB_NOT_REGULAR: reason = .notARegularFile
        case CURATOR_THUMB_EMPTY: reason = .emptyFile
        case CURATOR_THUMB_UNKNOWN_FORMAT: reason = .notAnImage
        case CURATOR_THUMB_TOO_LARGE:
            reason = .tooLarge(width: Int(info.source_width), height: Int(info.source_height), limit: pixelLimit)
        case CURATOR_THUMB_HEADER_FAILED: reason = .unreadableHeader(format: format)
        case CURATOR_THUMB_DECODE_FAILED: reason = .corrupt(format: format)
        case CURATOR_THUMB_BUFFER:
            reason = .system(code: EINVAL, message: "thumbnail larger than its buffer")
        case CURATOR_THUMB_UNAVAILABLE:
            reason = .decoderUnavailable(Libvips.unavailableReason ?? "libvips is unavailable")
            throw ImageDecodeError(path: path, reason: reason)
        default:
            reason = .system(code: info.os_error, message: String(cString: strerror(info.os_error)))
        }
        throw ImageDecodeError(path: path, reason: reason, detail: detail)
    }

    /// "jpeg" → "JPEG"; loaders with unusual names keep them.
    private static func formatName(_ info: inout curator_thumb_info) -> String {
        let name = withUnsafeBytes(of: &info.format) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        switch name {
        case "": return "image"
        case "jpeg", "png", "gif", "tiff", "heif", "webp", "svg", "pdf", "jxl", "fits": return name.uppercased()
        case "nsgif": return "GIF"
        case "jp2k": return "JPEG 2000"
        case "ppm": return "PPM"
        case "rad": return "Radiance"
        case let other where other.hasPrefix("magick"): return "image (read by ImageMagick)"
        default: return name
        }
    }

    /// 400_000_000 → "400"; 2_500_000 → "2.5".
    static func megapixels(_ pixels: Int) -> String {
        if pixels % 1_000_000 == 0 { return String(pixels / 1_000_000) }
        return String(Double(pixels) / 1_000_000)
    }
}

/// Loads and starts libvips once per process, tuned for callers that
/// parallelise across images: libvips' own worker pool is set to one thread
/// and its operation cache is off (each file is read once; a cache would only
/// hold file handles and decoded tiles).
///
/// libvips is not linked into curator: it is opened with dlopen the first
/// time an image is probed, decoded or encoded, because loading it and the
/// ~90 libraries it depends on at process start was most of curator's
/// start-up time. Every decoding path starts it through here (the C shims
/// also start it themselves when called first).
public enum Libvips {
    private static let started: Bool = {
        guard curator_vips_init() == 0 else { return false }
        curator_vips_configure(1, 0)
        return true
    }()

    /// Starts libvips if it is not running yet; returns whether it runs.
    @discardableResult
    public static func start() -> Bool { started }

    /// Starts libvips, or throws why it cannot be used — for operations that
    /// would otherwise record every image as unreadable.
    public static func require() throws(LibraryUnavailable) {
        if !start() { throw LibraryUnavailable(description: unavailableReason ?? "libvips is unavailable") }
    }

    /// Why libvips cannot be used (naming the library), or nil when it runs.
    public static var unavailableReason: String? {
        guard !start(), let message = curator_vips_load_error() else { return nil }
        return String(cString: message)
    }

    /// libvips' version as (major, minor, micro), or nil when it cannot be loaded.
    public static var version: (major: Int, minor: Int, micro: Int)? {
        guard start() else { return nil }
        return (Int(curator_vips_version(0)), Int(curator_vips_version(1)), Int(curator_vips_version(2)))
    }

    /// Whether libvips runs its vectorised paths. Off before libvips 8.15,
    /// whose Orc code allocator corrupts the heap when several threads build
    /// or free pipelines at once (see CVipsShims/OrcGuard.h).
    public static var isVectorised: Bool { start() && curator_vips_vectorised() != 0 }

    /// Whether JPEG thumbnails (`ImageDecoder.jpeg`: the review page's cache,
    /// the reports) run on the vector paths. Before libvips 8.15 they do
    /// too, their builds and releases one at a time, unless VIPS_NOVECTOR
    /// is set or the operation cache keeps operations.
    public static var jpegThumbnailsAreVectorised: Bool {
        start() && curator_vips_jpeg_thumbnails_vectorised() != 0
    }

    /// Overrides the tuning `start` applies: libvips' threads per pipeline
    /// and the number of operations its cache keeps (for measurements).
    public static func configure(concurrency: Int, cacheOperations: Int) {
        start()
        curator_vips_configure(Int32(clamping: concurrency), Int32(clamping: cacheOperations))
    }

    /// Frees libvips' per-thread buffers; call at the end of a thread that decoded images.
    public static func threadDone() { curator_vips_thread_done() }
}
