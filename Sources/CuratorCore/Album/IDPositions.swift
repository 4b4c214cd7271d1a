/// The position of each image id in a list of ids (an album's images, a
/// matrix's rows). Ids are SQLite rowids, nearly always dense (1…N for an
/// imported index): then a plain array answers, which a million-image album
/// builds in milliseconds where a dictionary takes a sizeable part of a
/// second; sparse ids use a dictionary.
public struct IDPositions: Sendable {
    private let offset: Int64
    private let dense: [Int32]
    private let sparse: [Int64: Int]

    /// Positions of `ids` (distinct), in list order.
    init(ids: [Int64]) {
        let low = ids.min() ?? 0, high = ids.max() ?? -1
        if !ids.isEmpty, low >= 0, high - low < Int64(ids.count) * 2, ids.count < Int(Int32.max) {
            var table = [Int32](repeating: -1, count: Int(high - low) + 1)
            for (position, id) in ids.enumerated() { table[Int(id - low)] = Int32(position) }
            offset = low
            dense = table
            sparse = [:]
        } else {
            offset = 0
            dense = []
            sparse = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($0.element, $0.offset) })
        }
    }

    /// The largest id in the list (nil for an empty list).
    public var maximum: Int64? {
        dense.isEmpty ? sparse.keys.max() : offset + Int64(dense.count) - 1
    }

    /// The position of `id`, or nil when the list lacks it.
    public subscript(id: Int64) -> Int? {
        if dense.isEmpty { return sparse[id] }
        // Any id may be asked for (a user's number from Lua): no overflow.
        let (slot, overflow) = id.subtractingReportingOverflow(offset)
        guard !overflow, slot >= 0, slot < Int64(dense.count) else { return nil }
        let position = dense[Int(slot)]
        return position < 0 ? nil : Int(position)
    }
}
