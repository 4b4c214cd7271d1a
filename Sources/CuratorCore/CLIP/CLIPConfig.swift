import Foundation

/// The activation of the transformer blocks' MLP.
public enum CLIPActivation: String, Sendable, CaseIterable {
    /// `x · sigmoid(1.702 x)`, OpenAI's original CLIP models.
    case quickGELU = "quick_gelu"
    /// The exact GELU, `x · Φ(x)`, most open_clip models.
    case gelu = "gelu"
    /// GELU's tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
    case geluTanh = "gelu_tanh"

    /// Reads a Hugging Face `hidden_act` name.
    init?(huggingFaceName name: String) {
        switch name {
        case "quick_gelu": self = .quickGELU
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        default: return nil
        }
    }
}

/// Which family of image–text model a tower belongs to.
public enum ModelFamily: String, Sendable, Equatable {
    /// CLIP: a class token, a projection, softmax-trained cosines; the text tower is causal.
    case clip
    /// SigLIP and SigLIP 2 (transformers' `SiglipModel` layout): no class
    /// token, an attention-pooling head, a text head with a bias, a
    /// bidirectional text tower read at its last (padded) position, and
    /// sigmoid scores with the model's logit scale and bias.
    case siglip
}

/// The shape of a CLIP vision tower, read from the model folder's
/// `config.json` (Hugging Face `CLIPModel` with a `vision_config`, or
/// `CLIPVisionModelWithProjection`) or, failing that, open_clip's
/// `open_clip_config.json`. Fields a Hugging Face file leaves out take
/// `CLIPVisionConfig`'s defaults, as `transformers` does.
public struct CLIPVisionConfiguration: Sendable, Equatable {
    /// Width of the token vectors (768 for ViT-B, 1024 for ViT-L).
    public var hiddenSize: Int
    /// Width of the MLP's hidden layer (usually 4 × `hiddenSize`).
    public var intermediateSize: Int
    /// The number of transformer blocks.
    public var layers: Int
    /// The number of attention heads; divides `hiddenSize`.
    public var heads: Int
    /// The side of a square patch in pixels.
    public var patchSize: Int
    /// The side of the square input image in pixels.
    public var imageSize: Int
    /// The length of the output embedding (the visual projection's width).
    public var projectionDimension: Int
    /// The MLP's activation.
    public var activation: CLIPActivation
    /// The epsilon of every layer norm.
    public var layerNormEpsilon: Float
    /// The model's name as its config states it (`_name_or_path`), if any.
    public var nameOrPath: String?
    /// CLIP or SigLIP.
    public var family = ModelFamily.clip

