/// Approximate k-nearest neighbours by nearest-neighbour descent (Dong,
/// Moses & Li 2011) started from a forest of random-projection trees, as
/// pynndescent does for umap-learn. Trees give every point a first set of
/// neighbours from its leaves; descent then improves them by looking at
/// neighbours of neighbours until few improvements remain.
///
/// Deterministic for a seed: tree splits come from per-tree generators,
/// candidate samples from hashed priorities, and updates are applied in a
/// fixed order, whatever the number of threads.
struct NeighborDescent {
    var matrix: EmbeddingMatrix
    /// Neighbours per point including the point itself.
    let k: Int
    let seed: UInt64
    /// Points per tree leaf (pynndescent's smallest default).
    var leafSize = 60
    /// Trees in the forest.
    var trees: Int
    /// Most descent rounds.
    var maxIterations: Int
    /// Candidates sampled per point and kind (new/old) in each round.
    var maxCandidates: Int
    /// Stop when fewer than this fraction of k·N updates happened in a round.
    var delta: Double = 0.001

    init(matrix: EmbeddingMatrix, k: Int, seed: UInt64) {
        self.matrix = matrix
        self.k = k
        self.seed = seed
        let n = Double(matrix.rows)
        // Half umap-learn's forest: descent reaches the same recall (0.994
        // on 20,000 × 768 against exact search) from fewer trees, sooner.
        trees = min(64, 3 + Int((n.squareRoot() / 40).rounded()))
        maxIterations = max(5, Int(n.log2Rounded))
        maxCandidates = min(60, k)
    }

    /// Whether to search a copy of the matrix whose rows are sorted by one
    /// random projection tree's leaves: similar rows then sit close in
    /// memory, and the search, bound by memory traffic, runs faster.
    var sortsRows = true

