import Foundation

/// A CLIP or SigLIP model curator knows by name: the folder it expects under the model
/// roots, the Hugging Face repository to download it from, and the ids other
/// tools (PhotoMapAI's encoder specs, transformers' hub names) record with
/// vectors the model made. An album's vectors find their text tower here.
public struct CLIPKnownModel: Sendable, Equatable {
    /// The folder name under `~/.cache/curator/models/` (or `$CURATOR_MODELS`).
    public let folder: String
    /// The Hugging Face repository holding its files.
    public let repository: String
    /// The files it cannot load without: weights and config.
    public let requiredFiles: [String]
    /// The files it uses when the repository has them: preprocessing and the tokenizer.
    public let optionalFiles: [String]
    /// Ids of vectors this model made: PhotoMapAI's (`openai-clip:ViT-B/32`,
    /// `open-clip:ViT-L-14/dfn2b_s39b`) and curator's own (`hf:openai/…`).
    public let ids: [String]

    /// Which files to download from it, in words, for messages.
    public var files: String {
        let names = requiredFiles + optionalFiles
        var text = names.dropLast().joined(separator: ", ") + " and " + names.last!
        if requiredFiles.contains(Self.openCLIPWeights) {
            // open_clip reads its vocabulary from its own package, so a hub
            // repository need not carry a tokenizer file.
            text += " (or else bpe_simple_vocab_16e6.txt.gz from the open_clip_torch package's open_clip/ folder)"
        }
        return text
    }

    static let openCLIPWeights = "open_clip_model.safetensors"
    static let huggingFaceFiles = (required: ["model.safetensors", "config.json"], optional: ["preprocessor_config.json", "tokenizer.json"])
    static let openCLIPFiles = (required: [openCLIPWeights, "open_clip_config.json"], optional: ["tokenizer.json"])
    static let siglipFiles = (required: ["model.safetensors", "config.json"], optional: ["preprocessor_config.json", "spiece.model", "tokenizer_config.json"])
    static let siglip2Files = (required: ["model.safetensors", "config.json"],
                          optional: ["preprocessor_config.json", "tokenizer.model", "tokenizer_config.json", "tokenizer.json"])

    init(folder: String, repository: String, files: (required: [String], optional: [String]), ids: [String]) {
        self.folder = folder
        self.repository = repository
        requiredFiles = files.required
        optionalFiles = files.optional
        self.ids = ids
    }

    /// A SigLIP model on the Hub under `google/<folder>`, by PhotoMapAI's id and curator's.
    private static func siglip(_ folder: String) -> CLIPKnownModel {
        CLIPKnownModel(folder: folder, repository: "google/\(folder)", files: folder.hasPrefix("siglip2") ? siglip2Files : siglipFiles,
                       ids: ["siglip:google/\(folder)", "hf:google/\(folder)"])
    }

    /// The models curator can pair with PhotoMapAI's and its own vectors.
    public static let all: [CLIPKnownModel] = [
        CLIPKnownModel(folder: "clip-vit-base-patch32", repository: "openai/clip-vit-base-patch32", files: huggingFaceFiles,
                       ids: ["openai-clip:ViT-B/32", "hf:openai/clip-vit-base-patch32", "open-clip:ViT-B-32/openai", "open-clip:ViT-B-32-quickgelu/openai"]),
        CLIPKnownModel(folder: "clip-vit-base-patch16", repository: "openai/clip-vit-base-patch16", files: huggingFaceFiles,
                       ids: ["openai-clip:ViT-B/16", "hf:openai/clip-vit-base-patch16", "open-clip:ViT-B-16/openai", "open-clip:ViT-B-16-quickgelu/openai"]),
        CLIPKnownModel(folder: "clip-vit-large-patch14", repository: "openai/clip-vit-large-patch14", files: huggingFaceFiles,
                       ids: ["openai-clip:ViT-L/14", "hf:openai/clip-vit-large-patch14", "open-clip:ViT-L-14/openai", "open-clip:ViT-L-14-quickgelu/openai"]),
        CLIPKnownModel(folder: "clip-vit-large-patch14-336", repository: "openai/clip-vit-large-patch14-336", files: huggingFaceFiles,
                       ids: ["openai-clip:ViT-L/14@336px", "hf:openai/clip-vit-large-patch14-336", "open-clip:ViT-L-14-336/openai"]),
        // open_clip's two DFN-2B ViT-L/14 checkpoints (its pretrained table):
        // 'dfn2b' (quick GELU) is apple/DFN2B-CLIP-ViT-L-14; 'dfn2b_s39b',
        // PhotoMapAI's default since 1.3, is apple/DFN2B-CLIP-ViT-L-14-39B,
        // other weights with plain GELU: their vectors never pair.
        CLIPKnownModel(folder: "DFN2B-CLIP-ViT-L-14", repository: "apple/DFN2B-CLIP-ViT-L-14", files: openCLIPFiles,
                       ids: ["open-clip:ViT-L-14/dfn2b", "open-clip:ViT-L-14-quickgelu/dfn2b", "hf:apple/DFN2B-CLIP-ViT-L-14"]),
        CLIPKnownModel(folder: "DFN2B-CLIP-ViT-L-14-39B", repository: "apple/DFN2B-CLIP-ViT-L-14-39B", files: openCLIPFiles,
                       ids: ["open-clip:ViT-L-14/dfn2b_s39b", "hf:apple/DFN2B-CLIP-ViT-L-14-39B"]),
        // PhotoMapAI's SigLIP 2 (its "siglip:" encoder, 1,024-d), the other
        // fixed-resolution SigLIP 2 sizes, and SigLIP.
        siglip("siglip2-large-patch16-256"),
        siglip("siglip2-base-patch16-224"), siglip("siglip2-base-patch16-256"), siglip("siglip2-base-patch16-384"),
        siglip("siglip2-large-patch16-384"), siglip("siglip2-so400m-patch14-384"), siglip("siglip2-so400m-patch16-384"),
        siglip("siglip-base-patch16-224"), siglip("siglip-large-patch16-256"), siglip("siglip-so400m-patch14-384"),
    ]

    /// The known model that made vectors with `id`: one of its ids, or curator's
    /// `<layout>:<folder>` id of a folder with the known name.
    public static func matching(id: String) -> CLIPKnownModel? {
        all.first { model in
            model.ids.contains(id) || id == "hf:\(model.folder)" || id == "open-clip:\(model.folder)" || id == "siglip:\(model.folder)"
        }
    }

    /// Whether vectors with ids `a` and `b` come from the same model.
    public static func sameModel(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard let known = matching(id: a) else { return false }
        return matching(id: b) == known
    }
}
