import XCTest
@testable import CuratorCore

final class SelectionNeighborScoresTests: XCTestCase {
    func testScoresFollowTheirDefinitionsOnExactNeighbours() throws {
        let m = SelectionTestData.blobs(4, perBlob: 15, dimension: 10, noise: 0.4, seed: 6)
        let scores = try NeighborScores(matrix: m)
        var raw = [Double](repeating: 0, count: m.rows)
        for i in 0..<m.rows {
            let distances = (0..<m.rows).filter { $0 != i }.map { j -> Double in
                var dot = 0.0
                for k in 0..<m.dimension { dot += Double(m.row(i)[k]) * Double(m.row(j)[k]) }
                return max(0, 1 - dot)
            }.sorted()
            raw[i] = (0.6 * distances[0] + 0.3 * distances[1] + 0.1 * distances[2]) / 3
            let euclidean = distances.prefix(20).map { (2 * $0).squareRoot() }.reduce(0, +) / 20
            XCTAssertEqual(scores.typicality[i], 1 / euclidean, accuracy: 1e-3 / euclidean, "row \(i)")
        }
        let largest = raw.max()!
        for i in 0..<m.rows { XCTAssertEqual(scores.uniqueness[i], raw[i] / largest, accuracy: 1e-4, "row \(i)") }
        XCTAssertEqual(scores.uniqueness.max()!, 1, accuracy: 1e-9)
    }

    func testAnOutlierIsUniqueAndAtypical() throws {
        var values = SelectionTestData.blobs(1, perBlob: 40, dimension: 8, noise: 0.1, seed: 1).vector(0)
        let blob = SelectionTestData.blobs(1, perBlob: 40, dimension: 8, noise: 0.1, seed: 1)
        values = []
        for i in 0..<40 { values += blob.vector(i) }
        values += [0, 0, 0, 0, 0, 0, 0, 1]
        let m = EmbeddingMatrix(rows: 41, dimension: 8, values: values)
        m.normalizeRows()
        let scores = try NeighborScores(matrix: m)
        XCTAssertEqual(scores.uniqueness[40], 1)
        XCTAssertEqual(scores.typicality.firstIndex(of: scores.typicality.min()!), 40)
        XCTAssertEqual(try NeighborScores(matrix: EmbeddingMatrix(rows: 1, dimension: 3, values: [1, 0, 0])).uniqueness, [0])
    }
}
