import Foundation

/// HDBSCAN (Campello, Moulavi and Sander 2013) on points in the plane, as
/// scikit-learn's `HDBSCAN` defines it: core distances to the `minSamples`-th
/// neighbour (the point itself counted), the minimum spanning tree of the
/// mutual reachability distances, its single-linkage hierarchy condensed
/// with `minClusterSize`, and the clusters of excess of mass ("eom"), the
/// root never being one. The same points give the same labels.
///
/// The spanning tree is where the time goes: scikit-learn runs Prim's
/// algorithm over all pairs (quadratic); here Borůvka's algorithm searches a
/// k-d tree, skipping boxes whose points are all in the searching component,
/// boxes farther than the component's best edge so far, and boxes whose
/// smallest core distance is already larger (a mutual reachability distance
/// is never below either core distance), so it runs in about n log n.
public struct HDBSCAN: Sendable, Equatable {
    /// The fewest points a cluster holds (scikit-learn's `min_cluster_size`).
    public var minClusterSize: Int
    /// The neighbour whose distance is a point's core distance, itself
    /// counted first (scikit-learn's `min_samples`; by default `minClusterSize`).
    public var minSamples: Int

    /// Creates the settings; both must be at least 2 (see `validate`).
    public init(minClusterSize: Int = 5, minSamples: Int? = nil) {
        self.minClusterSize = minClusterSize
        self.minSamples = minSamples ?? minClusterSize
    }

    /// The clusters of a set of points.
    public struct Result: Sendable, Equatable {
        /// Per point, its cluster (0 up to `clusterCount − 1`, in the order
        /// scikit-learn numbers them), or −1 for noise.
        public var labels: [Int32]
        /// How many clusters there are.
        public var clusterCount: Int
    }

    /// Clusters `points`. Fewer than two points, or fewer than
    /// `2 × minClusterSize`, can hold no two clusters: everything is noise.
    public func cluster(_ points: [SIMD2<Double>]) -> Result {
        let n = points.count
        guard n >= 2 else { return Result(labels: [Int32](repeating: -1, count: n), clusterCount: 0) }
        let tree = PlaneTree(points: points)
        let coreSquared = tree.kthNeighborDistancesSquared(k: minSamples)
        let edges = Self.spanningTree(tree, coreSquared: coreSquared)
        // Back to the caller's indices; ties in weight ordered by index, so the hierarchy is one.
        var linkageEdges = edges.map { e -> (a: Int, b: Int, w: Double) in
            let a = tree.original[Int(e.a)], b = tree.original[Int(e.b)]
            return (min(a, b), max(a, b), e.w)
        }
        linkageEdges.sort { $0.w < $1.w || ($0.w == $1.w && ($0.a < $1.a || ($0.a == $1.a && $0.b < $1.b))) }
        let hierarchy = SingleLinkage(points: n, sortedEdges: linkageEdges)
        return CondensedTree(hierarchy, minClusterSize: minClusterSize).excessOfMassLabels()
    }

    // MARK: - Minimum spanning tree

