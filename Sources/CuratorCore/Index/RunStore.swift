import Foundation
import GRDB

/// Saves and loads an album's selection runs.
public struct RunStore: Sendable {
    let database: IndexDatabase

    /// Saves `run`, returning it with its new id.
    public func save(_ run: SelectionRun) throws -> SelectionRun {
        var saved = run
        let parameters = String(decoding: try JSONEncoder().encode(run.parameters), as: UTF8.self)
        try database.checkWritable("saving the run")
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
    public func load(_ id: Int64) throws -> SelectionRun? {
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
            return SelectionRun(id: id, method: row["method"], count: row["count"], seed: UInt64(bitPattern: row["seed"] as Int64),
                             embedder: row["embedder"], created: Date(timeIntervalSince1970: row["created"]),
                             candidates: row["candidates"], inertia: row["inertia"], parameters: parameters, picks: picks)
        }
    }

    /// Deletes the run with `id`; returns whether it existed.
    @discardableResult
    public func delete(_ id: Int64) throws -> Bool {
        try database.checkWritable("deleting run \(id)")
        return try database.pool.write { db in
            try db.execute(sql: "DELETE FROM run WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }
}
