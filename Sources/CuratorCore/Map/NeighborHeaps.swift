/// One bounded max-heap of candidate neighbours per point, all in three flat
/// buffers: the root of point p's heap is its farthest kept neighbour, so a
/// candidate is tested against one number. Each entry carries a "new" flag
/// for nearest-neighbour descent. Ordered by (distance, index), a total
/// order, so the set a heap ends with never depends on insertion order.
///
/// `@unchecked Sendable`: threads only ever touch disjoint points' heaps.
final class NeighborHeaps: @unchecked Sendable {
    let count: Int
    let size: Int
    let indices: UnsafeMutablePointer<Int32>
    let distances: UnsafeMutablePointer<Float>
    let flags: UnsafeMutablePointer<UInt8>

    init(count: Int, size: Int) {
        self.count = count
        self.size = size
        let total = max(count * size, 1)
        indices = .allocate(capacity: total)
        indices.initialize(repeating: -1, count: total)
        distances = .allocate(capacity: total)
        distances.initialize(repeating: .infinity, count: total)
        flags = .allocate(capacity: total)
        flags.initialize(repeating: 0, count: total)
    }

    deinit {
        indices.deallocate()
        distances.deallocate()
        flags.deallocate()
    }

    /// The distance a new neighbour of `point` must beat.
    @inline(__always)
    func bound(_ point: Int) -> Float { distances[point * size] }

    /// Offers `candidate` at `distance` to `point`'s heap; true when kept.
    @inline(__always)
    @discardableResult
    func push(_ point: Int, _ candidate: Int32, _ distance: Float, isNew: Bool = true) -> Bool {
        let base = point * size
        let d = distances + base, ix = indices + base, fl = flags + base
        if distance > d[0] || (distance == d[0] && candidate >= ix[0]) { return false }
        for j in 0..<size where ix[j] == candidate { return false }
        // Replace the root and sift the newcomer down.
        var i = 0
        while true {
            let left = 2 * i + 1
            if left >= size { break }
            var child = left
            let right = left + 1
            if right < size && (d[right] > d[left] || (d[right] == d[left] && ix[right] > ix[left])) { child = right }
            if d[child] > distance || (d[child] == distance && ix[child] > candidate) {
                d[i] = d[child]; ix[i] = ix[child]; fl[i] = fl[child]
                i = child
            } else {
                break
            }
        }
        d[i] = distance; ix[i] = candidate; fl[i] = isNew ? 1 : 0
        return true
    }

    /// Whether `point`'s heap holds `candidate`.
    @inline(__always)
    func contains(_ point: Int, _ candidate: Int32) -> Bool {
        let ix = indices + point * size
        for j in 0..<size where ix[j] == candidate { return true }
        return false
    }
}

/// Bounded heaps keyed by a random priority: nearest-neighbour descent's
/// sample of "new" and "old" candidates of each point.
/// `@unchecked Sendable`: threads only ever touch disjoint points' heaps.
final class CandidateHeaps: @unchecked Sendable {
    let count: Int
    let size: Int
    let indices: UnsafeMutablePointer<Int32>
    let priorities: UnsafeMutablePointer<UInt64>

    init(count: Int, size: Int) {
        self.count = count
        self.size = size
        indices = .allocate(capacity: max(count * size, 1))
        priorities = .allocate(capacity: max(count * size, 1))
        reset()
    }

    deinit {
        indices.deallocate()
        priorities.deallocate()
    }

    func reset() {
        indices.update(repeating: -1, count: count * size)
        priorities.update(repeating: .max, count: count * size)
    }

    /// Keeps `candidate` if its priority is among the `size` smallest.
    @inline(__always)
    func push(_ point: Int, _ candidate: Int32, _ priority: UInt64) {
        let base = point * size
        let p = priorities + base, ix = indices + base
        if priority >= p[0] { return }
        for j in 0..<size where ix[j] == candidate { return }
        var i = 0
        while true {
            let left = 2 * i + 1
            if left >= size { break }
            var child = left
            if left + 1 < size && p[left + 1] > p[left] { child = left + 1 }
            if p[child] > priority {
                p[i] = p[child]; ix[i] = ix[child]
                i = child
            } else {
                break
            }
        }
        p[i] = priority; ix[i] = candidate
    }
}
