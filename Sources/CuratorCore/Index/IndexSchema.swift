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
        return migrator
    }
}
