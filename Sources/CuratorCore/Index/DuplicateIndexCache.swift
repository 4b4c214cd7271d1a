import Foundation
import GRDB

/// The duplicate index the album keeps per embedder (an `InvertedFile`),
/// with the image and vector fingerprint of every row it assigned, so the
/// next search reuses the rows whose vectors are unchanged and assigns only
/// the others.
public struct DuplicateIndexCache: Sendable {
    let database: IndexDatabase

    /// A stored index: its parts, and the image and fingerprint of each row.
    public struct Entry: Sendable {
        /// The index, its rows in the order of `imageIDs`.
        public var index: InvertedFile
        /// The image of each row.
        public var imageIDs: [Int64]
        /// The vector fingerprint of each row (`EmbeddingMatrix.rowFingerprints`).
        public var fingerprints: [UInt64]
    }

    /// The index stored for `embedder`, or nil when there is none.
    ///
    /// - Throws: `MapError.corrupt` when the stored bytes are damaged.
    public func entry(embedder: String) throws -> Entry? {
        guard let row = try database.pool.read({ db in
            try Row.fetchOne(db, sql: "SELECT dimension, horizon, centres, rows FROM duplicate_index WHERE embedder = ?",
                             arguments: [embedder])
        }) else { return nil }
        let dimension: Int = row[0]
        let horizon: Double = row[1]
        let centres: [Float] = try Self.values(row[2] as Data)
        var reader = try Reader(row[3] as Data)
        let n = try reader.count()
        let ids: [Int64] = try reader.values(n)
        let fingerprints: [UInt64] = try reader.values(n)
        let lists: [Int32] = try reader.values(n)
        let counts: [Int32] = try reader.values(n)
        var start = [Int](repeating: 0, count: n + 1)
        for i in 0..<n {
            guard counts[i] >= 0 else { throw Self.corrupt }
            start[i + 1] = start[i] + Int(counts[i])
        }
        let neighbourLists: [Int32] = try reader.values(start[n])
        let neighbourDistances: [Float] = try reader.values(start[n])
        guard reader.atEnd else { throw Self.corrupt }
        let index = try InvertedFile(dimension: dimension, centres: centres, horizon: Float(horizon), lists: lists,
                                       neighbourStart: start, neighbourLists: neighbourLists,
                                       neighbourDistances: neighbourDistances)
        return Entry(index: index, imageIDs: ids, fingerprints: fingerprints)
    }

    /// Stores `index` (rows in the order of `imageIDs`) for `embedder`, replacing the one before.
    public func store(_ index: InvertedFile, imageIDs: [Int64], fingerprints: [UInt64], embedder: String) throws {
        precondition(imageIDs.count == index.rows && fingerprints.count == index.rows)
        try database.checkWritable("caching the duplicate index")
        var rows = Data()
        rows.reserveCapacity(8 + index.rows * 24 + index.neighbourLists.count * 8)
        Self.append([Int64(index.rows)], to: &rows)
        Self.append(imageIDs, to: &rows)
        Self.append(fingerprints, to: &rows)
        Self.append(index.lists, to: &rows)
        Self.append((0..<index.rows).map { Int32(index.neighbourStart[$0 + 1] - index.neighbourStart[$0]) }, to: &rows)
        Self.append(index.neighbourLists, to: &rows)
        Self.append(index.neighbourDistances, to: &rows)
        var centres = Data()
        Self.append(index.centres, to: &centres)
        try database.pool.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO duplicate_index(embedder, dimension, created, horizon, centres, rows)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [embedder, index.dimension, Date().timeIntervalSince1970, Double(index.horizon), centres, rows])
        }
    }

    /// Forgets every stored duplicate index.
    public func clear() throws {
        try database.checkWritable("clearing the duplicate index")
        try database.pool.write { db in try db.execute(sql: "DELETE FROM duplicate_index") }
    }

    static let corrupt = MapError(.corrupt, "duplicate index cache: damaged entry")

    // Values are stored in the machine's byte order, which is little-endian on every platform curator builds for.
    private static func append<T>(_ values: [T], to data: inout Data) {
        values.withUnsafeBytes { data.append(contentsOf: $0) }
    }

    private static func values<T>(_ data: Data) throws -> [T] {
        guard data.count % MemoryLayout<T>.stride == 0 else { throw corrupt }
        var reader = try Reader(data)
        return try reader.values(data.count / MemoryLayout<T>.stride)
    }

    /// Reads arrays of fixed-size values from a blob, checking every length.
    private struct Reader {
        let data: Data
        var offset = 0

        init(_ data: Data) throws { self.data = data }

        var atEnd: Bool { offset == data.count }

        mutating func count() throws -> Int {
            let value: [Int64] = try values(1)
            guard let n = value.first, n >= 0, n <= Int64(data.count) else { throw DuplicateIndexCache.corrupt }
            return Int(n)
        }

        mutating func values<T>(_ count: Int) throws -> [T] {
            let bytes = count * MemoryLayout<T>.stride
            guard count >= 0, bytes <= data.count - offset else { throw DuplicateIndexCache.corrupt }
            let result = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                data.withUnsafeBytes { raw in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + bytes)]))
                }
                initialized = count
            }
            offset += bytes
            return result
        }
    }
}
