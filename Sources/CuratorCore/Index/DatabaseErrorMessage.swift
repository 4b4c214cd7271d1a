import Foundation
import GRDB

/// SQLite's errors as users read them. A full disk during indexing is the
/// one they can act on, and SQLite's "SQLite error 13: database or disk is
/// full - while executing `INSERT …`" hides that; every other error keeps
/// GRDB's description.
extension DatabaseError: @retroactive LocalizedError {
    public var errorDescription: String? {
        guard resultCode == .SQLITE_FULL else { return description }
        return "disk full: the index cannot grow; free some space and run again (the index keeps what was written before)"
    }
}
