import XCTest
@testable import CuratorCore

final class MapNeighborTests: XCTestCase {
    func testExactSearchListsEachRowFirstThenNearest() {
        let matrix = MapTestData.matrix([[1, 0], [0.9, 0.1], [0, 1], [1, 0]])
        let graph = NeighborGraph.exact(matrix, k: 3)
        XCTAssertEqual(graph.k, 3)
        // Row 3 duplicates row 0: each lists itself first, the twin second.
        XCTAssertEqual(Array(graph.indices[0..<3]), [0, 3, 1])
        XCTAssertEqual(Array(graph.indices[9..<12]), [3, 0, 1])
        XCTAssertEqual(graph.distances[0], 0)
        XCTAssertEqual(graph.distances[1], 0, accuracy: 1e-6)
        XCTAssertEqual(Array(graph.indices[6..<9]).first, 2)
    }

    func testDescentRecallAgainstExactSearch() {
        let (matrix, _) = MapTestData.clusters(groups: 30, perGroup: 100, dimension: 16, noise: 0.6, seed: 11)
        let exact = NeighborGraph.exact(matrix, k: 15)
        let approximate = NeighborGraph.build(matrix, k: 15, exactLimit: 0, seed: 3)
        let recall = approximate.recall(against: exact)
        XCTAssertGreaterThanOrEqual(recall, 0.9)
        // Descent is deterministic for a seed.
        let again = NeighborGraph.build(matrix, k: 15, exactLimit: 0, seed: 3)
        XCTAssertEqual(again.indices, approximate.indices)
        XCTAssertEqual(again.distances, approximate.distances)
        for i in 0..<matrix.rows { XCTAssertEqual(Int(approximate.indices[i * 15]), i) }
    }
}
