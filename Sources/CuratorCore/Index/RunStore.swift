import Foundation
import GRDB

/// A selection run as the index keeps it: its parameters and the ordered
/// picks of every iteration, by image id (rows of a matrix change between
/// sessions; image ids do not).
public struct StoredRun: Sendable, Equatable {
    /// The run's number in this album (1, 2, …).
    public var id: Int64
    /// The sampler's name: "fps", "kmeans" or a custom one.
    public var method: String
    /// How many images the selection holds.
    public var count: Int
    /// The master seed the iterations' seeds were drawn from.
    public var seed: UInt64
    /// The embedder whose vectors the run used.
    public var embedder: String
    /// When the run finished.
    public var created: Date
    /// How many candidates there were (album minus exclusions, after filters).
    public var candidates: Int
    /// The mean k-means objective over iterations, for k-means runs.
    public var inertia: Double?
    /// Other parameters worth showing (include, filter, start, …), as text.
    public var parameters: [String: String]
    /// Each iteration's picks, in pick order, by image id.
    public var picks: [[Int64]]

    /// The number of iterations.
    public var iterations: Int { picks.count }

    /// Creates a run record (`id` is assigned when saved).
    public init(id: Int64 = 0, method: String, count: Int, seed: UInt64, embedder: String, created: Date = Date(),
                candidates: Int, inertia: Double? = nil, parameters: [String: String] = [:], picks: [[Int64]]) {
        self.id = id
        self.method = method
        self.count = count
        self.seed = seed
        self.embedder = embedder
        self.created = created
        self.candidates = candidates
        self.inertia = inertia
        self.parameters = parameters
        self.picks = picks
    }
}

/// Saves and loads an album's selection runs.
public struct RunStore: Sendable {
    let database: IndexDatabase

    /// Saves `run`, returning it with its new id.
    public func save(_ run: StoredRun) throws -> StoredRun {
        var saved = run
        let parameters = String(decoding: try JSONEncoder().encode(run.parameters), as: UTF8.self)
        try database.pool.write { db in
            try db.execute(sql: """
                INSERT INTO run(method, count, iterations, seed, embedder, created, candidates, inertia, parameters)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [run.method, run.count, run.iterations, Int64(bitPattern: run.seed), run.embedder,
                                 run.created.timeIntervalSince1970, run.candidates, run.inertia, parameters])
            saved.id = db.lastInsertedRowID
            let statement = try db.makeStatement(sql: "INSERT INTO run_pick(run_id, iteration, position, image_id) VALUES (?, ?, ?, ?)")
            for (iteration, picks) in run.picks.enumerated() {
                for (position, image) in picks.enumerated() {
                    try statement.execute(arguments: [saved.id, iteration, position, image])
                }
            }
        }
        return saved
    }

    /// The ids of the saved runs, oldest first.
    public func ids() throws -> [Int64] {
        try database.pool.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM run ORDER BY id") }
    }

    /// The run with `id`, or nil. Picks of images removed since are gone with them.
    public func load(_ id: Int64) throws -> StoredRun? {
        try database.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]) else { return nil }
            let iterations: Int = row["iterations"]
            var picks = [[Int64]](repeating: [], count: iterations)
            let cursor = try Row.fetchCursor(db, sql: "SELECT iteration, image_id FROM run_pick WHERE run_id = ? ORDER BY iteration, position", arguments: [id])
            while let pick = try cursor.next() {
                let iteration: Int = pick[0]
                if iteration < iterations { picks[iteration].append(pick[1]) }
            }
            let parametersText: String = row["parameters"]
            let parameters = (try? JSONDecoder().decode([String: String].self, from: Data(parametersText.utf8))) ?? [:]
            return StoredRun(id: id, method: row["method"], count: row["count"], seed: UInt64(bitPattern: row["seed"] as Int64),
                             embedder: row["embedder"], created: Date(timeIntervalSince1970: row["created"]),
                             candidates: row["candidates"], inertia: row["inertia"], parameters: parameters, picks: picks)
        }
    }

    /// Deletes the run with `id`; returns whether it existed.
    @discardableResult
    public func delete(_ id: Int64) throws -> Bool {
        try database.pool.write { db in
            try db.execute(sql: "DELETE FROM run WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }
}
