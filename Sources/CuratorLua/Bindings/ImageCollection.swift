import Foundation
import CuratorCore

/// What an `ImageSet` object shows: an ordered set of one album's images.
/// The album's exclusions and favorites are persisted ones; selections and
/// `r:where` results (later work) can be in-memory ones (`MemoryImageSet`).
public protocol ImageCollection: AnyObject {
    /// The album whose images these are.
    var owner: AlbumHandle { get }
    /// What the set is, for `tostring`: "exclusions", "favorites", "selection".
    var label: String { get }
    /// The members' ids in order.
    var ids: [Int64] { get }
    /// The number of members.
    var count: Int { get }
    /// Whether `id` is a member.
    func contains(_ id: Int64) -> Bool
    /// Adds the ids not yet members (in order); returns how many were new.
    /// Throws when the set cannot change.
    func add(_ ids: [Int64]) throws -> Int
    /// Removes the ids; returns how many were members. Throws when the set cannot change.
    func remove(_ ids: [Int64]) throws -> Int
    /// Removes every member. Throws when the set cannot change.
    func clear() throws
    /// A stable identity within the album (so `a.exclusions` is always the
    /// same Lua value), nil for sets made on the fly.
    var identity: Int64? { get }
    /// The run whose frequencies the members have (a run's selection, an
    /// `r:where` result): printing the set shows them. nil for other sets.
    var run: SelectionRun? { get }
}

extension ImageCollection {
    /// No run, unless the set says.
    public var run: SelectionRun? { nil }
}

/// An album's persisted set: its exclusions or favorites.
final class PersistedImageSet: ImageCollection {
    let owner: AlbumHandle
    let storage: ImageIDSet
    let identity: Int64?

    init(owner: AlbumHandle, set: ImageIDSet, identity: Int64) {
        self.owner = owner
        self.storage = set
        self.identity = identity
    }

    var label: String { storage.name }
    var ids: [Int64] { storage.ids }
    var count: Int { storage.count }
    func contains(_ id: Int64) -> Bool { storage.contains(id) }
    func add(_ ids: [Int64]) throws -> Int { try storage.add(ids) }
    func remove(_ ids: [Int64]) throws -> Int { try storage.remove(ids) }
    func clear() throws { try storage.clear() }
}

/// An in-memory ordered set of an album's images (a selection, a filter's
/// result). `readOnly` sets refuse changes with a clear error.
public final class MemoryImageSet: ImageCollection {
    /// The album whose images these are.
    public let owner: AlbumHandle
    /// What the set is, e.g. "selection".
    public let label: String
    /// Whether changes are refused.
    public let readOnly: Bool
    private var order: [Int64]
    private var members: Set<Int64>

    /// Creates a set of `ids` (duplicates dropped, order kept). `identity`
    /// makes every push of the same set the same Lua value (a run's selection).
    public init(owner: AlbumHandle, label: String, ids: [Int64], readOnly: Bool = false, identity: Int64? = nil,
                run: SelectionRun? = nil) {
        self.run = run
        self.owner = owner
        self.label = label
        self.readOnly = readOnly
        self.identity = identity
        var seen = Set<Int64>()
        order = ids.filter { seen.insert($0).inserted }
        members = seen
    }

    public let identity: Int64?
    /// The run whose frequencies the members have, if any.
    public let run: SelectionRun?
    public var ids: [Int64] { order }
    public var count: Int { order.count }
    public func contains(_ id: Int64) -> Bool { members.contains(id) }

    private func checkWritable() throws {
        // Not a LuaBindingError: the binding that called puts its name in front.
        if readOnly { throw ReadOnlySetError(label: label) }
    }

    public func add(_ ids: [Int64]) throws -> Int {
        try checkWritable()
        var added = 0
        for id in ids where members.insert(id).inserted {
            order.append(id)
            added += 1
        }
        return added
    }

    public func remove(_ ids: [Int64]) throws -> Int {
        try checkWritable()
        let gone = Set(ids).intersection(members)
        guard !gone.isEmpty else { return 0 }
        order.removeAll { gone.contains($0) }
        members.subtract(gone)
        return gone.count
    }

    public func clear() throws {
        try checkWritable()
        order = []
        members = []
    }
}

/// The error a read-only set (a run's selection) raises when asked to change.
public struct ReadOnlySetError: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// What the set is, e.g. `selection of run 3`.
    public let label: String
    public var description: String { "the \(label) is read-only; copy it with a:set(s) to change it" }
    public var errorDescription: String? { description }
}
