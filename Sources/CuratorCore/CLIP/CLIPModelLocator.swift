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
    public static var knownRepositories: [String: String] {
        Dictionary(uniqueKeysWithValues: CLIPKnownModel.all.map { ($0.folder, $0.repository) })
    }

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

    /// The model folder the `clip` embedder uses in a session: the folder the
    /// album was opened with (`model=`), else `$CURATOR_CLIP_MODEL` (an
    /// absolute path taken as it is, or a folder name under the roots), else
    /// the first model present, preferring ViT-B/32.
    static func sessionFolder(chosen: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let chosen { return try checked(chosen) }
        let locator = CLIPModelLocator(environment: environment)
        if let name = environment["CURATOR_CLIP_MODEL"], !name.isEmpty {
            if name.hasPrefix("/") { return try checked(URL(fileURLWithPath: name, isDirectory: true)) }
            return try locator.folder(named: name)
        }
        let available = locator.availableModels()
        let name = available.contains(defaultModelName) ? defaultModelName : (available.first ?? defaultModelName)
        return try locator.folder(named: name)
    }

    /// The model folder named by path, once it is known to hold a model.
    static func checked(_ folder: URL) throws -> URL {
        guard isModelFolder(folder) else {
            throw CLIPError(.modelMissing, folder.path, "is not a model folder (it needs model.safetensors and config.json, or open_clip_model.safetensors and open_clip_config.json)")
        }
        return folder
    }

    /// Whether a CLIP model is installed (or `chosen` holds one).
    public static func isAvailable(chosen: URL? = nil) -> Bool { (try? sessionFolder(chosen: chosen)) != nil }

    /// The folder the `clip` embedder uses when the album names none (see
    /// `sessionFolder`), or nil when no model is installed.
    public static func defaultFolder() -> URL? { try? sessionFolder() }

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
        if let known = CLIPKnownModel.all.first(where: { $0.folder == name }) {
            text += " `curator models get \(known.folder)` downloads it; or download \(known.files) from the Hugging Face page of \(known.repository) into \(destination)/"
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

    /// The id `CLIPVisionEncoder` and `CLIPTextEncoder` give the model in
    /// `folder`, read from its config and its weights' key names without
    /// loading any tensor.
    public static func modelID(ofFolder folder: URL) throws -> String {
        let fm = FileManager.default
        let hfConfig = folder.appendingPathComponent("config.json")
        var weights = folder.appendingPathComponent("model.safetensors")
        if !fm.fileExists(atPath: weights.path) { weights = folder.appendingPathComponent("open_clip_model.safetensors") }
        let file = try SafeTensorsFile(url: weights)
        let layout = CLIPTextWeights.layout(of: file)
        var nameOrPath: String?
        if layout != .openCLIP, fm.fileExists(atPath: hfConfig.path) {
            nameOrPath = try JSONFields(try JSONFile.object(at: hfConfig), file: hfConfig.path, prefix: "").string("_name_or_path")
        }
        return CLIPVisionEncoder.identifier(layout: layout, nameOrPath: nameOrPath, folder: folder)
    }

    /// The installed model folder whose towers made vectors of model `id`:
    /// `chosen` when given (it must be that model), else the known model's
    /// folder, else the folder the id names, else any installed folder with
    /// that id. The error says which folder to download and where to put it.
    public func folder(forModelID id: String, chosen: URL? = nil) throws -> URL {
        if let chosen {
            guard Self.isModelFolder(chosen) else {
                throw CLIPError(.modelMissing, chosen.path, "is not a model folder (it needs model.safetensors and config.json, or open_clip_model.safetensors and open_clip_config.json)")
            }
            let chosenID = try Self.modelID(ofFolder: chosen)
            guard CLIPKnownModel.sameModel(id, chosenID) else {
                throw CLIPError(.unsupported, chosen.path, "holds model \(chosenID), but the album's vectors were made by \(id); a text tower is never paired with another model's vectors. \(downloadHint(id))")
            }
            return chosen
        }
        if let known = CLIPKnownModel.matching(id: id) { return try folder(named: known.folder) }
        for prefix in ["hf:", "open-clip:", "siglip:"] where id.hasPrefix(prefix) {
            let name = String(id.dropFirst(prefix.count)).split(separator: "/").last.map(String.init) ?? ""
            if !name.isEmpty, let found = try? folder(named: name), (try? Self.modelID(ofFolder: found)) == id { return found }
        }
        for name in availableModels() {
            if let found = try? folder(named: name), let foundID = try? Self.modelID(ofFolder: found), CLIPKnownModel.sameModel(id, foundID) {
                return found
            }
        }
        let installed = availableModels()
        throw CLIPError(.modelMissing, "", "no installed model made these vectors (model \(id); installed: \(installed.isEmpty ? "none" : installed.joined(separator: ", "))). \(downloadHint(id))")
    }

    /// What to download, and where, for vectors of model `id`.
    func downloadHint(_ id: String) -> String {
        let destination = roots.last?.path ?? "~/.cache/curator/models"
        if let known = CLIPKnownModel.matching(id: id) {
            return "`curator models get \(known.folder)` downloads it; or download \(known.files) from the Hugging Face page of \(known.repository) into \(destination)/\(known.folder)/"
        }
        // An id that names a Hugging Face repository (hf:org/name, siglip:org/name) is found in a folder of its last name.
        for prefix in ["hf:", "siglip:"] where id.hasPrefix(prefix) {
            let repository = String(id.dropFirst(prefix.count))
            let parts = repository.split(separator: "/")
            if parts.count == 2, let name = parts.last {
                return "Download the model's weights, config and tokenizer from the Hugging Face page of \(repository) into \(destination)/\(name)/, or name its folder with curator.open(path, {model=FOLDER})"
            }
        }
        return "Put the model that made them (its weights, config and tokenizer.json) into a folder under \(destination)/, or name it with curator.open(path, {model=FOLDER})"
    }
}
