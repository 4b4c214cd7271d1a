import CuratorCore
import Foundation
import XCTest

final class ImageDecoderTests: XCTestCase {
    var directory: URL!
    let decoder = ImageDecoder()

    override func setUpWithError() throws { directory = try SyntheticImages.makeDirectory() }
    override func tearDown() { SyntheticImages.remove(directory) }

    func path(_ name: String) -> FileSystemPath { directory.appendingPathComponent(name).imagingPath }

    /// The error `decode` throws for `path`, or a failure when it succeeds.
    func decodeError(_ path: FileSystemPath, decoder: ImageDecoder? = nil,
                     file: StaticString = #filePath, line: UInt = #line) -> ImageDecodeError? {
        do {
            let image = try (decoder ?? self.decoder).decode(path: path)
            XCTFail("decoded \(image.width)×\(image.height), expected an error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func writeScene(_ name: String, width: Int = 640, height: Int = 480, seed: Int = 1) -> FileSystemPath {
        let scene = SyntheticImages.scene(seed, width: width, height: height)
        SyntheticImages.write(path(name), width: width, height: height, pixels: scene.pixels)
        return path(name)
    }

    func testDecodesJPEGIntoThumbnailKeepingAspect() throws {
        let file = writeScene("photo.jpg", width: 640, height: 480)
        let image = try decoder.decode(path: file)
        XCTAssertEqual(image.width, 256)
        XCTAssertEqual(image.height, 192)
        XCTAssertEqual(image.pixels.count, 256 * 192 * 3)
        XCTAssertEqual(image.sourceWidth, 640)
        XCTAssertEqual(image.sourceHeight, 480)
    }

    func testJPEGThumbnailIsTheDecodedThumbnailEncodedWithTheSameChecks() throws {
        let file = writeScene("photo.jpg", width: 640, height: 480)
        let bytes = try decoder.jpeg(path: file, quality: 82)
        XCTAssertEqual(Array(bytes.prefix(3)), [0xFF, 0xD8, 0xFF], "a JPEG")
        XCTAssertEqual(Array(bytes.suffix(2)), [0xFF, 0xD9], "written to its end")
        // Read back, it is the thumbnail decode makes (256×192), with its colours up to JPEG's loss.
        try Data(bytes).write(to: directory.appendingPathComponent("thumb.jpg"))
        let again = try ImageDecoder(thumbnailSize: 1024).decode(path: path("thumb.jpg"))
        let direct = try decoder.decode(path: file)
        XCTAssertEqual([again.width, again.height], [256, 192])
        let difference = zip(again.pixels, direct.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)
        XCTAssertLessThan(Double(difference) / Double(direct.pixels.count), 6, "the same picture")
        XCTAssertGreaterThan(try decoder.jpeg(path: file, quality: 95).count, try decoder.jpeg(path: file, quality: 30).count,
                             "the quality is applied")

        // The same refusals as decode: a truncated file, a missing one, absurd dimensions.
        let full = try Data(contentsOf: directory.appendingPathComponent("photo.jpg"))
        try full.prefix(full.count / 2).write(to: directory.appendingPathComponent("truncated.jpg"))
        XCTAssertThrowsError(try decoder.jpeg(path: path("truncated.jpg"), quality: 82)) { error in
            XCTAssertEqual((error as? ImageDecodeError)?.reason, .corrupt(format: "JPEG"))
        }
        XCTAssertThrowsError(try decoder.jpeg(path: path("nothing.jpg"), quality: 82)) { error in
            XCTAssertEqual((error as? ImageDecodeError)?.reason, .notFound)
        }
        try Data(SyntheticImages.pngClaiming(width: 100_000, height: 100_000)).write(to: directory.appendingPathComponent("huge.png"))
        XCTAssertThrowsError(try decoder.jpeg(path: path("huge.png"), quality: 82)) { error in
            XCTAssertEqual((error as? ImageDecodeError)?.reason, .tooLarge(width: 100_000, height: 100_000, limit: 400_000_000))
        }
    }

    func testSmallImagesAreNotEnlargedAndKeepTheirColour() throws {
        SyntheticImages.write(path("small.png"), width: 40, height: 30,
                         pixels: SyntheticImages.flat(200, 30, 60, width: 40, height: 30).pixels)
        let image = try decoder.decode(path: path("small.png"))
        XCTAssertEqual(image.width, 40)
        XCTAssertEqual(image.height, 30)
        XCTAssertEqual(Array(image.pixels.prefix(3)), [200, 30, 60])
    }

    func testTruncatedJPEGFailsInsteadOfComingBackGrey() throws {
        let noise = SyntheticImages.noise(3, width: 600, height: 400)
        SyntheticImages.write(path("full.jpg"), width: 600, height: 400, pixels: noise.pixels)
        let bytes = try Data(contentsOf: directory.appendingPathComponent("full.jpg"))
        try bytes.prefix(bytes.count / 2).write(to: directory.appendingPathComponent("truncated.jpg"))
        let error = decodeError(path("truncated.jpg"))
        XCTAssertEqual(error?.reason, .corrupt(format: "JPEG"))
        XCTAssertEqual(error?.reason.description, "truncated or corrupt JPEG")
        XCTAssertTrue(error?.description.hasSuffix(")") ?? false, "libvips' message follows: \(error?.description ?? "")")
    }

    func testZeroByteFileIsEmpty() throws {
        try Data().write(to: directory.appendingPathComponent("empty.jpg"))
        XCTAssertEqual(decodeError(path("empty.jpg"))?.reason, .emptyFile)
    }

    func testTextFileNamedPNGIsNotAnImage() throws {
        try Data("hello, I am not a picture\n".utf8).write(to: directory.appendingPathComponent("notes.png"))
        let error = decodeError(path("notes.png"))
        XCTAssertEqual(error?.reason, .notAnImage)
        XCTAssertEqual(error?.description, "\(directory.path)/notes.png: not an image (no image loader recognises it)")
    }

    func testMissingFileAndSymlinkLoop() throws {
        XCTAssertEqual(decodeError(path("nowhere.jpg"))?.reason, .notFound)
        let loop = directory.appendingPathComponent("loop.jpg").path
        XCTAssertEqual(symlink(loop, loop), 0)
        XCTAssertEqual(decodeError(path("loop.jpg"))?.reason.description.contains("errno \(ELOOP)"), true)
    }

    /// chmod 000 stops everyone but root, and the tests may run as root (CI
    /// containers do): then the file reads fine, which is what root gets in
    /// real use too. The refused-open path is asserted for other users; the
    /// directory named like an image below exercises a file that cannot be
    /// read as an image whoever runs the tests.
    func testUnreadableFile() throws {
        _ = writeScene("locked.jpg", width: 64, height: 48)
        XCTAssertEqual(chmod(directory.appendingPathComponent("locked.jpg").path, 0), 0)
        if geteuid() == 0 {
            XCTAssertNoThrow(try decoder.decode(path: path("locked.jpg")), "root reads mode-000 files")
        } else {
            XCTAssertEqual(decodeError(path("locked.jpg"))?.reason, .permissionDenied)
            XCTAssertEqual(decodeError(path("locked.jpg"))?.reason.description, "permission denied")
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("folder.jpg"), withIntermediateDirectories: false)
        XCTAssertEqual(decodeError(path("folder.jpg"))?.reason, .notARegularFile)
    }

    func testAbsurdDimensionsAreRefusedFromTheHeaderWithoutDecoding() throws {
        let png = SyntheticImages.pngClaiming(width: 100_000, height: 100_000)
        try Data(png).write(to: directory.appendingPathComponent("huge.png"))
        let start = Date()
        let error = decodeError(path("huge.png"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0, "refused from the header, not after decoding")
        XCTAssertEqual(error?.reason, .tooLarge(width: 100_000, height: 100_000, limit: 400_000_000))
        XCTAssertEqual(error?.reason.description, "too large: 100000×100000 exceeds the 400-megapixel limit")
        // The header alone reads fine: it is the limit that refuses it.
        XCTAssertEqual(try ImageDecoder(pixelLimit: 0).probe(path: path("huge.png")),
                       ImageHeader(width: 100_000, height: 100_000, format: "PNG"))
        XCTAssertThrowsError(try decoder.probe(path: path("huge.png"))) { error in
            XCTAssertEqual((error as? ImageDecodeError)?.reason, .tooLarge(width: 100_000, height: 100_000, limit: 400_000_000))
        }
    }

    func testPixelLimitIsConfigurable() throws {
        let file = writeScene("photo.png", width: 100, height: 80)
        let strict = ImageDecoder(pixelLimit: 5_000)
        XCTAssertEqual(decodeError(file, decoder: strict)?.reason, .tooLarge(width: 100, height: 80, limit: 5_000))
        XCTAssertNoThrow(try ImageDecoder(pixelLimit: 8_000).decode(path: file))
        XCTAssertNoThrow(try ImageDecoder(pixelLimit: 0).decode(path: file), "0 means no limit")
    }

    func testNonUTF8FileNameLoads() throws {
        let name: [UInt8] = Array("caf".utf8) + [0xFF, 0xFE] + Array(".png".utf8)
        let file = directory.imagingPath.appending(name)
        XCTAssertNil(String(validating: file.bytes, as: UTF8.self))
        SyntheticImages.write(file, width: 32, height: 16, pixels: SyntheticImages.flat(10, 200, 30, width: 32, height: 16).pixels)
        let image = try decoder.decode(path: file)
        XCTAssertEqual(image.width, 32)
        XCTAssertEqual(Array(image.pixels.prefix(3)), [10, 200, 30])
    }

    func testGreyscaleBecomesThreeEqualBands() throws {
        let grey = (0..<(64 * 32)).map { UInt8($0 % 64 * 4) }
        SyntheticImages.write(path("grey.jpg"), width: 64, height: 32, bands: 1, pixels: grey, interpretation: "b-w")
        SyntheticImages.write(path("grey.png"), width: 64, height: 32, bands: 1, pixels: grey, interpretation: "b-w")
        for name in ["grey.jpg", "grey.png"] {
            let image = try decoder.decode(path: path(name))
            XCTAssertEqual(image.pixels.count, 64 * 32 * 3, name)
            for i in stride(from: 0, to: image.pixels.count, by: 3) {
                XCTAssertEqual(image.pixels[i], image.pixels[i + 1], name)
                XCTAssertEqual(image.pixels[i], image.pixels[i + 2], name)
            }
        }
        XCTAssertEqual(try decoder.decode(path: path("grey.png")).pixels[3 * 10], 40, "PNG is lossless")
    }

    func testAlphaIsFlattenedOnWhite() throws {
        // Left half transparent, right half opaque blue.
        var rgba = [UInt8]()
        for _ in 0..<20 { for x in 0..<40 { rgba += x < 20 ? [255, 0, 0, 0] : [0, 0, 255, 255] } }
        SyntheticImages.write(path("alpha.png"), width: 40, height: 20, bands: 4, pixels: rgba, interpretation: "srgb")
        let image = try decoder.decode(path: path("alpha.png"))
        XCTAssertEqual(Array(image.pixels[0..<3]), [255, 255, 255], "transparent shows the white background")
        XCTAssertEqual(Array(image.pixels[(3 * 39)..<(3 * 40)]), [0, 0, 255])
    }

    func testSixteenBitBecomesEightBit() throws {
        let rgb16: [UInt16] = Array((0..<(16 * 8)).map { _ in [UInt16(65535), 32896, 0] }.joined())
        SyntheticImages.write16(path("deep.png"), width: 16, height: 8, bands: 3, pixels: rgb16)
        let image = try decoder.decode(path: path("deep.png"))
        XCTAssertEqual(Array(image.pixels.prefix(3)), [255, 128, 0])
    }

    func testCMYKBecomesSRGB() throws {
        // C 0, M 100%, Y 100%, K 0: red ink.
        let cmyk = Array((0..<(32 * 32)).map { _ in [UInt8(0), 255, 255, 0] }.joined())
        SyntheticImages.write(path("print.jpg"), width: 32, height: 32, bands: 4, pixels: cmyk, interpretation: "cmyk")
        let image = try decoder.decode(path: path("print.jpg"))
        XCTAssertEqual(image.pixels.count, 32 * 32 * 3)
        let (r, g, b) = (Int(image.pixels[0]), Int(image.pixels[1]), Int(image.pixels[2]))
        XCTAssertGreaterThan(r, 180, "red ink reads red, got \(r),\(g),\(b)")
        XCTAssertLessThan(g, 100)
        XCTAssertLessThan(b, 100)
    }

    func testEXIFOrientationIsApplied() throws {
        // Stored 200×100, left half red, right half blue; orientation 6 says
        // "rotate 90° clockwise to view", so the viewer sees red on top.
        var pixels = [UInt8]()
        for _ in 0..<100 { for x in 0..<200 { pixels += x < 100 ? [220, 20, 20] : [20, 20, 220] } }
        SyntheticImages.write(path("rotated.jpg"), width: 200, height: 100, pixels: pixels, orientation: 6)
        let image = try decoder.decode(path: path("rotated.jpg"))
        XCTAssertEqual(image.width, 100)
        XCTAssertEqual(image.height, 200)
        XCTAssertEqual(image.sourceWidth, 200, "the source size is the header's, as stored")
        let top = 3 * (10 * image.width + 50), bottom = 3 * (190 * image.width + 50)
        XCTAssertGreaterThan(image.pixels[top], image.pixels[top + 2], "red on top")
        XCTAssertGreaterThan(image.pixels[bottom + 2], image.pixels[bottom], "blue at the bottom")
    }

    func testProbeReadsTheHeaderOnlyAndGivesTheSameReasons() throws {
        let file = writeScene("photo.jpg", width: 300, height: 200)
        XCTAssertEqual(try decoder.probe(path: file), ImageHeader(width: 300, height: 200, format: "JPEG"))
        // A truncated file's header is intact: probing passes, decoding fails.
        let bytes = try Data(contentsOf: directory.appendingPathComponent("photo.jpg"))
        try bytes.prefix(bytes.count / 2).write(to: directory.appendingPathComponent("cut.jpg"))
        XCTAssertEqual(try decoder.probe(path: path("cut.jpg")).width, 300)
        try Data("text".utf8).write(to: directory.appendingPathComponent("notes.png"))
        for (name, reason) in [("nowhere.png", ImageDecodeError.Reason.notFound), ("notes.png", .notAnImage)] {
            XCTAssertThrowsError(try decoder.probe(path: path(name))) { error in
                XCTAssertEqual((error as? ImageDecodeError)?.reason, reason)
            }
        }
    }

    func testConcurrentDecodesKeepTheirOwnResultsAndErrors() throws {
        let good = writeScene("good.jpg", width: 320, height: 240)
        let expected = try decoder.decode(path: good)
        try Data("text".utf8).write(to: directory.appendingPathComponent("bad.png"))
        let noise = SyntheticImages.noise(4, width: 300, height: 300)
        SyntheticImages.write(path("whole.jpg"), width: 300, height: 300, pixels: noise.pixels)
        let bytes = try Data(contentsOf: directory.appendingPathComponent("whole.jpg"))
        try bytes.prefix(bytes.count / 3).write(to: directory.appendingPathComponent("cut.jpg"))
        let cases: [(path: FileSystemPath, expected: ImageDecodeError.Reason?)] = [
            (good, nil), (path("bad.png"), .notAnImage), (path("cut.jpg"), .corrupt(format: "JPEG")),
        ]
        let rounds = 48
        let outcomes = SyntheticImages.Locked([String](repeating: "", count: rounds))
        let decoder = self.decoder
        DispatchQueue.concurrentPerform(iterations: rounds) { i in
            let item = cases[i % cases.count]
            var outcome: String
            do throws(ImageDecodeError) {
                let image = try decoder.decode(path: item.path)
                outcome = image == expected && item.expected == nil ? "ok" : "wrong pixels"
            } catch {
                outcome = error.reason == item.expected ? "ok" : "wrong error: \(error)"
            }
            outcomes.update { $0[i] = outcome }
        }
        XCTAssertEqual(outcomes.value, [String](repeating: "ok", count: rounds))
    }
}

extension SyntheticImages {
/// A value shared between threads in a test, behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
}