    /// The minimum spanning tree of the mutual reachability graph, by
    /// Borůvka rounds over the tree (points in tree order).
    static func spanningTree(_ tree: PlaneTree, coreSquared: [Double]) -> [(a: Int32, b: Int32, w: Double)] {
        let n = tree.count
        var edges: [(a: Int32, b: Int32, w: Double)] = []
        edges.reserveCapacity(n - 1)
        var parent = Array(0..<n)
        func find(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        // The smallest core distance below each node, children before parents.
        var nodeMinCore = [Double](repeating: .infinity, count: tree.nodes.count)
        for index in tree.nodes.indices.reversed() {
            let node = tree.nodes[index]
            if node.left < 0 {
                for t in Int(node.start)..<Int(node.end) { nodeMinCore[index] = min(nodeMinCore[index], coreSquared[t]) }
            } else {
                nodeMinCore[index] = min(nodeMinCore[Int(node.left)], nodeMinCore[Int(node.right)])
            }
        }
        var component = [Int32](0..<Int32(n))
        var nodeComponent = [Int32](repeating: -1, count: tree.nodes.count)
        while edges.count < n - 1 {
            // A node whose points are all in one component is skipped by that component's search.
            for index in tree.nodes.indices.reversed() {
                let node = tree.nodes[index]
                if node.left < 0 {
                    let first = component[Int(node.start)]
                    var same = true
                    for t in Int(node.start)..<Int(node.end) where component[t] != first { same = false; break }
                    nodeComponent[index] = same ? first : -1
                } else {
                    let l = nodeComponent[Int(node.left)]
                    nodeComponent[index] = l == nodeComponent[Int(node.right)] ? l : -1
                }
            }
            // The points of each component, together (a counting sort by component).
            var counts = [Int](repeating: 0, count: n + 1)
            for t in 0..<n { counts[Int(component[t]) + 1] += 1 }
            var roots: [Int32] = []
            for c in 0..<n where counts[c + 1] > 0 { roots.append(Int32(c)) }
            for c in 0..<n { counts[c + 1] += counts[c] }
            var members = [Int32](repeating: 0, count: n)
            var fill = counts
            for t in 0..<n { members[fill[Int(component[t])]] = Int32(t); fill[Int(component[t])] += 1 }

            let found = roots.count
            var best = [(a: Int32, b: Int32, w: Double)](repeating: (-1, -1, .infinity), count: found)
            let search = BoruvkaSearch(tree: tree, coreSquared: coreSquared, nodeMinCore: nodeMinCore,
                                       component: component, nodeComponent: nodeComponent)
            best.withUnsafeMutableBufferPointer { out in
                let shared = UncheckedSendable(out)
                parallelChunks(found, chunk: max(1, found / (activeCoreCount * 16))) { _, range in
                    for r in range {
                        let c = Int(roots[r])
                        shared.value[r] = search.nearestOutside(members: members[counts[c]..<counts[c + 1]])
                    }
                }
            }
            var added = false
            for edge in best where edge.a >= 0 {
                let ra = find(Int(edge.a)), rb = find(Int(edge.b))
                guard ra != rb else { continue }
                parent[max(ra, rb)] = min(ra, rb)
                edges.append((edge.a, edge.b, edge.w.squareRoot()))
                added = true
            }
            if !added { break }
            for t in 0..<n { component[t] = Int32(find(t)) }
        }
        return edges
    }
}

/// One Borůvka round's search: for a component, the lightest mutual
/// reachability edge to a point of another component.
private struct BoruvkaSearch: Sendable {
    let tree: PlaneTree
    let coreSquared: [Double]
    let nodeMinCore: [Double]
    let component: [Int32]
    let nodeComponent: [Int32]

