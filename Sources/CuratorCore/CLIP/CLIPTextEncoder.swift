import Foundation

/// Why a text cannot be embedded.
public enum CLIPTextError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The text is empty or only white space.
    case emptyText
    /// A list of phrases (labels) is empty.
    case noPhrases
    /// A prompt template lacks the `{}` the phrase goes into.
    case templateWithoutPlace(String)

    public var description: String {
        switch self {
        case .emptyText: return "the prompt is empty (give a few words describing the images)"
        case .noPhrases: return "the list of labels is empty"
        case .templateWithoutPlace(let t): return "the template \"\(t)\" has no {} for the label"
        }
    }

    public var errorDescription: String? { description }
}

/// CLIP's text tower run natively from a model folder: the same folder as
/// the vision tower (`model.safetensors` + `config.json`, or open_clip's
/// files) plus its tokenizer. Produces L2-normalised embeddings in the same
/// space as `CLIPVisionEncoder`'s, matching transformers (or open_clip) for
/// the same weights.
///
/// ```swift
/// let text = try CLIPTextEncoder(modelFolder: folder)
/// let phrases = try text.embed(["a dog on a beach", "a watermark"])   // 2 × dimension, unit rows
/// ```
///
/// Calls on one encoder are serialised; it may be shared.
/// `@unchecked Sendable`: every call that uses the transformer's workspace holds `lock`; the rest is set in `init` and never changed.
public final class CLIPTextEncoder: @unchecked Sendable {
    /// The folder the model was loaded from.
    public let modelFolder: URL
    /// The model's id, the same `CLIPVisionEncoder` gives for this folder.
    public let modelID: String
    /// The length of each embedding.
    public let dimension: Int
    /// The text tower's shape.
    public let configuration: CLIPTextConfiguration
    /// How texts become token ids: CLIP's BPE or SigLIP's SentencePiece.
    public let tokenizer: any TextTokenizer
    /// The key layout of the weights file: `hf`, `open-clip` or `siglip`.
    public let layout: String
    /// SigLIP's calibration of a cosine into a match probability,
    /// `sigmoid(cos · exp(scale) + bias)` with the model's `logit_scale` and
    /// `logit_bias`; nil for CLIP, whose scores are the cosines.
    public let calibration: (scale: Float, bias: Float)?

    private let file: SafeTensorsFile
    private let transformer: CLIPTextTransformer
    private let lock = NSLock()
    /// Texts per forward pass.
    static let batchSize = 32

