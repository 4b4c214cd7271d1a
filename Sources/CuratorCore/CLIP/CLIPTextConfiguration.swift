import Foundation

/// The shape of a CLIP text tower, read from the same model folder as the
/// vision tower: the `text_config` of a Hugging Face `CLIPModel` (or a
/// `CLIPTextModelWithProjection`'s own config), or open_clip's `text_cfg`.
/// Fields a Hugging Face file leaves out take `CLIPTextConfig`'s defaults.
public struct CLIPTextConfiguration: Sendable, Equatable {
    /// Where the text is pooled into one vector.
    public enum Pooling: Sendable, Equatable {
        /// At the highest token id (the end token in CLIP's vocabulary):
        /// OpenAI's original configs (`eos_token_id` 2) and open_clip's default.
        case argmax
        /// At the first occurrence of this token id (newer Hugging Face configs, open_clip's `pool_type: eos`).
        case firstToken(Int)
        /// At the last position of the padded sequence (SigLIP).
        case last
    }

    /// Width of the token vectors (512 for ViT-B/32's text tower).
    public var hiddenSize = 512
    /// Width of the MLP's hidden layer.
    public var intermediateSize = 2048
    /// The number of transformer blocks.
    public var layers = 12
    /// The number of attention heads.
    public var heads = 8
    /// The number of token ids.
    public var vocabularySize = 49408
    /// The most tokens a text has, start and end included (77).
    public var contextLength = 77
    /// The length of the output embedding.
    public var projectionDimension = 512
    /// The MLP's activation.
    public var activation = CLIPActivation.quickGELU
    /// The epsilon of every layer norm.
    public var layerNormEpsilon: Float = 1e-5
    /// Where the text is pooled.
    public var pooling = Pooling.argmax
    /// CLIP or SigLIP.
    public var family = ModelFamily.clip
    /// Whether a token sees only the tokens before it (CLIP); SigLIP's text tower is bidirectional.
    public var causal: Bool { family == .clip }

    /// Creates the configuration of OpenAI's ViT-B/32 text tower; change fields as needed.
    public init() {}

    /// Width of one attention head.
    public var headSize: Int { hiddenSize / heads }

    /// Reads the text tower of a Hugging Face `config.json`.
    public static func huggingFace(url: URL) throws -> CLIPTextConfiguration {
        let file = url.path
        let tower = try HuggingFaceTower(url: url, tower: "text", untypedMayBeTowerOnly: false) { file in
            CLIPError(.missingTensor, file, "field 'text_config' is missing: the model has no text tower (a vision-only checkpoint); download the full model's config.json and model.safetensors")
        }
        let fields = tower.top, text = tower.fields, family = tower.family
        var config = CLIPTextConfiguration()
        config.family = family
        if family == .siglip {
            // SiglipTextConfig's defaults.
            config.hiddenSize = 768
            config.intermediateSize = 3072
            config.heads = 12
            config.vocabularySize = 32000
            config.contextLength = 64
            config.activation = .geluTanh
            config.layerNormEpsilon = 1e-6
            config.pooling = .last
        }
        try tower.readShape(into: &config)
        config.vocabularySize = try text.positiveInt("vocab_size") ?? config.vocabularySize
        config.contextLength = try text.positiveInt("max_position_embeddings") ?? config.contextLength
        config.projectionDimension = family == .siglip
            ? try text.positiveInt("projection_size") ?? config.hiddenSize
            : try fields.positiveInt("projection_dim") ?? text.positiveInt("projection_dim") ?? config.projectionDimension
        if family == .clip {
            // transformers pools at the highest id when eos_token_id is 2 (the
            // value configs had before the fix), else at the first eos token.
            let eos = try text.number("eos_token_id").map { Int($0) } ?? 49407
            config.pooling = eos == 2 ? .argmax : .firstToken(eos)
        }
        try config.validate(file: file, prefix: text.prefix)
        return config
    }

