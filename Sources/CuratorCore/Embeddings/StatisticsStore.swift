import GRDB

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
