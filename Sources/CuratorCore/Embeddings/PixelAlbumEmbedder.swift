import Foundation
import GRDB

/// The built-in `pixels` embedder run over an album: every image without a
/// vector is decoded (both cores), described, and written with its
/// statistics, a chunk per transaction so an interrupted run keeps what it
/// finished. Images that fail are recorded with the reason and not retried
/// until their file changes.
struct PixelAlbumEmbedder {
    /// Images embedded and committed together.
    var chunkSize = 256

    func embed(album: Album, progress: (any ProgressSink)?) throws -> EmbedReport {
        let embedder = PixelEmbedder()
        let store = album.embeddingStore
        try store.register(embedder: PixelEmbedder.name, modelID: "pixels-v1", dimension: embedder.dimension, source: album.location)
        var report = EmbedReport(embedder: PixelEmbedder.name)
        let missing = try store.missing(embedder: PixelEmbedder.name).compactMap { album.image(id: $0) }
        report.alreadyEmbedded = try store.counts(embedder: PixelEmbedder.name).embedded
        guard !missing.isEmpty else { return report }

        let vectors = EmbeddingMatrix(rows: min(chunkSize, missing.count), dimension: embedder.dimension)
        var done = 0
        defer { progress?.finish(label: "pixels") }
        for chunk in missing.chunked(into: chunkSize) {
            let images = Array(chunk)
            let outcomes = try embedder.embed(paths: images.map { album.absolutePath(of: $0) }, into: vectors.storage,
                                              progress: progress, label: "pixels", offset: done, total: missing.count)
            var rowIDs: [Int64?] = []
            var statistics: [(Int64, ImageStatistics)] = []
            var failures: [(imageID: Int64, reason: String)] = []
            for (image, outcome) in zip(images, outcomes) {
                switch outcome {
                case .success(let output):
                    rowIDs.append(image.id)
                    statistics.append((image.id, output.statistics))
                case .failure(let error):
                    rowIDs.append(nil)
                    failures.append((image.id, error.reason.description))
                    report.failed.append(SkippedFile(path: image.path, reason: error.reason.description))
                }
            }
            try store.write(embedder: PixelEmbedder.name, imageIDs: rowIDs, matrix: vectors)
            try StatisticsStore(database: album.database).write(statistics)
            try store.recordFailures(embedder: PixelEmbedder.name, failures: failures)
            report.embedded += statistics.count
            done += images.count
        }
        return report
    }
}

/// Per-image statistics (sharpness, brightness, …) in the index.
public struct StatisticsStore: Sendable {
    let database: IndexDatabase

    /// Writes statistics for images, replacing earlier ones.
    public func write(_ rows: [(Int64, ImageStatistics)]) throws {
        guard !rows.isEmpty else { return }
        try database.pool.write { db in
            let statement = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO stats(image_id, sharpness, brightness, contrast, colourfulness, entropy)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
            for (id, s) in rows {
                try statement.execute(arguments: [id, s.sharpness, s.brightness, s.contrast, s.colourfulness, s.entropy])
            }
        }
    }

    /// Every image's statistics, by image id.
    public func all() throws -> [Int64: ImageStatistics] {
        try database.pool.read { db in
            var result: [Int64: ImageStatistics] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT image_id, sharpness, brightness, contrast, colourfulness, entropy FROM stats")
            while let row = try rows.next() {
                result[row[0]] = ImageStatistics(sharpness: row[1], brightness: row[2], contrast: row[3], colourfulness: row[4], entropy: row[5])
            }
            return result
        }
    }
}

extension Album {
    /// The statistics of `image` (from the pixels embedder), if computed.
    public func statistics(of image: ImageRecord) throws -> ImageStatistics? {
        try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT sharpness, brightness, contrast, colourfulness, entropy FROM stats WHERE image_id = ?",
                             arguments: [image.id]).map {
                ImageStatistics(sharpness: $0[0], brightness: $0[1], contrast: $0[2], colourfulness: $0[3], entropy: $0[4])
            }
        }
    }
}
