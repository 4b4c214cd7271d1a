import XCTest
@testable import CuratorCore

final class MapUMAPTests: XCTestCase {
    /// Fewer epochs than the default keep these tests fast; the behaviour
    /// under test does not depend on the count.
    let quick = UMAPParameters(nNeighbors: 10, epochs: 120)

    func testEmptyAndSingleImageAlbums() throws {
        XCTAssertEqual(try UMAP.layout(of: EmbeddingMatrix(rows: 0, dimension: 8)), [])
        let one = try UMAP.layout(of: MapTestData.matrix([[1, 2, 3]]))
        XCTAssertEqual(one, [SIMD2<Float>(0, 0)])
    }

    func testAlbumsSmallerThanTheNeighbourCount() throws {
        for rows in [2, 5] {
            let (matrix, _) = MapTestData.clusters(groups: 1, perGroup: rows, dimension: 16, seed: UInt64(rows))
            let points = try UMAP.layout(of: matrix)  // default nNeighbors 15 > rows
            XCTAssertEqual(points.count, rows)
            XCTAssertTrue(points.allSatisfy { $0.x.isFinite && $0.y.isFinite }, "\(rows) images: \(points)")
            XCTAssertEqual(Set(points.map { [$0.x, $0.y] }).count, rows, "\(rows) images landed on top of each other")
            XCTAssertEqual(try UMAP.layout(of: matrix), points, "not deterministic with \(rows) images")
        }
    }

    func testIdenticalVectorsGiveFiniteDistinctPoints() throws {
        let same = MapTestData.matrix(Array(repeating: [0.3, -1, 2, 0.5], count: 30))
        let points = try UMAP.layout(of: same, parameters: quick)
        XCTAssertEqual(points.count, 30)
        XCTAssertTrue(points.allSatisfy { $0.x.isFinite && $0.y.isFinite })

        // Duplicates among distinct images: each duplicate stays beside its twin.
        let (base, _) = MapTestData.clusters(groups: 3, perGroup: 20, dimension: 12, seed: 4)
        var rows = (0..<base.rows).map { base.vector($0) }
        rows += (0..<10).map { base.vector($0) }
        let mixed = try UMAP.layout(of: MapTestData.matrix(rows), parameters: quick)
        XCTAssertTrue(mixed.allSatisfy { $0.x.isFinite && $0.y.isFinite })
        var span: Float = 0
        for p in mixed { for q in mixed { span = max(span, distance(p, q)) } }
        for i in 0..<10 {
            XCTAssertLessThan(distance(mixed[i], mixed[base.rows + i]), 0.1 * span, "duplicate \(i) far from its twin")
        }
    }

    func testDisconnectedGroupsStaySeparated() throws {
        // Two groups around orthogonal directions: no neighbour edge joins them.
        let d = 16
        var random = Xoshiro256StarStar(seed: 9, stream: 0)
        var rows: [[Float]] = []
        for group in 0..<2 {
            for _ in 0..<40 {
                var v = (0..<d).map { _ in Float(random.nextGaussian()) * 0.05 }
                v[group] += 1
                rows.append(v)
            }
        }
        let matrix = MapTestData.matrix(rows)
        let graph = NeighborGraph.build(matrix, k: 10, exactLimit: 4096, seed: 0)
        for i in 0..<80 {
            for j in 0..<10 { XCTAssertEqual(Int(graph.indices[i * 10 + j]) / 40, i / 40, "edge between the groups") }
        }
        let points = try UMAP.layout(of: matrix, parameters: quick)
        let a = MapTestData.centroid(Array(points[0..<40])), b = MapTestData.centroid(Array(points[40..<80]))
        for (i, p) in points.enumerated() {
            let own = i < 40 ? a : b, other = i < 40 ? b : a
            XCTAssertLessThan(distance(p, own), distance(p, other), "point \(i) drifted to the other group")
        }
        var widest: Float = 0
        for (i, p) in points.enumerated() { widest = max(widest, distance(p, i < 40 ? a : b)) }
        XCTAssertGreaterThan(distance(a, b), 2 * widest, "the groups overlap")
    }

    func testClustersStayTogether() throws {
        let (matrix, labels) = MapTestData.clusters(groups: 4, perGroup: 50, dimension: 24, seed: 3)
        let points = try UMAP.layout(of: matrix, parameters: quick)
        // Each point's nearest map neighbour is in its own cluster.
        XCTAssertGreaterThan(MapTestData.nearestAgreement(points, labels: labels), 0.97)
    }

    func testSameSeedSameMapAndAnotherSeedAnotherMap() throws {
        let (matrix, _) = MapTestData.clusters(groups: 3, perGroup: 40, dimension: 16, seed: 5)
        var parameters = quick
        let first = try UMAP.layout(of: matrix, parameters: parameters)
        XCTAssertEqual(try UMAP.layout(of: matrix, parameters: parameters), first)
        parameters.seed = 99
        XCTAssertNotEqual(try UMAP.layout(of: matrix, parameters: parameters), first)
    }

