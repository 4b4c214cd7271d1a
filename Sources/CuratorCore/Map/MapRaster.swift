import CVipsShims
import Foundation

/// An 8-bit RGBA picture being drawn: anti-aliased discs and rings blended
/// over an opaque background, then encoded to PNG by libvips.
public struct MapRaster: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width * height * 4` bytes, RGBA, row after row.
    public private(set) var pixels: [UInt8]

    /// A picture filled with one opaque colour.
    public init(width: Int, height: Int, fill: SIMD3<UInt8>) {
        self.width = width
        self.height = height
        // One pattern word per pixel: flattening rows generically costs seconds in debug builds.
        let pattern = UInt32(fill.x) | UInt32(fill.y) << 8 | UInt32(fill.z) << 16 | 0xFF00_0000
        pixels = [UInt8](unsafeUninitializedCapacity: width * height * 4) { buffer, count in
            let words = UnsafeMutableRawPointer(buffer.baseAddress!).bindMemory(to: UInt32.self, capacity: width * height)
            words.initialize(repeating: pattern.littleEndian, count: width * height)
            count = width * height * 4
        }
    }

    /// The colour at pixel (x, y) as RGBA.
    public func pixel(x: Int, y: Int) -> SIMD4<UInt8> {
        let o = 4 * (y * width + x)
        return SIMD4(pixels[o], pixels[o + 1], pixels[o + 2], pixels[o + 3])
    }

    /// Blends `colour` at `coverage` (0…1) into pixel (x, y).
    @inline(__always)
    private mutating func blend(_ x: Int, _ y: Int, _ colour: SIMD3<UInt8>, _ coverage: Double) {
        guard coverage > 0, x >= 0, y >= 0, x < width, y < height else { return }
        let o = 4 * (y * width + x)
        let a = min(coverage, 1)
        pixels[o] = UInt8((Double(pixels[o]) * (1 - a) + Double(colour.x) * a).rounded())
        pixels[o + 1] = UInt8((Double(pixels[o + 1]) * (1 - a) + Double(colour.y) * a).rounded())
        pixels[o + 2] = UInt8((Double(pixels[o + 2]) * (1 - a) + Double(colour.z) * a).rounded())
    }

    /// A filled disc centred at `centre` (pixel coordinates, pixel centres at
    /// +0.5), edges anti-aliased over one pixel.
    public mutating func disc(at centre: SIMD2<Double>, radius: Double, colour: SIMD3<UInt8>, opacity: Double) {
        paint(around: centre, within: radius, colour: colour) { distance in
            min(max(radius + 0.5 - distance, 0), 1) * opacity
        }
    }

    /// A ring of `width` pixels whose outer edge is at `radius`.
    public mutating func ring(at centre: SIMD2<Double>, radius: Double, width ringWidth: Double, colour: SIMD3<UInt8>) {
        let inner = radius - ringWidth
        paint(around: centre, within: radius, colour: colour) { distance in
            min(max(radius + 0.5 - distance, 0), 1) * min(max(distance - inner + 0.5, 0), 1)
        }
    }

    /// Blends `colour` into every pixel within `radius` + 1 of `centre`, at
    /// the coverage `shape` gives for the pixel centre's distance.
    @inline(__always)
    private mutating func paint(around centre: SIMD2<Double>, within radius: Double, colour: SIMD3<UInt8>,
                                _ shape: (Double) -> Double) {
        let x0 = Int((centre.x - radius - 1).rounded(.down)), x1 = Int((centre.x + radius + 1).rounded(.up))
        let y0 = Int((centre.y - radius - 1).rounded(.down)), y1 = Int((centre.y + radius + 1).rounded(.up))
        guard x1 >= 0, y1 >= 0, x0 < width, y0 < height else { return }
        for y in max(y0, 0)...min(y1, height - 1) {
            let dy = Double(y) + 0.5 - centre.y
            for x in max(x0, 0)...min(x1, width - 1) {
                let dx = Double(x) + 0.5 - centre.x
                let coverage = shape((dx * dx + dy * dy).squareRoot())
                if coverage > 0 { blend(x, y, colour, coverage) }
            }
        }
    }

    /// Paints `colour` through a coverage mask whose top-left lands at `origin`.
    mutating func blend(mask: MapText.Mask, at origin: SIMD2<Int>, colour: SIMD3<UInt8>) {
        for y in 0..<mask.height {
            for x in 0..<mask.width {
                let coverage = mask.coverage[y * mask.width + x]
                if coverage > 0 { blend(origin.x + x, origin.y + y, colour, Double(coverage) / 255) }
            }
        }
    }

    /// The picture as PNG bytes, encoded by libvips.
    ///
    /// - Throws: `MapError.drawing` when libvips cannot start or encode.
    public func png() throws -> [UInt8] {
        if let reason = Libvips.unavailableReason { throw MapError(.drawing, "map: \(reason)") }
        var output: UnsafeMutableRawPointer?
        var length = 0
        var message: UnsafeMutablePointer<CChar>?
        let status = pixels.withUnsafeBufferPointer {
            curator_map_png_encode($0.baseAddress, Int32(width), Int32(height), 6, &output, &length, &message)
        }
        guard status == 0, let output else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            free(message)
            throw MapError(.drawing, "map: PNG encoding failed (\(text))")
        }
        defer { curator_map_free(output) }
        return Array(UnsafeRawBufferPointer(start: output, count: length))
    }

    /// Decodes PNG (or any image libvips reads) bytes to a raster.
    ///
    /// - Throws: `MapError.drawing` when the bytes are not a readable image.
    public static func decode(_ bytes: [UInt8]) throws -> MapRaster {
        if let reason = Libvips.unavailableReason { throw MapError(.drawing, "map: \(reason)") }
        var rgba: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message: UnsafeMutablePointer<CChar>?
        let status = bytes.withUnsafeBytes {
            curator_map_decode_rgba($0.baseAddress, $0.count, &rgba, &width, &height, &message)
        }
        guard status == 0, let rgba else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            free(message)
            throw MapError(.drawing, "map: cannot decode the picture (\(text))")
        }
        defer { curator_map_free(rgba) }
        var raster = MapRaster(width: Int(width), height: Int(height), fill: .zero)
        raster.pixels = Array(UnsafeBufferPointer(start: rgba, count: Int(width) * Int(height) * 4))
        return raster
    }
}

/// Text for the legend, rendered by libvips (Pango) into coverage masks.
enum MapText {
    /// A rendered line of text.
    struct Mask {
        let width: Int
        let height: Int
        let coverage: [UInt8]
    }

    /// Whether libvips runs (it is loaded on first use).
    static var vipsStarted: Bool { Libvips.start() }

    /// `text` in a sans font about `pixelSize` pixels high, or nil when
    /// libvips cannot render text here (no fonts): the legend then shows
    /// its swatches only.
    static func mask(_ text: String, pixelSize: Int) -> Mask? {
        guard vipsStarted, !text.isEmpty else { return nil }
        var buffer: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message: UnsafeMutablePointer<CChar>?
        // Pango sizes are points: at 72 dpi one point is one pixel.
        // vips_text reads Pango markup: escape its three special characters.
        let markup = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        let status = curator_map_text_mask(markup, "sans \(pixelSize)", 72, &buffer, &width, &height, &message)
        free(message)
        guard status == 0, let buffer, width > 0, height > 0 else { return nil }
        defer { curator_map_free(buffer) }
        return Mask(width: Int(width), height: Int(height),
                    coverage: Array(UnsafeBufferPointer(start: buffer, count: Int(width) * Int(height))))
    }
}
