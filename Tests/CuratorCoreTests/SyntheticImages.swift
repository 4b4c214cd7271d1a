import CVipsShims
import CuratorCore
import Foundation
import XCTest

/// Makes image files and in-memory pictures for the imaging tests: synthetic
/// scenes drawn procedurally, so the same scene can be rendered at another
/// size or shifted, and written with libvips in any format it saves.
enum SyntheticImages {
    /// A fresh empty directory for one test; removed by `remove`.
    static func makeDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("curator-imaging-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func remove(_ url: URL) {
        // Undo chmod 000 first so the cleanup itself cannot fail when not root.
        if let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) {
            for name in names { chmod(url.appendingPathComponent(name).path, 0o755) }
        }
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes 8-bit pixels (`bands` per pixel) to `path` in the format its suffix names.
    static func write(_ path: FileSystemPath, width: Int, height: Int, bands: Int = 3, pixels: [UInt8],
                      interpretation: String? = nil, orientation: Int = 0,
                      file: StaticString = #filePath, line: UInt = #line) {
        precondition(pixels.count == width * height * bands)
        var message: UnsafeMutablePointer<CChar>? = nil
        let status = path.withCPath { cPath in
            pixels.withUnsafeBufferPointer { buffer in
                curator_vips_save_u8(cPath, buffer.baseAddress, Int32(width), Int32(height), Int32(bands),
                                     interpretation, Int32(orientation), &message)
            }
        }
        if status != 0 {
            XCTFail("writing \(path): \(message.map { String(cString: $0) } ?? "?")", file: file, line: line)
        }
        free(message)
    }

    /// Writes 16-bit pixels (`bands` per pixel) to `path`.
    static func write16(_ path: FileSystemPath, width: Int, height: Int, bands: Int, pixels: [UInt16],
                        file: StaticString = #filePath, line: UInt = #line) {
        precondition(pixels.count == width * height * bands)
        var message: UnsafeMutablePointer<CChar>? = nil
        let status = path.withCPath { cPath in
            pixels.withUnsafeBufferPointer { buffer in
                curator_vips_save_u16(cPath, buffer.baseAddress, Int32(width), Int32(height), Int32(bands), &message)
            }
        }
        if status != 0 {
            XCTFail("writing \(path): \(message.map { String(cString: $0) } ?? "?")", file: file, line: line)
        }
        free(message)
    }

    /// A synthetic photograph-like scene: a smooth two-colour gradient sky,
    /// coloured discs and bars, and a fine striped texture patch. The scene
    /// lives in continuous coordinates (0…1 across the width), so rendering
    /// it at another size is a resize and `shift` (in pixels) is a camera pan.
    static func scene(_ seed: Int, width: Int, height: Int, shift: (x: Int, y: Int) = (0, 0)) -> RGBImage {
        var generator = SyntheticImages.Random(seed: UInt64(seed))
        let top = (generator.unit(), generator.unit(), generator.unit())
        let bottom = (generator.unit(), generator.unit(), generator.unit())
        let discs = (0..<5).map { _ in
            (x: generator.unit(), y: generator.unit() * 0.75, r: 0.05 + 0.12 * generator.unit(),
             colour: (generator.unit(), generator.unit(), generator.unit()))
        }
        let stripes = (x: 0.1 + 0.5 * generator.unit(), y: 0.1 + 0.4 * generator.unit(), period: 0.006 + 0.01 * generator.unit())
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let scale = 1 / Double(width)
        for y in 0..<height {
            for x in 0..<width {
                let u = (Double(x + shift.x) + 0.5) * scale, v = (Double(y + shift.y) + 0.5) * scale
                let t = min(1, max(0, v / 0.75))
                var c = (top.0 + (bottom.0 - top.0) * t, top.1 + (bottom.1 - top.1) * t, top.2 + (bottom.2 - top.2) * t)
                for disc in discs where (u - disc.x) * (u - disc.x) + (v - disc.y) * (v - disc.y) < disc.r * disc.r {
                    c = disc.colour
                }
                if u > stripes.x, u < stripes.x + 0.25, v > stripes.y, v < stripes.y + 0.2 {
                    let on = Int((u + v) / stripes.period) % 2 == 0
                    c = on ? (0.95, 0.95, 0.9) : (0.1, 0.1, 0.15)
                }
                let i = 3 * (y * width + x)
                pixels[i] = UInt8(c.0 * 255); pixels[i + 1] = UInt8(c.1 * 255); pixels[i + 2] = UInt8(c.2 * 255)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Uniform noise: every pixel random.
    static func noise(_ seed: Int, width: Int, height: Int) -> RGBImage {
        var generator = SyntheticImages.Random(seed: UInt64(seed))
        return RGBImage(width: width, height: height,
                        pixels: (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
    }

    /// One colour everywhere.
    static func flat(_ r: UInt8, _ g: UInt8, _ b: UInt8, width: Int, height: Int) -> RGBImage {
        RGBImage(width: width, height: height, pixels: Array((0..<(width * height)).map { _ in [r, g, b] }.joined()))
    }

    /// A box blur of `radius` pixels, applied `passes` times (≈ Gaussian).
    static func blurred(_ image: RGBImage, radius: Int, passes: Int = 3) -> RGBImage {
        var pixels = image.pixels.map(Float.init)
        let w = image.width, h = image.height
        var scratch = pixels
        for _ in 0..<passes {
            for (horizontal, length, lines) in [(true, w, h), (false, h, w)] {
                for line in 0..<lines {
                    for position in 0..<length {
                        for channel in 0..<3 {
                            var sum: Float = 0, count: Float = 0
                            for k in max(0, position - radius)...min(length - 1, position + radius) {
                                let (x, y) = horizontal ? (k, line) : (line, k)
                                sum += pixels[3 * (y * w + x) + channel]; count += 1
                            }
                            let (x, y) = horizontal ? (position, line) : (line, position)
                            scratch[3 * (y * w + x) + channel] = sum / count
                        }
                    }
                }
                swap(&pixels, &scratch)
            }
        }
        return RGBImage(width: w, height: h, pixels: pixels.map { UInt8(min(255, max(0, $0.rounded()))) })
    }

    /// `image` with every sample multiplied by `factor` (a darker or brighter exposure).
    static func scaled(_ image: RGBImage, by factor: Float) -> RGBImage {
        RGBImage(width: image.width, height: image.height,
                 pixels: image.pixels.map { UInt8(min(255, max(0, (Float($0) * factor).rounded()))) })
    }

    /// A PNG whose IHDR claims `width × height` (8-bit RGB) with valid CRCs,
    /// followed by a tiny IDAT and IEND: its header is well-formed, its pixel
    /// data is nowhere near complete.
    static func pngClaiming(width: UInt32, height: UInt32) -> [UInt8] {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be32(UInt32(data.count)) + body + be32(crc32(body))
        }
        let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
        // A zlib stream of one stored block holding a single filter byte.
        let idat: [UInt8] = [0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", [])
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// Cosine similarity of two vectors.
    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for (x, y) in zip(a, b) { dot += x * y; na += x * x; nb += y * y }
        return dot / (na.squareRoot() * nb.squareRoot())
    }
}

extension SyntheticImages {
/// A small deterministic random generator (SplitMix64).
struct Random {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
}

extension URL {
    /// The path as the core takes it.
    var imagingPath: FileSystemPath { FileSystemPath(path) }
}
