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

    func dot(_ m: EmbeddingMatrix, _ a: Int, _ b: Int) -> Float {
        var dot: Float = 0
        for k in 0..<m.dimension { dot += m.row(a)[k] * m.row(b)[k] }
        return dot
    }

    /// What a user relies on when excluding all but each group's keeper,
    /// checked against every pair: each member is a near-duplicate of its
    /// keeper, no two images kept (keepers, and rows left out of groups) are
    /// near-duplicates of each other, and every group lies within one set
    /// joined by pairs.
    func assertKeeperGroups(_ groups: [DuplicateGroup], _ m: EmbeddingMatrix, rows: [Int], threshold: Float,
                            file: StaticString = #filePath, line: UInt = #line) {
        let components = bruteForceGroups(m, rows: rows, threshold: threshold)
        var seen = Set<Int>()
        for group in groups {
            XCTAssertTrue(group.rows.contains(group.keeper), file: file, line: line)
            XCTAssertTrue(components.contains { Set($0).isSuperset(of: group.rows) }, "\(group.rows)", file: file, line: line)
            var lowest: Float = 1
            for row in group.rows where row != group.keeper {
                XCTAssertTrue(seen.insert(row).inserted, "row \(row) in two groups", file: file, line: line)
                let similarity = dot(m, row, group.keeper)
                XCTAssertGreaterThanOrEqual(similarity, threshold - 1e-5, "row \(row) to keeper \(group.keeper)", file: file, line: line)
                lowest = min(lowest, similarity)
            }
            XCTAssertEqual(group.similarity, lowest, accuracy: 1e-5, file: file, line: line)
        }
        let kept = components.flatMap { $0 }.filter { !seen.contains($0) }
        for a in kept {
            for b in kept where b > a {
                XCTAssertLessThan(dot(m, a, b), threshold + 1e-5, "kept rows \(a) and \(b) are near-duplicates", file: file, line: line)
            }
        }
    }

    func testGroupsHoldWhatEveryPairSaysWithSmallBlocks() throws {
        let m = plantedMatrix()
        for rows in [Array(0..<190), (0..<190).filter { $0 % 4 != 1 }, (0..<190).filter { $0 % 3 == 0 }] {
            var first: [DuplicateGroup]?
            for blockRows in [7, 64, 2048] {
                let groups = try NearDuplicateFinder(threshold: 0.95, blockRows: blockRows).groups(matrix: m, rows: rows)
                assertKeeperGroups(groups, m, rows: rows, threshold: 0.95)
                XCTAssertFalse(groups.isEmpty)
                XCTAssertEqual(groups.map(\.rows.count), groups.map(\.rows.count).sorted(by: >))
                if let first { XCTAssertEqual(groups, first, "block \(blockRows), \(rows.count) rows") }
                first = groups
            }
        }
    }

    func testAChainIsSplitAroundKeepersSoNothingFarFromWhatIsKeptGoes() throws {
        // Seven points 6° apart on a circle: neighbours 0.9945, two apart
        // 0.978, three apart 0.951. At 0.97 every pair of neighbours joins
        // them into one chain from 0° to 36° (0.81 end to end).
        var values: [Float] = []
        for i in 0..<7 {
            let angle = Float(i) * 6 * .pi / 180
            values += [cos(angle), sin(angle)]
        }
        let m = EmbeddingMatrix(rows: 7, dimension: 2, values: values)
        let groups = try NearDuplicateFinder(threshold: 0.97).groups(matrix: m, rows: Array(0..<7))
        assertKeeperGroups(groups, m, rows: Array(0..<7), threshold: 0.97)
        // The middle one is the most central: it takes the two on each side.
        // The ends, 18° from it, are near-duplicates of nothing kept: no group.
        XCTAssertEqual(groups, [DuplicateGroup(rows: [1, 2, 3, 4, 5], keeper: 3)])
        XCTAssertEqual(groups.first?.similarity ?? 0, cos(12 * .pi / 180), accuracy: 1e-5)
        // With a chooser preferring the lowest row, that end keeps its side and the rest split again.
        let scored = try NearDuplicateFinder(threshold: 0.97).groups(matrix: m, rows: Array(0..<7), keeper: { ($0.min()!, .score) })
        assertKeeperGroups(scored, m, rows: Array(0..<7), threshold: 0.97)
        XCTAssertEqual(scored.map(\.rows), [[0, 1, 2], [3, 4, 5]])
        XCTAssertEqual(scored.map(\.keeper), [0, 3])
        XCTAssertEqual(scored.map(\.keptBy), [.score, .score])
        XCTAssertEqual(scored.map(\.chain), [1, 1], "both split from the one chain")
    }

    func testALongChainSplitsAlikeWhateverTheBlocksOfItsSplit() throws {
        // A random walk on the sphere: each step about 10° (similarity 0.985),
        // two steps mostly below 0.975, so one long chain with hundreds of keepers.
        let n = 600, d = 8
        var random = Xoshiro256StarStar(seed: 12)
        var point = (0..<d).map { _ in Float(SelectionTestData.gaussian(&random)) }
        var values: [Float] = []
        for _ in 0..<n {
            let length = point.reduce(0) { $0 + $1 * $1 }.squareRoot()
            point = point.map { $0 / length }
            values += point
            let step = (0..<d).map { _ in Float(SelectionTestData.gaussian(&random)) }
            let along = zip(step, point).reduce(0) { $0 + $1.0 * $1.1 }
            let across = zip(step, point).map { $0 - along * $1 }
            let size = across.reduce(0) { $0 + $1 * $1 }.squareRoot()
            point = zip(point, across).map { $0 + 0.176 * $1 / size }
        }
        let m = EmbeddingMatrix(rows: n, dimension: d, values: values)
        m.normalizeRows()
        var finder = NearDuplicateFinder(threshold: 0.975)
        let whole = try finder.groups(matrix: m, rows: Array(0..<n))
        XCTAssertGreaterThan(whole.count, 50, "a chain of many keepers")
        XCTAssertLessThan(Set(whole.map(\.chain)).count, whole.count, "split from fewer chains")
        assertKeeperGroups(whole, m, rows: Array(0..<n), threshold: 0.975)
        for rows in [(block: 7, chunk: 50), (block: 1, chunk: 1), (block: 64, chunk: 4096)] {
            finder.splitRows = rows
            XCTAssertEqual(try finder.groups(matrix: m, rows: Array(0..<n)), whole, "block \(rows.block), chunk \(rows.chunk)")
        }
        // A chooser's split of the same chain (the rows left packed as they go) holds the same promises.
        let chosen = try finder.groups(matrix: m, rows: Array(0..<n), keeper: { ($0.max()!, .chosen) })
        XCTAssertGreaterThan(chosen.count, 50)
        assertKeeperGroups(chosen, m, rows: Array(0..<n), threshold: 0.975)
    }

    func testAChosenKeeperSplitsTheChainAroundItself() throws {
        var values: [Float] = []
        for i in 0..<7 {
            let angle = Float(i) * 6 * .pi / 180
            values += [cos(angle), sin(angle)]
        }
        let m = EmbeddingMatrix(rows: 7, dimension: 2, values: values)
        var offered: [[Int]] = []
        // Keep the last row offered: 6 takes 4 and 5; then 3 takes 1 and 2; 0 is left alone.
        let groups = try NearDuplicateFinder(threshold: 0.97).groups(matrix: m, rows: Array(0..<7), keeper: { rows in
            offered.append(rows)
            return (rows.last!, .chosen)
        })
        assertKeeperGroups(groups, m, rows: Array(0..<7), threshold: 0.97)
        XCTAssertEqual(groups, [DuplicateGroup(rows: [1, 2, 3], keeper: 3, keptBy: .chosen),
                                DuplicateGroup(rows: [4, 5, 6], keeper: 6, keptBy: .chosen)])
        XCTAssertEqual(offered, [[0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3]], "only the rows still to place")
        XCTAssertThrowsError(try NearDuplicateFinder(threshold: 0.97).groups(matrix: m, rows: Array(0..<7), keeper: { _ in (99, .chosen) })) {
            XCTAssertEqual("\($0)", "keeper must return one of the images it is given")
        }
    }

    func testKeeperIsBestScoreElseMostCentral() throws {
        // Three copies around a centre: the middle one is most central.
        let m = EmbeddingMatrix(rows: 4, dimension: 2, values: [1, 0.10, 1, 0.12, 1, 0.14, -1, 0])
        m.normalizeRows()
        let finder = NearDuplicateFinder(threshold: 0.99)
        XCTAssertEqual(try finder.groups(matrix: m, rows: [0, 1, 2, 3]), [DuplicateGroup(rows: [0, 1, 2], keeper: 1)])
        let score = [5.0, 1, 7, 9]
        let scored = try finder.groups(matrix: m, rows: [0, 1, 2, 3], keeper: { rows in (rows.max { score[$0] < score[$1] }!, .score) })
        XCTAssertEqual(scored.first?.keeper, 2)
        // No choice for the chain: the most central keeps.
        XCTAssertEqual(try finder.groups(matrix: m, rows: [0, 1, 2, 3], keeper: { _ in nil }), [DuplicateGroup(rows: [0, 1, 2], keeper: 1)])
    }

    func testTheKeeperRuleTakesTheSharpestWithinABandThenPixelsThenBytesThenPath() {
        func facts(_ sharpness: Double, _ pixels: Int, _ bytes: Int64, _ path: String) -> DuplicateKeeper.Facts {
            DuplicateKeeper.Facts(sharpness: sharpness, pixels: pixels, bytes: bytes, path: Array(path.utf8))
        }
        // A copy re-encoded at JPEG quality 70 measures 13 % sharper: the band keeps the original, the larger file.
        XCTAssertEqual(DuplicateKeeper.choose([facts(100, 1000, 90_000, "a.jpg"), facts(113, 1000, 40_000, "a copy.jpg")]), 0)
        // A copy downscaled to 90 %: fewer pixels, sharper still; the original keeps.
        XCTAssertEqual(DuplicateKeeper.choose([facts(118, 810, 70_000, "b-edit.jpg"), facts(100, 1000, 90_000, "b.jpg")]), 1)
        // A real blur halves sharpness: out of the band, whatever its size.
        XCTAssertEqual(DuplicateKeeper.choose([facts(50, 4000, 900_000, "blur.jpg"), facts(100, 1000, 90_000, "c.jpg")]), 1)
        // Byte-identical: the first path.
        XCTAssertEqual(DuplicateKeeper.choose([facts(100, 1000, 90_000, "inbox/IMG_3.jpg"), facts(100, 1000, 90_000, "city/002.jpg")]), 1)
        XCTAssertNil(DuplicateKeeper.choose([]))
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
