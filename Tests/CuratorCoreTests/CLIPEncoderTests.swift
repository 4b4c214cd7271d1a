import Foundation
import XCTest
@testable import CuratorCore

/// The native encoder against embeddings `transformers` computed for the same
/// tiny random models and images (Fixtures/clip, made by make_fixture.py).
final class CLIPEncoderTests: XCTestCase {
    /// Feeds transformers' own preprocessed pixels: only the network differs.
    private func checkNetwork(model: URL, expected name: String, layout: String) throws {
        let encoder = try CLIPVisionEncoder(modelFolder: model, options: CLIPEncoderOptions(batchSize: 3))
        XCTAssertEqual(encoder.layout, layout)
        let expected = try CLIPFixture.expected(name)
        XCTAssertEqual(expected.pixels.dimension, encoder.preprocessor.valuesPerImage)
        let out = EmbeddingMatrix(rows: expected.names.count, dimension: encoder.dimension)
        // Batch size 3 over 7 images: full batches and a partial one.
        encoder.embed(pixels: expected.pixels.storage.baseAddress!, count: expected.names.count, into: out.storage.baseAddress!)
        for (i, image) in expected.names.enumerated() {
            let cosine = clipCosine(out.row(i), expected.embeddings.row(i), encoder.dimension)
            XCTAssertGreaterThanOrEqual(cosine, 0.9999, "\(name) \(image): cosine \(cosine)")
            let norm = clipCosine(out.row(i), out.row(i), encoder.dimension)
            XCTAssertEqual(norm, 1, accuracy: 1e-5)
            var length: Float = 0
            for j in 0..<encoder.dimension { length += out.row(i)[j] * out.row(i)[j] }
            XCTAssertEqual(length, 1, accuracy: 1e-4, "unit length")
        }
    }

    func testHuggingFaceModelMatchesTransformersOnItsPixels() throws {
        try checkNetwork(model: CLIPFixture.huggingFaceModel, expected: "tiny-hf", layout: "hf")
    }

    func testOpenCLIPLayoutMatchesTransformersOnItsPixels() throws {
        try checkNetwork(model: CLIPFixture.openCLIPModel, expected: "tiny-openclip", layout: "open-clip")
    }

