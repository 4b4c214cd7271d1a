import XCTest
@testable import CuratorCore

final class SelectionCoverageTests: XCTestCase {
    /// Every candidate's distance to its nearest pick, by plain loops in Double.
    private func naiveDistances(_ m: EmbeddingMatrix, candidates: [Int], picks: [Int]) -> [Double] {
        candidates.map { c in
            picks.map { p in
                var dot = 0.0
                for k in 0..<m.dimension { dot += Double(m.row(c)[k]) * Double(m.row(p)[k]) }
                return max(0, 1 - dot)
            }.min()!
        }
    }

    func testCoverageMatchesPlainLoops() throws {
        let m = SelectionTestData.blobs(6, perBlob: 70, dimension: 20, noise: 0.6, seed: 3)
        let candidates = (0..<m.rows).filter { $0 % 3 != 0 }
        let picks = [5, 77, 140, 141, 300, 399]
        let coverage = SelectionCoverage.measure(matrix: m, candidates: candidates, picks: picks)
        let expected = naiveDistances(m, candidates: candidates, picks: picks)
        XCTAssertEqual(coverage.candidates, candidates.count)
        XCTAssertEqual(coverage.mean, expected.reduce(0, +) / Double(expected.count), accuracy: 1e-5)
        XCTAssertEqual(coverage.max, expected.max()!, accuracy: 1e-5)
        let sorted = expected.sorted()
        XCTAssertEqual(coverage.p95, sorted[Int((0.95 * Double(sorted.count)).rounded(.up)) - 1], accuracy: 1e-5)
        XCTAssertEqual(coverage.farthestRow, candidates[expected.firstIndex(of: expected.max()!)!])
        // A pick among the candidates is at distance 0 from itself.
        XCTAssertEqual(SelectionCoverage.measure(matrix: m, candidates: [5], picks: picks).max, 0, accuracy: 1e-6)
        XCTAssertEqual(SelectionCoverage.measure(matrix: m, candidates: candidates, picks: []).candidates, 0)
    }

    func testAutomaticCountStopsWhenEveryCandidateIsWithinTheDistance() throws {
        let m = SelectionTestData.blobs(6, perBlob: 30, dimension: 16, noise: 0.35, seed: 11)
        let candidates = Array(0..<m.rows)
        for threshold in [0.1, 0.2, 0.4] {
            let run = try MonteCarlo.run(FarthestPointSampler(), matrix: m, candidates: candidates,
                                         count: .max, iterations: 7, seed: 9, minimumDistance: threshold)
            for (k, list) in run.rowPicks.enumerated() {
                // The same picks as plain FPS, stopped at the first pick closer than the threshold.
                if k < 2 {
                    XCTAssertEqual(list, SelectionTestData.naiveFPS(m, candidates: candidates, count: list.count, start: list[0]))
                }
                let after = SelectionCoverage.measure(matrix: m, candidates: candidates, picks: list)
                XCTAssertLessThan(after.max, threshold + 1e-5, "threshold \(threshold): every candidate is covered")
                let before = SelectionCoverage.measure(matrix: m, candidates: candidates, picks: Array(list.dropLast()))
                XCTAssertGreaterThanOrEqual(before.max, threshold - 1e-5, "threshold \(threshold): the last pick was needed")
            }
            let counts = run.picks.map(\.count).sorted()
            XCTAssertEqual(run.count, counts[3], "the median iteration's count")
            XCTAssertEqual(run.selection.count, counts[3])
        }
        // A larger distance needs fewer images.
        let loose = try MonteCarlo.run(FarthestPointSampler(), matrix: m, candidates: candidates,
                                       count: .max, iterations: 3, seed: 9, minimumDistance: 0.6)
        let tight = try MonteCarlo.run(FarthestPointSampler(), matrix: m, candidates: candidates,
                                       count: .max, iterations: 3, seed: 9, minimumDistance: 0.1)
        XCTAssertLessThan(loose.count, tight.count)
        // count caps an automatic run.
        let capped = try MonteCarlo.run(FarthestPointSampler(), matrix: m, candidates: candidates,
                                        count: 5, iterations: 3, seed: 9, minimumDistance: 0.01)
        XCTAssertEqual(capped.picks.map(\.count), [5, 5, 5])
    }

    func testMinimumDistanceIsCheckedAndOnlyForFPS() throws {
        let m = SelectionTestData.randomMatrix(rows: 40, dimension: 6, seed: 1)
        for bad in [0.0, -1, 3, .nan] {
            XCTAssertThrowsError(try MonteCarlo.run(FarthestPointSampler(), matrix: m, candidates: Array(0..<40),
                                                    count: 10, seed: 1, minimumDistance: bad)) {
                XCTAssertTrue("\($0)".contains("min_distance"), "\($0)")
            }
        }
        XCTAssertThrowsError(try MonteCarlo.run(KMeansSampler(), matrix: m, candidates: Array(0..<40),
                                                count: 10, seed: 1, minimumDistance: 0.2)) {
            XCTAssertTrue("\($0)".contains("fps"), "\($0)")
        }
        // Included images already covering everything: nothing to pick, said plainly.
        XCTAssertThrowsError(try MonteCarlo.run(FarthestPointSampler(), matrix: m, candidates: Array(0..<40),
                                                count: .max, seed: 1, include: Array(0..<20),
                                                minimumDistance: 1.99)) {
            XCTAssertTrue("\($0)".contains("nothing to pick"), "\($0)")
        }
    }
}
