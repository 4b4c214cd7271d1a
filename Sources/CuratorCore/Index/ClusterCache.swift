import Foundation
import GRDB

/// The clusterings the index keeps (`a:clusters()`), under a key naming
/// everything they were made from, so the same album and settings give the
/// stored clusters at once. Only the newest few are kept.
public struct ClusterCache: Sendable {
    let database: IndexDatabase

    /// How many clusterings are kept (each is about 8 bytes per image).
    static let kept = 6

    /// The clusters stored under `key`: per cluster its medoid and members
    /// (image ids), or nil when there are none.
    ///
    /// - Throws: `MapError.corrupt` when the stored bytes are damaged.
    func entry(key: String) throws -> [(medoid: Int64, members: [Int64])]? {
        guard let data = try database.pool.read({ db in
            try Data.fetchOne(db, sql: "SELECT clusters FROM cluster_set WHERE key = ?", arguments: [key])
        }) else { return nil }
        return try Self.decode([UInt8](data))
    }

    /// The clustering stored last (the newest `a:clusters()` made or read
    /// from here is not told apart: the cache keeps its creation time): its
    /// key and clusters, or nil when the index holds none.
    ///
    /// - Throws: `MapError.corrupt` when the stored bytes are damaged.
    func newest() throws -> (key: String, created: Date, clusters: [(medoid: Int64, members: [Int64])], labels: [Int64: String])? {
        guard let row = try database.pool.read({ db in
            try Row.fetchOne(db, sql: "SELECT key, created, clusters, labels FROM cluster_set ORDER BY created DESC LIMIT 1")
        }) else { return nil }
        let key: String = row[0], created: Double = row[1], data: Data = row[2], labels: String? = row[3]
        return (key, Date(timeIntervalSince1970: created), try Self.decode([UInt8](data)), Self.decodeLabels(labels))
    }

    /// Keeps `labels` (a label by the stored medoid's image id) with the
    /// clustering stored under `key`, replacing earlier ones; nothing when
    /// that clustering is no longer kept.
    func storeLabels(_ labels: [Int64: String], key: String) throws {
        try database.checkWritable("caching the cluster labels")
        var object: [String: String] = [:]
        for (medoid, label) in labels { object[String(medoid)] = label }
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try database.pool.write { db in
            try db.execute(sql: "UPDATE cluster_set SET labels = ? WHERE key = ?",
                           arguments: [String(decoding: json, as: UTF8.self), key])
        }
    }

    /// The labels column read back; labels that cannot be read are no labels
    /// (the clusters stand without them, and the next `a:clusters()` writes them anew).
    static func decodeLabels(_ text: String?) -> [Int64: String] {
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        var labels: [Int64: String] = [:]
        for (key, value) in object { if let medoid = Int64(key), let label = value as? String { labels[medoid] = label } }
        return labels
    }

    /// When the newest clustering was stored, or nil when there is none.
    func newestDate() throws -> Date? {
        try database.pool.read { db in
            try Double.fetchOne(db, sql: "SELECT MAX(created) FROM cluster_set").map(Date.init(timeIntervalSince1970:))
        }
    }

    /// Stores `clusters` under `key`, dropping all but the newest few others.
    func store(_ clusters: [(medoid: Int64, members: [Int64])], key: String) throws {
        try database.checkWritable("caching the clusters")
        let bytes = Self.encode(clusters)
        try database.pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO cluster_set(key, created, clusters) VALUES (?, ?, ?)",
                           arguments: [key, Date().timeIntervalSince1970, Data(bytes)])
            try db.execute(sql: """
                DELETE FROM cluster_set WHERE key NOT IN (SELECT key FROM cluster_set ORDER BY created DESC LIMIT ?)
                """, arguments: [Self.kept])
        }
    }

    /// Little-endian 64-bit words: the cluster count, then per cluster its medoid, size and members.
    static func encode(_ clusters: [(medoid: Int64, members: [Int64])]) -> [UInt8] {
        var words: [Int64] = [Int64(clusters.count)]
        for c in clusters { words.append(c.medoid); words.append(Int64(c.members.count)); words += c.members }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(words.count * 8)
        for w in words { withUnsafeBytes(of: w.littleEndian) { bytes += $0 } }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> [(medoid: Int64, members: [Int64])] {
        let corrupt = MapError(.corrupt, "cluster cache: damaged entry")
        guard bytes.count % 8 == 0 else { throw corrupt }
        var words = [Int64](repeating: 0, count: bytes.count / 8)
        for i in words.indices {
            var v: UInt64 = 0
            for b in 0..<8 { v |= UInt64(bytes[i * 8 + b]) << (8 * UInt64(b)) }
            words[i] = Int64(bitPattern: v)
        }
        guard let count = words.first, count >= 0 else { throw corrupt }
        var out: [(medoid: Int64, members: [Int64])] = []
        var at = 1
        for _ in 0..<count {
            guard at + 2 <= words.count else { throw corrupt }
            let medoid = words[at], size = Int(words[at + 1])
            at += 2
            guard size > 0, at + size <= words.count else { throw corrupt }
            out.append((medoid, Array(words[at..<(at + size)])))
            at += size
        }
        guard at == words.count else { throw corrupt }
        return out
    }
}
