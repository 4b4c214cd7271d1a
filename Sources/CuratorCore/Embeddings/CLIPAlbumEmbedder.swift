import Foundation

/// The `clip` embedder run over an album: the native CLIP vision encoder
/// (`CLIPVisionEncoder`) on every image without a vector, a chunk per
/// transaction. The model is the folder the album was opened with
/// (`model=`), else `$CURATOR_CLIP_MODEL` (an absolute path taken as it is, or
/// a folder name under the model roots), else the first model present,
/// preferring ViT-B/32; its id is stored with the vectors, so vectors of two
/// models are never mixed.
struct CLIPAlbumEmbedder {
    static let name = "clip"
    /// Images embedded and committed together.
    var chunkSize = 256
    /// The model folder chosen for the session, if any.
    var chosen: URL?

    /// The model folder `clip` would use, if any is installed.
    static func modelFolder(environment: [String: String] = ProcessInfo.processInfo.environment, chosen: URL? = nil) throws -> URL {
        if let chosen { return try checked(chosen) }
        let locator = CLIPModelLocator(environment: environment)
        if let name = environment["CURATOR_CLIP_MODEL"], !name.isEmpty {
            if name.hasPrefix("/") { return try checked(URL(fileURLWithPath: name, isDirectory: true)) }
            return try locator.folder(named: name)
        }
        let available = locator.availableModels()
        let name = available.contains(CLIPModelLocator.defaultModelName) ? CLIPModelLocator.defaultModelName
            : (available.first ?? CLIPModelLocator.defaultModelName)
        return try locator.folder(named: name)
    }

    /// The model folder named by path, once it is known to hold a model.
    static func checked(_ folder: URL) throws -> URL {
        guard CLIPModelLocator.isModelFolder(folder) else {
            throw CLIPError(.modelMissing, folder.path, "is not a model folder (it needs model.safetensors and config.json, or open_clip_model.safetensors and open_clip_config.json)")
        }
        return folder
    }

    /// Whether a CLIP model is installed (or `chosen` holds one).
    static func isAvailable(chosen: URL? = nil) -> Bool { (try? modelFolder(chosen: chosen)) != nil }

    func embed(album: Album, progress: (any ProgressSink)?) throws -> EmbedReport {
        let encoder = try CLIPVisionEncoder(modelFolder: Self.modelFolder(chosen: chosen))
        let store = album.embeddingStore
        try store.register(embedder: Self.name, modelID: encoder.modelID, dimension: encoder.dimension, source: album.location)
        var report = EmbedReport(embedder: Self.name)
        let missing = try store.missing(embedder: Self.name).compactMap { album.image(id: $0) }
        report.alreadyEmbedded = try store.counts(embedder: Self.name).embedded
        guard !missing.isEmpty else { return report }

        let vectors = EmbeddingMatrix(rows: min(chunkSize, missing.count), dimension: encoder.dimension)
        var done = 0
        defer { progress?.finish(label: Self.name) }
        for chunk in missing.chunked(into: chunkSize) {
            let images = Array(chunk)
            // One running total across chunks, so the bar does not restart each chunk.
            let outcomes = try encoder.embed(paths: images.map { album.absolutePath(of: $0) }, into: vectors,
                                             progress: progress, label: Self.name, offset: done, total: missing.count)
            var rowIDs: [Int64?] = []
            var failures: [(imageID: Int64, reason: String)] = []
            for (image, outcome) in zip(images, outcomes) {
                switch outcome {
                case .success:
                    rowIDs.append(image.id)
                case .failure(let error):
                    rowIDs.append(nil)
                    failures.append((image.id, error.reason.description))
                    report.failed.append(SkippedFile(path: image.path, reason: error.reason.description))
                }
            }
            try store.write(embedder: Self.name, imageIDs: rowIDs, matrix: vectors)
            try store.recordFailures(embedder: Self.name, failures: failures)
            report.embedded += rowIDs.compactMap { $0 }.count
            done += images.count
        }
        return report
    }
}
