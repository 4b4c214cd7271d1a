import Foundation
import XCTest
@testable import CuratorCore

/// Finding a model and refusing ones the encoder cannot run, with messages
/// that say what to do.
final class CLIPModelLoadingTests: XCTestCase {
    private var folder: TemporaryFolder!
    override func setUp() { folder = TemporaryFolder() }
    override func tearDown() { folder = nil }

    private var root: URL { URL(fileURLWithPath: folder.path) }

    private func assertError(_ kind: CLIPError.Kind, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? CLIPError else { return XCTFail("not a CLIPError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            XCTAssertEqual(e.errorDescription, e.description)
            for fragment in fragments {
                XCTAssertTrue(e.description.contains(fragment), "'\(e)' lacks '\(fragment)'", file: file, line: line)
            }
        }
    }

    /// A copy of the tiny HF model whose config.json is `edit`ed.
    private func modelWithConfig(_ edit: (inout [String: Any]) -> Void) throws -> URL {
        let destination = root.appendingPathComponent("edited-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: CLIPFixture.huggingFaceModel, to: destination)
        let url = destination.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return destination
    }

    private func editVision(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
        { json in
            var vision = json["vision_config"] as! [String: Any]
            vision[key] = value
            json["vision_config"] = vision
        }
    }

    // MARK: - Locating

    func testMissingModelSaysWhatToDownloadAndWhere() throws {
        let locator = CLIPModelLocator(environment: ["HOME": folder.path])
        assertError(.modelMissing, ["clip-vit-base-patch32", "openai/clip-vit-base-patch32", "model.safetensors", "config.json",
                                    folder.path + "/.cache/curator/models/clip-vit-base-patch32/", "CURATOR_MODELS"]) {
            _ = try locator.folder(named: "clip-vit-base-patch32")
        }
        assertError(.modelMissing, ["my-model", "open_clip_model.safetensors"]) { _ = try locator.folder(named: "my-model") }
        // Loading a folder that does not exist says the same.
        assertError(.modelMissing, ["clip-vit-base-patch32", "openai/clip-vit-base-patch32", "does not exist"]) {
            _ = try CLIPVisionEncoder(modelFolder: self.root.appendingPathComponent("clip-vit-base-patch32"))
        }
    }

    func testLocatorSearchesCuratorModelsThenTheCache() throws {
        let custom = root.appendingPathComponent("custom")
        let cache = root.appendingPathComponent("home/.cache/curator/models")
        try FileManager.default.createDirectory(at: custom, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CLIPFixture.huggingFaceModel, to: cache.appendingPathComponent("tiny"))
        let locator = CLIPModelLocator(environment: ["CURATOR_MODELS": custom.path, "HOME": root.appendingPathComponent("home").path])
        XCTAssertEqual(try locator.folder(named: "tiny").standardizedFileURL.path, cache.appendingPathComponent("tiny").standardizedFileURL.path)
        try FileManager.default.copyItem(at: CLIPFixture.openCLIPModel, to: custom.appendingPathComponent("tiny"))
        XCTAssertEqual(try locator.folder(named: "tiny").standardizedFileURL.path, custom.appendingPathComponent("tiny").standardizedFileURL.path)
        XCTAssertEqual(locator.availableModels(), ["tiny"])
        // A folder with weights but no config is not a model.
        try FileManager.default.createDirectory(at: cache.appendingPathComponent("half"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CLIPFixture.huggingFaceModel.appendingPathComponent("model.safetensors"),
                                         to: cache.appendingPathComponent("half/model.safetensors"))
        XCTAssertEqual(locator.availableModels(), ["tiny"])
        assertError(.modelMissing, ["config.json"]) { _ = try CLIPVisionEncoder(modelFolder: cache.appendingPathComponent("half")) }
    }

    func testMissingWeightsFileSaysWhatToDownload() throws {
        let model = try modelWithConfig { _ in }
        try FileManager.default.removeItem(at: model.appendingPathComponent("model.safetensors"))
        assertError(.modelMissing, ["model.safetensors", "download"]) { _ = try CLIPVisionEncoder(modelFolder: model) }
    }

    // MARK: - Configuration

    func testUnsupportedConfigNamesTheField() throws {
        let cases: [(String, (inout [String: Any]) -> Void, [String])] = [
            ("activation", editVision("hidden_act", "swish"), ["config.json", "vision_config.hidden_act", "swish"]),
            ("channels", editVision("num_channels", 4), ["vision_config.num_channels"]),
            ("heads", editVision("num_attention_heads", 5), ["vision_config.num_attention_heads"]),
            ("type", editVision("hidden_size", "wide"), ["vision_config.hidden_size", "positive integer"]),
            ("model", { $0["model_type"] = "blip" }, ["model_type", "blip"]),
        ]
        for (label, edit, fragments) in cases {
            let model = try modelWithConfig(edit)
            assertError(.unsupported, fragments) { _ = try CLIPVisionEncoder(modelFolder: model) }
            _ = label
        }
    }

    func testUnsupportedPreprocessorConfigNamesTheField() throws {
        let model = try modelWithConfig { _ in }
        let url = model.appendingPathComponent("preprocessor_config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        json["crop_size"] = ["height": 40, "width": 40]
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        assertError(.unsupported, ["preprocessor_config.json", "crop_size", "32×32"]) { _ = try CLIPVisionEncoder(modelFolder: model) }
        json["crop_size"] = 32
        json["resample"] = 5
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        assertError(.unsupported, ["preprocessor_config.json", "resample"]) { _ = try CLIPVisionEncoder(modelFolder: model) }
    }

    func testMissingFieldsTakeTransformersDefaults() throws {
        // transformers writes only non-default values in some versions.
        let url = root.appendingPathComponent("config.json")
        try Data(#"{"model_type": "clip", "vision_config": {"patch_size": 16}}"#.utf8).write(to: url)
        let config = try CLIPVisionConfiguration.huggingFace(url: url)
        XCTAssertEqual(config, CLIPVisionConfiguration(patchSize: 16))
        XCTAssertEqual(config.tokens, 197)
        XCTAssertEqual(config.headSize, 64)

        try Data(#"{"model_type": "clip_vision_model", "hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096, "patch_size": 14, "projection_dim": 768, "layer_norm_eps": 1e-6, "hidden_act": "gelu", "_name_or_path": "openai/clip-vit-large-patch14"}"#.utf8).write(to: url)
        let large = try CLIPVisionConfiguration.huggingFace(url: url)
        XCTAssertEqual(large.tokens, 257)
        XCTAssertEqual(large.projectionDimension, 768)
        XCTAssertEqual(large.activation, .gelu)
        XCTAssertEqual(large.layerNormEpsilon, 1e-6)
        XCTAssertEqual(CLIPVisionEncoder.identifier(layout: .huggingFace, nameOrPath: large.nameOrPath, folder: root), "hf:openai/clip-vit-large-patch14")
        var local = large
        local.nameOrPath = "/tmp/somewhere/model"
        XCTAssertEqual(CLIPVisionEncoder.identifier(layout: .huggingFace, nameOrPath: local.nameOrPath, folder: root.appendingPathComponent("clip-l")), "hf:clip-l")

        let defaults = CLIPPreprocessing.defaults(imageSize: 224)
        XCTAssertEqual(defaults.shortestEdge, 224)
        XCTAssertEqual(defaults.mean, CLIPPreprocessing.clipMean)
        // Old-style integer sizes in preprocessor_config.json.
        let pre = root.appendingPathComponent("preprocessor_config.json")
        try Data(#"{"size": 224, "crop_size": 224, "resample": 3, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}"#.utf8).write(to: pre)
        let read = try CLIPPreprocessing.read(url: pre, imageSize: 224)
        XCTAssertEqual(read.shortestEdge, 224)
        XCTAssertEqual(read.mean, [0.5, 0.5, 0.5])
    }

    func testOpenCLIPConfigVariantsAreRefusedByName() throws {
        let url = root.appendingPathComponent("open_clip_config.json")
        try Data(#"{"model_cfg": {"embed_dim": 512, "vision_cfg": {"width": 768, "layers": 12, "patch_size": 32, "attentional_pool": true}}}"#.utf8).write(to: url)
        assertError(.unsupported, ["model_cfg.vision_cfg.attentional_pool"]) { _ = try CLIPVisionConfiguration.openCLIP(url: url) }
        try Data(#"{"model_cfg": {"embed_dim": 1024, "vision_cfg": {"width": 64, "layers": [3, 4, 6, 3]}}}"#.utf8).write(to: url)
        assertError(.unsupported, ["model_cfg.vision_cfg.layers"]) { _ = try CLIPVisionConfiguration.openCLIP(url: url) }
        try Data(#"{"model_cfg": {"embed_dim": 768, "quick_gelu": true, "vision_cfg": {"image_size": 224, "layers": 24, "width": 1024, "patch_size": 14}}}"#.utf8).write(to: url)
        let (large, mean, _) = try CLIPVisionConfiguration.openCLIP(url: url)
        XCTAssertEqual(large.heads, 16)
        XCTAssertEqual(large.intermediateSize, 4096)
        XCTAssertEqual(large.activation, .quickGELU)
        XCTAssertNil(mean)
    }

    // MARK: - Weights

    func testWrongTensorShapeNamesTensorExpectedAndGot() throws {
        let model = root.appendingPathComponent("shape")
        try SafeTensorsWriter.copyModel(CLIPFixture.huggingFaceModel, to: model) { tensors in
            let i = tensors.firstIndex { $0.name == "vision_model.encoder.layers.1.mlp.fc1.weight" }!
            tensors[i].shape = [90, 48]
            tensors[i].values = Array(tensors[i].values.prefix(90 * 48))
        }
        assertError(.wrongShape, ["vision_model.encoder.layers.1.mlp.fc1.weight", "[90, 48]", "expected [96, 48]"]) {
            _ = try CLIPVisionEncoder(modelFolder: model)
        }
    }

    func testWeightsWithMoreLayersThanTheConfigAreRefused() throws {
        // The last block copied as one more: the config and the weights disagree, so nothing runs as a shallower model.
        func oneMoreBlock(_ source: URL, named prefix: String, in folder: String, weights: String = "model.safetensors") throws -> URL {
            let model = root.appendingPathComponent(folder)
            try SafeTensorsWriter.copyModel(source, to: model, weightsName: weights) { tensors in
                let blocks = tensors.filter { $0.name.hasPrefix(prefix) }
                let last = blocks.compactMap { Int($0.name.dropFirst(prefix.count).prefix { $0 != "." }) }.max()!
                for var tensor in blocks where tensor.name.hasPrefix("\(prefix)\(last).") {
                    tensor.name = "\(prefix)\(last + 1)." + tensor.name.dropFirst("\(prefix)\(last).".count)
                    tensors.append(tensor)
                }
            }
            return model
        }
        let vision = try oneMoreBlock(CLIPFixture.huggingFaceModel, named: "vision_model.encoder.layers.", in: "more-vision")
        assertError(.wrongShape, ["more transformer layers than the config's num_hidden_layers"]) {
            _ = try CLIPVisionEncoder(modelFolder: vision)
        }
        let text = try oneMoreBlock(CLIPFixture.huggingFaceModel, named: "text_model.encoder.layers.", in: "more-text")
        assertError(.wrongShape, ["more text transformer layers than the config's num_hidden_layers"]) {
            _ = try CLIPTextEncoder(modelFolder: text)
        }
        let openCLIP = try oneMoreBlock(CLIPFixture.openCLIPModel, named: "visual.transformer.resblocks.", in: "more-openclip",
                                        weights: "open_clip_model.safetensors")
        assertError(.wrongShape, ["more transformer blocks than the config's layers"]) {
            _ = try CLIPVisionEncoder(modelFolder: openCLIP)
        }
    }

    func testNaNWeightsAreRefusedNamingTheTensor() throws {
        // One NaN weight makes every vector NaN; they must never be stored.
        let model = root.appendingPathComponent("nan")
        try SafeTensorsWriter.copyModel(CLIPFixture.huggingFaceModel, to: model) { tensors in
            let i = tensors.firstIndex { $0.name == "vision_model.encoder.layers.1.mlp.fc1.weight" }!
            tensors[i].values[7] = .nan
        }
        assertError(.corrupt, ["vision_model.encoder.layers.1.mlp.fc1.weight", "NaN", "index 7"]) {
            _ = try CLIPVisionEncoder(modelFolder: model)
        }
        let infinite = root.appendingPathComponent("inf")
        try SafeTensorsWriter.copyModel(CLIPFixture.huggingFaceModel, to: infinite) { tensors in
            let i = tensors.firstIndex { $0.name == "vision_model.post_layernorm.bias" }!
            tensors[i].values[0] = -.infinity
        }
        assertError(.corrupt, ["vision_model.post_layernorm.bias", "infinite"]) {
            _ = try CLIPVisionEncoder(modelFolder: infinite)
        }
    }

    func testMissingTensorAndForeignCheckpointsAreNamed() throws {
        let missing = root.appendingPathComponent("missing")
        try SafeTensorsWriter.copyModel(CLIPFixture.huggingFaceModel, to: missing) { tensors in
            tensors.removeAll { $0.name == "visual_projection.weight" }
        }
        assertError(.missingTensor, ["visual_projection.weight", "CLIPVisionModelWithProjection"]) {
            _ = try CLIPVisionEncoder(modelFolder: missing)
        }
        let foreign = root.appendingPathComponent("foreign")
        try SafeTensorsWriter.copyModel(CLIPFixture.huggingFaceModel, to: foreign) { tensors in
            tensors = [.init(name: "encoder.weight", shape: [2], values: [1, 2])]
        }
        assertError(.missingTensor, ["no CLIP vision tower"]) { _ = try CLIPVisionEncoder(modelFolder: foreign) }
        let extra = root.appendingPathComponent("extra")
        try SafeTensorsWriter.copyModel(CLIPFixture.openCLIPModel, to: extra, weightsName: "open_clip_model.safetensors") { tensors in
            tensors.append(.init(name: "visual.transformer.resblocks.0.ls_1.gamma", shape: [32], values: Array(repeating: 1, count: 32)))
        }
        assertError(.unsupported, ["layer scale"]) { _ = try CLIPVisionEncoder(modelFolder: extra) }
    }

    func testTruncatedWeightsFileIsReportedAtLoad() throws {
        let model = try modelWithConfig { _ in }
        let weights = model.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count / 2).write(to: weights)
        assertError(.corrupt, ["model.safetensors", "past the end"]) { _ = try CLIPVisionEncoder(modelFolder: model) }
    }

    func testHalfPrecisionWeightsGiveTheSameEmbeddings() throws {
        // The same model stored as F16: converted once at load, results within F16's rounding.
        let model = root.appendingPathComponent("half")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for name in ["config.json", "preprocessor_config.json"] {
            try FileManager.default.copyItem(at: CLIPFixture.huggingFaceModel.appendingPathComponent(name), to: model.appendingPathComponent(name))
        }
        let tensors = try SafeTensorsWriter.tensors(of: SafeTensorsFile(url: CLIPFixture.huggingFaceModel.appendingPathComponent("model.safetensors")))
        var header: [String: Any] = [:]
        var data = [UInt8]()
        for t in tensors {
            let begin = data.count
            for v in t.values {
                let h = Float16Bits.from(v)
                data += [UInt8(h & 0xFF), UInt8(h >> 8)]
            }
            header[t.name] = ["dtype": "F16", "shape": t.shape, "data_offsets": [begin, data.count]]
        }
        try SafeTensorsWriter.writeRaw(header: header, data: data, to: model.appendingPathComponent("model.safetensors"))
        let half = try CLIPVisionEncoder(modelFolder: model)
        XCTAssertEqual(half.mappedTensorCount, 0)
        let full = try CLIPVisionEncoder(modelFolder: CLIPFixture.huggingFaceModel)
        let expected = try CLIPFixture.expected("tiny-hf")
        let a = EmbeddingMatrix(rows: 7, dimension: 24), b = EmbeddingMatrix(rows: 7, dimension: 24)
        half.embed(pixels: expected.pixels.storage.baseAddress!, count: 7, into: a.storage.baseAddress!)
        full.embed(pixels: expected.pixels.storage.baseAddress!, count: 7, into: b.storage.baseAddress!)
        for i in 0..<7 { XCTAssertGreaterThan(clipCosine(a.row(i), b.row(i), 24), 0.999) }
    }
}

/// Float → IEEE half bits (round to nearest even), for writing F16 test files.
enum Float16Bits {
    static func from(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        var mantissa = bits & 0x7F_FFFF
        if exponent <= 0 {
            // Subnormal or zero in half precision.
            if exponent < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - exponent)
            let rounded = (mantissa + (1 << (shift - 1))) >> shift
            return sign | UInt16(rounded)
        }
        if exponent >= 31 { return sign | 0x7C00 }
        let rounded = UInt32(exponent) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        var result = rounded
        if remainder > 0x1000 || (remainder == 0x1000 && (rounded & 1) == 1) { result += 1 }
        return sign | UInt16(result)
    }
}
