#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// UMAP's weighted graph of the album (McInnes, Healy & Melville 2018, §3):
/// each point's neighbour distances become memberships
/// exp(−(d − ρ)/σ), with ρ the distance to its nearest (non-identical)
/// neighbour and σ chosen so the memberships sum to log2(k); the directed
/// graphs are then joined by fuzzy union, w = a + b − a·b.
///
/// Stored as symmetric coordinate lists sorted by (head, tail): both
/// directions of every edge are present, as umap-learn's COO matrix has them.
struct FuzzySimplicialSet: Sendable {
    /// The number of points.
    let count: Int
    /// Edge sources.
    var heads: [Int32]
    /// Edge targets.
    var tails: [Int32]
    /// Membership strengths in (0, 1].
    var weights: [Float]

    /// Each point's distance to its nearest neighbour (ρ) and its bandwidth (σ).
    static func smoothDistances(_ graph: NeighborGraph) -> (rho: [Double], sigma: [Double]) {
        let n = graph.count, k = graph.k
        guard n > 0, k > 0 else { return ([Double](repeating: 0, count: n), [Double](repeating: 0, count: n)) }
        let target = log2(Double(k))
        var total = 0.0, listed = 0
        for (value, index) in zip(graph.distances, graph.indices) where index >= 0 && value.isFinite {
            total += Double(value)
            listed += 1
        }
        let meanDistance = total / Double(max(listed, 1))
        // Each point's bisection is its own: chunks of points run on every core.
        let rhoOut = SharedBuffer<Double>(repeating: 0, count: n)
        let sigmaOut = SharedBuffer<Double>(repeating: 0, count: n)
        parallelChunks(n, chunk: 8_192) { _, range in
        let rho = rhoOut.pointer, sigma = sigmaOut.pointer
        for i in range {
            let row = graph.distances[(i * k)..<(i * k + k)].map(Double.init)
            let valid = (0..<k).map { graph.indices[i * k + $0] >= 0 && row[$0].isFinite }
            // ρ: the smallest positive distance (local connectivity 1).
            var nearest = Double.infinity
            for j in 0..<k where valid[j] && row[j] > 0 { nearest = min(nearest, row[j]) }
            rho[i] = nearest.isFinite ? nearest : 0
            var low = 0.0, high = Double.infinity, mid = 1.0
            for _ in 0..<64 {
                var sum = 0.0
                for j in 1..<max(k, 1) where valid[j] {
                    let excess = row[j] - rho[i]
                    sum += excess > 0 ? exp(-excess / mid) : 1
                }
                if abs(sum - target) < 1e-5 { break }
                if sum > target {
                    high = mid
                    mid = (low + high) / 2
                } else {
                    low = mid
                    mid = high.isInfinite ? mid * 2 : (low + high) / 2
                }
            }
            // A floor keeps σ from collapsing where all neighbours sit at ρ.
            if rho[i] > 0 {
                let kept = (0..<k).filter { valid[$0] }
                let mean = kept.reduce(0) { $0 + row[$1] } / Double(max(kept.count, 1))
                mid = max(mid, 1e-3 * mean)
            } else {
                mid = max(mid, 1e-3 * meanDistance)
            }
            sigma[i] = mid
        }
        }
        return (rhoOut.array, sigmaOut.array)
    }

    /// A graph from its edge lists.
    init(count: Int, heads: [Int32], tails: [Int32], weights: [Float]) {
        self.count = count
        self.heads = heads
        self.tails = tails
        self.weights = weights
    }

    /// The fuzzy union of the neighbour graph's memberships.
    init(graph: NeighborGraph) {
        let n = graph.count, k = graph.k
        count = n
        let (rho, sigma) = Self.smoothDistances(graph)
        // Directed memberships, then both directions counted per row.
        var degree = [Int](repeating: 0, count: n + 1)
        var directed: [(Int32, Int32, Float)] = []
        directed.reserveCapacity(n * max(k - 1, 0))
        for i in 0..<n {
            for j in 0..<k {
                let t = graph.indices[i * k + j]
                if t < 0 || Int(t) == i { continue }
                let excess = Double(graph.distances[i * k + j]) - rho[i]
                let value = excess <= 0 || sigma[i] == 0 ? 1.0 : exp(-excess / sigma[i])
                if value <= 0 { continue }
                directed.append((Int32(i), t, Float(value)))
                degree[i + 1] += 1
                degree[Int(t) + 1] += 1
            }
        }
        for i in 0..<n { degree[i + 1] += degree[i] }
        // Per row: (column, forward weight, backward weight).
        var columns = [Int32](repeating: 0, count: degree[n])
        var forward = [Float](repeating: 0, count: degree[n])
        var backward = [Float](repeating: 0, count: degree[n])
        var fill = degree
        for (i, t, w) in directed {
            let a = fill[Int(i)]; fill[Int(i)] += 1
            columns[a] = t; forward[a] = w
            let b = fill[Int(t)]; fill[Int(t)] += 1
            columns[b] = i; backward[b] = w
        }
        // Each chunk of rows is joined on its own core; the chunks' edges
        // are then laid end to end in row order.
        let chunk = 16_384
        let (starts, targets, outgoing, incoming) = (degree, columns, forward, backward)
        let parts = SharedBuffer<([Int32], [Int32], [Float])>(repeating: ([], [], []), count: (n + chunk - 1) / chunk)
        parallelChunks(n, chunk: chunk) { task, range in
            var heads: [Int32] = [], tails: [Int32] = [], weights: [Float] = []
            let expected = starts[range.upperBound] - starts[range.lowerBound]
            heads.reserveCapacity(expected); tails.reserveCapacity(expected); weights.reserveCapacity(expected)
            var row: [(Int32, Float, Float)] = []
            for i in range {
                row.removeAll(keepingCapacity: true)
                for e in starts[i]..<starts[i + 1] { row.append((targets[e], outgoing[e], incoming[e])) }
                row.sort { $0.0 < $1.0 }
                var e = 0
                while e < row.count {
                    var f = row[e].1, b = row[e].2
                    var next = e + 1
                    while next < row.count && row[next].0 == row[e].0 {
                        f = max(f, row[next].1); b = max(b, row[next].2)
                        next += 1
                    }
                    let w = f + b - f * b
                    if w > 0 {
                        heads.append(Int32(i)); tails.append(row[e].0); weights.append(w)
                    }
                    e = next
                }
            }
            parts[task] = (heads, tails, weights)
        }
        var heads: [Int32] = [], tails: [Int32] = [], weights: [Float] = []
        heads.reserveCapacity(degree[n]); tails.reserveCapacity(degree[n]); weights.reserveCapacity(degree[n])
        for task in 0..<parts.count {
            heads += parts[task].0; tails += parts[task].1; weights += parts[task].2
            parts[task] = ([], [], [])
        }
        self.heads = heads
        self.tails = tails
        self.weights = weights
    }

    /// Drops edges too weak to be sampled even once in `epochs` epochs, as
    /// umap-learn does before optimising.
    mutating func pruneWeak(epochs: Int) {
        guard let strongest = weights.max(), epochs > 0 else { return }
        let floor = strongest / Float(epochs)
        var h: [Int32] = [], t: [Int32] = [], w: [Float] = []
        for e in weights.indices where weights[e] >= floor {
            h.append(heads[e]); t.append(tails[e]); w.append(weights[e])
        }
        heads = h; tails = t; weights = w
    }
}