    /// The lightest edge (squared weight) from any of `members` (one
    /// component) to another component. The bound is shared by the members,
    /// so each search after the first only looks closer than the best so far.
    func nearestOutside(members: ArraySlice<Int32>) -> (a: Int32, b: Int32, w: Double) {
        var best: (a: Int32, b: Int32, w: Double) = (-1, -1, .infinity)
        guard let first = members.first else { return best }
        let own = component[Int(first)]
        // The tree is balanced (median splits): its depth is about log2(n / 16), far below 128.
        let stack = UnsafeMutablePointer<Int32>.allocate(capacity: 256)
        defer { stack.deallocate() }
        tree.x.withUnsafeBufferPointer { xs in
        tree.y.withUnsafeBufferPointer { ys in
        tree.nodes.withUnsafeBufferPointer { nodes in
        coreSquared.withUnsafeBufferPointer { core in
        nodeMinCore.withUnsafeBufferPointer { nodeCore in
        component.withUnsafeBufferPointer { comp in
        nodeComponent.withUnsafeBufferPointer { nodeComp in
            for member in members {
                let p = Int(member)
                let coreP = core[p]
                // A point's edges are never lighter than its own core distance.
                if coreP >= best.w { continue }
                let px = xs[p], py = ys[p]
                var depth = 1
                stack[0] = 0
                while depth > 0 {
                    depth -= 1
                    let index = Int(stack[depth])
                    if nodeComp[index] == own { continue }
                    let node = nodes[index]
                    let dx = px < node.minX ? node.minX - px : (px > node.maxX ? px - node.maxX : 0)
                    let dy = py < node.minY ? node.minY - py : (py > node.maxY ? py - node.maxY : 0)
                    let bound = max(coreP, max(nodeCore[index], dx * dx + dy * dy))
                    if bound >= best.w { continue }
                    if node.left < 0 {
                        for q in Int(node.start)..<Int(node.end) where comp[q] != own {
                            let ex = xs[q] - px, ey = ys[q] - py
                            let w = max(max(coreP, core[q]), ex * ex + ey * ey)
                            if w < best.w { best = (Int32(p), Int32(q), w) }
                        }
                        // The best possible for this point: stop searching from it.
                        if best.w <= coreP { break }
                        continue
                    }
                    // The nearer child is pushed last, so it is searched first.
                    let l = Int(node.left), r = Int(node.right)
                    let lc = (nodes[l].minX + nodes[l].maxX - 2 * px, nodes[l].minY + nodes[l].maxY - 2 * py)
                    let rc = (nodes[r].minX + nodes[r].maxX - 2 * px, nodes[r].minY + nodes[r].maxY - 2 * py)
                    let leftNearer = lc.0 * lc.0 + lc.1 * lc.1 <= rc.0 * rc.0 + rc.1 * rc.1
                    stack[depth] = Int32(leftNearer ? r : l)
                    stack[depth + 1] = Int32(leftNearer ? l : r)
                    depth += 2
                }
            }
        }}}}}}}
        return best
    }
}

/// The single-linkage hierarchy of a spanning tree, as SciPy numbers it:
/// points are 0..<n, merge `i` creates node `n + i`.
struct SingleLinkage {
    /// Per merge: the two nodes merged, the distance, and the points below.
    var left: [Int], right: [Int], distance: [Double], size: [Int]
    let points: Int

    init(points n: Int, sortedEdges: [(a: Int, b: Int, w: Double)]) {
        points = n
        left = []; right = []; distance = []; size = []
        left.reserveCapacity(n); right.reserveCapacity(n); distance.reserveCapacity(n); size.reserveCapacity(n)
        var parent = Array(0..<n), node = Array(0..<n), count = [Int](repeating: 1, count: n)
        func find(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        for edge in sortedEdges {
            let ra = find(edge.a), rb = find(edge.b)
            guard ra != rb else { continue }
            left.append(node[ra]); right.append(node[rb]); distance.append(edge.w)
            size.append(count[ra] + count[rb])
            parent[rb] = ra
            count[ra] += count[rb]
            node[ra] = n + left.count - 1
        }
        // A forest (possible only when the tree search stopped early) is joined at infinity, as one hierarchy.
        var roots = (0..<n).filter { find($0) == $0 }
        while roots.count > 1 {
            let a = roots.removeFirst(), b = roots.removeFirst()
            left.append(node[a]); right.append(node[b]); distance.append(.infinity); size.append(count[a] + count[b])
            parent[b] = a; count[a] += count[b]; node[a] = n + left.count - 1
            roots.insert(a, at: 0)
        }
    }

    /// The points below node `id` (a point itself, or a merge's leaves).
    func leaves(below id: Int) -> [Int] {
        var out: [Int] = [], stack = [id]
        while let top = stack.popLast() {
            if top < points { out.append(top) } else { stack.append(left[top - points]); stack.append(right[top - points]) }
        }
        return out
    }

    /// The points below node `id`.
    func size(of id: Int) -> Int { id < points ? 1 : size[id - points] }
}

/// The condensed cluster tree (hdbscan's `condense_tree`): walking down the
/// hierarchy, a split in which both sides have `minClusterSize` points makes
/// two new clusters; a smaller side's points fall out of the cluster at that
/// level. Levels are λ = 1 / distance.
struct CondensedTree {
    /// Per cluster (0 is the root): its parent cluster (−1 for the root) and the λ it was born at.
    var clusterParent: [Int] = [0], birth: [Double] = [0]
    /// Per cluster, its stability: Σ over what leaves it of (λ leaving − λ birth) × points.
    var stability: [Double] = [0]
    /// Per point: the cluster it fell out of.
    var fallout: [Int]

