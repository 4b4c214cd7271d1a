import Dispatch
import GRDB

/// A named, ordered, persisted set of an album's images: the exclusions and
/// the favorites. Every change is written to the index at once, so nothing
/// the user decided is lost when the session ends.
///
/// Changes another process makes (a script run beside the REPL) are seen
/// within `staleness` on reading, and always before a change is made here,
/// so a change never works from an outdated set.
/// `@unchecked Sendable`: like its album it is used from one thread at a time; the index (SQLite, WAL) orders what other processes do.
public final class ImageIDSet: @unchecked Sendable {
    /// The set's name in the index ("exclusions", "favorites").
    public let name: String
    private let database: IndexDatabase
    private var order: [Int64] = []
    private var members: Set<Int64> = []
    /// The index's `image_set_generation` the members were read at.
    private var generation: Int64 = -1
    /// When the generation was last compared (monotonic nanoseconds).
    private var checked: UInt64 = 0

    /// How long a read trusts the members without asking the index.
    static let staleness: UInt64 = 250_000_000

    init(name: String, database: IndexDatabase) throws {
        self.name = name
        self.database = database
        try database.pool.read { db in try load(db) }
    }

    /// The members' ids, in the order they were added.
    public var ids: [Int64] { refreshIfStale(); return order }

    /// The number of members.
    public var count: Int { refreshIfStale(); return order.count }

    /// Whether the image with `id` is a member.
    public func contains(_ id: Int64) -> Bool { refreshIfStale(); return members.contains(id) }

    /// Reads the members again if the index says they changed.
    public func refresh() throws {
        try database.pool.read { db in try reloadIfChanged(db) }
    }

    private func refreshIfStale() {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now &- checked > Self.staleness else { return }
        // A failed check keeps what is known; the next change reloads anyway.
        try? refresh()
    }

    private static func generation(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'image_set_generation'") ?? 0
    }

    private func reloadIfChanged(_ db: Database) throws {
        checked = DispatchTime.now().uptimeNanoseconds
        if try Self.generation(db) != generation { try load(db) }
    }

    private func load(_ db: Database) throws {
        generation = try Self.generation(db)
        order = try Int64.fetchAll(db, sql: "SELECT image_id FROM image_set WHERE name = ? ORDER BY position", arguments: [name])
        members = Set(order)
        checked = DispatchTime.now().uptimeNanoseconds
    }

    /// Runs a change in one write transaction that first catches up with
    /// other processes' changes, and records the generation it leaves.
    private func change(_ body: (Database) throws -> Void) throws {
        try database.checkWritable("changing the \(name)")
        try database.pool.write { db in
            try reloadIfChanged(db)
            try body(db)
            generation = try Self.generation(db)
        }
    }

    /// Adds the images not already members, keeping their order; returns how many were new.
    @discardableResult
    public func add(_ ids: [Int64]) throws -> Int {
        var fresh: [Int64] = []
        try change { [name] db in
            var seen = members
            for id in ids where seen.insert(id).inserted { fresh.append(id) }
            guard !fresh.isEmpty else { return }
            let next = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM image_set WHERE name = ?", arguments: [name]) ?? order.count
            for (offset, id) in fresh.enumerated() {
                try db.execute(sql: "INSERT OR IGNORE INTO image_set(name, image_id, position) VALUES (?, ?, ?)",
                               arguments: [name, id, next + offset])
            }
            order += fresh
            members.formUnion(fresh)
        }
        return fresh.count
    }

    /// Removes the given images; returns how many were members.
    @discardableResult
    public func remove(_ ids: [Int64]) throws -> Int {
        var gone = Set<Int64>()
        try change { [name] db in
            gone = Set(ids).intersection(members)
            for id in gone {
                try db.execute(sql: "DELETE FROM image_set WHERE name = ? AND image_id = ?", arguments: [name, id])
            }
            order.removeAll { gone.contains($0) }
            members.subtract(gone)
        }
        return gone.count
    }

    /// Replaces the members with `ids` (in that order).
    public func replace(with ids: [Int64]) throws {
        var unique: [Int64] = []
        var seen = Set<Int64>()
        for id in ids where seen.insert(id).inserted { unique.append(id) }
        try change { [name] db in
            try db.execute(sql: "DELETE FROM image_set WHERE name = ?", arguments: [name])
            for (position, id) in unique.enumerated() {
                try db.execute(sql: "INSERT INTO image_set(name, image_id, position) VALUES (?, ?, ?)",
                               arguments: [name, id, position])
            }
            order = unique
            members = seen
        }
    }

    /// Removes every member.
    public func clear() throws { try replace(with: []) }

    /// Drops members whose images left the index (the database already did, by cascade).
    func forget(_ removed: Set<Int64>) {
        guard !removed.isDisjoint(with: members) else { return }
        order.removeAll { removed.contains($0) }
        members.subtract(removed)
    }
}