    func testSequentialAttentionPathGivesTheSameResult() throws {
        // Large models (ViT-B/16, L/14) run attention products one at a time,
        // threaded by the BLAS; the tiny fixture would otherwise never take that path.
        let config = try CLIPVisionConfiguration.huggingFace(url: CLIPFixture.huggingFaceModel.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(url: CLIPFixture.huggingFaceModel.appendingPathComponent("model.safetensors"))
        let weights = try CLIPVisionWeights(file: file, config: config)
        let expected = try CLIPFixture.expected("tiny-hf")
        let out = EmbeddingMatrix(rows: 7, dimension: 24)
        let sequential = CLIPVisionTransformer(config: config, weights: weights, capacity: 7, parallelAttentionLimit: 0)
        sequential.run(pixels: expected.pixels.storage.baseAddress!, count: 7, output: out.storage.baseAddress!)
        for i in 0..<7 { XCTAssertGreaterThanOrEqual(clipCosine(out.row(i), expected.embeddings.row(i), 24), 0.9999) }
    }

    func testBatchSplitBetweenTowersGivesEachImageItsOwnVector() throws {
        // The encoder runs one single-threaded tower per core over groups of
        // the batch; every image must get the vector one tower alone gives it,
        // in its own row, whatever the batch's size (one image takes the
        // threaded path, the others uneven groups).
        let config = try CLIPVisionConfiguration.huggingFace(url: CLIPFixture.huggingFaceModel.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(url: CLIPFixture.huggingFaceModel.appendingPathComponent("model.safetensors"))
        let weights = try CLIPVisionWeights(file: file, config: config)
        let expected = try CLIPFixture.expected("tiny-hf")
        let pixels = expected.pixels.storage.baseAddress!
        let single = CLIPVisionTransformer(config: config, weights: weights, capacity: 7)
        let reference = EmbeddingMatrix(rows: 7, dimension: 24)
        single.run(pixels: pixels, count: 7, output: reference.storage.baseAddress!)
        let split = ParallelImageTower(capacity: 7, groupSize: 2, workers: 2, valuesPerImage: expected.pixels.dimension,
                                       dimension: 24) { CLIPVisionTransformer(config: config, weights: weights, capacity: $0, workers: 1) }
        XCTAssertEqual(split.workers, 2)
        for count in [1, 2, 3, 5, 7] {
            let out = EmbeddingMatrix(rows: 7, dimension: 24)
            split.run(pixels: pixels, count: count, output: out.storage.baseAddress!)
            for i in 0..<count {
                for j in 0..<24 { XCTAssertEqual(out.row(i)[j], reference.row(i)[j], accuracy: 1e-5, "\(count) images: image \(i)") }
            }
            // Rows past the batch are left alone.
            for i in count..<7 { XCTAssertTrue((0..<24).allSatisfy { out.row(i)[$0] == 0 }, "\(count) images: row \(i) written") }
        }
    }

    /// Decoding and preprocessing included: libvips instead of PIL.
    private func endToEnd(model: URL, expected name: String, margin: Double) throws -> [String: Float] {
        let encoder = try CLIPVisionEncoder(modelFolder: model, options: CLIPEncoderOptions(batchSize: 4, shrinkOnLoadMargin: margin))
        let expected = try CLIPFixture.expected(name)
        let out = EmbeddingMatrix(rows: expected.names.count, dimension: encoder.dimension)
        let results = try encoder.embed(paths: expected.names.map(CLIPFixture.imagePath), into: out)
        var cosines: [String: Float] = [:]
        for (i, image) in expected.names.enumerated() {
            if case let .failure(f) = results[i] { XCTFail("\(image): \(f)"); continue }
            cosines[image] = clipCosine(out.row(i), expected.embeddings.row(i), encoder.dimension)
        }
        return cosines
    }

    func testEndToEndMatchesTransformersWithItsOwnPreprocessing() throws {
        for (model, name) in [(CLIPFixture.huggingFaceModel, "tiny-hf"), (CLIPFixture.openCLIPModel, "tiny-openclip")] {
            let exact = try endToEnd(model: model, expected: name, margin: 0)
            let fast = try endToEnd(model: model, expected: name, margin: 2)
            for (image, cosine) in exact.sorted(by: { $0.key < $1.key }) {
                let shrunk = fast[image] ?? 0
                print("clip end-to-end \(name) \(image): cosine \(cosine) full decode, \(shrunk) with shrink-on-load")
                XCTAssertGreaterThanOrEqual(cosine, 0.999, "\(name) \(image) (full-size decode)")
                XCTAssertGreaterThanOrEqual(shrunk, 0.999, "\(name) \(image) (shrink-on-load)")
            }
            // Only the large JPEG is shrunk on load; the others decode identically.
            for image in exact.keys where image != "big.jpg" { XCTAssertEqual(exact[image], fast[image], image) }
        }
    }

    func testPixelsMatchTransformersPreprocessing() throws {
        // The pixels themselves: mean absolute difference in normalised units.
        let encoder = try CLIPVisionEncoder(modelFolder: CLIPFixture.huggingFaceModel, options: CLIPEncoderOptions(shrinkOnLoadMargin: 0))
        let expected = try CLIPFixture.expected("tiny-hf")
        let per = encoder.preprocessor.valuesPerImage
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: per)
        defer { buffer.deallocate() }
        for (i, image) in expected.names.enumerated() {
            do { try encoder.preprocessor.load(path: CLIPFixture.imagePath(image), into: buffer) } catch {
                XCTFail("\(error)"); continue
            }
            var total: Float = 0, worst: Float = 0
            let reference = expected.pixels.row(i)
            for j in 0..<per { let d = abs(buffer[j] - reference[j]); total += d; worst = max(worst, d) }
            // One 8-bit level is 1/255/std ≈ 0.0146 normalised units.
            let meanLevels = total / Float(per) / 0.0146
            print("clip pixels \(image): mean difference \(meanLevels) levels, worst \(worst / 0.0146) levels")
            XCTAssertLessThan(meanLevels, 2.0, "\(image): the crop or orientation is off, not just rounding")
        }
    }

    func testExactSizeResizeAndPaddedCrop() throws {
        // rgb.jpg is 80×60. An exact 32×64 resize shrinks one axis and grows the
        // other; a 20-pixel shortest edge with a 32-pixel crop pads with black
        // (zeros before normalising), as transformers' center_crop does.
        var settings = CLIPPreprocessing.defaults(imageSize: 32)
        settings.shortestEdge = nil
        settings.resizeWidth = 32
        settings.resizeHeight = 64
        let mixed = try CLIPPreprocessor(settings: settings).rgb(path: CLIPFixture.imagePath("rgb.jpg"))
        XCTAssertEqual(mixed.count, 32 * 32 * 3)
        XCTAssertGreaterThan(Set(mixed).count, 50, "a picture, not a flat fill")

        settings = CLIPPreprocessing.defaults(imageSize: 32)
        settings.shortestEdge = 20  // → 26×20, centred in 32×32: 3 black columns left, 6 black rows top
        let padded = try CLIPPreprocessor(settings: settings).rgb(path: CLIPFixture.imagePath("rgb.jpg"))
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(padded[(y * 32 + x) * 3..<(y * 32 + x) * 3 + 3]) }
        XCTAssertEqual(pixel(0, 16), [0, 0, 0])
        XCTAssertEqual(pixel(2, 16), [0, 0, 0])
        XCTAssertEqual(pixel(16, 5), [0, 0, 0])
        XCTAssertEqual(pixel(16, 26), [0, 0, 0])
        XCTAssertNotEqual(pixel(3, 16), [0, 0, 0])
        XCTAssertNotEqual(pixel(16, 6), [0, 0, 0])
        XCTAssertNotEqual(pixel(28, 25), [0, 0, 0])
        XCTAssertEqual(pixel(29, 16), [0, 0, 0])
    }

