import XCTest
@testable import CuratorCore

final class SelectionFarthestPointTests: XCTestCase {
    func testMatchesNaiveReferenceForManyMatricesAndStarts() throws {
        for trial in 0..<12 {
            var random = Xoshiro256StarStar(seed: UInt64(100 + trial))
            let rows = 40 + random.nextInt(below: 140)
            let dimension = 3 + random.nextInt(below: 24)
            let m = SelectionTestData.randomMatrix(rows: rows, dimension: dimension, seed: UInt64(trial))
            let candidates = Array(0..<rows)
            let count = 1 + random.nextInt(below: 25)
            let starts = (0..<5).map { _ in random.nextInt(below: rows) }
            let picks = try FarthestPointSampler().farthestPoints(matrix: m, candidates: candidates, count: count,
                                                                   starts: starts.map { Optional($0) })
            for (r, start) in starts.enumerated() {
                XCTAssertEqual(picks[r], SelectionTestData.naiveFPS(m, candidates: candidates, count: count, start: start),
                               "matrix \(trial) (\(rows)×\(dimension)), start \(start)")
            }
        }
    }

    func testBatchedRunsEqualSingleRunsAndTheCacheChangesNothing() throws {
        let m = SelectionTestData.blobs(12, perBlob: 40, dimension: 24, noise: 0.5, seed: 7)
        let candidates = Array(0..<m.rows)
        let starts: [Int?] = (0..<16).map { Optional(($0 * 37) % m.rows) }
        let (batched, statistics) = try FarthestPointSampler().farthestPointsWithStatistics(
            matrix: m, candidates: candidates, count: 60, starts: starts)
        // Most steps are decided lazily, without a pass over the matrix.
        XCTAssertGreaterThan(statistics.stepsWithoutPass, 30)
        XCTAssertLessThan(statistics.passes, 30)
        let uncached = try FarthestPointSampler(cacheBudgetBytes: 0).farthestPoints(
            matrix: m, candidates: candidates, count: 60, starts: starts)
        let tinyBatches = try FarthestPointSampler(maxBatchBytes: 1).farthestPoints(
            matrix: m, candidates: candidates, count: 60, starts: starts)
        // Passes for the needing runs alone, and lazy steps that give up early: more passes, the same picks.
        var selective = FarthestPointSampler()
        selective.passJoinLimit = 0
        selective.lazyLimit = 8
        let (separate, separateStatistics) = try selective.farthestPointsWithStatistics(
            matrix: m, candidates: candidates, count: 60, starts: starts)
        XCTAssertGreaterThan(separateStatistics.passes, statistics.passes)
        for (r, start) in starts.enumerated() {
            let single = try FarthestPointSampler().farthestPoints(matrix: m, candidates: candidates, count: 60, starts: [start])
            XCTAssertEqual(batched[r], single[0], "run \(r)")
            XCTAssertEqual(uncached[r], single[0], "run \(r) without cache")
            XCTAssertEqual(tinyBatches[r], single[0], "run \(r) one at a time")
            XCTAssertEqual(separate[r], single[0], "run \(r) with passes for the needing runs alone")
        }
    }

    func testRunsSideBySidePickWhatRunsInLockstepPick() throws {
        // Runs split into one lane per core, each lane on one thread, against every run on
        // every core in lockstep (passes shared, picks reused between runs): the same picks,
        // with included rows, fixed starts and a stop at a minimum distance.
        let m = SelectionTestData.blobs(9, perBlob: 50, dimension: 20, noise: 0.5, seed: 11)
        var lockstep = FarthestPointSampler()
        lockstep.sideBySideBytes = 0
        var sideBySide = FarthestPointSampler()
        sideBySide.sideBySideBytes = .max
        let rows = CandidateRows(matrix: m, candidates: Array(0..<m.rows))
        XCTAssertEqual(lockstep.sideBySideLanes(rows: rows, runs: 7), 1)
        XCTAssertEqual(sideBySide.sideBySideLanes(rows: rows, runs: 7), min(activeCoreCount, 7))
        let candidates = Array(0..<m.rows).filter { $0 % 7 != 3 }
        for (include, stopBelow) in [([Int](), -Float.infinity), ([3, 10], -Float.infinity), ([], 0.2)] {
            let starts: [Int?] = include.isEmpty ? (0..<7).map { Optional(candidates[($0 * 61) % candidates.count]) }
                                                 : Array(repeating: nil, count: 7)
            let a = try lockstep.farthestPointsWithStatistics(matrix: m, candidates: candidates, count: 40,
                                                              include: include, starts: starts, stopBelow: stopBelow)
            let b = try sideBySide.farthestPointsWithStatistics(matrix: m, candidates: candidates, count: 40,
                                                                include: include, starts: starts, stopBelow: stopBelow)
            XCTAssertEqual(a.picks, b.picks, "include \(include), stop below \(stopBelow)")
            XCTAssertEqual(a.picks.count, 7)
        }
    }

