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

    /// The squared distance from tree-order point `t` to its `k`-th nearest
    /// point, itself counted first (scikit-learn's core distance with
    /// `min_samples = k`); `k` larger than the tree gives the farthest.
    func kthNeighborDistanceSquared(_ t: Int, k: Int) -> Double {
        let k = max(1, min(k, count))
        // The k smallest squared distances so far, ascending.
        var best = [Double](repeating: .infinity, count: k)
        let px = x[t], py = y[t]
        func visit(_ n: Int) {
            guard boxDistanceSquared(n, px, py) < best[k - 1] else { return }
            let node = nodes[n]
            if node.left < 0 {
                for q in Int(node.start)..<Int(node.end) {
                    let dx = x[q] - px, dy = y[q] - py
                    let d = dx * dx + dy * dy
                    if d < best[k - 1] {
                        var i = k - 1
                        while i > 0 && best[i - 1] > d { best[i] = best[i - 1]; i -= 1 }
                        best[i] = d
                    }
                }
                return
            }
            let l = Int(node.left), r = Int(node.right)
            if boxDistanceSquared(l, px, py) <= boxDistanceSquared(r, px, py) { visit(l); visit(r) } else { visit(r); visit(l) }
        }
        visit(0)
        return best[k - 1]
    }
}