    func testUnreadableImagesAreListedNotFatal() throws {
        let folder = TemporaryFolder()
        let garbage = folder.write("garbage.jpg", Array("not an image at all".utf8))
        let empty = folder.write("empty.png", [])
        let png = try Data(contentsOf: CLIPFixture.images.appendingPathComponent("rgba.png"))
        let truncated = folder.write("truncated.png", Array(png.prefix(png.count / 2)))
        let big = try Data(contentsOf: CLIPFixture.images.appendingPathComponent("big.jpg"))
        let cut = folder.write("cut.jpg", Array(big.prefix(big.count / 2)))
        let good = CLIPFixture.imagePath("rgb.jpg")
        let paths: [FileSystemPath] = [FileSystemPath(garbage), good, FileSystemPath(empty), FileSystemPath(folder.path + "/absent.jpg"),
                                       FileSystemPath(truncated), good, FileSystemPath(cut)]
        let encoder = try CLIPVisionEncoder(modelFolder: CLIPFixture.huggingFaceModel, options: CLIPEncoderOptions(batchSize: 4))
        let matrix = EmbeddingMatrix(rows: paths.count + 1, dimension: encoder.dimension)
        matrix.storage.update(repeating: 5)  // failed rows must be reset, not left as they were
        for j in 0..<matrix.dimension { matrix.row(0)[j] = 7 }  // firstRow: 1 leaves row 0 alone
        let progress = CLIPRecordingProgress()
        let results = try encoder.embed(paths: paths, into: matrix, firstRow: 1, progress: progress)
        XCTAssertEqual(results.count, paths.count)
        for i in [0, 2, 3, 4, 6] {
            guard case let .failure(failure) = results[i] else { XCTFail("image \(i) should fail"); continue }
            XCTAssertEqual(failure.path, paths[i])
            print("clip unreadable \(i): \(failure)")
            XCTAssertEqual(matrix.vector(i + 1), Array(repeating: 0, count: encoder.dimension), "failed rows are zero")
        }
        if case let .failure(f) = results[0] { XCTAssertEqual(f.reason, .notAnImage) }
        if case let .failure(f) = results[2] { XCTAssertEqual(f.reason, .emptyFile) }
        if case let .failure(f) = results[3] { XCTAssertEqual(f.reason, .notFound) }
        if case let .failure(f) = results[4] { XCTAssertEqual(f.reason, .corrupt(format: "PNG")) }
        if case let .failure(f) = results[6] { XCTAssertEqual(f.reason, .corrupt(format: "JPEG")) }
        guard case .success = results[1], case .success = results[5] else { return XCTFail("good images embed") }
        // The same image in another batch position: equal up to the GEMM's summation order.
        XCTAssertGreaterThan(clipCosine(matrix.row(2), matrix.row(6), encoder.dimension), 0.99999)
        XCTAssertEqual(clipCosine(matrix.row(2), matrix.row(2), encoder.dimension), 1, accuracy: 1e-5)
        XCTAssertEqual(matrix.row(0)[0], 7)
        XCTAssertEqual(progress.updates.map(\.done), [4, 7], "one update per batch")
        XCTAssertEqual(progress.updates.last?.total, paths.count)
        XCTAssertEqual(progress.finished, 0, "finish is the caller's")
        // Chunked callers report one running total.
        let chunked = CLIPRecordingProgress()
        _ = try encoder.embed(paths: [good, good], into: matrix, firstRow: 1, progress: chunked, offset: 10, total: 30)
        XCTAssertEqual(chunked.updates.map(\.done), [12])
        XCTAssertEqual(chunked.updates.map(\.total), [30])
    }

