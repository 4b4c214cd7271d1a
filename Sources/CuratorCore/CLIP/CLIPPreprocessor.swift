import CVipsShims
import Foundation

/// Turns image files into a CLIP model's input through libvips, following
/// `CLIPImageProcessor`: EXIF orientation applied; CMYK, greyscale and 16-bit
/// images converted to 8-bit sRGB; alpha flattened on white; the shorter side
/// resized to the model's size (bicubic); centre crop; [0, 1]; mean and std.
///
/// Differences from transformers' PIL pipeline, measured by the tests and
/// `scripts/bench/clip`:
/// - The resize is libvips' (the same bicubic, a = −0.5, widened by the shrink
///   factor as PIL does, no box pre-shrink, pixel centres aligned as PIL
///   aligns them; growing axes go through vips_affine with offsets set for
///   that alignment, because vips_resize's own upsizing samples half a pixel
///   off). 8-bit results differ from PIL's by 0.2–0.6 levels on average (about
///   one level for very large shrinks), a few levels at worst; end-to-end
///   cosine with transformers is ≥ 0.9999 on the fixture.
/// - Large JPEGs are decoded at ½, ¼ or ⅛ scale (libjpeg's DCT scaling) as
///   long as the result stays at least `shrinkOnLoadMargin` × the resize size
///   (libvips' thumbnailer uses 2); the exact bicubic resize follows. On
///   camera-sized JPEGs with ViT-B/32 this takes decoding from 0.125 to 0.052
///   CPU seconds per image, and the embeddings agree with PyTorch's to a
///   cosine of ≥ 0.99996 (0.99990 decoding at full size; 0.999 with margin 1).
/// - EXIF orientation is applied (PIL's `Image.open` ignores it; PhotoMapAI
///   and viewers apply it). CMYK goes through an ICC transform instead of
///   PIL's naive inversion; 16-bit images are scaled to 8 bits, not clipped.
///   Embedded RGB ICC profiles are ignored, as PIL ignores them.
/// - Truncated files are refused (as PIL refuses them), not padded with grey.
public struct CLIPPreprocessor: Sendable {
    /// The settings (size, crop, mean, std, filter).
    public let settings: CLIPPreprocessing
    /// JPEG shrink-on-load keeps the decoded image at least this many times
    /// the resize size; 0 decodes at full size. libvips' thumbnailer uses 2.
    public let shrinkOnLoadMargin: Double
    /// Checks files before decoding (exists, is an image, within the pixel limit).
    public let decoder: ImageDecoder

    /// Creates a preprocessor; images above `pixelLimit` pixels are refused.
    public init(settings: CLIPPreprocessing, shrinkOnLoadMargin: Double = 2,
                pixelLimit: Int = ImageDecoder.defaultPixelLimit) {
        self.settings = settings
        self.shrinkOnLoadMargin = shrinkOnLoadMargin
        decoder = ImageDecoder(pixelLimit: pixelLimit)
    }

    /// Floats per image: 3 × crop height × crop width.
    public var valuesPerImage: Int { 3 * settings.cropWidth * settings.cropHeight }

    /// Decodes the image at `path` into 8-bit RGB,
    /// interleaved, crop height × crop width × 3 bytes.
    public func rgb(path: FileSystemPath) throws(ImageDecodeError) -> [UInt8] {
        // The header check names the problem (missing, empty, not an image,
        // too large) before the decoder is asked to allocate anything.
        let header = try decoder.probe(path: path)
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
            let detail = message.map { pointer -> String in
                defer { free(pointer) }
                let text = String(cString: pointer)
                return text.count > 400 ? String(text.prefix(400)) + "…" : text
            }
            throw ImageDecodeError(path: path, reason: .corrupt(format: header.format), detail: detail)
        }
        return out
    }

    /// Decodes the image at `path` and writes its normalised pixels, channel
    /// by channel (3 × height × width floats), to `output`.
    public func load(path: FileSystemPath, into output: UnsafeMutablePointer<Float>) throws(ImageDecodeError) {
        normalize(rgb: try rgb(path: path), into: output)
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
}
