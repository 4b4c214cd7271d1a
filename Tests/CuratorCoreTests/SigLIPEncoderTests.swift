import Foundation
import XCTest
@testable import CuratorCore

/// SigLIP and SigLIP 2 (transformers' SiglipModel layout) against
/// transformers on tiny random models: image and text embeddings, the
/// sigmoid scores, the model ids, and what a folder lacking a part says.
final class SigLIPEncoderTests: XCTestCase {
    private let models = [(SigLIPFixture.siglipModel, "tiny-siglip"), (SigLIPFixture.siglip2Model, "tiny-siglip2")]

    func testImageEmbeddingsMatchTransformersOnItsPixels() throws {
        for (folder, name) in models {
            let encoder = try CLIPVisionEncoder(modelFolder: folder)
            let expected = try SigLIPFixture.expected(name)
            XCTAssertEqual(encoder.configuration.family, .siglip)
            XCTAssertEqual(encoder.dimension, expected.embeddings.dimension)
            XCTAssertEqual(encoder.preprocessor.valuesPerImage, expected.pixels.dimension)
            let out = EmbeddingMatrix(rows: expected.names.count, dimension: encoder.dimension)
            encoder.embed(pixels: expected.pixels.row(0), count: expected.names.count, into: out.row(0))
            for (i, image) in expected.names.enumerated() {
                let cosine = clipCosine(out.row(i), expected.embeddings.row(i), encoder.dimension)
                XCTAssertGreaterThanOrEqual(cosine, 0.9999, "\(name) \(image): cosine \(cosine)")
            }
        }
    }

    func testImageEmbeddingsEndToEndWithCuratorsDecoding() throws {
        for (folder, name) in models {
            let encoder = try CLIPVisionEncoder(modelFolder: folder, options: CLIPEncoderOptions(batchSize: 3))
            let expected = try SigLIPFixture.expected(name)
            let out = EmbeddingMatrix(rows: expected.names.count, dimension: encoder.dimension)
            let results = try encoder.embed(paths: expected.names.map(CLIPFixture.imagePath), into: out)
            for (i, image) in expected.names.enumerated() {
                if case let .failure(f) = results[i] { XCTFail("\(image): \(f)"); continue }
                let cosine = clipCosine(out.row(i), expected.embeddings.row(i), encoder.dimension)
                XCTAssertGreaterThanOrEqual(cosine, 0.999, "\(name) \(image) end to end: cosine \(cosine)")
            }
        }
    }

    func testTextEmbeddingsMatchTransformers() throws {
        for (folder, name) in models {
            let encoder = try CLIPTextEncoder(modelFolder: folder)
            let expected = try SigLIPFixture.expected(name)
            XCTAssertEqual(encoder.configuration.family, .siglip)
            for (text, ids) in zip(expected.texts, expected.ids) {
                XCTAssertEqual(encoder.tokenize(text).ids, ids, "\(name) \(text.prefix(30))")
            }
            let out = try encoder.embed(expected.texts)
            for (i, text) in expected.texts.enumerated() {
                let cosine = clipCosine(out.row(i), expected.textEmbeddings.row(i), encoder.dimension)
                XCTAssertGreaterThanOrEqual(cosine, 0.9999, "\(name) \(text.prefix(30)): cosine \(cosine)")
            }
        }
    }

    func testSigmoidScoresMatchTransformers() throws {
        for (folder, name) in models {
            let text = try CLIPTextEncoder(modelFolder: folder)
            let expected = try SigLIPFixture.expected(name)
            let calibration = try XCTUnwrap(text.calibration)
            XCTAssertEqual(calibration.scale, expected.logitScale, accuracy: 1e-6)
            XCTAssertEqual(calibration.bias, expected.logitBias, accuracy: 1e-6)
            for i in 0..<expected.names.count {
                for j in 0..<expected.texts.count {
                    let cosine = clipCosine(expected.embeddings.row(i), expected.textEmbeddings.row(j), text.dimension)
                    XCTAssertEqual(text.score(cosine: cosine), expected.probabilities[i][j], accuracy: 1e-5, "\(name) image \(i) prompt \(j)")
                }
            }
        }
    }

    func testModelIDsNameTheFamily() throws {
        for (folder, _) in models {
            let vision = try CLIPVisionEncoder(modelFolder: folder)
            let text = try CLIPTextEncoder(modelFolder: folder)
            XCTAssertEqual(vision.modelID, "siglip:\(folder.lastPathComponent)")
            XCTAssertEqual(text.modelID, vision.modelID)
            XCTAssertEqual(try CLIPModelLocator.modelID(ofFolder: folder), vision.modelID)
            XCTAssertEqual(vision.layout, "siglip")
        }
    }

    func testNaFlexAndHeadlessConfigsAreRefusedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-bad-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: SigLIPFixture.siglip2Model, to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        let configURL = folder.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["model_type"] = "siglip2"
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        XCTAssertThrowsError(try CLIPVisionEncoder(modelFolder: folder)) { XCTAssert("\($0)".contains("NaFlex"), "\($0)") }
        XCTAssertThrowsError(try CLIPTextEncoder(modelFolder: folder)) { XCTAssert("\($0)".contains("NaFlex"), "\($0)") }

        // Without its tokenizer, the text tower says which files it needs.
        config["model_type"] = "siglip"
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("tokenizer.model"))
        XCTAssertThrowsError(try CLIPTextEncoder(modelFolder: folder)) { XCTAssert("\($0)".contains("tokenizer.model"), "\($0)") }
    }
}
