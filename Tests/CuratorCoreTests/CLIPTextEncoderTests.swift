import Foundation
import XCTest
@testable import CuratorCore

/// The native text tower against embeddings transformers (tiny-hf) and
/// open_clip (tiny-dfn2b, the ViT-L-14 DFN-2B layout) computed.
final class CLIPTextEncoderTests: XCTestCase {
    private func check(model: URL, expected name: String, layout: String) throws {
        let encoder = try CLIPTextEncoder(modelFolder: model)
        XCTAssertEqual(encoder.layout, layout)
        let expected = try CLIPFixture.expectedTexts(name)
        for (text, ids) in zip(expected.texts, expected.ids) {
            XCTAssertEqual(encoder.tokenize(text).ids, ids, text)
        }
        let out = try encoder.embed(expected.texts)
        XCTAssertEqual(out.dimension, expected.embeddings.dimension)
        for (i, text) in expected.texts.enumerated() {
            let cosine = clipCosine(out.row(i), expected.embeddings.row(i), encoder.dimension)
            XCTAssertGreaterThanOrEqual(cosine, 0.9999, "\(name) \(text.prefix(30)): cosine \(cosine)")
        }
        // One at a time gives what the batch gave (padding never leaks into a text).
        let single = try encoder.embed([expected.texts[0]])
        XCTAssertGreaterThanOrEqual(clipCosine(single.row(0), out.row(0), encoder.dimension), 0.99999)
    }

    func testHuggingFaceTextTowerMatchesTransformers() throws {
        try check(model: CLIPFixture.huggingFaceModel, expected: "tiny-hf", layout: "hf")
    }

    func testOpenCLIPDFN2BLayoutMatchesOpenCLIP() throws {
        try check(model: CLIPFixture.dfn2bModel, expected: "tiny-dfn2b", layout: "open-clip")
    }

    func testDFN2BVisionTowerMatchesOpenCLIP() throws {
        let encoder = try CLIPVisionEncoder(modelFolder: CLIPFixture.dfn2bModel)
        let expected = try CLIPFixture.expected("tiny-dfn2b")
        let out = EmbeddingMatrix(rows: expected.names.count, dimension: encoder.dimension)
        encoder.embed(pixels: expected.pixels.storage.baseAddress!, count: expected.names.count, into: out.storage.baseAddress!)
        for (i, image) in expected.names.enumerated() {
            XCTAssertGreaterThanOrEqual(clipCosine(out.row(i), expected.embeddings.row(i), encoder.dimension), 0.9999, image)
        }
        let text = try CLIPTextEncoder(modelFolder: CLIPFixture.dfn2bModel)
        XCTAssertEqual(text.modelID, encoder.modelID, "both towers name the same model")
        XCTAssertEqual(text.dimension, encoder.dimension)
    }

    func testEmptyPromptIsRefused() throws {
        let encoder = try CLIPTextEncoder(modelFolder: CLIPFixture.huggingFaceModel)
        for text in ["", "   ", "\n\t"] {
            XCTAssertThrowsError(try encoder.embed([text])) { XCTAssertEqual($0 as? CLIPTextError, .emptyText) }
        }
    }

    func testLongPromptIsCutAtTheContext() throws {
        let encoder = try CLIPTextEncoder(modelFolder: CLIPFixture.huggingFaceModel)
        let long = Array(repeating: "a red dress", count: 60).joined(separator: " ")
        let encoding = encoder.tokenize(long)
        XCTAssertTrue(encoding.truncated)
        XCTAssertEqual(encoding.ids.count, 77)
        // What follows the cut does not matter.
        let a = try encoder.embed([long]), b = try encoder.embed([long + " and a blue hat"])
        XCTAssertGreaterThanOrEqual(clipCosine(a.row(0), b.row(0), encoder.dimension), 0.99999)
    }

    func testPoolingFollowsTheConfig() {
        var config = CLIPTextConfiguration()
        config.pooling = .argmax
        XCTAssertEqual(config.poolingPosition([49406, 320, 49407, 49407]), 2)
        config.pooling = .firstToken(7)
        XCTAssertEqual(config.poolingPosition([5, 7, 9, 7]), 1)
    }

    func testVisionOnlyFolderNamesTheMissingTextTensors() throws {
        // tiny-openclip holds only a vision tower (and logit_scale).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("curator-vision-only-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["open_clip_model.safetensors"] {
            try FileManager.default.copyItem(at: CLIPFixture.openCLIPModel.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        // Its config with a text_cfg, as open_clip writes one for every model.
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: CLIPFixture.openCLIPModel.appendingPathComponent("open_clip_config.json"))) as! [String: Any]
        var model = config["model_cfg"] as! [String: Any]
        model["text_cfg"] = ["context_length": 77, "vocab_size": 1514, "width": 32, "heads": 4, "layers": 2]
        config["model_cfg"] = model
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("open_clip_config.json"))
        XCTAssertThrowsError(try CLIPTextEncoder(modelFolder: folder)) { error in
            XCTAssertEqual((error as? CLIPError)?.kind, .missingTensor)
            let text = "\(error)"
            XCTAssertTrue(text.contains("'token_embedding.weight'") && text.contains("'text_projection'") && text.contains("'ln_final.weight'"), text)
        }
    }
}
