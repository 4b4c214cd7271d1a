import GRDB
import GRDBSQLite

/// Reads an album's image list from its index with SQLite's column calls:
/// the rows' numbers into records, and every path's bytes into one shared
/// buffer the records' paths are slices of. A million paths read one by one
/// into arrays of their own cost a million allocations (and as many frees
/// when the list goes), the larger part of re-opening a million-image album.
enum ImageListReader {
    /// The images of the index in the path index's order (`orderedByPath`),
    /// or in rowid order when that is path order too (nil when it is not).
    static func read(_ db: Database, orderedByPath: Bool) throws -> [ImageRecord]? {
        // Ids are nearly always dense: their span sizes the list without
        // COUNT(*), which walks a whole index (a hint only, capped).
        let span = try Int.fetchOne(db, sql: "SELECT (SELECT MAX(id) FROM image) - (SELECT MIN(id) FROM image) + 1") ?? 0
        var rows: [Row] = []
        rows.reserveCapacity(min(max(span, 0), 1 << 24))
        var paths: [UInt8] = []
        // The path index returns BLOBs in memcmp order, which is RelativePath's order.
        let order = orderedByPath ? "ORDER BY path" : ""
        let statement = try db.makeStatement(sql: "SELECT id, path, size, mtime, width, height FROM image \(order)")
        let raw = statement.sqliteStatement
        defer { sqlite3_reset(raw) }
        while true {
            let code = sqlite3_step(raw)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            let count = Int(sqlite3_column_bytes(raw, 1))
            let path = UnsafeRawBufferPointer(start: count == 0 ? nil : sqlite3_column_blob(raw, 1), count: count)
            let start = paths.count
            if !orderedByPath, let last = rows.last {
                let ascending = paths.withUnsafeBytes { table in
                    RelativePath.compare(UnsafeRawBufferPointer(rebasing: table[last.start..<start]), path) < 0
                }
                if !ascending { return nil }
            }
            paths.append(contentsOf: path)
            rows.append(Row(id: sqlite3_column_int64(raw, 0), start: start, size: sqlite3_column_int64(raw, 2),
                            mtime: sqlite3_column_double(raw, 3), width: Int(sqlite3_column_int64(raw, 4)),
                            height: Int(sqlite3_column_int64(raw, 5))))
        }
        let table = paths
        return rows.indices.map { i in
            let row = rows[i]
            let end = i + 1 < rows.count ? rows[i + 1].start : table.count
            return ImageRecord(id: row.id, path: RelativePath(shared: table[row.start..<end]), size: row.size,
                               mtime: row.mtime, width: row.width, height: row.height)
        }
    }

    /// One row's numbers and where its path starts in the shared buffer.
    private struct Row {
        let id: Int64
        let start: Int
        let size: Int64
        let mtime: Double
        let width: Int
        let height: Int
    }
}
