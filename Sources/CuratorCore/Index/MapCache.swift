import Foundation
import GRDB

/// The maps the index keeps: one per embedder and parameter set, with the
/// vector fingerprint of every image it placed. A map is reused whole when
/// the album's images and vectors are exactly those it was made from, and
/// serves as the start of an incremental update when they are not.
public struct MapCache: Sendable {
    let database: IndexDatabase

    /// A cached map and the vector fingerprints it was made from.
    public struct Entry: Sendable {
        /// The cache key (see `MapCache.key`).
        public var key: String
        /// The layout.
        public var layout: MapLayout
        /// The fingerprint of each layout row's vector, in row order.
        public var fingerprints: [UInt64]
    }

    /// The key of a map of `embedder`'s vectors made with `parameters`, of
    /// the images `imageIDs` whose vectors have `fingerprints`: it changes
    /// when any of those changes, and not with the rows' order.
    public static func key(embedder: String, parameters: UMAPParameters, imageIDs: [Int64], fingerprints: [UInt64]) -> String {
        var pairs = Array(zip(imageIDs, fingerprints))
        pairs.sort { $0.0 < $1.0 }
        var bytes = Array("curator-map-2\n\(embedder)\n\(parameters.canonicalDescription)\n".utf8)
        bytes.reserveCapacity(bytes.count + pairs.count * 16)
        for (id, fingerprint) in pairs {
            withUnsafeBytes(of: id.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: fingerprint.littleEndian) { bytes += $0 }
        }
        return "umap-" + SHA256.hex(bytes)
    }

    /// The map stored under `key`, if any.
    ///
    /// - Throws: `MapError.corrupt` when the stored bytes are damaged.
    public func entry(key: String) throws -> Entry? {
        try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT key, layout, fingerprints FROM map_layout WHERE key = ?", arguments: [key])
        }.map(Self.entry)
    }

    /// The newest map of `embedder` with `parameters`, whatever images it holds.
    ///
    /// - Throws: `MapError.corrupt` when the stored bytes are damaged.
    public func latest(embedder: String, parameters: UMAPParameters) throws -> Entry? {
        try database.pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT key, layout, fingerprints FROM map_layout WHERE embedder = ? AND parameters = ?
                ORDER BY created DESC LIMIT 1
                """, arguments: [embedder, parameters.canonicalDescription])
        }.map(Self.entry)
    }

    /// Stores `layout` under `key`, replacing older maps of the same embedder and parameters.
    public func store(_ layout: MapLayout, fingerprints: [UInt64], key: String, embedder: String) throws {
        var fingerprintBytes: [UInt8] = []
        fingerprintBytes.reserveCapacity(fingerprints.count * 8)
        for value in fingerprints { withUnsafeBytes(of: value.littleEndian) { fingerprintBytes += $0 } }
        let parameters = layout.parameters.canonicalDescription
        try database.checkWritable("caching the map")
        try database.pool.write { db in
            try db.execute(sql: "DELETE FROM map_layout WHERE embedder = ? AND parameters = ?", arguments: [embedder, parameters])
            try db.execute(sql: """
                INSERT OR REPLACE INTO map_layout(key, embedder, parameters, created, layout, fingerprints)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [key, embedder, parameters, Date().timeIntervalSince1970,
                                 Data(layout.serialized()), Data(fingerprintBytes)])
        }
    }

    /// Forgets every cached map.
    public func clear() throws {
        try database.checkWritable("clearing the map cache")
        try database.pool.write { db in try db.execute(sql: "DELETE FROM map_layout") }
    }

    private static func entry(_ row: Row) throws -> Entry {
        let layout = try MapLayout(serialized: [UInt8](row[1] as Data))
        let bytes = [UInt8](row[2] as Data)
        guard bytes.count == layout.points.count * 8 else {
            throw MapError(.corrupt, "map cache: \(bytes.count / 8) fingerprints for \(layout.points.count) points")
        }
        var fingerprints = [UInt64](repeating: 0, count: layout.points.count)
        for i in fingerprints.indices {
            var value: UInt64 = 0
            for b in 0..<8 { value |= UInt64(bytes[i * 8 + b]) << (8 * UInt64(b)) }
            fingerprints[i] = value
        }
        return Entry(key: row[0], layout: layout, fingerprints: fingerprints)
    }
}

extension EmbeddingMatrix {
    /// A 64-bit hash of every row's exact float bits, computed on every core:
    /// equal rows give equal values, and a changed vector almost surely a
    /// different one. Cheap next to any map (one read of the matrix).
    public func rowFingerprints() -> [UInt64] {
        let rows = self.rows, dimension = self.dimension
        guard rows > 0 else { return [] }
        var result = [UInt64](repeating: 0, count: rows)
        let blockRows = max(1, (1 << 18) / max(dimension, 1))
        let blocks = (rows + blockRows - 1) / blockRows
        result.withUnsafeMutableBufferPointer { out in
            let output = UncheckedSendable(out.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: blocks) { b in
                // As float32 (a float16 matrix's rows widened): the same fingerprints as its float32 copy's.
                let range = b * blockRows..<min(rows, (b + 1) * blockRows)
                withRows(range) { block in
                for i in range {
                    let words = UnsafeRawPointer(block + (i - range.lowerBound) * dimension).assumingMemoryBound(to: UInt32.self)
                    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(dimension)
                    for j in 0..<dimension {
                        h = (h ^ UInt64(words[j])) &* 0xFF51_AFD7_ED55_8CCD
                        h ^= h >> 29
                    }
                    output.value[i] = h
                }
                }
            }
        }
        return result
    }
}
