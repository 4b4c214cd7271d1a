import CVipsShims
import Foundation

/// Encodes decoded pixels for pages and reports (thumbnails as JPEG).
public enum ImageEncoder {
    /// Why encoding failed.
    public struct Failure: Error, CustomStringConvertible {
        /// libvips' message.
        public let description: String
    }

    /// The JPEG bytes of `image` at `quality` (1–100).
    public static func jpeg(_ image: RGBImage, quality: Int = 80) throws -> [UInt8] {
        _ = Libvips.start()
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message: UnsafeMutablePointer<CChar>?
        let status = image.pixels.withUnsafeBufferPointer {
            curator_vips_encode_jpeg($0.baseAddress, Int32(image.width), Int32(image.height), 3, Int32(quality),
                                     &out, &length, &message)
        }
        guard status == 0, let out else {
            defer { free(message) }
            throw Failure(description: message.map { String(cString: $0) } ?? "JPEG encoding failed")
        }
        defer { curator_vips_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }
}
