import Foundation
import GRDB
import GRDBSQLite

/// One prepared statement run for many rows with SQLite's own binding calls,
/// inside the caller's transaction: a million rows cost a bind and a step
/// each, without building argument arrays per row as `execute(arguments:)`
/// does (an index-only album's first open inserts a row per image).
struct BulkInsert {
    /// Binds one row's values (1-based parameter positions).
    struct Binder {
        let statement: SQLiteStatement

        /// Binds an integer.
        func int64(_ value: Int64, at position: Int32) { sqlite3_bind_int64(statement, position, value) }
        /// Binds a real.
        func double(_ value: Double, at position: Int32) { sqlite3_bind_double(statement, position, value) }
        /// Binds text (copied by SQLite).
        func text(_ value: String, at position: Int32) {
            sqlite3_bind_text(statement, position, value, -1, Self.transient)
        }
        /// Binds bytes as a BLOB (copied by SQLite).
        func blob(_ bytes: [UInt8], at position: Int32) {
            _ = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, position, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), Self.transient) }
        }

        /// SQLITE_TRANSIENT: SQLite copies the value before the call returns.
        static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
    }

    private let statement: SQLiteStatement

    /// Prepares `sql` on `db` and hands it to `body`, which calls `insert` per row.
    static func run(_ db: Database, sql: String, _ body: (BulkInsert) throws -> Void) throws {
        let prepared = try db.makeStatement(sql: sql)
        try body(BulkInsert(statement: prepared.sqliteStatement))
        withExtendedLifetime(prepared) {}
    }

    private init(statement: SQLiteStatement) { self.statement = statement }

    /// Binds one row with `bind`, runs the statement and resets it; returns the new row's id.
    @discardableResult
    func insert(_ bind: (Binder) -> Void) throws -> Int64 {
        bind(Binder(statement: statement))
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(statement))))
        }
        return sqlite3_last_insert_rowid(sqlite3_db_handle(statement))
    }
}
