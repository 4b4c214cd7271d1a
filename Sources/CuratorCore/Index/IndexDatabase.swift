import Foundation
import GRDB

/// The SQLite file that holds an album's index: `<album>/.curator/album.sqlite`
/// in WAL mode, or a per-album file under the user's cache folder when the
/// album's own folder is read-only.
public final class IndexDatabase: Sendable {
    /// The open connection pool (readers run beside the writer under WAL).
    public let pool: DatabasePool
    /// Where the database file is.
    public let path: String
    /// Why the index may not change, when it was opened read-only: the end
    /// of every refusal, e.g. "which safe mode (--safe) does not allow".
    public let readOnlyReason: String?

    /// Whether the index was opened read-only (nothing is ever written to it).
    public var isReadOnly: Bool { readOnlyReason != nil }

    /// Opens the index at `path` and brings its schema up to date, creating
    /// it if needed. With `readOnlyReason`, the file is opened read-only
    /// (SQLite refuses every write) and must exist with an up-to-date
    /// schema; the reason ends the message of every change refused.
    public init(path: String, readOnlyReason: String? = nil) throws {
        self.path = path
        self.readOnlyReason = readOnlyReason
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.readonly = readOnlyReason != nil
        if readOnlyReason == nil {
            configuration.prepareDatabase { db in
                // Larger pages keep a 768-d float32 vector (3 KB) and its row on
                // one page; only effective when the file is created.
                try db.execute(sql: "PRAGMA page_size = 16384")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if let readOnlyReason {
                // Upgrading the schema writes: an older index cannot be used read-only.
                guard try pool.read({ try IndexSchema.migrator.hasCompletedMigrations($0) }) else {
                    throw IndexError.readOnly(change: "upgrading the index \(path) (written by an older curator)", reason: readOnlyReason)
                }
            } else {
                try IndexSchema.migrator.migrate(pool)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw IndexError.diskFull(path: path)
        } catch let error as DatabaseError {
            throw IndexError.unreadableIndex(path: path, reason: error.message ?? "\(error)")
        }
    }

    /// Throws `IndexError.readOnly` when the index was opened read-only;
    /// `change` says what would have written, e.g. "adding to the exclusions".
    public func checkWritable(_ change: @autoclosure () -> String) throws {
        if let readOnlyReason { throw IndexError.readOnly(change: change(), reason: readOnlyReason) }
    }

    /// Chooses where an album's index lives: inside the album when it can be
    /// written there, else a stable file under `$XDG_CACHE_HOME/curator/albums`.
    ///
    /// - Parameters:
    ///   - folder: the folder the index belongs beside (the album, or the folder of an embeddings file).
    ///   - fileName: the database file's name.
    public static func location(besides folder: String, fileName: String = "album.sqlite") throws -> String {
        let fm = FileManager.default
        let dir = (folder as NSString).appendingPathComponent(".curator")
        if fm.fileExists(atPath: dir) || (try? fm.createDirectory(atPath: dir, withIntermediateDirectories: false)) != nil,
           access(dir, W_OK) == 0 {
            return (dir as NSString).appendingPathComponent(fileName)
        }
        let cache = cacheFile(besides: folder, fileName: fileName)
        do {
            try fm.createDirectory(atPath: (cache as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw IndexError.cannotCreateIndex(path: cache, reason: "\(error.localizedDescription)")
        }
        return cache
    }

    /// Where `location(besides:fileName:)` put an index that exists, or nil;
    /// creates nothing (for opening read-only).
    public static func existingLocation(besides folder: String, fileName: String = "album.sqlite") -> String? {
        let inside = ((folder as NSString).appendingPathComponent(".curator") as NSString).appendingPathComponent(fileName)
        for candidate in [inside, cacheFile(besides: folder, fileName: fileName)] {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isFolder), !isFolder.boolValue { return candidate }
        }
        return nil
    }

    /// The index's file under `$XDG_CACHE_HOME/curator/albums`, for albums whose folder is read-only.
    private static func cacheFile(besides folder: String, fileName: String) -> String {
        let env = ProcessInfo.processInfo.environment
        let cacheRoot = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache")
        let cache = ((cacheRoot as NSString).appendingPathComponent("curator") as NSString).appendingPathComponent("albums")
        let key = StableHash.hex(of: Array((folder + "/" + fileName).utf8))
        return (cache as NSString).appendingPathComponent("\(key)-\(fileName)")
    }

    /// Copies the write-ahead log into the database and empties it. After a
    /// large write (an index-only album's first open) the log is as large as
    /// what was written, and SQLite would only reuse it, never shrink it.
    public func checkpoint() throws {
        try checkWritable("checkpointing the index")
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    /// Reads a value of the `meta` table.
    public func meta(_ key: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    /// Writes a value of the `meta` table.
    public func setMeta(_ key: String, _ value: String) throws {
        try checkWritable("recording \(key)")
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }
}

/// FNV-1a, 64-bit: a stable name for cache files (Swift's `Hasher` is seeded per process).
enum StableHash {
    static func hex(of bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