    /// Loads the text tower and tokenizer in `modelFolder`.
    public init(modelFolder: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: modelFolder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIPError(.modelMissing, modelFolder.path, "model folder does not exist")
        }
        self.modelFolder = modelFolder
        let hfConfig = modelFolder.appendingPathComponent("config.json")
        let openCLIPConfig = modelFolder.appendingPathComponent("open_clip_config.json")
        var weightsURL = modelFolder.appendingPathComponent("model.safetensors")
        let isOpenCLIP = !fm.fileExists(atPath: hfConfig.path) && fm.fileExists(atPath: openCLIPConfig.path)
        if isOpenCLIP, !fm.fileExists(atPath: weightsURL.path) {
            weightsURL = modelFolder.appendingPathComponent("open_clip_model.safetensors")
        }
        guard isOpenCLIP || fm.fileExists(atPath: hfConfig.path) else {
            throw CLIPError(.modelMissing, hfConfig.path, "file is missing; the model folder needs config.json beside model.safetensors (both from the model's Hugging Face page)")
        }
        guard fm.fileExists(atPath: weightsURL.path) else {
            throw CLIPError(.modelMissing, weightsURL.path, "file is missing; download the model's weights (model.safetensors) into \(modelFolder.path)/")
        }
        // The weights first: a vision-only checkpoint is named by the tensors it lacks.
        file = try SafeTensorsFile(url: weightsURL)
        try CLIPTextWeights.checkPresent(in: file)
        let config: CLIPTextConfiguration
        var nameOrPath: String?
        if isOpenCLIP {
            config = try CLIPTextConfiguration.openCLIP(url: openCLIPConfig)
        } else {
            config = try CLIPTextConfiguration.huggingFace(url: hfConfig)
            nameOrPath = try JSONFields(try JSONFile.object(at: hfConfig), file: hfConfig.path, prefix: "").string("_name_or_path")
        }
        let weights = try CLIPTextWeights(file: file, config: config)
        if config.family == .siglip {
            let sentencePiece = try SentencePieceTokenizer.load(folder: modelFolder)
            masksPadding = sentencePiece.masksPadding
            tokenizer = sentencePiece
            guard let scale = weights.logitScale, let bias = weights.logitBias else {
                throw CLIPError(.missingTensor, weightsURL.path, "tensors 'logit_scale' and 'logit_bias' are missing: SigLIP's scores need them (download the full SiglipModel weights)")
            }
            calibration = (scale, bias)
        } else {
            tokenizer = try CLIPTokenizer.load(folder: modelFolder)
            masksPadding = false
            calibration = nil
        }
        let largest = tokenizer.largestID
        guard largest < config.vocabularySize else {
            throw CLIPError(.wrongShape, tokenizer.source, "the tokenizer has ids up to \(largest) but the text tower only \(config.vocabularySize) token embeddings: the tokenizer belongs to another model")
        }
        configuration = config
        dimension = config.projectionDimension
        layout = weights.layout.rawValue
        transformer = CLIPTextTransformer(config: config, weights: weights, capacity: Self.batchSize)
        modelID = CLIPVisionEncoder.identifier(layout: weights.layout, nameOrPath: nameOrPath, folder: modelFolder)
    }

    /// Whether the padding is masked (SigLIP tokenizers whose `model_input_names` include `attention_mask`).
    private let masksPadding: Bool

    /// What a text–image cosine means as a score: the cosine itself for
    /// CLIP, SigLIP's calibrated match probability otherwise (as PhotoMapAI
    /// scores SigLIP albums).
    public func score(cosine: Float) -> Float {
        guard let calibration else { return cosine }
        let logit = cosine * Foundation.exp(calibration.scale) + calibration.bias
        return logit >= 0 ? 1 / (1 + Foundation.exp(-logit)) : Foundation.exp(logit) / (1 + Foundation.exp(logit))
    }

    /// The token ids of `text`, cut at the context length.
    public func tokenize(_ text: String) -> TokenEncoding {
        tokenizer.encode(text, contextLength: configuration.contextLength)
    }

    /// Embeds `texts` into `output` (one unit vector of `dimension` floats per text, in order).
    /// - Throws: `CLIPTextError.emptyText` for a text that is empty or only white space.
    public func embed(_ texts: [String], into output: UnsafeMutablePointer<Float>) throws {
        let encoded = try texts.map { text -> TokenEncoding in
            guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else { throw CLIPTextError.emptyText }
            return tokenize(text)
        }
        lock.lock()
        defer { lock.unlock() }
        var start = 0
        while start < encoded.count {
            let batch = encoded[start..<min(encoded.count, start + Self.batchSize)]
            transformer.run(batch.map(\.ids), lengths: masksPadding ? batch.map(\.length) : nil, output: output + start * dimension)
            start += batch.count
        }
    }

    /// The unit embeddings of `texts`, one row each: what zero-shot labels
    /// and cluster names compare image vectors with.
    public func embed(_ texts: [String]) throws -> EmbeddingMatrix {
        let matrix = EmbeddingMatrix(uninitializedRows: texts.count, dimension: dimension)
        try embed(texts, into: matrix.storage.baseAddress!)
        return matrix
    }

    /// The unit text vectors of `phrases` (one row each). With `templates`
    /// (each holding `{}`, e.g. "a photo of {}."), a phrase's vector is the
    /// normalised mean of its templates' vectors, CLIP's zero-shot recipe:
    /// what labels, cluster names and prompts compare image vectors with.
    public func embed(phrases: [String], templates: [String]) throws -> EmbeddingMatrix {
        guard !phrases.isEmpty else { throw CLIPTextError.noPhrases }
        if templates.isEmpty { return try embed(phrases) }
        for template in templates where !template.contains("{}") { throw CLIPTextError.templateWithoutPlace(template) }
        let out = EmbeddingMatrix(rows: phrases.count, dimension: dimension)
        for (i, phrase) in phrases.enumerated() {
            guard phrase.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else { throw CLIPTextError.emptyText }
            let variants = try embed(templates.map { $0.replacingOccurrences(of: "{}", with: phrase) })
            for t in 0..<variants.rows { BLAS.axpy(dimension, alpha: 1, variants.row(t), out.row(i)) }
            EmbeddingMatrix.normalize(out.row(i), count: dimension)
        }
        return out
    }
}
