import GRDB

extension Album {
    /// Measures the images that have no statistics (sharpness, brightness,
    /// contrast, colourfulness, entropy) with the pixels embedder's decoder,
    /// keeping the statistics and dropping its vectors, and returns how many
    /// it measured.
    ///
    /// The pixels embedder records statistics as it goes; a CLIP album never
    /// ran it, so the quality checks (`curator clean`'s diagnosis) and the
    /// near-duplicate keeper rule (the sharpest copy) had nothing to read.
    /// Images `skipping` (by default the active embedder) failed to decode
    /// for (its recorded failures) are not tried. A chunk per transaction, so
    /// an interrupted pass keeps its work. A PhotoMapAI album (`a:measure()`)
    /// is decoded once for them; a clip album measures them as it embeds.
    @discardableResult
    public func measureMissingStatistics(skipping embedder: String? = nil, progress: (any ProgressSink)? = nil) throws -> Int {
        let embedder = embedder ?? self.embedder ?? ""
        let missing: [Int64] = try database.pool.read { db in
            let images = try Int.fetchOne(db, sql: "SELECT count(*) FROM image") ?? 0
            let measured = try Int.fetchOne(db, sql: "SELECT count(*) FROM stats") ?? 0
            guard measured < images else { return [] }
            return try Int64.fetchAll(db, sql: """
                SELECT id FROM image
                WHERE id NOT IN (SELECT image_id FROM stats)
                  AND id NOT IN (SELECT image_id FROM embed_failure WHERE embedder = ?)
                ORDER BY id
                """, arguments: [embedder])
        }
        let images = missing.compactMap { image(id: $0) }
        // Nothing to measure writes nothing: safe mode (`curator --safe
        // clean`, which measures first) works on an album already measured.
        guard !images.isEmpty else { return 0 }
        try database.checkWritable("measuring image statistics")
        let label = "statistics"
        let pixels = PixelEmbedder()
        let scratch = EmbeddingMatrix(rows: min(Self.statisticsChunk, images.count), dimension: pixels.dimension)
        let store = StatisticsStore(database: database)
        var done = 0, measured = 0
        defer { progress?.finish(label: label) }
        for chunk in images.chunked(into: Self.statisticsChunk) {
            let outcomes = try pixels.embed(paths: chunk.map { absolutePath(of: $0) }, into: scratch.storage,
                                            progress: progress, label: label, offset: done, total: images.count)
            var rows: [(Int64, ImageStatistics)] = []
            for (image, outcome) in zip(chunk, outcomes) {
                if case .success(let output) = outcome { rows.append((image.id, output.statistics)) }
            }
            try store.write(rows)
            measured += rows.count
            done += chunk.count
        }
        return measured
    }

    /// Images measured and committed together.
    static let statisticsChunk = 256
}