    func testSplitRunsPickWhatWholeRunsPick() throws {
        // Runs left over when they do not divide among the lanes: their first steps on
        // one lane, the rest on another, against each run on one lane throughout.
        let m = SelectionTestData.blobs(8, perBlob: 40, dimension: 24, noise: 0.5, seed: 5)
        var whole = FarthestPointSampler()
        whole.splitRunsBytes = 0
        let split = FarthestPointSampler()
        let candidates = Array(0..<m.rows).filter { $0 % 5 != 2 }
        for runs in [3, 5] {
            for (include, stopBelow) in [([Int](), -Float.infinity), ([2, 40], -Float.infinity), ([], 0.25)] {
                let starts: [Int?] = include.isEmpty ? (0..<runs).map { Optional(candidates[($0 * 37) % candidates.count]) }
                                                     : Array(repeating: nil, count: runs)
                let a = try whole.farthestPointsWithStatistics(matrix: m, candidates: candidates, count: 50,
                                                               include: include, starts: starts, stopBelow: stopBelow)
                let b = try split.farthestPointsWithStatistics(matrix: m, candidates: candidates, count: 50,
                                                               include: include, starts: starts, stopBelow: stopBelow)
                XCTAssertEqual(a.picks, b.picks, "\(runs) runs, include \(include), stop below \(stopBelow)")
                XCTAssertEqual(b.picks.count, runs)
                if stopBelow == -.infinity { XCTAssertEqual(b.picks.map(\.count), Array(repeating: 50, count: runs)) }
            }
        }
    }

    func testAStopEndsSplitRunsWithTheStopsError() throws {
        // A tail waiting for its head must not hang when the head's lane stops.
        let m = SelectionTestData.blobs(8, perBlob: 40, dimension: 24, noise: 0.5, seed: 5)
        final class StopAfter: ProgressSink {
            var updates = 0
            func update(label: String, done: Int, total: Int) { updates += 1 }
            func finish(label: String) {}
            var isCancelled: Bool { updates >= 3 }
        }
        let sink = StopAfter()
        let starts: [Int?] = [0, 50, 100, 150, 200]
        XCTAssertThrowsError(try FarthestPointSampler().farthestPointsWithStatistics(
            matrix: m, candidates: Array(0..<m.rows), count: 200, starts: starts,
            progress: SelectionProgress(sink: sink, label: "fps", total: 1000))) { error in
            XCTAssertTrue(error is CancelledError, "\(error)")
        }
    }

    func testLongLazyStretchesMatchTheNaiveReference() throws {
        // Lazy steps allowed to look at every row: dozens of picks pending, applied
        // newest first a few at a time, each row only until it cannot be the maximum.
        let m = SelectionTestData.blobs(10, perBlob: 30, dimension: 16, noise: 0.6, seed: 3)
        var sampler = FarthestPointSampler()
        sampler.lazyLimit = m.rows
        sampler.splitRunsBytes = 0   // the passes counted are the runs' own, not a split run's second engine's
        let starts: [Int?] = [0, 77, 211]
        let (picks, statistics) = try sampler.farthestPointsWithStatistics(
            matrix: m, candidates: Array(0..<m.rows), count: 60, starts: starts)
        XCTAssertLessThan(statistics.passes, 15)
        XCTAssertGreaterThan(statistics.stepsWithoutPass, 40)
        // Fewer products than an eager update (every pick against every row).
        XCTAssertGreaterThan(statistics.lazyProducts, 0)
        XCTAssertLessThan(statistics.lazyProducts + statistics.columns * m.rows, 3 * 60 * m.rows / 2)
        for (r, start) in starts.enumerated() {
            XCTAssertEqual(picks[r], SelectionTestData.naiveFPS(m, candidates: Array(0..<m.rows), count: 60, start: start),
                           "start \(start!)")
        }
    }

    func testTiesGoToTheFirstRow() throws {
        // From e1, rows 1, 2 and 3 are all at distance 1: row 1 wins; then row 2 (row 3 duplicates row 1).
        let m = EmbeddingMatrix(rows: 4, dimension: 3, values: [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0])
        let picks = try FarthestPointSampler().farthestPoints(matrix: m, candidates: [0, 1, 2, 3], count: 4, starts: [0])
        XCTAssertEqual(picks[0], [0, 1, 2, 3])
    }

