import Foundation
@testable import CuratorCore

/// The committed SigLIP fixture (made by `Fixtures/siglip/make_fixture.py`
/// with transformers): tiny random SiglipModels with a SigLIP and a SigLIP 2
/// tokenizer, and what transformers computed with them.
enum SigLIPFixture {
    static var root: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("siglip")
    }
    /// SigLIP (v1): spiece.model, SiglipTokenizer.
    static var siglipModel: URL { root.appendingPathComponent("tiny-siglip") }
    /// SigLIP 2 (fixed resolution, SiglipModel layout): Gemma's kind of tokenizer.model.
    static var siglip2Model: URL { root.appendingPathComponent("tiny-siglip2") }
    static var expectedRoot: URL { root.appendingPathComponent("expected") }
}

extension SigLIPFixture {
    /// What transformers computed with model `name` (`tiny-siglip`, `tiny-siglip2`).
    struct Expected {
        let names: [String]
        let pixels: EmbeddingMatrix
        let embeddings: EmbeddingMatrix
        let texts: [String]
        let ids: [[Int]]
        let textEmbeddings: EmbeddingMatrix
        let logitScale: Float
        let logitBias: Float
        /// sigmoid(logits_per_image): images × prompts.
        let probabilities: [[Float]]
    }

    static func expected(_ name: String) throws -> Expected {
        let folder = expectedRoot.appendingPathComponent(name)
        func npy(_ file: String) throws -> EmbeddingMatrix {
            try NumpyArray(contentsOf: folder.appendingPathComponent(file)).floatMatrix()
        }
        let names = try String(contentsOf: folder.appendingPathComponent("names.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("texts.json"))) as! [[String: Any]]
        let logits = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("logits.json"))) as! [String: Any]
        return Expected(names: names, pixels: try npy("pixels.npy"), embeddings: try npy("embeddings.npy"),
                        texts: rows.map { $0["text"] as! String }, ids: rows.map { $0["ids"] as! [Int] },
                        textEmbeddings: try npy("text_embeddings.npy"),
                        logitScale: Float(logits["logit_scale"] as! Double), logitBias: Float(logits["logit_bias"] as! Double),
                        probabilities: (logits["probabilities"] as! [[Double]]).map { $0.map(Float.init) })
    }
}
