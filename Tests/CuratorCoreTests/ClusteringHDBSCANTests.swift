import XCTest
@testable import CuratorCore

final class ClusteringHDBSCANTests: XCTestCase {
    private func randomPoints(_ n: Int, seed: UInt64) -> [SIMD2<Double>] {
        var random = Xoshiro256StarStar(seed: seed)
        return (0..<n).map { _ in SIMD2(Double(random.next() >> 11) / Double(1 << 53) * 10, Double(random.next() >> 11) / Double(1 << 53) * 10) }
    }

    /// Borůvka over the k-d tree finds a spanning tree exactly as light as
    /// Prim's algorithm over every pair of mutual reachability distances.
    func testSpanningTreeIsMinimalAgainstPrimOverAllPairs() {
        for (n, k) in [(700, 5), (300, 2), (64, 15)] {
            let points = randomPoints(n, seed: UInt64(n))
            let tree = PlaneTree(points: points)
            let core = tree.kthNeighborDistancesSquared(k: k)
            let edges = HDBSCAN.spanningTree(tree, coreSquared: core)
            XCTAssertEqual(edges.count, n - 1)
            let fast = edges.reduce(0) { $0 + $1.w }
            // Prim's on the tree-order points, with every pair.
            func weight(_ a: Int, _ b: Int) -> Double {
                let dx = tree.x[a] - tree.x[b], dy = tree.y[a] - tree.y[b]
                return max(core[a], core[b], dx * dx + dy * dy).squareRoot()
            }
            var inTree = [Bool](repeating: false, count: n), best = [Double](repeating: .infinity, count: n)
            var total = 0.0, current = 0
            inTree[0] = true
            for _ in 1..<n {
                var next = -1
                for j in 0..<n where !inTree[j] {
                    best[j] = min(best[j], weight(current, j))
                    if next < 0 || best[j] < best[next] { next = j }
                }
                total += best[next]
                inTree[next] = true
                current = next
            }
            XCTAssertEqual(fast, total, accuracy: 1e-9 * total, "n \(n), min_samples \(k)")
        }
    }

    /// The core distance is the k-th nearest with the point itself first, as scikit-learn's.
    func testCoreDistanceCountsThePointItself() {
        let points: [SIMD2<Double>] = [[0, 0], [1, 0], [3, 0], [7, 0]]
        let tree = PlaneTree(points: points)
        let row = tree.original.firstIndex(of: 0)!
        XCTAssertEqual(tree.kthNeighborDistancesSquared(k: 1)[row], 0)
        XCTAssertEqual(tree.kthNeighborDistancesSquared(k: 2)[row], 1)
        XCTAssertEqual(tree.kthNeighborDistancesSquared(k: 3)[row], 9)
        XCTAssertEqual(tree.kthNeighborDistancesSquared(k: 9)[row], 49, "more than there are: the farthest")
        // Against every pair, for many points and several k.
        var random = Xoshiro256StarStar(seed: 11)
        let many = (0..<500).map { _ in SIMD2(random.nextDouble() * 3, random.nextDouble()) }
        let big = PlaneTree(points: many)
        for k in [1, 2, 7, 40] {
            let fast = big.kthNeighborDistancesSquared(k: k)
            for t in stride(from: 0, to: 500, by: 7) {
                let all = (0..<500).map { q -> Double in
                    let dx = big.x[q] - big.x[t], dy = big.y[q] - big.y[t]
                    return dx * dx + dy * dy
                }.sorted()
                XCTAssertEqual(fast[t], all[k - 1], "point \(t), k \(k)")
            }
        }
    }

    /// Three dense blobs of different sizes and spreads are three clusters,
    /// each exactly its blob; points far from everything are noise.
    func testSeparatedBlobsAreTheClustersAndLonePointsNoise() {
        var random = Xoshiro256StarStar(seed: 7)
        func gaussian() -> Double {
            let u = max(Double(random.next() >> 11) / Double(1 << 53), 1e-12), v = Double(random.next() >> 11) / Double(1 << 53)
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        var points: [SIMD2<Double>] = [], truth: [Int] = []
        for (blob, (centre, spread, count)) in [(SIMD2<Double>(0, 0), 0.5, 120), (SIMD2(20, 0), 1.0, 60), (SIMD2(0, 25), 0.3, 30)].enumerated() {
            for _ in 0..<count { points.append(centre + SIMD2(gaussian(), gaussian()) * spread); truth.append(blob) }
        }
        for p in [SIMD2<Double>(60, 60), SIMD2(-60, 40), SIMD2(40, -70)] { points.append(p); truth.append(-1) }
        let result = HDBSCAN(minClusterSize: 10).cluster(points)
        XCTAssertEqual(result.clusterCount, 3)
        for blob in 0..<3 {
            let labels = Set(truth.indices.filter { truth[$0] == blob }.map { result.labels[$0] })
            XCTAssertEqual(labels.count, 1, "blob \(blob) is one cluster")
            XCTAssertGreaterThanOrEqual(labels.first!, 0, "blob \(blob) is not noise")
        }
        XCTAssertEqual(Array(result.labels.suffix(3)), [-1, -1, -1])
        XCTAssertEqual(result, HDBSCAN(minClusterSize: 10).cluster(points), "the same points give the same labels")
    }

    func testTinyAndDegenerateInputs() {
        XCTAssertEqual(HDBSCAN().cluster([]).labels, [])
        XCTAssertEqual(HDBSCAN().cluster([[1, 2]]).labels, [-1])
        XCTAssertEqual(HDBSCAN(minClusterSize: 2).cluster([[1, 2], [1, 3]]).labels, [-1, -1], "the root is never a cluster")
        // Twenty copies of one point and twenty of another: two clusters at infinite density.
        let twins = [SIMD2<Double>](repeating: [0, 0], count: 20) + [SIMD2<Double>](repeating: [5, 5], count: 20)
        let result = HDBSCAN(minClusterSize: 5).cluster(twins)
        XCTAssertEqual(result.clusterCount, 2)
        XCTAssertEqual(Set(result.labels.prefix(20)).count, 1)
        XCTAssertNotEqual(result.labels[0], result.labels[39])
    }
}
