import Foundation

/// The tensors of a CLIP vision tower, found by name in a safetensors file
/// and checked against the configuration's shapes. Two key layouts load:
/// Hugging Face's (`vision_model.…`, `visual_projection.weight`) and
/// open_clip's (`visual.…`, packed `in_proj_weight`, `visual.proj`).
///
/// Every matrix keeps the layout it has in the file, so Float32 weights are
/// used in place from the mapping: Linear weights are out×in (multiplied
/// with GEMM's transpose flag), open_clip's projection is in×out.
/// `@unchecked Sendable`: read-only views into the mapped weights file, which outlives them.
struct CLIPVisionWeights: @unchecked Sendable {
    /// Which naming scheme the file uses.
    enum Layout: String, Sendable {
        case huggingFace = "hf"
        case openCLIP = "open-clip"
        /// transformers' `SiglipModel` (read by `SigLIPVisionWeights` and `CLIPTextWeights`).
        case siglip = "siglip"
    }

    let layout: Layout
    /// Patch embedding as a D × (3·p·p) matrix: the conv kernel [D, 3, p, p] read flat.
    let patchWeight: FloatTensor
    /// The conv's bias, when the checkpoint has one (CLIP's has none).
    let patchBias: FloatTensor?
    let classEmbedding: FloatTensor
    let positionEmbedding: FloatTensor
    let preNormWeight, preNormBias: FloatTensor
    /// The transformer blocks (`var`: the encoder adds their bfloat16 packing when it runs them so).
    var blocks: [CLIPTransformerBlock]
    let postNormWeight, postNormBias: FloatTensor
    /// The visual projection: P×D (Hugging Face) or D×P (open_clip).
    let projection: FloatTensor
    /// Whether `projection` is stored P×D (out×in) and so multiplies transposed.
    let projectionIsOutByIn: Bool

    /// How many weight tensors the tower has, and how many of them are used
    /// in place from the file rather than converted or copied.
    var tensorCounts: (mapped: Int, total: Int) {
        var all: [FloatTensor] = [patchWeight, classEmbedding, positionEmbedding, preNormWeight, preNormBias,
                                  postNormWeight, postNormBias, projection]
        for b in blocks { all += b.tensors }
        return (all.filter(\.isMapped).count, all.count)
    }

    /// Finds and checks every tensor of the tower described by `config`.
    init(file: SafeTensorsFile, config: CLIPVisionConfiguration) throws {
        let names = file.tensors
        if names["vision_model.embeddings.patch_embedding.weight"] != nil {
            layout = .huggingFace
        } else if names["visual.conv1.weight"] != nil {
            layout = .openCLIP
        } else if names.keys.contains(where: { $0.hasPrefix("visual.trunk.") }) {
            throw CLIPError(.unsupported, file.path, "a timm vision tower (visual.trunk.…) is not supported; only CLIP ViTs are")
        } else {
            throw CLIPError(.missingTensor, file.path, "no CLIP vision tower found: neither 'vision_model.embeddings.patch_embedding.weight' (Hugging Face) nor 'visual.conv1.weight' (open_clip) is present")
        }
        let d = config.hiddenSize, p = config.patchSize, s = config.tokens
        let i = config.intermediateSize, out = config.projectionDimension

        func take(_ name: String, _ shape: [Int]) throws -> FloatTensor { try file.floatTensor(name, shape: shape) }
        /// A vector stored as [n] or [1, n] (some exports keep a leading 1).
        func vector(_ name: String, _ n: Int) throws -> FloatTensor {
            if let info = names[name], info.shape == [1, n] || info.shape == [1, 1, n] {
                return try file.finite(file.floatTensor(name))
            }
            return try take(name, [n])
        }

        switch layout {
        case .siglip:
            throw CLIPError(.unsupported, file.path, "a SigLIP tower is read by SigLIPVisionWeights")
        case .huggingFace:
            let e = "vision_model.embeddings."
            patchWeight = try take(e + "patch_embedding.weight", [d, 3, p, p])
            patchBias = names[e + "patch_embedding.bias"] != nil ? try take(e + "patch_embedding.bias", [d]) : nil
            classEmbedding = try vector(e + "class_embedding", d)
            positionEmbedding = try take(e + "position_embedding.weight", [s, d])
            preNormWeight = try take("vision_model.pre_layrnorm.weight", [d])
            preNormBias = try take("vision_model.pre_layrnorm.bias", [d])
            blocks = try CLIPTransformerBlock.stack(.huggingFace, prefix: "vision_model.encoder.layers.", layers: config.layers, tower: "",
                                                    width: d, intermediate: i, file: file.path, has: { names[$0] != nil }, take: take)
            postNormWeight = try take("vision_model.post_layernorm.weight", [d])
            postNormBias = try take("vision_model.post_layernorm.bias", [d])
            if names["visual_projection.weight"] == nil {
                throw CLIPError(.missingTensor, file.path, "tensor 'visual_projection.weight' is missing: a CLIPModel or CLIPVisionModelWithProjection checkpoint is needed (CLIPVisionModel has no projection)")
            }
            projection = try take("visual_projection.weight", [out, d])
            projectionIsOutByIn = true

        case .openCLIP:
            let v = "visual."
            if names.keys.contains(where: { $0.hasPrefix(v) && ($0.contains(".ls_1.") || $0.contains(".ls_2.")) }) {
                throw CLIPError(.unsupported, file.path, "layer scale (ls_1/ls_2 tensors) is not supported")
            }
            if names.keys.contains(where: { $0.hasPrefix("visual.attn_pool.") }) {
                throw CLIPError(.unsupported, file.path, "attentional pooling (visual.attn_pool) is not supported")
            }
            patchWeight = try take(v + "conv1.weight", [d, 3, p, p])
            patchBias = names[v + "conv1.bias"] != nil ? try take(v + "conv1.bias", [d]) : nil
            classEmbedding = try vector(v + "class_embedding", d)
            positionEmbedding = try take(v + "positional_embedding", [s, d])
            preNormWeight = try take(v + "ln_pre.weight", [d])
            preNormBias = try take(v + "ln_pre.bias", [d])
            blocks = try CLIPTransformerBlock.stack(.openCLIP, prefix: v + "transformer.resblocks.", layers: config.layers, tower: "",
                                                    width: d, intermediate: i, file: file.path, has: { names[$0] != nil }, take: take)
            postNormWeight = try take(v + "ln_post.weight", [d])
            postNormBias = try take(v + "ln_post.bias", [d])
            projection = try take(v + "proj", [d, out])
            projectionIsOutByIn = false
        }
    }
}
