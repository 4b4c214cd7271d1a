import Foundation

/// The tensors of a SigLIP vision tower (transformers' `SiglipVisionModel`
/// inside `SiglipModel`): patch embedding with a bias, position embeddings
/// (no class token), the encoder blocks, the post-layernorm, and the
/// attention-pooling head (a learned probe attending over every token with
/// `nn.MultiheadAttention`'s packed projections, then a layer norm and an
/// MLP added back). Float32 tensors are used in place from the mapping.
/// `@unchecked Sendable`: read-only views into the mapped weights file, which outlives them.
struct SigLIPVisionWeights: @unchecked Sendable {
    /// Patch embedding as a D × (3·p·p) matrix and its bias.
    let patchWeight, patchBias: FloatTensor
    /// patches × D position embeddings.
    let positionEmbedding: FloatTensor
    /// The transformer blocks (`var`: the encoder adds their bfloat16 packing when it runs them so).
    var blocks: [CLIPTransformerBlock]
    let postNormWeight, postNormBias: FloatTensor
    /// The head's probe (the query), D values.
    let probe: FloatTensor
    /// The head's packed query/key/value projection, 3D × D, and its bias.
    let headInWeight, headInBias: FloatTensor
    let headOutWeight, headOutBias: FloatTensor
    let headNormWeight, headNormBias: FloatTensor
    let headFC1Weight, headFC1Bias: FloatTensor
    let headFC2Weight, headFC2Bias: FloatTensor

    /// How many weight tensors the tower has, and how many are used in place.
    var tensorCounts: (mapped: Int, total: Int) {
        var all = [patchWeight, patchBias, positionEmbedding, postNormWeight, postNormBias, probe, headInWeight, headInBias,
                   headOutWeight, headOutBias, headNormWeight, headNormBias, headFC1Weight, headFC1Bias, headFC2Weight, headFC2Bias]
        for b in blocks { all += b.tensors }
        return (all.filter(\.isMapped).count, all.count)
    }

    /// Finds and checks every tensor of the tower described by `config`.
    init(file: SafeTensorsFile, config: CLIPVisionConfiguration) throws {
        let names = file.tensors
        guard names["vision_model.head.probe"] != nil else {
            throw CLIPError(.missingTensor, file.path, "tensor 'vision_model.head.probe' is missing: not a SigLIP vision tower with its attention-pooling head (SiglipModel or SiglipVisionModel)")
        }
        let d = config.hiddenSize, p = config.patchSize, i = config.intermediateSize
        func take(_ name: String, _ shape: [Int]) throws -> FloatTensor { try file.floatTensor(name, shape: shape) }
        let e = "vision_model.embeddings."
        patchWeight = try take(e + "patch_embedding.weight", [d, 3, p, p])
        patchBias = try take(e + "patch_embedding.bias", [d])
        positionEmbedding = try take(e + "position_embedding.weight", [config.tokens, d])
        blocks = try CLIPTransformerBlock.stack(.huggingFace, prefix: "vision_model.encoder.layers.", layers: config.layers, tower: "",
                                                width: d, intermediate: i, file: file.path, has: { names[$0] != nil }, take: take)
        postNormWeight = try take("vision_model.post_layernorm.weight", [d])
        postNormBias = try take("vision_model.post_layernorm.bias", [d])
        let h = "vision_model.head."
        probe = try take(h + "probe", [1, 1, d])
        headInWeight = try take(h + "attention.in_proj_weight", [3 * d, d])
        headInBias = try take(h + "attention.in_proj_bias", [3 * d])
        headOutWeight = try take(h + "attention.out_proj.weight", [d, d])
        headOutBias = try take(h + "attention.out_proj.bias", [d])
        headNormWeight = try take(h + "layernorm.weight", [d])
        headNormBias = try take(h + "layernorm.bias", [d])
        headFC1Weight = try take(h + "mlp.fc1.weight", [i, d])
        headFC1Bias = try take(h + "mlp.fc1.bias", [i])
        headFC2Weight = try take(h + "mlp.fc2.weight", [d, i])
        headFC2Bias = try take(h + "mlp.fc2.bias", [d])
    }
}