    /// Creates a configuration from its values.
    public init(hiddenSize: Int = 768, intermediateSize: Int = 3072, layers: Int = 12, heads: Int = 12,
                patchSize: Int = 32, imageSize: Int = 224, projectionDimension: Int = 512,
                activation: CLIPActivation = .quickGELU, layerNormEpsilon: Float = 1e-5, nameOrPath: String? = nil) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layers = layers
        self.heads = heads
        self.patchSize = patchSize
        self.imageSize = imageSize
        self.projectionDimension = projectionDimension
        self.activation = activation
        self.layerNormEpsilon = layerNormEpsilon
        self.nameOrPath = nameOrPath
    }

    /// Patches along one side of the image.
    public var gridSize: Int { imageSize / patchSize }
    /// Tokens per image: one per patch, plus CLIP's class token.
    public var tokens: Int { gridSize * gridSize + (family == .clip ? 1 : 0) }
    /// Width of one attention head.
    public var headSize: Int { hiddenSize / heads }

    /// Reads a Hugging Face `config.json`.
    public static func huggingFace(url: URL) throws -> CLIPVisionConfiguration {
        let file = url.path
        let tower = try HuggingFaceTower(url: url, tower: "vision", untypedMayBeTowerOnly: true) { file in
            CLIPError(.unsupported, file, "field 'vision_config' is missing: not a CLIP or SigLIP model config")
        }
        let fields = tower.top, vision = tower.fields, family = tower.family
        var config = CLIPVisionConfiguration()
        config.family = family
        if family == .siglip {
            // SiglipVisionConfig's defaults.
            config.patchSize = 16
            config.activation = .geluTanh
            config.layerNormEpsilon = 1e-6
            if try vision.bool("vision_use_head") == false {
                throw CLIPError(.unsupported, file, "field '\(vision.prefix)vision_use_head' is false: the model has no attention-pooling head, so it gives no image embedding")
            }
        }
        try tower.readShape(into: &config)
        config.patchSize = try vision.positiveInt("patch_size") ?? config.patchSize
        config.imageSize = try vision.positiveInt("image_size") ?? config.imageSize
        // CLIPModel keeps projection_dim at the top; the vision-only model in its own config.
        // SigLIP has no projection: the pooled vector is the embedding.
        config.projectionDimension = family == .siglip ? config.hiddenSize
            : try fields.positiveInt("projection_dim") ?? vision.positiveInt("projection_dim") ?? config.projectionDimension
        if let channels = try vision.positiveInt("num_channels"), channels != 3 {
            throw CLIPError(.unsupported, file, "field '\(vision.prefix)num_channels' is \(channels); only 3-channel (RGB) models are supported")
        }
        config.nameOrPath = try fields.string("_name_or_path")
        try config.validate(file: file, prefix: vision.prefix)
        return config
    }

    /// Reads open_clip's `open_clip_config.json` (`model_cfg` with
    /// `embed_dim` and `vision_cfg`). Returns the configuration and the
    /// normalisation its `preprocess_cfg` states, if any.
    public static func openCLIP(url: URL) throws -> (CLIPVisionConfiguration, mean: [Float]?, std: [Float]?) {
        let file = url.path
        let root = try JSONFile.object(at: url)
        guard let model = root["model_cfg"] as? [String: Any] else {
            throw CLIPError(.unsupported, file, "field 'model_cfg' is missing")
        }
        let modelFields = JSONFields(model, file: file, prefix: "model_cfg.")
        guard let visionObject = model["vision_cfg"] as? [String: Any] else {
            throw CLIPError(.unsupported, file, "field 'model_cfg.vision_cfg' is missing")
        }
        let vision = JSONFields(visionObject, file: file, prefix: "model_cfg.vision_cfg.")
        // Variants of the vision tower this encoder does not implement.
        for key in ["timm_model_name", "attentional_pool", "no_ln_pre", "final_ln_after_pool", "ls_init_value", "pos_embed_type", "act_kwargs", "norm_kwargs"] {
            if let value = visionObject[key], !(value is NSNull), !JSONFields.isFalsy(value) {
                throw CLIPError(.unsupported, file, "field '\(vision.prefix)\(key)' is set; only the plain CLIP ViT is supported")
            }
        }
        if let pool = try vision.string("pool_type"), pool != "tok" {
            throw CLIPError(.unsupported, file, "field '\(vision.prefix)pool_type' is '\(pool)'; only 'tok' (class token) is supported")
        }
        if let layers = visionObject["layers"], !(layers is Int) {
            throw CLIPError(.unsupported, file, "field '\(vision.prefix)layers' is not an integer (ResNet towers are not supported)")
        }
        var config = CLIPVisionConfiguration()
        config.hiddenSize = try vision.positiveInt("width") ?? 768
        config.layers = try vision.positiveInt("layers") ?? 12
        config.patchSize = try vision.positiveInt("patch_size") ?? 16
        config.imageSize = try vision.positiveInt("image_size") ?? 224
        let headWidth = try vision.positiveInt("head_width") ?? 64
        config.heads = max(1, config.hiddenSize / headWidth)
        let ratio = try vision.number("mlp_ratio") ?? 4.0
        config.intermediateSize = Int(Double(config.hiddenSize) * ratio)
        guard let embed = try modelFields.positiveInt("embed_dim") else {
            throw CLIPError(.unsupported, file, "field 'model_cfg.embed_dim' is missing")
        }
        config.projectionDimension = embed
        config.activation = (try modelFields.bool("quick_gelu") ?? false) ? .quickGELU : .gelu
        config.layerNormEpsilon = 1e-5
        try config.validate(file: file, prefix: vision.prefix)
        var mean: [Float]?, std: [Float]?
        if let pre = root["preprocess_cfg"] as? [String: Any] {
            let pf = JSONFields(pre, file: file, prefix: "preprocess_cfg.")
            mean = try pf.triple("mean")
            std = try pf.triple("std")
        }
        return (config, mean, std)
    }

    /// Checks the values agree with each other.
    func validate(file: String, prefix: String) throws {
        guard hiddenSize % heads == 0 else {
            throw CLIPError(.unsupported, file, "field '\(prefix)num_attention_heads' (\(heads)) does not divide the hidden size \(hiddenSize)")
        }
        guard patchSize <= imageSize else {
            throw CLIPError(.unsupported, file, "field '\(prefix)patch_size' (\(patchSize)) is larger than the image size \(imageSize)")
        }
        // Guards against absurd sizes that would make the workspace overflow.
        guard hiddenSize <= 16384, intermediateSize <= 65536, layers <= 256, imageSize <= 4096,
              projectionDimension <= 16384 else {
            throw CLIPError(.unsupported, file, "model dimensions are implausibly large")
        }
    }
}

