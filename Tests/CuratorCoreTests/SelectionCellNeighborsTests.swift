import XCTest
@testable import CuratorCore

final class SelectionCellNeighborsTests: XCTestCase {
    func testFindsNearlyEveryTrueNeighbourWithExactDistancesSelfFirst() throws {
        let m = SelectionTestData.blobs(40, perBlob: 60, dimension: 48, noise: 0.6, seed: 3)
        let graph = try InvertedFile.neighborGraph(m, k: 16, seed: 7)
        let exact = NeighborGraph.exact(m, k: 16)
        XCTAssertEqual(graph.count, m.rows)
        XCTAssertEqual(graph.k, 16)
        for i in 0..<m.rows {
            XCTAssertEqual(graph.indices[i * 16], Int32(i), "row \(i) lists itself first")
            XCTAssertEqual(graph.distances[i * 16], 0)
            XCTAssertEqual(Set(graph.indices[(i * 16)..<(i * 16 + 16)]).count, 16, "row \(i): distinct neighbours")
            for slot in 1..<16 {
                let j = Int(graph.indices[i * 16 + slot])
                let distance = max(0, 1 - BLAS.dot(m.dimension, m.row(i), m.row(j)))
                XCTAssertEqual(graph.distances[i * 16 + slot], distance, accuracy: 1e-5, "an exact distance")
                if slot > 1 { XCTAssertGreaterThanOrEqual(graph.distances[i * 16 + slot], graph.distances[i * 16 + slot - 1]) }
            }
        }
        XCTAssertGreaterThan(graph.recall(against: exact), 0.9)
        // The same seed gives the same graph; the search is split over lists, not threads.
        let again = try InvertedFile.neighborGraph(m, k: 16, seed: 7)
        XCTAssertEqual(again.indices, graph.indices)
        XCTAssertEqual(again.distances, graph.distances)
    }

    func testTinyListsStillListKNeighbours() throws {
        // 200 lists for 300 rows: most lists hold one or two rows, fewer than k.
        let m = SelectionTestData.randomMatrix(rows: 300, dimension: 16, seed: 2)
        let graph = try InvertedFile.neighborGraph(m, k: 12, seed: 1, probes: 1, searchedLists: 1, lists: 200)
        for i in 0..<m.rows {
            for slot in 0..<12 {
                XCTAssertGreaterThanOrEqual(graph.indices[i * 12 + slot], 0, "row \(i) slot \(slot) is filled")
                XCTAssertTrue(graph.distances[i * 12 + slot].isFinite)
            }
        }
    }

    func testSparseNeighborsSearchesTheInvertedFileBeyondTheExactLimit() throws {
        let m = SelectionTestData.blobs(30, perBlob: 150, dimension: 24, noise: 0.5, seed: 9)
        XCTAssertGreaterThan(m.rows, SparseNeighbors.exactLimit)
        let graph = try SparseNeighbors.graph(matrix: m, rows: Array(0..<m.rows), k: 8)
        let cells = try InvertedFile.neighborGraph(m, k: 8, seed: 0)
        XCTAssertEqual(graph.indices, cells.indices)
    }
}
