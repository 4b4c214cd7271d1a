/// The one loop that runs an `ImageEmbedder` over an album: every image
/// without a vector (or a recorded failure) is embedded, a chunk per
/// transaction, so an interrupted run keeps what it finished. Images that
/// fail are recorded with the reason and not retried until their file
/// changes; progress is one running total across chunks.
struct ChunkedEmbedding {
    /// Images embedded and committed together.
    var chunkSize = 256

    /// Embeds the album's images that lack `embedder`'s vectors.
    func run<E: ImageEmbedder>(_ embedder: E, over album: Album, progress: (any ProgressSink)?) throws -> EmbedReport {
        let name = embedder.name
        let store = album.embeddingStore
        try store.register(embedder: name, modelID: embedder.modelID, dimension: embedder.dimension, source: album.location)
        var report = EmbedReport(embedder: name)
        let missing = try store.missing(embedder: name).compactMap { album.image(id: $0) }
        report.alreadyEmbedded = try store.counts(embedder: name).embedded
        guard !missing.isEmpty else { return report }

        let vectors = EmbeddingMatrix(rows: min(chunkSize, missing.count), dimension: embedder.dimension)
        var done = 0
        defer { progress?.finish(label: name) }
        for chunk in missing.chunked(into: chunkSize) {
            let images = Array(chunk)
            let outcomes = try embedder.embed(paths: images.map { album.absolutePath(of: $0) }, into: vectors.storage,
                                              progress: progress, label: name, offset: done, total: missing.count)
            var rowIDs: [Int64?] = []
            var extras: [(imageID: Int64, extra: E.Extra)] = []
            var failures: [(imageID: Int64, reason: String)] = []
            for (image, outcome) in zip(images, outcomes) {
                switch outcome {
                case .success(let extra):
                    rowIDs.append(image.id)
                    extras.append((image.id, extra))
                case .failure(let error):
                    rowIDs.append(nil)
                    failures.append((image.id, error.reason.description))
                    report.failed.append(SkippedFile(path: image.path, reason: error.reason.description))
                }
            }
            try store.write(embedder: name, imageIDs: rowIDs, matrix: vectors)
            try embedder.store(extras: extras, in: album)
            try store.recordFailures(embedder: name, failures: failures)
            report.embedded += extras.count
            done += images.count
        }
        return report
    }
}
