/// Distance columns of rows FPS has picked, kept for the Monte Carlo
/// iterations that pick the same row later, so the matrix pass is not
/// repeated. Only the entries that can still lower some iteration's minimum
/// distance are kept (a minimum only ever decreases, so an entry at or above
/// every iteration's current minimum can never matter again); that makes
/// later columns tiny. Oldest columns are dropped beyond the byte budget.
struct SparseColumnCache: Sendable {
    struct Entry {
        var indices: [Int32]
        var values: [Float]
        var bytes: Int { indices.count * 8 }
    }

    let budgetBytes: Int
    private(set) var entries: [Int: Entry] = [:]
    private var order: [Int] = []
    private var orderStart = 0
    private(set) var bytes = 0

    init(budgetBytes: Int) { self.budgetBytes = budgetBytes }

    func contains(_ row: Int) -> Bool { entries[row] != nil }

    /// Keeps `row`'s entries (working rows and their distances), dropping the
    /// oldest columns beyond the budget.
    mutating func insert(row: Int, indices: [Int32], values: [Float]) {
        let entry = Entry(indices: indices, values: values)
        guard entries[row] == nil, entry.bytes <= budgetBytes else { return }
        while bytes + entry.bytes > budgetBytes, orderStart < order.count {
            let oldest = order[orderStart]
            orderStart += 1
            if let removed = entries.removeValue(forKey: oldest) { bytes -= removed.bytes }
        }
        entries[row] = entry
        order.append(row)
        bytes += entry.bytes
    }

    /// Lowers `distances` with the kept column of `row`.
    func apply(row: Int, to distances: UnsafeMutablePointer<Float>) {
        guard let entry = entries[row] else { return }
        entry.indices.withUnsafeBufferPointer { indices in
            entry.values.withUnsafeBufferPointer { values in
                for k in 0..<indices.count {
                    let i = Int(indices[k])
                    if values[k] < distances[i] { distances[i] = values[k] }
                }
            }
        }
    }
}