    init(_ h: SingleLinkage, minClusterSize: Int) {
        let n = h.points
        fallout = [Int](repeating: 0, count: n)
        guard n >= 2 else { return }
        let root = 2 * n - 2
        clusterParent = [-1]
        // The cluster each hierarchy node belongs to, or −1 once its points fell out.
        var clusterOf = [Int](repeating: -1, count: 2 * n - 1)
        clusterOf[root] = 0
        var queue = [root], head = 0
        func fallOut(_ node: Int, from cluster: Int, at lambda: Double) {
            for p in h.leaves(below: node) {
                fallout[p] = cluster
                stability[cluster] += lambda - birth[cluster]
            }
        }
        while head < queue.count {
            let node = queue[head]; head += 1
            let cluster = clusterOf[node]
            guard node >= n, cluster >= 0 else { continue }
            let merge = node - n
            let lambda = 1 / max(h.distance[merge], 1e-300)
            let l = h.left[merge], r = h.right[merge]
            let ls = h.size(of: l), rs = h.size(of: r)
            if ls >= minClusterSize && rs >= minClusterSize {
                for child in [l, r] {
                    let id = clusterParent.count
                    clusterParent.append(cluster); birth.append(lambda); stability.append(0)
                    stability[cluster] += (lambda - birth[cluster]) * Double(h.size(of: child))
                    clusterOf[child] = id
                    queue.append(child)
                }
            } else if ls < minClusterSize && rs < minClusterSize {
                fallOut(l, from: cluster, at: lambda)
                fallOut(r, from: cluster, at: lambda)
            } else {
                let (small, big) = ls < minClusterSize ? (l, r) : (r, l)
                fallOut(small, from: cluster, at: lambda)
                clusterOf[big] = cluster
                queue.append(big)
            }
        }
    }

    /// The labels of the excess-of-mass clusters: bottom-up, a cluster is
    /// kept when it is more stable than its children together; the root never is.
    func excessOfMassLabels() -> HDBSCAN.Result {
        let count = clusterParent.count
        var selected = [Bool](repeating: true, count: count)
        selected[0] = false
        var children = [[Int]](repeating: [], count: count)
        for c in 1..<max(count, 1) { children[clusterParent[c]].append(c) }
        var stability = self.stability
        // Children have larger ids than their parents: descending ids go bottom-up.
        for c in stride(from: count - 1, through: 1, by: -1) {
            let below = children[c].reduce(0) { $0 + stability[$1] }
            if below > stability[c] {
                selected[c] = false
                stability[c] = below
            } else {
                var stack = children[c]
                while let d = stack.popLast() { selected[d] = false; stack += children[d] }
            }
        }
        var number = [Int32](repeating: -1, count: count)
        var next: Int32 = 0
        for c in 0..<count where selected[c] { number[c] = next; next += 1 }
        // The selected cluster at or above each cluster (parents first, by id).
        var label = [Int32](repeating: -1, count: count)
        for c in 1..<max(count, 1) { label[c] = selected[c] ? number[c] : label[clusterParent[c]] }
        return HDBSCAN.Result(labels: fallout.map { label[$0] }, clusterCount: Int(next))
    }
}