    func testCMYKAndSixteenBitImagesDecodeToTheSamePicture() throws {
        // cmyk.jpg and grey16.png hold rgb.jpg's picture. PIL converts CMYK
        // naively (255 − C…) where libvips applies an ICC profile, so only
        // closeness to the RGB original is asserted, not equality with PIL.
        let encoder = try CLIPVisionEncoder(modelFolder: CLIPFixture.huggingFaceModel)
        let names = ["rgb.jpg", "cmyk.jpg", "grey16.png", "tall.jpg"]
        let out = EmbeddingMatrix(rows: names.count, dimension: encoder.dimension)
        let results = try encoder.embed(paths: names.map(CLIPFixture.imagePath), into: out)
        for (i, r) in results.enumerated() { if case let .failure(f) = r { XCTFail("\(names[i]): \(f)") } }
        let cmyk = clipCosine(out.row(0), out.row(1), encoder.dimension)
        let unrelated = clipCosine(out.row(0), out.row(3), encoder.dimension)
        print("clip cmyk.jpg vs rgb.jpg: cosine \(cmyk); tall.jpg (another picture) vs rgb.jpg: \(unrelated)")
        XCTAssertGreaterThan(cmyk, unrelated)
        // How close the CMYK copy comes is a matter of pixels, not of the
        // tiny random model (its cosine moved from above 0.95 to 0.934 when
        // torch 2.15 drew other weights). PIL wrote cmyk.jpg with its naive
        // conversion (C = 255 − R, no black); libvips reads it through a
        // press CMYK profile, which shifts green darkest: mean differences of
        // about 10, 34 and 14 levels (R, G, B), against 77, 68 and 42 for
        // another picture.
        let rgbPixels = try encoder.preprocessor.rgb(path: CLIPFixture.imagePath("rgb.jpg"))
        let cmykPixels = try encoder.preprocessor.rgb(path: CLIPFixture.imagePath("cmyk.jpg"))
        let otherPixels = try encoder.preprocessor.rgb(path: CLIPFixture.imagePath("tall.jpg"))
        var near = [0, 0, 0], far = [0, 0, 0]
        for i in 0..<rgbPixels.count {
            near[i % 3] += abs(Int(cmykPixels[i]) - Int(rgbPixels[i]))
            far[i % 3] += abs(Int(otherPixels[i]) - Int(rgbPixels[i]))
        }
        let pixels = Double(rgbPixels.count / 3)
        for c in 0..<3 {
            XCTAssertLessThan(Double(near[c]) / pixels, 40, "channel \(c): the CMYK copy is the same picture")
            XCTAssertLessThan(4 * near[c], 3 * far[c], "channel \(c): well closer than another picture")
        }

        // 16-bit grey is scaled to 8 bits, not clipped: the picture's luma, grey in all three channels.
        let grey = try encoder.preprocessor.rgb(path: CLIPFixture.imagePath("grey16.png"))
        let colour = try encoder.preprocessor.rgb(path: CLIPFixture.imagePath("rgb.jpg"))
        var coloured = 0, difference = 0
        for i in stride(from: 0, to: grey.count, by: 3) {
            if grey[i] != grey[i + 1] || grey[i] != grey[i + 2] { coloured += 1 }
            let luma = (299 * Int(colour[i]) + 587 * Int(colour[i + 1]) + 114 * Int(colour[i + 2])) / 1000
            difference += abs(Int(grey[i]) - luma)
        }
        XCTAssertEqual(coloured, 0, "grey stays grey")
        let meanLevels = Double(difference) / Double(grey.count / 3)
        print("clip grey16.png vs luma of rgb.jpg: mean difference \(meanLevels) levels")
        XCTAssertLessThan(meanLevels, 2)
    }

