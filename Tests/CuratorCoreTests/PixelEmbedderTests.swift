import CuratorCore
import Foundation
import XCTest

final class PixelEmbedderTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try SyntheticImages.makeDirectory() }
    override func tearDown() { SyntheticImages.remove(directory) }

    func path(_ name: String) -> FileSystemPath { directory.appendingPathComponent(name).imagingPath }

    /// Writes `count` different scenes as JPEGs and returns their paths.
    func writeScenes(_ count: Int, width: Int = 320, height: Int = 240) -> [FileSystemPath] {
        (0..<count).map { seed in
            let file = path("scene\(seed).jpg")
            SyntheticImages.write(file, width: width, height: height, pixels: SyntheticImages.scene(seed, width: width, height: height).pixels)
            return file
        }
    }

    func testNameDimensionAndSingleImage() throws {
        let embedder = PixelEmbedder()
        XCTAssertEqual(embedder.name, "pixels")
        XCTAssertEqual(PixelEmbedder.name, "pixels")
        XCTAssertEqual(embedder.dimension, 384)
        let file = writeScenes(1, width: 800, height: 600)[0]
        let (vector, statistics) = try embedder.embed(path: file)
        XCTAssertEqual(vector.count, 384)
        XCTAssertEqual(vector.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
        // The same as decoding and describing by hand: a 256-px thumbnail.
        let thumbnail = try ImageDecoder(thumbnailSize: 256).decode(path: file)
        XCTAssertEqual(thumbnail.width, 256)
        let expected = PixelDescriptor.compute(thumbnail)
        XCTAssertEqual(vector, expected.vector)
        XCTAssertEqual(statistics, expected.statistics)
    }

    func testBatchKeepsOrderFailsOnlyBadImagesAndMatchesSingleEmbeds() throws {
        var paths = writeScenes(6)
        try Data("not an image".utf8).write(to: directory.appendingPathComponent("notes.png"))
        try Data().write(to: directory.appendingPathComponent("empty.jpg"))
        paths.insert(path("notes.png"), at: 2)
        paths.insert(path("empty.jpg"), at: 5)
        paths.append(path("missing.jpg"))

        let embedder = PixelEmbedder(threads: 2)
        var vectors = [Float](repeating: .nan, count: paths.count * 384)
        let results = try vectors.withUnsafeMutableBufferPointer { buffer in
            try embedder.embed(paths: paths, into: buffer)
        }
        XCTAssertEqual(results.count, paths.count)
        let reasons = results.map { result -> ImageDecodeError.Reason? in
            if case .failure(let error) = result { return error.reason }
            return nil
        }
        XCTAssertEqual(reasons, [nil, nil, .notAnImage, nil, nil, .emptyFile, nil, nil, .notFound])
        for (index, result) in results.enumerated() {
            let row = Array(vectors[(index * 384)..<((index + 1) * 384)])
            switch result {
            case .success(let output):
                let single = try embedder.embed(path: paths[index])
                XCTAssertEqual(row, single.vector, "row \(index) holds its own image's vector")
                XCTAssertEqual(output.statistics, single.statistics)
                XCTAssertEqual(output.size, DecodedSize(width: 256, height: 192, sourceWidth: 320, sourceHeight: 240))
            case .failure(let error):
                XCTAssertEqual(row, [Float](repeating: 0, count: 384), "failed rows are zero")
                XCTAssertEqual(error.path, paths[index])
            }
        }
    }

    func testOneAndManyThreadsGiveIdenticalResults() throws {
        // 320 x 240 to 256 needs a reduce on every image: with 8 threads,
        // pipelines are built and freed side by side all the time (the case
        // Orc's allocator corrupted the heap in; see VipsLoader.c).
        let paths = writeScenes(16)
        let one = try PixelEmbedder(threads: 1).embed(paths: paths)
        for threads in [2, 8] {
            let many = try PixelEmbedder(threads: threads).embed(paths: paths + paths)
            XCTAssertEqual(one.map { try? $0.get() } + one.map { try? $0.get() }, many.map { try? $0.get() }, "\(threads) threads")
        }
        XCTAssertTrue(one.allSatisfy { (try? $0.get()) != nil })
        // Different pictures get different vectors.
        XCTAssertNotEqual(try one[0].get().vector, try one[1].get().vector)
    }

    func testProgressIsReportedFromTheCallingThreadUpToTheTotal() throws {
        let paths = writeScenes(5)
        let sink = SyntheticImages.ProgressRecorder()
        let caller = Thread.current
        sink.onUpdate = { XCTAssertEqual(Thread.current, caller, "progress is reported on the caller's thread") }
        var vectors = [Float](repeating: 0, count: paths.count * 384)
        _ = try vectors.withUnsafeMutableBufferPointer { buffer in
            try PixelEmbedder(threads: 2).embed(paths: paths, into: buffer, progress: sink, label: "embed", offset: 10, total: 40)
        }
        XCTAssertEqual(sink.updates.last?.done, 15)
        XCTAssertTrue(sink.updates.allSatisfy { $0.total == 40 && $0.label == "embed" })
        XCTAssertEqual(sink.updates.map(\.done), sink.updates.map(\.done).sorted(), "progress never goes back")
        XCTAssertEqual(sink.finished, [], "finishing the step is the caller's business")
    }

    func testCancellationStopsTheBatch() throws {
        let paths = [FileSystemPath](repeating: writeScenes(1, width: 800, height: 600)[0], count: 200)
        let sink = SyntheticImages.ProgressRecorder()
        sink.cancelAfter = 1
        let start = Date()
        XCTAssertThrowsError(try PixelEmbedder(threads: 2).embed(paths: paths, progress: sink)) { error in
            XCTAssertEqual((error as? CancelledError)?.operation, "pixels")
        }
        XCTAssertLessThan(sink.updates.last?.done ?? 0, 200, "workers stopped taking images")
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testEmptyBatch() throws {
        XCTAssertEqual(try PixelEmbedder().embed(paths: []).count, 0)
    }
}

extension SyntheticImages {
/// A progress sink that records what it is told and can ask to stop.
final class ProgressRecorder: ProgressSink {
    struct Update: Equatable { let label: String; let done: Int; let total: Int }
    var updates: [Update] = []
    var finished: [String] = []
    var cancelAfter: Int?
    var onUpdate: (() -> Void)?

    func update(label: String, done: Int, total: Int) {
        updates.append(Update(label: label, done: done, total: total))
        onUpdate?()
    }
    func finish(label: String) { finished.append(label) }
    var isCancelled: Bool {
        guard let cancelAfter else { return false }
        return (updates.last?.done ?? 0) >= cancelAfter
    }
}
}
