import XCTest
@testable import CuratorCore

final class SelectionNearDuplicateTests: XCTestCase {
    /// Random vectors with planted near-copies (similarity well above 0.95) and
    /// chains, so the blocked search can be checked against all pairs.
    func plantedMatrix() -> EmbeddingMatrix {
        let base = SelectionTestData.randomMatrix(rows: 150, dimension: 24, seed: 31)
        var values = base.storage.map { $0 }
        var random = Xoshiro256StarStar(seed: 4)
        for copy in 0..<40 {
            let source = copy < 30 ? copy * 3 : 150 + (copy - 30)   // later copies copy copies: chains
            let row = Array(values[(source * 24)..<(source * 24 + 24)])
            values += row.map { $0 + 0.01 * SelectionTestData.gaussian(&random) }
        }
        let m = EmbeddingMatrix(rows: 190, dimension: 24, values: values)
        m.normalizeRows()
        return m
    }

    func bruteForceGroups(_ m: EmbeddingMatrix, rows: [Int], threshold: Float) -> Set<[Int]> {
        var parent = Dictionary(uniqueKeysWithValues: rows.map { ($0, $0) })
        func find(_ x: Int) -> Int { var x = x; while parent[x]! != x { x = parent[x]! }; return x }
        for a in rows {
            for b in rows where b > a {
                var dot: Float = 0
                for k in 0..<m.dimension { dot += m.row(a)[k] * m.row(b)[k] }
                if dot >= threshold { parent[find(a)] = find(b) }
            }
        }
        var groups: [Int: [Int]] = [:]
        for r in rows { groups[find(r), default: []].append(r) }
        return Set(groups.values.filter { $0.count > 1 }.map { $0.sorted() })
    }

    func testGroupsMatchAllPairsWithSmallBlocks() throws {
        let m = plantedMatrix()
        for rows in [Array(0..<190), (0..<190).filter { $0 % 4 != 1 }, (0..<190).filter { $0 % 3 == 0 }] {
            for blockRows in [7, 64, 2048] {
                let groups = try NearDuplicateFinder(threshold: 0.95, blockRows: blockRows).groups(matrix: m, rows: rows)
                XCTAssertEqual(Set(groups.map(\.rows)), bruteForceGroups(m, rows: rows, threshold: 0.95),
                               "block \(blockRows), \(rows.count) rows")
                XCTAssertTrue(groups.allSatisfy { $0.rows.contains($0.keeper) })
                XCTAssertEqual(groups.map(\.rows.count), groups.map(\.rows.count).sorted(by: >))
            }
        }
    }

    func testKeeperIsBestScoreElseMostCentral() throws {
        // Three copies around a centre: the middle one is most central.
        let m = EmbeddingMatrix(rows: 4, dimension: 2, values: [1, 0.10, 1, 0.12, 1, 0.14, -1, 0])
        m.normalizeRows()
        let finder = NearDuplicateFinder(threshold: 0.99)
        XCTAssertEqual(try finder.groups(matrix: m, rows: [0, 1, 2, 3]), [DuplicateGroup(rows: [0, 1, 2], keeper: 1)])
        let scored = try finder.groups(matrix: m, rows: [0, 1, 2, 3], score: { Double([5, 1, 7, 9][$0]) })
        XCTAssertEqual(scored.first?.keeper, 2)
    }

    func testThresholdIsInclusiveAndValidated() throws {
        let m = EmbeddingMatrix(rows: 2, dimension: 2, values: [1, 0, 0.5, Float(0.75).squareRoot()])
        XCTAssertEqual(try NearDuplicateFinder(threshold: 0.5).groups(matrix: m, rows: [0, 1]).count, 1)
        XCTAssertEqual(try NearDuplicateFinder(threshold: 0.5001).groups(matrix: m, rows: [0, 1]).count, 0)
        XCTAssertThrowsError(try NearDuplicateFinder(threshold: 1.5).groups(matrix: m, rows: [0, 1])) { error in
            XCTAssertEqual("\(error)", "threshold must be a number between -1 and 1 (got 1.5)")
        }
    }
}
