import CuratorCore
import Foundation
import XCTest

/// Before libvips 8.15, JPEG thumbnails run on libvips' vector (Orc) paths
/// while every other pipeline runs plain C, and Orc's code allocator is not
/// thread-safe (CVipsShims/OrcGuard.h). These check that mixing both kinds
/// of pipeline on several threads gives every caller the pictures it gets
/// alone, and that the vector path stays where it belongs.
final class VipsOrcGuardTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try SyntheticImages.makeDirectory() }
    override func tearDown() { SyntheticImages.remove(directory) }

    /// Scenes large enough that every path resizes on the whole image
    /// (PNG has no shrink-on-load) as well as after JPEG's.
    func writeScenes() -> [FileSystemPath] {
        (0..<6).map { index in
            let name = "scene\(index)." + (index.isMultiple(of: 2) ? "png" : "jpg")
            let path = directory.appendingPathComponent(name).imagingPath
            let (width, height) = index < 3 ? (900, 700) : (700, 1100)
            SyntheticImages.write(path, width: width, height: height,
                                  pixels: SyntheticImages.scene(index + 1, width: width, height: height).pixels)
            return path
        }
    }

    func testSwitchesOnlyJPEGThumbnailsToTheVectorPathsBefore8_15() throws {
        let version = try XCTUnwrap(Libvips.version, Libvips.unavailableReason ?? "")
        guard version.minor < 15 else {
            XCTAssertEqual(Libvips.jpegThumbnailsAreVectorised, Libvips.isVectorised)
            return
        }
        XCTAssertFalse(Libvips.isVectorised, "plain C for every pipeline built on several threads")
        if ProcessInfo.processInfo.environment["VIPS_NOVECTOR"] == nil {
            XCTAssertTrue(Libvips.jpegThumbnailsAreVectorised, "JPEG thumbnails vectorised, one build at a time")
        }
    }

    func testManySmallVectorThumbnailsBuiltAndFreedOnFourThreadsAtOnce() throws {
        // Small images make builds and releases a large part of each call.
        // With the guard's lock removed, one thread's build ends with the
        // switch turned off under another's: that thumbnail comes out of the
        // plain path and differs here from the first round on. (The heap
        // corruption itself is rarer through files; `scripts/bench/orc_race`
        // shows it within seconds on in-memory pipelines.)
        let paths = (0..<4).map { index -> FileSystemPath in
            let path = directory.appendingPathComponent("small\(index).\(index.isMultiple(of: 2) ? "jpg" : "png")").imagingPath
            SyntheticImages.write(path, width: 120, height: 90,
                                  pixels: SyntheticImages.scene(index + 7, width: 120, height: 90).pixels)
            return path
        }
        let thumbnails = ImageDecoder(thumbnailSize: 40)
        let expected = try paths.map { try thumbnails.jpeg(path: $0, quality: 80) }
        let mismatches = SyntheticImages.Locked([String]())
        DispatchQueue.concurrentPerform(iterations: 4) { lane in
            for round in 0..<150 {
                let index = (lane + round) % paths.count
                do {
                    if try thumbnails.jpeg(path: paths[index], quality: 80) != expected[index] {
                        mismatches.update { $0.append("lane \(lane) round \(round)") }
                    }
                } catch {
                    mismatches.update { $0.append("lane \(lane) round \(round): \(error)") }
                }
            }
            Libvips.threadDone()
        }
        XCTAssertEqual(mismatches.value, [])
    }

    func testMixedPipelinesOnManyThreadsGiveWhatEachGivesAlone() throws {
        let paths = writeScenes()
        let thumbnails = ImageDecoder(thumbnailSize: 200)
        let clip = CLIPPreprocessor(settings: .defaults(imageSize: 224))
        // Alone, in this thread.
        let jpegs = try paths.map { try thumbnails.jpeg(path: $0, quality: 80) }
        let decoded = try paths.map { try thumbnails.decode(path: $0).pixels }
        let crops = try paths.map { try clip.rgb(path: $0) }

        // Together: every kind of pipeline built, run and freed on four
        // threads at once, as the review page's cache does beside an index.
        let rounds = 12
        let mismatches = SyntheticImages.Locked([String]())
        DispatchQueue.concurrentPerform(iterations: 4 * rounds) { task in
            let index = task % paths.count
            do {
                switch task % 3 {
                case 0:
                    if try thumbnails.jpeg(path: paths[index], quality: 80) != jpegs[index] { mismatches.update { $0.append("jpeg \(index)") } }
                case 1:
                    if try thumbnails.decode(path: paths[index]).pixels != decoded[index] { mismatches.update { $0.append("decode \(index)") } }
                default:
                    if try clip.rgb(path: paths[index]) != crops[index] { mismatches.update { $0.append("clip \(index)") } }
                }
            } catch {
                mismatches.update { $0.append("\(task): \(error)") }
            }
            Libvips.threadDone()
        }
        // A plain build that saw the switch on (a thumbnail's build not
        // holding the guard alone) gives different pixels: this fails then.
        XCTAssertEqual(mismatches.value, [], "each pipeline's output is the one it gives alone")

        // The vector reduce rounds its weights differently; the picture is the same.
        for index in paths.indices {
            let file = directory.appendingPathComponent("thumb\(index).jpg")
            try Data(jpegs[index]).write(to: file)
            let again = try ImageDecoder(thumbnailSize: 1024).decode(path: file.imagingPath).pixels
            XCTAssertEqual(again.count, decoded[index].count)
            let difference = zip(again, decoded[index]).map { abs(Int($0) - Int($1)) }.reduce(0, +)
            XCTAssertLessThan(Double(difference) / Double(again.count), 6, "scene \(index)")
        }
    }
}
