import GRDB

/// The index's tables, created and evolved by GRDB migrations so an album
/// indexed by an older curator opens in a newer one.
enum IndexSchema {
    /// The migrations, in order; each runs once per database.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-images") { db in
            // Paths are BLOBs: file names are bytes, and not always UTF-8.
            try db.execute(sql: """
                CREATE TABLE image (
                    id INTEGER PRIMARY KEY,
                    path BLOB NOT NULL UNIQUE,
                    size INTEGER NOT NULL,
                    mtime REAL NOT NULL,
                    width INTEGER NOT NULL DEFAULT 0,
                    height INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE skipped (
                    path BLOB PRIMARY KEY,
                    size INTEGER NOT NULL,
                    mtime REAL NOT NULL,
                    reason TEXT NOT NULL
                );
                CREATE TABLE embedder (
                    name TEXT PRIMARY KEY,
                    model_id TEXT,
                    dimension INTEGER NOT NULL
                );
                -- A rowid table scanned in insertion order: loading one
                -- embedder's matrix is a sequential read, not index hops.
                CREATE TABLE embedding (
                    image_id INTEGER NOT NULL REFERENCES image(id) ON DELETE CASCADE,
                    embedder TEXT NOT NULL REFERENCES embedder(name) ON DELETE CASCADE,
                    vector BLOB NOT NULL,
                    UNIQUE (image_id, embedder)
                );
                CREATE TABLE embed_failure (
                    image_id INTEGER NOT NULL REFERENCES image(id) ON DELETE CASCADE,
                    embedder TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    PRIMARY KEY (image_id, embedder)
                );
                CREATE TABLE stats (
                    image_id INTEGER PRIMARY KEY REFERENCES image(id) ON DELETE CASCADE,
                    sharpness REAL NOT NULL,
                    brightness REAL NOT NULL,
                    contrast REAL NOT NULL,
                    colourfulness REAL NOT NULL,
                    entropy REAL NOT NULL
                );
                CREATE TABLE image_set (
                    name TEXT NOT NULL,
                    image_id INTEGER NOT NULL REFERENCES image(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (name, image_id)
                );
                CREATE TABLE meta (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-embedding-generation") { db in
            // Any change to the vectors (cascaded deletes included) bumps one
            // counter, which tells whether a saved matrix file is still valid.
            try db.execute(sql: generationCounter("embedding_generation", countingChangesTo: "embedding"))
        }
        migrator.registerMigration("v3-runs") { db in
            // A run keeps its parameters and every iteration's ordered picks;
            // votes, frequencies and tiers follow from the picks.
            try db.execute(sql: """
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY,
                    method TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    iterations INTEGER NOT NULL,
                    seed INTEGER NOT NULL,
                    embedder TEXT NOT NULL,
                    created REAL NOT NULL,
                    candidates INTEGER NOT NULL,
                    inertia REAL,
                    parameters TEXT NOT NULL DEFAULT '{}'
                );
                CREATE TABLE run_pick (
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    iteration INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    image_id INTEGER NOT NULL REFERENCES image(id) ON DELETE CASCADE,
                    PRIMARY KEY (run_id, iteration, position)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v4-map-layouts") { db in
            // One cached map per embedder and parameter set: the newest
            // replaces older ones and seeds their incremental update.
            // `fingerprints` hold each row's vector hash, so an image whose
            // vector changed is placed again rather than trusted.
            try db.execute(sql: """
                CREATE TABLE map_layout (
                    key TEXT PRIMARY KEY,
                    embedder TEXT NOT NULL,
                    parameters TEXT NOT NULL,
                    created REAL NOT NULL,
                    layout BLOB NOT NULL,
                    fingerprints BLOB NOT NULL
                );
                CREATE INDEX map_layout_by_parameters ON map_layout(embedder, parameters);
                """)
        }
        migrator.registerMigration("v5-image-set-generation") { db in
            // Another process (a script beside the REPL) may change the
            // exclusions or favorites; one counter tells an open album so.
            try db.execute(sql: generationCounter("image_set_generation", countingChangesTo: "image_set"))
        }
        migrator.registerMigration("v6-imported-captions") { db in
            // Captions that came with imported embeddings (clip-retrieval's
            // `caption` column), for images that may have no sidecar file.
            try db.execute(sql: """
                CREATE TABLE imported_caption (
                    image_id INTEGER PRIMARY KEY REFERENCES image(id) ON DELETE CASCADE,
                    text TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v7-opacity-weighted-statistics") { db in
            // Statistics now weigh pixels by their opacity (issue 14: clip art
            // on a transparent background measured as a white page). Images
            // measured before may have had transparency: their pixels vectors
            // (unchanged by this) and statistics are dropped so the next embed
            // measures them again. JPEG cannot carry alpha, so photos stay.
            let mayHaveAlpha = "SELECT id FROM image WHERE lower(CAST(path AS TEXT)) NOT LIKE '%.jpg'"
                + " AND lower(CAST(path AS TEXT)) NOT LIKE '%.jpeg'"
            try db.execute(sql: "DELETE FROM stats WHERE image_id IN (\(mayHaveAlpha))")
            try db.execute(sql: "DELETE FROM embedding WHERE embedder = 'pixels' AND image_id IN (\(mayHaveAlpha))")
        }
        migrator.registerMigration("v8-clusters") { db in
            // Clusterings of the album (`a:clusters()`), keyed by what they
            // were made from: the map's points or the vectors, and the settings.
            try db.execute(sql: """
                CREATE TABLE cluster_set (
                    key TEXT PRIMARY KEY,
                    created REAL NOT NULL,
                    clusters BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v9-duplicate-index") { db in
            // The inverted-file index `a:duplicates` searches at scale, one
            // per embedder: its centres, and per image its vector's
            // fingerprint (a changed vector is reassigned, never trusted),
            // list and neighbouring lists (see `DuplicateIndexCache`).
            try db.execute(sql: """
                CREATE TABLE duplicate_index (
                    embedder TEXT PRIMARY KEY,
                    dimension INTEGER NOT NULL,
                    created REAL NOT NULL,
                    horizon REAL NOT NULL,
                    centres BLOB NOT NULL,
                    rows BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v10-cluster-labels") { db in
            // The labels `a:clusters()` gave a stored clustering (a JSON
            // object: the stored medoid's image id to its label), so a page
            // that reads the index's newest clusters names them too.
            try db.execute(sql: "ALTER TABLE cluster_set ADD COLUMN labels TEXT")
        }
        migrator.registerMigration("v11-statistics-generation") { db in
            // `a:measure()` writes statistics without touching the vectors:
            // one counter tells the quality checks' caches (the REPL's, the
            // review page's) that what they read from is stale.
            try db.execute(sql: generationCounter("statistics_generation", countingChangesTo: "stats"))
        }
        return migrator
    }

    /// SQL for a `meta` counter that every insert, update and delete on
    /// `table` bumps (triggers named `<table>_inserted`, …). Kept identical
    /// for every migration that uses it: migrations must not change.
    static func generationCounter(_ key: String, countingChangesTo table: String) -> String {
        let bump = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = '\(key)';"
        var sql = "INSERT OR IGNORE INTO meta(key, value) VALUES ('\(key)', '0');\n"
        for (event, name) in [("INSERT", "inserted"), ("UPDATE", "updated"), ("DELETE", "deleted")] {
            sql += "CREATE TRIGGER \(table)_\(name) AFTER \(event) ON \(table) BEGIN \(bump) END;\n"
        }
        return sql
    }
}