    func testAFileChangedOnDiskIsReadAgain() throws {
        // libvips caches loads by file name; an edited image must not embed as its old self.
        let folder = TemporaryFolder()
        let encoder = try CLIPVisionEncoder(modelFolder: CLIPFixture.huggingFaceModel)
        let first = try Data(contentsOf: CLIPFixture.images.appendingPathComponent("rgb.jpg"))
        let second = try Data(contentsOf: CLIPFixture.images.appendingPathComponent("tall.jpg"))
        let path = folder.write("photo.jpg", Array(first))
        let out = EmbeddingMatrix(rows: 3, dimension: encoder.dimension)
        _ = try encoder.embed(paths: [FileSystemPath(path)], into: out, firstRow: 0)
        try second.write(to: URL(fileURLWithPath: path))
        _ = try encoder.embed(paths: [FileSystemPath(path)], into: out, firstRow: 1)
        _ = try encoder.embed(paths: [CLIPFixture.imagePath("tall.jpg")], into: out, firstRow: 2)
        XCTAssertGreaterThan(clipCosine(out.row(1), out.row(2), encoder.dimension), 0.99999)
        XCTAssertLessThan(clipCosine(out.row(0), out.row(1), encoder.dimension), 0.999)
    }

    func testCancellationStopsBetweenBatches() throws {
        let encoder = try CLIPVisionEncoder(modelFolder: CLIPFixture.huggingFaceModel, options: CLIPEncoderOptions(batchSize: 2))
        let paths = Array(repeating: CLIPFixture.imagePath("rgb.jpg"), count: 10)
        let progress = CLIPRecordingProgress()
        progress.cancelAfter = 1  // stop once the first batch has reported
        var seen = 0
        XCTAssertThrowsError(try encoder.embed(paths: paths, progress: progress) { _, _ in seen += 1 }) { error in
            XCTAssertTrue(error is CancelledError, "\(error)")
        }
        XCTAssertEqual(seen, 2, "one batch finished before the stop")
        XCTAssertEqual(progress.updates.map(\.done), [2])
    }

    func testModelIdentityAndDimension() throws {
        let hf = try CLIPVisionEncoder(modelFolder: CLIPFixture.huggingFaceModel)
        XCTAssertEqual(hf.dimension, 24)
        XCTAssertEqual(hf.modelID, "hf:tiny-hf")
        XCTAssertEqual(hf.configuration.activation, .quickGELU)
        XCTAssertEqual(hf.mappedTensorCount, 8 + 2 * 16, "every F32 weight is used in place")
        let oc = try CLIPVisionEncoder(modelFolder: CLIPFixture.openCLIPModel)
        XCTAssertEqual(oc.dimension, 16)
        XCTAssertEqual(oc.modelID, "open-clip:tiny-openclip")
        XCTAssertEqual(oc.configuration.activation, .gelu)
        XCTAssertEqual(oc.preprocessor.settings.mean, [0.5, 0.45, 0.4])
    }
}
