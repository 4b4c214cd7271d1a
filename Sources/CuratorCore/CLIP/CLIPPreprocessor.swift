import CVipsShims
import Foundation

/// Turns image files into a CLIP model's input through libvips, following
/// `CLIPImageProcessor`: EXIF orientation applied; CMYK, greyscale and 16-bit
/// images converted to 8-bit sRGB; alpha flattened on white; the shorter side
/// resized to the model's size (bicubic); centre crop; [0, 1]; mean and std.
///
/// Differences from transformers' PIL pipeline, measured by the tests:
/// - The resize is libvips' (same bicubic, a = −0.5, widened by the shrink
///   factor like PIL; pixel centres aligned as PIL does): 8-bit results differ
///   from PIL's by about 0.3 levels on average, a few levels at most.
/// - Large JPEGs are decoded at ½, ¼ or ⅛ scale (libjpeg's DCT scaling) when
///   the result stays at least `shrinkOnLoadMargin` × the resize size; the
///   exact bicubic resize follows. This is much faster and changes embeddings
///   slightly (see `CLIPEncoderTests`); a margin of 0 turns it off.
/// - EXIF orientation is applied (PIL's `Image.open` ignores it; PhotoMapAI
///   and most viewers apply it). CMYK goes through an ICC transform rather
///   than PIL's naive inversion; 16-bit images are scaled, not clipped.
public struct CLIPPreprocessor: Sendable {
    /// The settings (size, crop, mean, std, filter).
    public let settings: CLIPPreprocessing
    /// JPEG shrink-on-load keeps the decoded image at least this many times
    /// the resize size; 0 decodes at full size. libvips' thumbnailer uses 2.
    public let shrinkOnLoadMargin: Double

    /// Creates a preprocessor.
    public init(settings: CLIPPreprocessing, shrinkOnLoadMargin: Double = 2) {
        self.settings = settings
        self.shrinkOnLoadMargin = shrinkOnLoadMargin
    }

    /// Floats per image: 3 × crop height × crop width.
    public var valuesPerImage: Int { 3 * settings.cropWidth * settings.cropHeight }

    /// Decodes the image at `path` (file-system bytes) into 8-bit RGB,
    /// interleaved, crop height × crop width × 3 bytes.
    public func rgb(path: [UInt8]) -> Result<[UInt8], ImageReadFailure> {
        guard Libvips.start() else { return .failure(ImageReadFailure(reason: "libvips could not start")) }
        let s = settings
        var out = [UInt8](repeating: 0, count: 3 * s.cropWidth * s.cropHeight)
        var message: UnsafeMutablePointer<CChar>?
        let status = out.withUnsafeMutableBufferPointer { buffer in
            path.withCPath { cPath in
                curator_clip_load_rgb(cPath, Int32(s.shortestEdge ?? 0), Int32(s.resizeWidth), Int32(s.resizeHeight),
                                      Int32(s.cropWidth), Int32(s.cropHeight), Int32(s.resample.rawValue),
                                      shrinkOnLoadMargin, buffer.baseAddress, &message)
            }
        }
        if status != 0 {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            free(message)
            let line = text.split(separator: "\n").first.map(String.init) ?? text
            return .failure(ImageReadFailure(reason: "cannot decode (\(line.prefix(160)))"))
        }
        return .success(out)
    }

    /// Decodes the image at `path` and writes its normalised pixels, channel
    /// by channel (3 × height × width floats), to `output`.
    public func load(path: [UInt8], into output: UnsafeMutablePointer<Float>) -> Result<Void, ImageReadFailure> {
        let headerCheck = headerProblem(path)
        if let headerCheck { return .failure(headerCheck) }
        switch rgb(path: path) {
        case let .failure(failure): return .failure(failure)
        case let .success(bytes):
            normalize(rgb: bytes, into: output)
            return .success(())
        }
    }

    /// Converts interleaved 8-bit RGB to normalised channel-major floats.
    public func normalize(rgb bytes: [UInt8], into output: UnsafeMutablePointer<Float>) {
        let plane = settings.cropWidth * settings.cropHeight
        let f = settings.rescaleFactor
        for c in 0..<3 {
            // (v·f − mean) / std as one multiply-add per value.
            let scale = f / settings.std[c], offset = -settings.mean[c] / settings.std[c]
            let dst = output + c * plane
            bytes.withUnsafeBufferPointer { src in
                for i in 0..<plane { dst[i] = Float(src[3 * i + c]) * scale + offset }
            }
        }
    }

    /// Refuses empty files and absurd dimensions before the decoder allocates.
    private func headerProblem(_ path: [UInt8]) -> ImageReadFailure? {
        do throws(ImageDecodeError) {
            _ = try ImageDecoder().probe(path: path)
            return nil
        } catch {
            return ImageReadFailure(reason: error.reason.description)
        }
    }
}