/// Reads a small JSON file into a dictionary, with errors naming the file.
enum JSONFile {
    /// Reads the JSON object in the file at `url`, refusing files over `limit` bytes.
    static func object(at url: URL, limit: Int = 16 << 20) throws -> [String: Any] {
        let data: Data
        do throws(RegularFile.Failure) {
            data = Data(try RegularFile.read(url.path, limit: limit))
        } catch {
            throw CLIPError(error.isMissing ? .modelMissing : .unreadable, url.path, error.isMissing ? "file is missing" : "cannot be read: it \(error.reason)")
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw CLIPError(.corrupt, url.path, "is not valid JSON")
        }
        guard let object = root as? [String: Any] else {
            throw CLIPError(.corrupt, url.path, "is not a JSON object")
        }
        return object
    }
}

/// Typed access to a JSON object's fields, absent fields as nil and
/// wrongly-typed ones as errors naming the field.
struct JSONFields {
    let object: [String: Any]
    let file: String
    let prefix: String

    init(_ object: [String: Any], file: String, prefix: String) {
        self.object = object
        self.file = file
        self.prefix = prefix
    }

    private func wrong(_ key: String, _ expected: String) -> CLIPError {
        CLIPError(.unsupported, file, "field '\(prefix)\(key)' must be \(expected)")
    }

    private func present(_ key: String) -> Any? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let value = present(key) else { return nil }
        guard let s = value as? String else { throw wrong(key, "a string") }
        return s
    }

    func number(_ key: String) throws -> Double? {
        guard let value = present(key) else { return nil }
        if JSONFields.isBoolean(value) { throw wrong(key, "a number") }
        if let n = value as? Double { return n }
        if let n = value as? Int { return Double(n) }
        throw wrong(key, "a number")
    }

    func positiveInt(_ key: String) throws -> Int? {
        guard present(key) != nil else { return nil }
        guard let n = try? number(key) else { throw wrong(key, "a positive integer") }
        guard n.rounded() == n, n >= 1, n < 1e9 else { throw wrong(key, "a positive integer") }
        return Int(n)
    }

    /// The activation a Hugging Face `hidden_act` field names; a name curator
    /// does not run is refused.
    func activation(_ key: String) throws -> CLIPActivation? {
        guard let name = try string(key) else { return nil }
        guard let activation = CLIPActivation(huggingFaceName: name) else {
            throw CLIPError(.unsupported, file, "field '\(prefix)\(key)' is '\(name)'; supported: quick_gelu, gelu, gelu_new, gelu_pytorch_tanh")
        }
        return activation
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = present(key) else { return nil }
        if JSONFields.isBoolean(value), let b = value as? Bool { return b }
        if let n = value as? Int, n == 0 || n == 1 { return n == 1 }
        throw wrong(key, "true or false")
    }

    /// Three numbers (per-channel mean or std); a single number is repeated.
    func triple(_ key: String) throws -> [Float]? {
        guard let value = present(key) else { return nil }
        if let n = try? number(key) { return [Float(n), Float(n), Float(n)] }
        guard let list = value as? [Any], list.count == 3 else { throw wrong(key, "a list of 3 numbers") }
        var out: [Float] = []
        for item in list {
            if JSONFields.isBoolean(item) { throw wrong(key, "a list of 3 numbers") }
            if let d = item as? Double { out.append(Float(d)) } else if let i = item as? Int { out.append(Float(i)) } else {
                throw wrong(key, "a list of 3 numbers")
            }
        }
        return out
    }

    /// Whether a parsed JSON value is `true`/`false` rather than a number.
    /// Foundation hands both out as NSNumber, and `1 is Bool` holds for a
    /// plain number too, so the boxed boolean's class is what tells them apart.
    static func isBoolean(_ value: Any) -> Bool {
        if type(of: value) == Bool.self { return true }
        return String(describing: type(of: value)).contains("Boolean")
    }

    /// Whether a JSON value means "off" (false, 0, empty, null).
    static func isFalsy(_ value: Any) -> Bool {
        if value is NSNull { return true }
        if isBoolean(value), let b = value as? Bool { return !b }
        if let n = value as? Double { return n == 0 }
        if let s = value as? String { return s.isEmpty }
        if let d = value as? [String: Any] { return d.isEmpty }
        if let a = value as? [Any] { return a.isEmpty }
        return false
    }
}
