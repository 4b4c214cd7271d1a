/// A k-d tree over points in the plane, for HDBSCAN on a map: nearest
/// neighbours for the core distances, and the bounding boxes the Borůvka
/// search prunes with. Points are stored in tree order (each node holds a
/// contiguous range), so a node's points are one slice of `x` and `y`.
struct PlaneTree {
    /// One node: its points are `start..<end` in tree order.
    struct Node {
        var start: Int32
        var end: Int32
        /// Children (nil for a leaf), the lower half first.
        var left: Int32 = -1
        var right: Int32 = -1
        var minX: Double = .infinity, maxX: Double = -.infinity
        var minY: Double = .infinity, maxY: Double = -.infinity
    }

    /// Coordinates in tree order.
    let x: [Double]
    let y: [Double]
    /// The caller's index of each tree-order point.
    let original: [Int]
    /// Nodes in pre-order: a parent always comes before its children, so a
    /// reverse walk visits children first.
    let nodes: [Node]

    /// Leaves hold at most this many points.
    static let leafSize = 16

    /// Builds the tree by splitting each node at the median of its wider side.
    init(points: [SIMD2<Double>]) {
        var order = Array(points.indices)
        var nodes: [Node] = []
        nodes.reserveCapacity(max(1, 2 * points.count / Self.leafSize + 1))
        func build(_ start: Int, _ end: Int) -> Int32 {
            var node = Node(start: Int32(start), end: Int32(end))
            for i in start..<end {
                let p = points[order[i]]
                node.minX = min(node.minX, p.x); node.maxX = max(node.maxX, p.x)
                node.minY = min(node.minY, p.y); node.maxY = max(node.maxY, p.y)
            }
            let index = Int32(nodes.count)
            nodes.append(node)
            if end - start > Self.leafSize {
                let alongX = node.maxX - node.minX >= node.maxY - node.minY
                // Ties broken by index keep the tree, and so every result, independent of the sort's stability.
                order[start..<end].sort { a, b in
                    let (u, v) = alongX ? (points[a].x, points[b].x) : (points[a].y, points[b].y)
                    return u < v || (u == v && a < b)
                }
                let middle = (start + end) / 2
                let left = build(start, middle)
                let right = build(middle, end)
                nodes[Int(index)].left = left
                nodes[Int(index)].right = right
            }
            return index
        }
        if !points.isEmpty { _ = build(0, points.count) }
        self.nodes = nodes
        self.original = order
        self.x = order.map { points[$0].x }
        self.y = order.map { points[$0].y }
    }

    /// The number of points.
    var count: Int { x.count }

    /// The squared distance from `(px, py)` to node `n`'s bounding box (0 inside).
    @inline(__always)
    func boxDistanceSquared(_ n: Int, _ px: Double, _ py: Double) -> Double {
        let node = nodes[n]
        let dx = px < node.minX ? node.minX - px : (px > node.maxX ? px - node.maxX : 0)
        let dy = py < node.minY ? node.minY - py : (py > node.maxY ? py - node.maxY : 0)
        return dx * dx + dy * dy
    }

    /// For every tree-order point, the squared distance to its `k`-th
    /// nearest point, itself counted first (scikit-learn's core distance
    /// with `min_samples = k`); `k` larger than the tree gives the farthest.
    /// A bounded max-heap per query and an explicit stack, on every core.
    func kthNeighborDistancesSquared(k: Int) -> [Double] {
        let n = count, k = max(1, min(k, n))
        var result = [Double](repeating: 0, count: n)
        guard n > 0 else { return result }
        result.withUnsafeMutableBufferPointer { out in
        x.withUnsafeBufferPointer { xs in
        y.withUnsafeBufferPointer { ys in
        nodes.withUnsafeBufferPointer { nodes in
            let shared = UncheckedSendable((out, xs, ys, nodes))
            parallelChunks(n, chunk: 512) { _, range in
                let (out, xs, ys, nodes) = shared.value
                let heap = UnsafeMutablePointer<Double>.allocate(capacity: k)
                let stack = UnsafeMutablePointer<Int32>.allocate(capacity: 256)
                defer { heap.deallocate(); stack.deallocate() }
                for t in range {
                    let px = xs[t], py = ys[t]
                    var filled = 0
                    var depth = 1
                    stack[0] = 0
                    while depth > 0 {
                        depth -= 1
                        let node = nodes[Int(stack[depth])]
                        let dx = px < node.minX ? node.minX - px : (px > node.maxX ? px - node.maxX : 0)
                        let dy = py < node.minY ? node.minY - py : (py > node.maxY ? py - node.maxY : 0)
                        if filled == k && dx * dx + dy * dy >= heap[0] { continue }
                        if node.left < 0 {
                            for q in Int(node.start)..<Int(node.end) {
                                let ex = xs[q] - px, ey = ys[q] - py
                                let d = ex * ex + ey * ey
                                if filled < k {
                                    // Sift up into the max-heap.
                                    var i = filled
                                    filled += 1
                                    while i > 0 {
                                        let parent = (i - 1) / 2
                                        if heap[parent] >= d { break }
                                        heap[i] = heap[parent]; i = parent
                                    }
                                    heap[i] = d
                                } else if d < heap[0] {
                                    // Replace the largest and sift down.
                                    var i = 0
                                    while true {
                                        let l = 2 * i + 1
                                        if l >= k { break }
                                        let c = l + 1 < k && heap[l + 1] > heap[l] ? l + 1 : l
                                        if heap[c] <= d { break }
                                        heap[i] = heap[c]; i = c
                                    }
                                    heap[i] = d
                                }
                            }
                            continue
                        }
                        // The nearer child is pushed last, so it is searched first.
                        let l = nodes[Int(node.left)], r = nodes[Int(node.right)]
                        let lc = (l.minX + l.maxX - 2 * px, l.minY + l.maxY - 2 * py)
                        let rc = (r.minX + r.maxX - 2 * px, r.minY + r.maxY - 2 * py)
                        let leftNearer = lc.0 * lc.0 + lc.1 * lc.1 <= rc.0 * rc.0 + rc.1 * rc.1
                        stack[depth] = leftNearer ? node.right : node.left
                        stack[depth + 1] = leftNearer ? node.left : node.right
                        depth += 2
                    }
                    out[t] = heap[0]
                }
            }
        }}}}
        return result
    }
}