    /// Reads open_clip's `open_clip_config.json` (`model_cfg.text_cfg`).
    public static func openCLIP(url: URL) throws -> CLIPTextConfiguration {
        let file = url.path
        let root = try JSONFile.object(at: url)
        guard let model = root["model_cfg"] as? [String: Any] else {
            throw CLIPError(.unsupported, file, "field 'model_cfg' is missing")
        }
        let modelFields = JSONFields(model, file: file, prefix: "model_cfg.")
        guard let textObject = model["text_cfg"] as? [String: Any] else {
            throw CLIPError(.missingTensor, file, "field 'model_cfg.text_cfg' is missing: the model has no text tower")
        }
        let text = JSONFields(textObject, file: file, prefix: "model_cfg.text_cfg.")
        for key in ["hf_model_name", "embed_cls", "no_causal_mask", "final_ln_after_pool", "ls_init_value", "proj_bias", "act_kwargs", "norm_kwargs", "qk_norm", "scaled_cosine_attn", "scale_heads", "scale_attn_inner", "scale_attn", "scale_fc"] {
            if let value = textObject[key], !(value is NSNull), !JSONFields.isFalsy(value) {
                throw CLIPError(.unsupported, file, "field '\(text.prefix)\(key)' is set; only CLIP's plain text transformer is supported")
            }
        }
        if let proj = try text.string("proj_type"), proj != "linear" {
            throw CLIPError(.unsupported, file, "field '\(text.prefix)proj_type' is '\(proj)'; only 'linear' is supported")
        }
        var config = CLIPTextConfiguration()
        config.hiddenSize = try text.positiveInt("width") ?? 512
        config.heads = try text.positiveInt("heads") ?? 8
        config.layers = try text.positiveInt("layers") ?? 12
        config.vocabularySize = try text.positiveInt("vocab_size") ?? 49408
        config.contextLength = try text.positiveInt("context_length") ?? 77
        config.intermediateSize = Int(Double(config.hiddenSize) * (try text.number("mlp_ratio") ?? 4.0))
        guard let embed = try modelFields.positiveInt("embed_dim") else {
            throw CLIPError(.unsupported, file, "field 'model_cfg.embed_dim' is missing")
        }
        config.projectionDimension = embed
        config.activation = (try modelFields.bool("quick_gelu") ?? false) ? .quickGELU : .gelu
        switch try text.string("pool_type") ?? "argmax" {
        case "argmax": config.pooling = .argmax
        case "eos": config.pooling = .firstToken(Int(try text.number("eos_id") ?? 2))
        case let other:
            throw CLIPError(.unsupported, file, "field '\(text.prefix)pool_type' is '\(other)'; supported: argmax, eos")
        }
        try config.validate(file: file, prefix: text.prefix)
        return config
    }

    /// Checks the values agree with each other.
    func validate(file: String, prefix: String) throws {
        guard hiddenSize % heads == 0 else {
            throw CLIPError(.unsupported, file, "field '\(prefix)num_attention_heads' (\(heads)) does not divide the hidden size \(hiddenSize)")
        }
        guard contextLength >= 2 else {
            throw CLIPError(.unsupported, file, "the context length \(contextLength) leaves no room for the start and end tokens")
        }
        guard hiddenSize <= 16384, intermediateSize <= 65536, layers <= 256, contextLength <= 4096,
              vocabularySize <= 1 << 22, projectionDimension <= 16384 else {
            throw CLIPError(.unsupported, file, "model dimensions are implausibly large")
        }
    }

    /// The position to pool in a sequence of token ids.
    func poolingPosition(_ ids: [Int]) -> Int {
        switch pooling {
        case .argmax:
            var best = 0
            for (i, id) in ids.enumerated() where id > ids[best] { best = i }
            return best
        case .firstToken(let eos):
            return ids.firstIndex(of: eos) ?? (ids.count - 1)
        case .last:
            return ids.count - 1
        }
    }
}
