import Foundation

/// Finds CLIP model folders: `$CURATOR_MODELS/<name>/`, then
/// `~/.cache/curator/models/<name>/`, each holding `model.safetensors` and
/// `config.json` (plus an optional `preprocessor_config.json`), or open_clip's
/// `open_clip_model.safetensors` and `open_clip_config.json`.
public struct CLIPModelLocator: Sendable {
    /// The model used when none is named: OpenAI's ViT-B/32, 512-d.
    public static let defaultModelName = "clip-vit-base-patch32"

    /// Hugging Face repositories of models known by their folder name, for
    /// the download hint.
    public static let knownRepositories: [String: String] = [
        "clip-vit-base-patch32": "openai/clip-vit-base-patch32",
        "clip-vit-base-patch16": "openai/clip-vit-base-patch16",
        "clip-vit-large-patch14": "openai/clip-vit-large-patch14",
        "clip-vit-large-patch14-336": "openai/clip-vit-large-patch14-336",
    ]

    /// The folders searched, in order.
    public let roots: [URL]

    /// Searches `$CURATOR_MODELS` (when set) and then `~/.cache/curator/models`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var roots: [URL] = []
        if let custom = environment["CURATOR_MODELS"], !custom.isEmpty {
            roots.append(URL(fileURLWithPath: custom, isDirectory: true))
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        roots.append(URL(fileURLWithPath: home, isDirectory: true)
            .appendingPathComponent(".cache/curator/models", isDirectory: true))
        self.roots = roots
    }

    /// Searches exactly `roots`.
    public init(roots: [URL]) { self.roots = roots }

    /// Whether `folder` holds a loadable model (weights and config).
    public static func isModelFolder(_ folder: URL) -> Bool {
        let fm = FileManager.default
        let hf = fm.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path)
            && fm.fileExists(atPath: folder.appendingPathComponent("config.json").path)
        let openCLIP = fm.fileExists(atPath: folder.appendingPathComponent("open_clip_model.safetensors").path)
            && fm.fileExists(atPath: folder.appendingPathComponent("open_clip_config.json").path)
        return hf || openCLIP
    }

    /// The folder of model `name`, or an error saying what to download and where.
    public func folder(named name: String = CLIPModelLocator.defaultModelName) throws -> URL {
        for root in roots {
            let candidate = root.appendingPathComponent(name, isDirectory: true)
            if Self.isModelFolder(candidate) { return candidate }
        }
        throw CLIPError(.modelMissing, "", missingMessage(name))
    }

    /// The names of the model folders present in any root, sorted, without duplicates.
    public func availableModels() -> [String] {
        var names = Set<String>()
        for root in roots {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { continue }
            for entry in entries where Self.isModelFolder(root.appendingPathComponent(entry, isDirectory: true)) {
                names.insert(entry)
            }
        }
        return names.sorted()
    }

    /// What to download and where, for a model that is not present.
    func missingMessage(_ name: String) -> String {
        let destination = roots.last.map { $0.appendingPathComponent(name).path } ?? name
        var text = "CLIP model '\(name)' not found (looked in \(roots.map { $0.appendingPathComponent(name).path }.joined(separator: ", ")))."
        if let repo = Self.knownRepositories[name] {
            text += " Download model.safetensors and config.json (and preprocessor_config.json) from the Hugging Face page of \(repo) into \(destination)/"
        } else {
            text += " Put a Hugging Face CLIP model's model.safetensors and config.json (and preprocessor_config.json), or open_clip's open_clip_model.safetensors and open_clip_config.json, into \(destination)/"
        }
        if roots.count == 1 {
            text += " (or set CURATOR_MODELS to a folder holding '\(name)')."
        } else {
            text += " (or into the folder named by CURATOR_MODELS)."
        }
        return text
    }
}