    func testIdenticalVectorsAreNeverPickedTwice() throws {
        let m = EmbeddingMatrix(rows: 10, dimension: 4, values: Array(repeating: [0.5, 0.5, 0.5, 0.5], count: 10).flatMap { $0 })
        let picks = try FarthestPointSampler().farthestPoints(matrix: m, candidates: Array(0..<10), count: 10,
                                                               starts: [3, 7])
        XCTAssertEqual(picks[0], [3, 0, 1, 2, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(Set(picks[1]).count, 10)

        // Many exact ties (more than a lazy step looks at): still the first rows, in order.
        let flat = EmbeddingMatrix(rows: 600, dimension: 3, values: Array(repeating: [0, 0.6, 0.8], count: 600).flatMap { $0 })
        let many = try FarthestPointSampler().farthestPoints(matrix: flat, candidates: Array(0..<600), count: 100,
                                                              starts: [5, 9])
        XCTAssertEqual(many[0], [5] + Array(0..<5) + Array(6..<100))
        XCTAssertEqual(many[1], [9] + Array(0..<9) + Array(10..<100))

        // Duplicate pairs: a Monte Carlo run never gives a frequency above 1.
        var values: [Float] = []
        let base = SelectionTestData.randomMatrix(rows: 30, dimension: 6, seed: 3)
        for i in 0..<30 { values += base.vector(i) + [] ; values += base.vector(i) }
        let doubled = EmbeddingMatrix(rows: 60, dimension: 6, values: values)
        let run = try MonteCarlo.run(FarthestPointSampler(), matrix: doubled, candidates: Array(0..<60),
                                     count: 45, iterations: 7, seed: 9)
        for list in run.picks { XCTAssertEqual(Set(list).count, 45) }
        XCTAssertLessThanOrEqual(run.ranking.map(\.frequency).max() ?? 0, 1.0)
    }

    func testIncludedRowsArePickedFirstAndNewPicksStayFarFromThem() throws {
        let m = SelectionTestData.randomMatrix(rows: 120, dimension: 10, seed: 11)
        let include = [5, 17, 90]
        let candidates = (0..<120).filter { !include.contains($0) }
        let picks = try FarthestPointSampler().farthestPoints(matrix: m, candidates: candidates, count: 15,
                                                               include: include, starts: [nil])
        XCTAssertEqual(picks[0], Array(SelectionTestData.naiveFPS(m, candidates: candidates, count: 15, start: nil,
                                                                  include: include)))
        // Through the harness: included rows get no votes, every iteration is the same.
        let run = try MonteCarlo.run(FarthestPointSampler(), matrix: m, candidates: Array(0..<120),
                                     count: 15, iterations: 4, seed: 1, include: include)
        XCTAssertEqual(run.rowPicks, Array(repeating: picks[0], count: 4))
        XCTAssertTrue(include.allSatisfy { run.votes(of: Int64($0)) == 0 })
    }

    func testExcludedRowsAreNeverPickedInBothLayouts() throws {
        let m = SelectionTestData.randomMatrix(rows: 200, dimension: 12, seed: 21)
        // Most rows candidates (masked in place) and few rows candidates (compact copy).
        for candidates in [(0..<200).filter { $0 % 7 != 0 }, (0..<200).filter { $0 % 3 == 0 }] {
            let start = candidates[4]
            let picks = try FarthestPointSampler().farthestPoints(matrix: m, candidates: candidates, count: 30, starts: [start])
            XCTAssertEqual(picks[0], SelectionTestData.naiveFPS(m, candidates: candidates, count: 30, start: start))
            XCTAssertTrue(Set(picks[0]).isSubset(of: Set(candidates)))
        }
    }

    func testMonteCarloStartsAreRandomCandidatesAndStartFixesTheFirstPick() throws {
        let m = SelectionTestData.randomMatrix(rows: 150, dimension: 8, seed: 5)
        let candidates = (0..<150).filter { $0 % 2 == 0 }
        let run = try MonteCarlo.run(FarthestPointSampler(), matrix: m, candidates: candidates,
                                     count: 10, iterations: 30, seed: 42)
        let firsts = Set(run.rowPicks.map { $0[0] })
        XCTAssertGreaterThan(firsts.count, 10, "starts should vary across iterations")
        XCTAssertTrue(firsts.isSubset(of: Set(candidates)))
        for list in run.rowPicks {
            XCTAssertEqual(list, SelectionTestData.naiveFPS(m, candidates: candidates, count: 10, start: list[0]))
        }
        let fixed = try MonteCarlo.run(FarthestPointSampler(), matrix: m, candidates: candidates,
                                       count: 10, iterations: 1, seed: 42, start: 8)
        XCTAssertEqual(fixed.picks[0][0], 8)
    }
}
