import GRDB

/// Captions that came with imported embeddings (clip-retrieval's `caption`
/// column), kept in the index of an index-only album: its images may be
/// nowhere on this machine, let alone with caption sidecar files.
enum ImportedCaptions {
    /// Replaces the stored captions with `captions` (one per row, row `i`
    /// being image `imageIDs[i]`); nil removes them all.
    static func replace(with captions: [String?]?, imageIDs: [Int64?], in database: IndexDatabase) throws {
        try database.pool.write { db in
            try db.execute(sql: "DELETE FROM imported_caption")
            guard let captions else { return }
            let insert = try db.makeStatement(sql: "INSERT OR REPLACE INTO imported_caption(image_id, text) VALUES (?, ?)")
            for (id, caption) in zip(imageIDs, captions) {
                guard let id, let caption else { continue }
                try insert.execute(arguments: [id, caption])
            }
        }
    }

    /// The caption imported for image `id`, if any.
    static func caption(of id: Int64, in database: IndexDatabase) -> String? {
        try? database.pool.read { db in
            try String.fetchOne(db, sql: "SELECT text FROM imported_caption WHERE image_id = ?", arguments: [id])
        }
    }
}
