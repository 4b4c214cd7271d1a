import GRDB

/// A named, ordered, persisted set of an album's images: the exclusions and
/// the favorites. Every change is written to the index at once, so nothing
/// the user decided is lost when the session ends.
public final class ImageIDSet: @unchecked Sendable {
    /// The set's name in the index ("exclusions", "favorites").
    public let name: String
    private let database: IndexDatabase
    private var order: [Int64]
    private var members: Set<Int64>

    init(name: String, database: IndexDatabase) throws {
        self.name = name
        self.database = database
        order = try database.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT image_id FROM image_set WHERE name = ? ORDER BY position", arguments: [name])
        }
        members = Set(order)
    }

    /// The members' ids, in the order they were added.
    public var ids: [Int64] { order }

    /// The number of members.
    public var count: Int { order.count }

    /// Whether the image with `id` is a member.
    public func contains(_ id: Int64) -> Bool { members.contains(id) }

    /// Adds the images not already members, keeping their order; returns how many were new.
    @discardableResult
    public func add(_ ids: [Int64]) throws -> Int {
        var fresh: [Int64] = []
        var seen = members
        for id in ids where seen.insert(id).inserted { fresh.append(id) }
        guard !fresh.isEmpty else { return 0 }
        let start = (order.count)
        try database.pool.write { [name] db in
            let next = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM image_set WHERE name = ?", arguments: [name]) ?? start
            for (offset, id) in fresh.enumerated() {
                try db.execute(sql: "INSERT OR IGNORE INTO image_set(name, image_id, position) VALUES (?, ?, ?)",
                               arguments: [name, id, next + offset])
            }
        }
        order += fresh
        members.formUnion(fresh)
        return fresh.count
    }

    /// Removes the given images; returns how many were members.
    @discardableResult
    public func remove(_ ids: [Int64]) throws -> Int {
        let gone = Set(ids).intersection(members)
        guard !gone.isEmpty else { return 0 }
        try database.pool.write { [name] db in
            for id in gone {
                try db.execute(sql: "DELETE FROM image_set WHERE name = ? AND image_id = ?", arguments: [name, id])
            }
        }
        order.removeAll { gone.contains($0) }
        members.subtract(gone)
        return gone.count
    }

    /// Replaces the members with `ids` (in that order).
    public func replace(with ids: [Int64]) throws {
        var unique: [Int64] = []
        var seen = Set<Int64>()
        for id in ids where seen.insert(id).inserted { unique.append(id) }
        try database.pool.write { [name] db in
            try db.execute(sql: "DELETE FROM image_set WHERE name = ?", arguments: [name])
            for (position, id) in unique.enumerated() {
                try db.execute(sql: "INSERT INTO image_set(name, image_id, position) VALUES (?, ?, ?)",
                               arguments: [name, id, position])
            }
        }
        order = unique
        members = seen
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