    func run() -> NeighborGraph {
        let n = matrix.rows
        let size = k - 1  // the point itself is added at the end
        guard n > 1, size > 0 else { return ExactNeighbors.search(matrix, k: k) }
        guard sortsRows else { return search() }
        let order = localityOrder()
        let sorted = Self.rows(of: matrix, in: order)
        var inner = self
        inner.matrix = sorted
        inner.sortsRows = false
        let found = inner.search()
        // Back to the caller's row numbers.
        var position = [Int](repeating: 0, count: n)
        for (r, i) in order.enumerated() { position[Int(i)] = r }
        var indices = [Int32](repeating: 0, count: n * k)
        var distances = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let r = position[i]
            for j in 0..<k {
                let neighbour = found.indices[r * k + j]
                indices[i * k + j] = neighbour < 0 ? -1 : order[Int(neighbour)]
                distances[i * k + j] = found.distances[r * k + j]
            }
        }
        return NeighborGraph(count: n, k: k, indices: indices, distances: distances)
    }

    /// An order of the rows that keeps similar rows together: the leaves of
    /// one random projection tree, in tree order.
    func localityOrder() -> [Int32] {
        buildTree(number: 0xA11, x: UnsafePointer(matrix.storage.baseAddress!), n: matrix.rows, d: matrix.dimension).0
    }

    /// A copy of `matrix` whose row r is row `order[r]`. A file-mapped
    /// matrix is read in its own order, each block's pages given back
    /// (`releaseResidentPages`) once its rows are copied: the copy grows as
    /// the mapping shrinks, and the two together stay near one matrix.
    static func rows(of matrix: EmbeddingMatrix, in order: [Int32]) -> EmbeddingMatrix {
        let d = matrix.dimension
        let x = UnsafePointer(matrix.storage.baseAddress!)
        let sorted = EmbeddingMatrix(uninitializedRows: order.count, dimension: d)
        guard matrix.isMapped, order.count == matrix.rows else {
            parallelChunks(order.count, chunk: 4_096) { _, range in
                for r in range { sorted.row(r).update(from: x + Int(order[r]) * d, count: d) }
            }
            return sorted
        }
        let position: [Int32] = {
            var position = [Int32](repeating: 0, count: order.count)
            for (r, i) in order.enumerated() { position[Int(i)] = Int32(r) }
            return position
        }()
        parallelChunks(matrix.rows, chunk: 4_096) { _, range in
            for i in range { sorted.row(Int(position[i])).update(from: x + i * d, count: d) }
            let rowBytes = d * MemoryLayout<Float>.stride
            matrix.releaseResidentPages(bytes: range.lowerBound * rowBytes, count: range.count * rowBytes)
        }
        return sorted
    }

    /// The search itself, in this matrix's row order.
    private func search() -> NeighborGraph {
        let heaps = NeighborHeaps(count: matrix.rows, size: k - 1)
        plantForest(into: heaps)
        fillEmpty(heaps)
        descend(heaps)
        return graph(from: heaps)
    }

    /// Descent started from `start` (a graph of this matrix's rows with k
    /// neighbours each, e.g. an inverted file's) instead of a forest: its
    /// neighbours of neighbours are compared until few improvements remain
    /// or `maxIterations` rounds have run. Pairs `known` says were already
    /// compared both ways (by the search that made `start`) are not compared
    /// again: neither can enter the other's neighbours.
    func refine(_ start: NeighborGraph, skipping known: SearchedListPairs? = nil) -> NeighborGraph {
        let n = matrix.rows, size = k - 1
        precondition(start.count == n && start.k == k, "NeighborDescent.refine: the start graph has another shape")
        guard n > 1, size > 0 else { return start }
        let heaps = NeighborHeaps(count: n, size: size)
        parallelChunks(n, chunk: 4_096) { _, range in
            for p in range {
                for j in 0..<k {
                    let q = start.indices[p * k + j]
                    if q >= 0 && Int(q) != p { heaps.push(p, q, start.distances[p * k + j]) }
                }
            }
        }
        fillEmpty(heaps)
        descend(heaps, skipping: known)
        return graph(from: heaps)
    }

    // MARK: - Random projection forest

    /// Builds each tree and joins the points of each of its leaves.
    private func plantForest(into heaps: NeighborHeaps) {
        let n = matrix.rows, d = matrix.dimension
        let x = UnsafePointer(matrix.storage.baseAddress!)
        // Trees are built two at a time (one per core) and joined in tree
        // order; a tree's leaves are disjoint, so they are joined in parallel.
        var built: [Int: ([Int32], [Int])] = [:]
        var next = 0
        while next < trees {
            let batch = min(mapThreadCount, trees - next)
            let results = SharedBuffer<([Int32], [Int])?>(repeating: nil, count: batch)
            parallelFor(batch) { task in
                results[task] = buildTree(number: next + task, x: x, n: n, d: d)
            }
            for task in 0..<batch { built[next + task] = results[task] }
            for task in 0..<batch {
                guard let (order, leafStarts) = built.removeValue(forKey: next + task) else { continue }
                let leaves = leafStarts.count - 1
                parallelChunks(leaves, chunk: 64) { _, range in
                    for leaf in range {
                        let members = leafStarts[leaf]..<leafStarts[leaf + 1]
                        for a in members {
                            let p = Int(order[a])
                            for b in (a + 1)..<members.upperBound {
                                let q = Int(order[b])
                                let distance = MapKernels.cosineDistance(x + p * d, x + q * d, d)
                                heaps.push(p, Int32(q), distance)
                                heaps.push(q, Int32(p), distance)
                            }
                        }
                    }
                }
            }
            next += batch
        }
    }

    /// One tree: a permutation of the points and the start of each leaf in it.
    private func buildTree(number: Int, x: UnsafePointer<Float>, n: Int, d: Int) -> ([Int32], [Int]) {
        var random = Xoshiro256StarStar(seed: seed, stream: 0x7265_6500 + UInt64(number))
        var order = (0..<n).map { Int32($0) }
        var leafStarts: [Int] = []
        var normal = [Float](repeating: 0, count: d)
        var sides = [Bool](repeating: false, count: n)
        var stack = [(0, n)]
        var leaves: [(Int, Int)] = []
        while let (start, end) = stack.popLast() {
            let count = end - start
            if count <= leafSize {
                leaves.append((start, end))
                continue
            }
            let a = Int(order[start + random.nextIntFast(below: count)])
            var b = Int(order[start + random.nextIntFast(below: count - 1)])
            if b == a { b = Int(order[end - 1]) }
            var norm: Float = 0
            for j in 0..<d {
                normal[j] = x[a * d + j] - x[b * d + j]
                norm += normal[j] * normal[j]
            }
            var left = 0
            if norm > 1e-12 {
                normal.withUnsafeBufferPointer { plane in
                    for i in start..<end {
                        let margin = MapKernels.dot(plane.baseAddress!, x + Int(order[i]) * d, d)
                        let side = margin == 0 ? (random.next() & 1 == 0) : margin > 0
                        sides[i] = side
                        if side { left += 1 }
                    }
                }
            }
            if left == 0 || left == count {
                // No plane separates these points (duplicates): halve them.
                for i in start..<end { sides[i] = i - start < count / 2 }
                left = count / 2
            }
            // Stable partition: left side first.
            var lower = [Int32](), upper = [Int32]()
            lower.reserveCapacity(left)
            upper.reserveCapacity(count - left)
            for i in start..<end { if sides[i] { lower.append(order[i]) } else { upper.append(order[i]) } }
            for (offset, value) in (lower + upper).enumerated() { order[start + offset] = value }
            stack.append((start + left, end))
            stack.append((start, start + left))
        }
        leaves.sort { $0.0 < $1.0 }
        for leaf in leaves { leafStarts.append(leaf.0) }
        leafStarts.append(n)
        return (order, leafStarts)
    }

    /// Gives every point with empty heap slots random neighbours, so descent
    /// has something to start from however the trees fell.
    private func fillEmpty(_ heaps: NeighborHeaps) {
        let n = matrix.rows, d = matrix.dimension
        let x = UnsafePointer(matrix.storage.baseAddress!)
        var random = Xoshiro256StarStar(seed: seed, stream: 0x6669_6C6C)
        for p in 0..<n where heaps.indices[p * heaps.size] < 0 {
            var tries = 0
            while heaps.indices[p * heaps.size] < 0 && tries < 4 * heaps.size {
                let q = random.nextIntFast(below: n)
                tries += 1
                if q == p { continue }
                heaps.push(p, Int32(q), MapKernels.cosineDistance(x + p * d, x + q * d, d))
            }
        }
    }

    // MARK: - Descent

    private struct Update {
        var a: Int32
        var b: Int32
        var distance: Float
    }

    private func descend(_ heaps: NeighborHeaps, skipping known: SearchedListPairs? = nil) {
        let n = matrix.rows, d = matrix.dimension, size = heaps.size
        let x = UnsafePointer(matrix.storage.baseAddress!)
        let newCandidates = CandidateHeaps(count: n, size: maxCandidates)
        let oldCandidates = CandidateHeaps(count: n, size: maxCandidates)
        let threads = mapThreadCount
        let bounds = SharedBuffer<Float>(repeating: 0, count: n)
        let blockSize = 4_096, chunk = 256

        for iteration in 0..<maxIterations {
            // Sample candidates: each neighbour relation, both directions,
            // with one hashed priority per pair. Each thread fills the
            // candidate heaps of the points it owns, in the order one thread
            // would: the heaps come out the same whatever the thread count.
            newCandidates.reset()
            oldCandidates.reset()
            let round = Xoshiro256StarStar.mix(seed, 0x6E6E_6400 + UInt64(iteration))
            parallelFor(threads) { owner in
                for p in 0..<n {
                    let ownsP = p % threads == owner
                    for j in 0..<size {
                        let q = heaps.indices[p * size + j]
                        if q < 0 { continue }
                        let ownsQ = Int(q) % threads == owner
                        guard ownsP || ownsQ else { continue }
                        let low = UInt64(min(p, Int(q))), high = UInt64(max(p, Int(q)))
                        let priority = Xoshiro256StarStar.mix(round, low << 32 | high)
                        let target = heaps.flags[p * size + j] != 0 ? newCandidates : oldCandidates
                        if ownsP { target.push(p, q, priority) }
                        if ownsQ { target.push(Int(q), Int32(p), priority) }
                    }
                }
            }
            // Sampled new neighbours become old.
            parallelChunks(n, chunk: 4_096) { _, range in
                for p in range {
                    for j in 0..<size where heaps.flags[p * size + j] != 0 {
                        let q = heaps.indices[p * size + j]
                        let base = p * maxCandidates
                        for c in 0..<maxCandidates where newCandidates.indices[base + c] == q {
                            heaps.flags[p * size + j] = 0
                            break
                        }
                    }
                }
            }

            // Each point's current bound; only the points whose heaps took
            // an update change it, and their owners refresh it after each block.
            parallelChunks(n, chunk: 65_536) { _, range in
                for p in range { bounds[p] = heaps.bound(p) }
            }
            var changes = 0
            for blockStart in stride(from: 0, to: n, by: blockSize) {
                let blockEnd = min(blockStart + blockSize, n)
                let chunks = (blockEnd - blockStart + chunk - 1) / chunk
                let updates = SharedBuffer<[Update]>(repeating: [], count: chunks)
                parallelChunks(blockEnd - blockStart, chunk: chunk) { task, range in
                    var found: [Update] = []
                    for offset in range {
                        let p = blockStart + offset
                        let newList = newCandidates.indices + p * maxCandidates
                        let oldList = oldCandidates.indices + p * maxCandidates
                        for i in 0..<maxCandidates {
                            let a = newList[i]
                            if a < 0 { continue }
                            let rowA = x + Int(a) * d
                            let boundA = bounds[Int(a)]
                            for j in (i + 1)..<maxCandidates {
                                let b = newList[j]
                                if b < 0 { continue }
                                if let known, known.compared(a, b) { continue }
                                let distance = MapKernels.cosineDistance(rowA, x + Int(b) * d, d)
                                if distance < boundA || distance < bounds[Int(b)] {
                                    found.append(Update(a: a, b: b, distance: distance))
                                }
                            }
                            for j in 0..<maxCandidates {
                                let b = oldList[j]
                                if b < 0 || b == a { continue }
                                if let known, known.compared(a, b) { continue }
                                let distance = MapKernels.cosineDistance(rowA, x + Int(b) * d, d)
                                if distance < boundA || distance < bounds[Int(b)] {
                                    found.append(Update(a: a, b: b, distance: distance))
                                }
                            }
                        }
                    }
                    updates[task] = found
                }
                // Each thread applies the updates of the points it owns, in
                // chunk order: heaps never race and the order is fixed.
                let counts = SharedBuffer<Int>(repeating: 0, count: threads)
                parallelFor(threads) { owner in
                    var applied = 0
                    for task in 0..<chunks {
                        for update in updates[task] {
                            if Int(update.a) % threads == owner, heaps.push(Int(update.a), update.b, update.distance) {
                                applied += 1
                                bounds[Int(update.a)] = heaps.bound(Int(update.a))
                            }
                            if Int(update.b) % threads == owner, heaps.push(Int(update.b), update.a, update.distance) {
                                applied += 1
                                bounds[Int(update.b)] = heaps.bound(Int(update.b))
                            }
                        }
                    }
                    counts[owner] = applied
                }
                for owner in 0..<threads { changes += counts[owner] }
            }
            if Double(changes) <= delta * Double(k) * Double(n) { break }
        }
    }

    /// Sorts each heap nearest first and puts the point itself in front.
    private func graph(from heaps: NeighborHeaps) -> NeighborGraph {
        let n = matrix.rows, size = heaps.size
        var indices = [Int32](repeating: 0, count: n * k)
        var distances = [Float](repeating: 0, count: n * k)
        var pairs: [(Float, Int32)] = []
        for p in 0..<n {
            pairs.removeAll(keepingCapacity: true)
            for j in 0..<size { pairs.append((heaps.distances[p * size + j], heaps.indices[p * size + j])) }
            pairs.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            indices[p * k] = Int32(p)
            distances[p * k] = 0
            for j in 0..<size {
                indices[p * k + 1 + j] = pairs[j].1
                distances[p * k + 1 + j] = pairs[j].0
            }
        }
        return NeighborGraph(count: n, k: k, indices: indices, distances: distances)
    }
}

extension Double {
    /// log2 of the value, rounded to the nearest integer.
    var log2Rounded: Double {
        var exponent = 0.0, value = self
        while value >= 2 { value /= 2; exponent += 1 }
        // value in [1, 2): round up past √2.
        return value >= 2.0.squareRoot() ? exponent + 1 : exponent
    }
}
