import Foundation

/// The tensors of a CLIP text tower, found by name in a safetensors file and
/// checked against the configuration's shapes. Two key layouts load:
/// Hugging Face's (`text_model.…`, `text_projection.weight` out×in) and
/// open_clip's (`token_embedding.weight`, `transformer.resblocks.…`,
/// `ln_final`, `text_projection` in×out).
/// `@unchecked Sendable`: read-only views into the mapped weights file, which outlives them.
struct CLIPTextWeights: @unchecked Sendable {
    let layout: CLIPVisionWeights.Layout
    /// V × D token embeddings.
    let tokenEmbedding: FloatTensor
    /// context × D position embeddings.
    let positionEmbedding: FloatTensor
    let blocks: [CLIPTransformerBlock]
    let finalNormWeight, finalNormBias: FloatTensor
    /// The text projection: P×D (Hugging Face) or D×P (open_clip).
    let projection: FloatTensor
    /// Whether `projection` is stored P×D (out×in) and so multiplies transposed.
    let projectionIsOutByIn: Bool
    /// SigLIP's text head has a bias (P values); CLIP's projection has none.
    let projectionBias: FloatTensor?
    /// SigLIP's logit scale and bias (`logit_scale`, `logit_bias`), when the file has them.
    let logitScale: Float?, logitBias: Float?

    /// The text tower's tensor names a layout needs before anything else, for
    /// the message when a folder holds only a vision tower.
    static func essentialNames(_ layout: CLIPVisionWeights.Layout) -> [String] {
        switch layout {
        case .huggingFace: return ["text_model.embeddings.token_embedding.weight", "text_model.final_layer_norm.weight", "text_projection.weight"]
        case .siglip: return ["text_model.embeddings.token_embedding.weight", "text_model.final_layer_norm.weight", "text_model.head.weight"]
        case .openCLIP: return ["token_embedding.weight", "ln_final.weight", "text_projection"]
        }
    }

    /// The layout of the tensors in `file`.
    static func layout(of file: SafeTensorsFile) -> CLIPVisionWeights.Layout {
        let names = file.tensors
        if names["logit_bias"] != nil || names["vision_model.head.probe"] != nil || names["text_model.head.weight"] != nil { return .siglip }
        return names.keys.contains { $0.hasPrefix("text_model.") || $0.hasPrefix("vision_model.") } ? .huggingFace : .openCLIP
    }

    /// Throws, naming the missing tensors, unless `file` holds a text tower.
    static func checkPresent(in file: SafeTensorsFile) throws {
        let missing = essentialNames(layout(of: file)).filter { file.tensors[$0] == nil }
        guard missing.isEmpty else {
            throw CLIPError(.missingTensor, file.path, "no text tower: tensor\(missing.count == 1 ? "" : "s") \(missing.map { "'\($0)'" }.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") missing (a vision-only checkpoint such as CLIPVisionModelWithProjection); download the full model's weights (CLIPModel, or open_clip's whole model) into \(URL(fileURLWithPath: file.path).deletingLastPathComponent().path)/")
        }
    }

    /// Finds and checks every tensor of the text tower described by `config`.
    init(file: SafeTensorsFile, config: CLIPTextConfiguration) throws {
        let names = file.tensors
        layout = Self.layout(of: file)
        try Self.checkPresent(in: file)
        let d = config.hiddenSize, i = config.intermediateSize, out = config.projectionDimension
        func take(_ name: String, _ shape: [Int]) throws -> FloatTensor { try file.floatTensor(name, shape: shape) }
        func scalar(_ name: String) throws -> Float? {
            guard let info = names[name] else { return nil }
            guard info.shape.reduce(1, *) == 1 else {
                throw CLIPError(.wrongShape, file.path, "tensor '\(name)' has shape \(info.shape), expected one value")
            }
            let value = try file.floatTensor(name).pointer[0]
            guard value.isFinite else { throw CLIPError(.corrupt, file.path, "tensor '\(name)' is not finite") }
            return value
        }
        logitScale = try scalar("logit_scale")
        logitBias = try scalar("logit_bias")
        projectionBias = layout == .siglip ? try take("text_model.head.bias", [out]) : nil
        switch layout {
        case .huggingFace, .siglip:
            let e = "text_model.embeddings."
            tokenEmbedding = try take(e + "token_embedding.weight", [config.vocabularySize, d])
            positionEmbedding = try take(e + "position_embedding.weight", [config.contextLength, d])
            blocks = try CLIPTransformerBlock.stack(.huggingFace, prefix: "text_model.encoder.layers.", layers: config.layers, tower: "text ",
                                                    width: d, intermediate: i, file: file.path, has: { names[$0] != nil }, take: take)
            finalNormWeight = try take("text_model.final_layer_norm.weight", [d])
            finalNormBias = try take("text_model.final_layer_norm.bias", [d])
            projection = try take(layout == .siglip ? "text_model.head.weight" : "text_projection.weight", [out, d])
            projectionIsOutByIn = true
        case .openCLIP:
            tokenEmbedding = try take("token_embedding.weight", [config.vocabularySize, d])
            positionEmbedding = try take("positional_embedding", [config.contextLength, d])
            blocks = try CLIPTransformerBlock.stack(.openCLIP, prefix: "transformer.resblocks.", layers: config.layers, tower: "text ",
                                                    width: d, intermediate: i, file: file.path, has: { names[$0] != nil }, take: take)
            finalNormWeight = try take("ln_final.weight", [d])
            finalNormBias = try take("ln_final.bias", [d])
            projection = try take("text_projection", [d, out])
            projectionIsOutByIn = false
        }
    }
}
