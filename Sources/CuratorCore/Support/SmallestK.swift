/// The k smallest (distance, index) pairs offered, kept sorted — smallest
/// distance first, ties to the smaller index, non-finite distances never
/// kept — in two buffers of its own that can be reused row after row
/// (`take` or `reset` start over). The one bounded insertion of the
/// neighbour searches (`ExactNeighbors`, `InvertedFile`'s lists and its
/// neighbour graph): they offer a few hundred candidates per row for tens of
/// thousands of rows, so the buffers are unsafe pointers allocated once per
/// thread, not arrays allocated, uniqueness- and bounds-checked per row.
/// Its owner frees them (`deallocate`) once done.
struct SmallestK {
    /// How many pairs are kept at most (at least 1).
    let k: Int
    private let distanceBuffer: UnsafeMutablePointer<Float>
    private let indexBuffer: UnsafeMutablePointer<Int32>
    /// Pairs kept so far (at most k).
    private(set) var count = 0

    /// Keeps the `k` smallest (k at least 1).
    init(k: Int) {
        self.k = max(1, k)
        distanceBuffer = .allocate(capacity: self.k)
        indexBuffer = .allocate(capacity: self.k)
    }

    /// Frees the buffers (the owner calls it once it is done).
    func deallocate() {
        distanceBuffer.deallocate()
        indexBuffer.deallocate()
    }

    /// The distance a pair must not exceed to be kept (+∞ until k are kept).
    var bound: Float { count == k ? distanceBuffer[k - 1] : .infinity }

    /// The kept indices, smallest distance first (valid until the next offer).
    var indices: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(start: indexBuffer, count: count) }

    /// The kept distances, smallest first (valid until the next offer).
    var distances: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: distanceBuffer, count: count) }

    /// Offers a pair; it stays while it is among the k smallest.
    @inline(__always) mutating func offer(_ index: Int32, _ distance: Float) {
        guard distance.isFinite else { return }
        let last = k - 1
        if count == k && (distance > distanceBuffer[last] || (distance == distanceBuffer[last] && index >= indexBuffer[last])) {
            return
        }
        var position = count == k ? last : count
        if count < k { count += 1 }
        while position > 0 && (distanceBuffer[position - 1] > distance
                               || (distanceBuffer[position - 1] == distance && indexBuffer[position - 1] > index)) {
            distanceBuffer[position] = distanceBuffer[position - 1]
            indexBuffer[position] = indexBuffer[position - 1]
            position -= 1
        }
        distanceBuffer[position] = distance
        indexBuffer[position] = index
    }

    /// Forgets the kept pairs (the next row starts empty).
    mutating func reset() { count = 0 }

    /// Writes the k smallest pairs, smallest first (index −1 and +∞ where
    /// fewer were offered), and starts over for the next row.
    mutating func take(indices outIndices: UnsafeMutablePointer<Int32>, distances outDistances: UnsafeMutablePointer<Float>) {
        outIndices.update(from: indexBuffer, count: count)
        outDistances.update(from: distanceBuffer, count: count)
        for j in count..<k {
            outIndices[j] = -1
            outDistances[j] = .infinity
        }
        count = 0
    }
}
