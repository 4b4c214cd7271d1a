import Foundation
@testable import CuratorCore

/// Writes small real image files for tests, with no tool outside the test.
enum TestImages {
    /// A PNG (8-bit RGB) whose pixel (x, y) is `color(x, y)`.
    static func png(width: Int, height: Int, color: (Int, Int) -> (UInt8, UInt8, UInt8)) -> [UInt8] {
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)  // filter: none
            for x in 0..<width {
                let (r, g, b) = color(x, y)
                raw += [r, g, b]
            }
        }
        return pngFile(width: width, height: height, idat: zlibStored(raw))
    }

    /// A PNG whose header claims `width`×`height` but carries a tiny, wrong payload.
    static func pngHeaderOnly(width: Int, height: Int) -> [UInt8] {
        pngFile(width: width, height: height, idat: zlibStored([0, 0, 0, 0]))
    }

    private static func pngFile(width: Int, height: Int, idat: [UInt8]) -> [UInt8] {
        var ihdr = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        ihdr += [8, 2, 0, 0, 0]  // 8 bits, RGB, deflate, no filter, no interlace
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", [])
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    private static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let last: UInt8 = offset + n >= data.count ? 1 : 0
            out += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<offset + n]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + bigEndian(b << 16 | a)
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }
}

/// A temporary folder removed when the test ends.
final class TemporaryFolder {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "curator-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` at `relative` (creating folders), returning the absolute path.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) -> String {
        let full = (path as NSString).appendingPathComponent(relative)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: full, contents: Data(bytes))
        return full
    }

    /// Writes a small distinct PNG at `relative`.
    @discardableResult
    func writePNG(_ relative: String, size: Int = 8, seed: Int = 0) -> String {
        write(relative, TestImages.png(width: size, height: size) { x, y in
            (UInt8((x * 31 + seed * 17) & 0xFF), UInt8((y * 29 + seed * 7) & 0xFF), UInt8((seed * 53) & 0xFF))
        })
    }
}

/// A progress sink that records updates and can ask to stop after some.
final class RecordingProgress: ProgressSink, @unchecked Sendable {
    var updates: [(String, Int, Int)] = []
    var cancelAfterUpdates = Int.max
    func update(label: String, done: Int, total: Int) { updates.append((label, done, total)) }
    func finish(label: String) {}
    var isCancelled: Bool { updates.count > cancelAfterUpdates }
}
