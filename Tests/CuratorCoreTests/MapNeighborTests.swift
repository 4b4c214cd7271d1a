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

    func testCellSearchRecallAndDeterminism() throws {
        // The inverted file (rows gathered per list, no grouped copy) then a round of descent.
        let (matrix, _) = MapTestData.clusters(groups: 30, perGroup: 100, dimension: 16, noise: 0.6, seed: 11)
        let exact = NeighborGraph.exact(matrix, k: 15)
        let found = try NeighborGraph.cellSearch(matrix, k: 15, seed: 3)
        XCTAssertGreaterThanOrEqual(found.graph.recall(against: exact), 0.9)
        for i in 0..<matrix.rows { XCTAssertEqual(Int(found.graph.indices[i * 15]), i) }
        XCTAssertEqual(found.order.sorted(), (0..<Int32(matrix.rows)).map { $0 }, "the list order is not a permutation")
        let again = try NeighborGraph.cellSearch(matrix, k: 15, seed: 3)
        XCTAssertEqual(again.graph.indices, found.graph.indices)
        XCTAssertEqual(again.graph.distances, found.graph.distances)
        // Gathering rows per list finds what the grouped copy finds.
        let copied = try InvertedFile.neighborGraph(matrix, k: 15, seed: 3)
        let gathered = try InvertedFile.neighborGraph(matrix, k: 15, seed: 3, gathersRows: true)
        XCTAssertGreaterThanOrEqual(gathered.recall(against: copied), 0.99)
    }

    func testDescentAfterTheInvertedFileSkipsOnlyPairsAlreadyCompared() throws {
        // A narrow search (2 lists per list) leaves the descent round work to do.
        let (matrix, _) = MapTestData.clusters(groups: 30, perGroup: 100, dimension: 16, noise: 0.6, seed: 11)
        let exact = NeighborGraph.exact(matrix, k: 15)
        let found = try InvertedFile.neighborSearch(matrix, k: 15, seed: 3, probes: 2, searchedLists: 2, gathersRows: true)
        for a in 0..<found.listCount { XCTAssertTrue(found.searched.searched(a, a), "list \(a) did not search itself") }
        // Most of the graph's pairs were compared both ways by the search: those the descent skips.
        var compared = 0, edges = 0
        for p in 0..<matrix.rows {
            for j in 1..<15 {
                let q = found.graph.indices[p * 15 + j]
                guard q >= 0 else { continue }
                edges += 1
                if found.searched.compared(Int32(p), q) { compared += 1 }
            }
        }
        XCTAssertGreaterThan(Double(compared), 0.5 * Double(edges))
        XCTAssertLessThan(compared, edges, "no pair is left for the descent")
        var descent = NeighborDescent(matrix: matrix, k: 15, seed: 3)
        descent.maxIterations = 1
        let full = descent.refine(found.graph)
        let skipping = descent.refine(found.graph, skipping: found.searched)
        // Skipping changes nothing found, and the round still finds what the search missed.
        XCTAssertEqual(skipping.indices, full.indices)
        XCTAssertGreaterThan(skipping.recall(against: exact), found.graph.recall(against: exact) + 0.01)
    }

    func testRenumberedGraphFollowsTheOrder() {
        let matrix = MapTestData.matrix([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
        let graph = NeighborGraph.exact(matrix, k: 2)
        let order: [Int32] = [2, 0, 3, 1]
        let renumbered = graph.renumbered(by: order)
        // Point 0 of the result is row 2, whose nearest other row (3) is point 2 of the result.
        XCTAssertEqual(Array(renumbered.indices[0..<2]), [0, 2])
        XCTAssertEqual(Array(renumbered.indices[2..<4]), [1, 3])
        XCTAssertEqual(renumbered.distances[1], graph.distances[2 * 2 + 1])
    }
}
