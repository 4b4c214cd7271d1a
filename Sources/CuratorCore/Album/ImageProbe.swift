import CVipsShims
import Foundation

/// Reads an image file's header (never its pixels) to learn its size, and
/// refuses files that cannot be images or claim absurd dimensions before any
/// decoder is asked to allocate them.
public enum ImageProbe {
    /// The largest image accepted, in pixels (a 20,000 × 20,000 image).
    public static let maximumPixels = 400_000_000

    /// What a header said.
    public struct Header: Sendable, Equatable {
        /// Width in pixels.
        public let width: Int
        /// Height in pixels.
        public let height: Int
    }

    /// libvips needs starting once per process before any other call.
    static let started: Bool = curator_vips_init("curator") == 0

    /// Reads the header of the image at `path` (absolute, as bytes).
    ///
    /// - Returns: the size, or the reason the file is not usable.
    public static func header(of path: [UInt8], size: Int64) -> Result<Header, ImageReadFailure> {
        guard started else { return .failure(ImageReadFailure(reason: "libvips could not start")) }
        if size == 0 { return .failure(ImageReadFailure(reason: "empty file")) }
        var width: Int32 = 0
        var height: Int32 = 0
        var message: UnsafeMutablePointer<CChar>?
        let status = path.withCPath { curator_vips_header($0, &width, &height, &message) }
        if status != 0 {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            free(message)
            return .failure(ImageReadFailure(reason: "not a readable image (\(summarize(text)))"))
        }
        let pixels = Int(width) * Int(height)
        if width <= 0 || height <= 0 {
            return .failure(ImageReadFailure(reason: "invalid dimensions \(width)×\(height)"))
        }
        if pixels > maximumPixels {
            return .failure(ImageReadFailure(
                reason: "too large: \(width)×\(height) exceeds the \(maximumPixels / 1_000_000)-megapixel limit"))
        }
        return .success(Header(width: Int(width), height: Int(height)))
    }

    /// The first line of a libvips message, without the loader's prefix noise.
    static func summarize(_ text: String) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? text
        return line.count > 160 ? String(line.prefix(160)) + "…" : line
    }
}

/// Why an image file could not be used.
public struct ImageReadFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A short reason a person understands, e.g. "empty file".
    public let reason: String
    /// Creates a failure with `reason`.
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