    func testPartitionedOptimisationIsDeterministicAndKeepsClusters() {
        // Large albums optimise in fixed point ranges side by side; forced
        // here on a small graph.
        let (matrix, labels) = MapTestData.clusters(groups: 3, perGroup: 60, dimension: 16, seed: 8)
        let graph = NeighborGraph.exact(matrix, k: 10)
        let fuzzy = FuzzySimplicialSet(graph: graph)
        var optimizer = LayoutOptimizer(curve: UMAPCurve.fit(minDist: 0.05), epochs: 150, seed: 4)
        optimizer.partitions = 4
        optimizer.partitionThreshold = 0
        let start = UMAP.initialPoints(matrix, parameters: UMAPParameters(seed: 4))
        var first = start, second = start
        optimizer.optimize(points: &first, count: matrix.rows, graph: fuzzy)
        optimizer.optimize(points: &second, count: matrix.rows, graph: fuzzy)
        XCTAssertEqual(first, second)
        let points = (0..<matrix.rows).map { SIMD2(first[2 * $0], first[2 * $0 + 1]) }
        let centroids = (0..<3).map { g in MapTestData.centroid(points.indices.filter { labels[$0] == g }.map { points[$0] }) }
        for (i, p) in points.enumerated() {
            let nearest = (0..<3).min { distance(p, centroids[$0]) < distance(p, centroids[$1]) }
            XCTAssertEqual(nearest, labels[i], "point \(i) outside its cluster")
        }
    }

    func testNegativesFromAPoolAreDeterministicAndKeepClusters() {
        // Large maps draw their repelling points from a per-round pool;
        // forced here with a pool of 32 points for 180.
        let (matrix, labels) = MapTestData.clusters(groups: 3, perGroup: 60, dimension: 16, seed: 8)
        let fuzzy = FuzzySimplicialSet(graph: NeighborGraph.exact(matrix, k: 10))
        var optimizer = LayoutOptimizer(curve: UMAPCurve.fit(minDist: 0.05), epochs: 150, seed: 4)
        optimizer.partitions = 4
        optimizer.partitionThreshold = 0
        let start = UMAP.initialPoints(matrix, parameters: UMAPParameters(seed: 4))
        var direct = start
        optimizer.optimize(points: &direct, count: matrix.rows, graph: fuzzy)
        optimizer.negativePoolAbove = 0
        optimizer.negativePoolSize = 32
        var first = start, second = start
        optimizer.optimize(points: &first, count: matrix.rows, graph: fuzzy)
        optimizer.optimize(points: &second, count: matrix.rows, graph: fuzzy)
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, direct, "the pool was not used")
        XCTAssertTrue(first.allSatisfy(\.isFinite))
        let points = (0..<matrix.rows).map { SIMD2(first[2 * $0], first[2 * $0 + 1]) }
        XCTAssertGreaterThan(MapTestData.nearestAgreement(points, labels: labels), 0.97)
    }

    func testLargeAlbumPathIsDeterministicAndKeepsClusters() throws {
        // Past NeighborGraph.cellSearchLimit the graph comes from the inverted
        // file and the start from its centroids' map; forced here on 600 rows.
        let (matrix, labels) = MapTestData.clusters(groups: 4, perGroup: 150, dimension: 24, seed: 3)
        var parameters = quick
        parameters.exactNeighborLimit = 0
        let points = try UMAP.layout(of: matrix, parameters: parameters, cellSearchFrom: 100)
        XCTAssertEqual(try UMAP.layout(of: matrix, parameters: parameters, cellSearchFrom: 100), points)
        XCTAssertTrue(points.allSatisfy { $0.x.isFinite && $0.y.isFinite })
        XCTAssertGreaterThan(MapTestData.nearestAgreement(points, labels: labels), 0.97)
    }

    func testEpochsFollowUmapLearn() {
        let parameters = UMAPParameters()
        XCTAssertEqual(parameters.epochs(forCount: 10_000), 500)
        XCTAssertEqual(parameters.epochs(forCount: 10_001), 200)
        XCTAssertEqual(UMAPParameters(epochs: 7).epochs(forCount: 50_000), 7)
    }

    func testBadInputIsRefusedWithItsName() {
        let matrix = MapTestData.matrix([[1, 0], [0, 1], [1, 1]])
        XCTAssertThrowsError(try UMAP.layout(of: matrix, parameters: UMAPParameters(nNeighbors: 1))) {
            XCTAssertTrue("\($0)".contains("nNeighbors"), "\($0)")
        }
        XCTAssertThrowsError(try UMAP.layout(of: matrix, parameters: UMAPParameters(minDist: -0.1))) {
            XCTAssertTrue("\($0)".contains("minDist"), "\($0)")
        }
        matrix.row(1)[0] = .nan
        XCTAssertThrowsError(try UMAP.layout(of: matrix)) { XCTAssertTrue("\($0)".contains("row 1"), "\($0)") }
    }

    func testCancellationStopsTheLayout() {
        final class Stop: ProgressSink {
            func update(label: String, done: Int, total: Int) {}
            func finish(label: String) {}
            var isCancelled: Bool { true }
        }
        let (matrix, _) = MapTestData.clusters(groups: 2, perGroup: 20, dimension: 8)
        XCTAssertThrowsError(try UMAP.layout(of: matrix, parameters: quick, progress: Stop())) {
            XCTAssertTrue($0 is CancelledError)
        }
    }
}
