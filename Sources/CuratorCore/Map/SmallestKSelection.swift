/// The k smallest (distance, index) pairs of one row after another, kept as
/// `SmallestK` keeps them — smallest distance first, ties to the smaller
/// index, non-finite distances never kept — in buffers of its own that every
/// row reuses: the neighbour search offers a few hundred candidates per row
/// for tens of thousands of rows, and a fresh `SmallestK` per row (two arrays
/// allocated, every store checked) cost more than its insertions.
struct SmallestKSelection {
    let k: Int
    private let distances: UnsafeMutablePointer<Float>
    private let indices: UnsafeMutablePointer<Int32>
    /// Pairs kept so far (at most k).
    private(set) var count = 0

    /// Keeps the `k` smallest (k at least 1).
    init(k: Int) {
        self.k = max(1, k)
        distances = .allocate(capacity: self.k)
        indices = .allocate(capacity: self.k)
    }

    /// Frees the buffers (the owner calls it once it is done).
    func deallocate() {
        distances.deallocate()
        indices.deallocate()
    }

    /// The distance a pair must not exceed to be kept (+∞ until k are kept).
    var bound: Float { count == k ? distances[k - 1] : .infinity }

    /// Offers a pair; it stays while it is among the k smallest.
    @inline(__always) mutating func offer(_ index: Int32, _ distance: Float) {
        guard distance.isFinite else { return }
        let last = k - 1
        if count == k && (distance > distances[last] || (distance == distances[last] && index >= indices[last])) { return }
        var position = count == k ? last : count
        if count < k { count += 1 }
        while position > 0 && (distances[position - 1] > distance
                               || (distances[position - 1] == distance && indices[position - 1] > index)) {
            distances[position] = distances[position - 1]
            indices[position] = indices[position - 1]
            position -= 1
        }
        distances[position] = distance
        indices[position] = index
    }

    /// Writes the k smallest pairs, smallest first (index −1 and +∞ where
    /// fewer were offered), and starts over for the next row.
    mutating func take(indices outIndices: UnsafeMutablePointer<Int32>, distances outDistances: UnsafeMutablePointer<Float>) {
        outIndices.update(from: indices, count: count)
        outDistances.update(from: distances, count: count)
        for j in count..<k {
            outIndices[j] = -1
            outDistances[j] = .infinity
        }
        count = 0
    }
}
