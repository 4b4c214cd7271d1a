import Foundation
import XCTest
@testable import CuratorCore

final class SelectionMonteCarloTests: XCTestCase {
    let matrix = SelectionTestData.randomMatrix(rows: 50, dimension: 6, seed: 12)

    /// A sampler returning fixed picks per iteration.
    func scripted(_ picks: [[Int]]) -> ClosureSampler {
        ClosureSampler(method: "scripted") { picks[$0.iteration] }
    }

    func testGeneratorsAreTheSameOnEveryPlatform() {
        var mixer = SplitMix64(seed: 0)
        XCTAssertEqual(mixer.next(), 0xE220_A839_7B1D_CDAF)   // the published SplitMix64 sequence
        XCTAssertEqual(mixer.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(MonteCarlo.iterationSeeds(master: 0, count: 2), [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4])
        var a = Xoshiro256StarStar(seed: 5), b = Xoshiro256StarStar(seed: 5)
        for _ in 0..<100 { XCTAssertEqual(a.nextInt(below: 1000), b.nextInt(below: 1000)) }
        for _ in 0..<1000 {
            let x = a.nextDouble()
            XCTAssertTrue(x >= 0 && x < 1)
            XCTAssertTrue((0..<7).contains(a.nextInt(below: 7)))
        }
    }

    func testRankingIsVotesThenFirstPick() throws {
        // Row 9 and row 4 both get 2 votes; 4 was picked first (iteration 0, position 1) → ahead.
        // Row 30 and row 7: 1 vote each; 7 at (1, 0) before 30 at (2, 0).
        let picks = [[2, 4, 9], [7, 9, 4], [30, 2, 11]]
        let run = try MonteCarlo.run(scripted(picks), matrix: matrix, candidates: Array(0..<50),
                                     count: 3, iterations: 3, seed: 1)
        XCTAssertEqual(run.ranking.map(\.image), [2, 4, 9, 7, 30, 11])
        XCTAssertEqual(run.ranking.map(\.votes), [2, 2, 2, 1, 1, 1])
        XCTAssertEqual(run.selection, [2, 4, 9])
        XCTAssertEqual(run.entry(for: 9)?.firstIteration, 0)
        XCTAssertEqual(run.entry(for: 9)?.firstPosition, 2)
        XCTAssertEqual(run.frequency(of: 7), 1.0 / 3.0)
        XCTAssertEqual(run.frequency(of: 48), 0)
        XCTAssertNil(run.tier(of: 48))
        XCTAssertEqual(run.picks(iteration: 1), [7, 9, 4])
        XCTAssertNil(run.picks(iteration: 3))
    }

    func testTierBoundariesAreInclusive() throws {
        // 20 iterations: row r is picked in the first `votes[r]` iterations.
        let votes = [0: 20, 1: 18, 2: 17, 3: 14, 4: 13, 5: 1]
        let picks = (0..<20).map { it in votes.keys.sorted().filter { votes[$0]! > it } }
        let run = try MonteCarlo.run(scripted(picks), matrix: matrix, candidates: Array(0..<50),
                                     count: 6, iterations: 20, seed: 1)
        XCTAssertEqual(run.tier(of: 0), .core)
        XCTAssertEqual(run.tier(of: 1), .core, "exactly 0.90 is core")
        XCTAssertEqual(run.tier(of: 2), .stable)
        XCTAssertEqual(run.tier(of: 3), .stable, "exactly 0.70 is stable")
        XCTAssertEqual(run.tier(of: 4), .variable)
        XCTAssertEqual(run.tier(of: 5), .variable)
        XCTAssertEqual(run.images(minimumFrequency: 0.9), [0, 1])
        XCTAssertEqual(run.images(minimumFrequency: 0.7), [0, 1, 2, 3])
        XCTAssertEqual(run.tierCounts, [.core: 2, .stable: 2, .variable: 2])
        XCTAssertEqual(SelectionTier(votes: 9, iterations: 10), .core)
        XCTAssertEqual(SelectionTier(votes: 7, iterations: 10), .stable)
        XCTAssertEqual(SelectionTier(votes: 63, iterations: 70), .core)
        XCTAssertNil(SelectionTier(votes: 0, iterations: 10))
    }

    func testParametersAreValidatedWithMessagesNamingThem() {
        func message(count: Int, iterations: Int = 20, include: [Int] = [], start: Int? = nil,
                     candidates: [Int] = Array(0..<50)) -> String {
            do {
                _ = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: candidates, count: count,
                                       iterations: iterations, seed: 1, include: include, start: start)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message(count: -3), "count must be a positive integer (got -3)")
        XCTAssertEqual(message(count: 0), "count must be a positive integer (got 0)")
        XCTAssertEqual(message(count: 5, iterations: 0),
                       "iterations must be a positive integer (got 0)")
        XCTAssertEqual(message(count: 5, candidates: []),
                       "fps: nothing to select from: every image is excluded (or none was given)")
        XCTAssertEqual(message(count: 5, include: [1, 2], candidates: [1, 2]),
                       "fps: nothing to select from: every image is excluded (or none was given)")
        XCTAssertEqual(message(count: 5, candidates: [1, 50]),
                       "candidates: image row 50 is out of range (the album has 50 embedded images)")
        XCTAssertEqual(message(count: 5, start: 3, candidates: [1, 2, 4, 5, 6, 7]),
                       "start must be a candidate (row 3 is excluded or included)")
        XCTAssertEqual(SelectionError.invalidParameter(name: "count", reason: "x").errorDescription, "count x")
    }

    func testHugeCountGivesEveryCandidateWithFrequencyOne() throws {
        let run = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: [8, 3, 3, 20],
                                     count: Int.max, iterations: 3, seed: 1)
        XCTAssertEqual(run.selection.sorted(), [3, 8, 20])
        XCTAssertEqual(run.candidates, 3)
        XCTAssertTrue(run.ranking.allSatisfy { $0.frequency == 1 })
        XCTAssertNil(run.inertia)
    }

    func testOneIterationAndManyIterations() throws {
        let one = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: Array(0..<50),
                                     count: 5, iterations: 1, seed: 3)
        XCTAssertEqual(one.picks.count, 1)
        XCTAssertTrue(one.ranking.allSatisfy { $0.tier == .core })
        let many = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: Array(0..<50),
                                      count: 5, iterations: 250, seed: 3)
        XCTAssertEqual(many.picks.count, 250)
        XCTAssertEqual(many.selection.count, 5)
    }

    func testSameSeedSameRunAndDifferentSeedDifferentRun() throws {
        func run(seed: UInt64) throws -> SelectionRun {
            try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: Array(0..<50), count: 8,
                               iterations: 10, seed: seed)
        }
        let a = try run(seed: 99)
        let b = try run(seed: 99)
        XCTAssertEqual(a, b)
        let c = try run(seed: 100)
        XCTAssertNotEqual(a.picks, c.picks)
    }

    func testCustomSamplerOutputIsChecked() {
        func message(_ body: @escaping (SamplerIteration) throws -> [Int]) -> String {
            let sampler = ClosureSampler(method: "mine", body: body)
            let result = Result {
                try MonteCarlo.run(sampler, matrix: matrix, candidates: Array(0..<40),
                                   count: 3, iterations: 2, seed: 1)
            }
            if case let .failure(error) = result { return "\(error)" }
            return "no error"
        }
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        XCTAssertEqual(message { _ in [] }, "sampler 'mine', iteration 1: returned no images")
        XCTAssertEqual(message { $0.iteration == 1 ? [1, 2, 3, 4] : [1] },
                       "sampler 'mine', iteration 2: returned 4 images, more than count 3")
        XCTAssertEqual(message { _ in [45] },
                       "sampler 'mine', iteration 1: returned row 45, which is not a candidate (excluded, included or not an image of the album)")
        XCTAssertEqual(message { _ in [5, 5] }, "sampler 'mine', iteration 1: returned row 5 twice")
        XCTAssertEqual(message { _ in throw Boom() }, "sampler 'mine', iteration 1: boom")
        XCTAssertEqual(message { [$0.candidates[Int($0.seed % 40)]] }, "no error")
    }

    func testCustomSamplerGetsSeedsCandidatesAndCount() throws {
        var seen: [SamplerIteration] = []
        let sampler = ClosureSampler(method: "spy") { ctx in
            seen.append(ctx)
            var random = Xoshiro256StarStar(seed: ctx.seed)
            return [ctx.candidates[random.nextInt(below: ctx.candidates.count)]]
        }
        let run = try MonteCarlo.run(sampler, matrix: matrix, candidates: [9, 1, 5, 7],
                                     count: 2, iterations: 3, seed: 5, include: [7])
        XCTAssertEqual(seen.map(\.iteration), [0, 1, 2])
        XCTAssertEqual(seen.map(\.seed), MonteCarlo.iterationSeeds(master: 5, count: 3))
        XCTAssertEqual(seen[0].candidates, [1, 5, 9])
        XCTAssertEqual(seen[0].include, [7])
        XCTAssertEqual(seen[0].count, 2)
        XCTAssertEqual(run.method, "spy")
    }

    func testProgressIsReportedAndCancellationStops() throws {
        let progress = RecordingProgress()
        _ = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: Array(0..<50),
                               count: 10, iterations: 4, seed: 1, progress: progress)
        XCTAssertEqual(progress.updates.first?.1, 0)
        XCTAssertEqual(progress.updates.last?.1, 4)
        XCTAssertTrue(progress.updates.allSatisfy { $0.0 == "fps" && $0.2 == 4 })
        XCTAssertEqual(progress.finished, ["fps"])

        for sampler in [FarthestPointSampler() as any Sampler, KMeansSampler(minimumSample: 16, seedingSample: 16),
                        ClosureSampler(method: "c") { [$0.candidates[0]] }] {
            let cancelling = RecordingProgress(cancelAfter: 1)
            XCTAssertThrowsError(try MonteCarlo.run(sampler, matrix: matrix, candidates: Array(0..<50),
                                                    count: 10, iterations: 4, seed: 1,
                                                    progress: cancelling)) { error in
                XCTAssertTrue(error is CancelledError, "\(sampler.method): \(error)")
            }
        }
    }

    func testRunRoundTripsThroughCodable() throws {
        let run = try MonteCarlo.run(KMeansSampler(minimumSample: 16, seedingSample: 16), matrix: matrix,
                                     candidates: Array(0..<50), count: 6, iterations: 3, seed: 8)
        let data = try JSONEncoder().encode(run)
        let back = try JSONDecoder().decode(SelectionRun.self, from: data)
        XCTAssertEqual(back, run)
        XCTAssertEqual(back.ranking, run.ranking)
        XCTAssertEqual(back.inertia, run.inertia)
        // Rebuilding from stored picks alone gives the same votes.
        let rebuilt = SelectionRun(method: run.method, count: run.count, seed: run.seed, candidates: run.candidates,
                                   iterationInertia: run.iterationInertia, picks: run.picks)
        XCTAssertEqual(rebuilt.ranking, run.ranking)
    }
}

final class SelectionSamplerGeometryTests: XCTestCase {
    func testDistanceNearestAndFarthest() throws {
        let m = EmbeddingMatrix(rows: 4, dimension: 2, values: [1, 0, 0.8, 0.6, 0, 1, -1, 0])
        let geometry = SamplerGeometry(matrix: m)
        XCTAssertEqual(try geometry.distance(0, 1), 0.2, accuracy: 1e-6)
        XCTAssertEqual(try geometry.nearest(to: 0, count: 2, among: [0, 1, 2, 3]), [1, 2])
        XCTAssertEqual(try geometry.farthest(from: [0], among: [0, 1, 2, 3]), 3)
        XCTAssertEqual(try geometry.farthest(from: [0, 3], among: [0, 1, 2, 3]), 2)
        XCTAssertNil(try geometry.farthest(from: [], among: [1]))
        XCTAssertThrowsError(try geometry.distance(0, 9)) { error in
            XCTAssertEqual("\(error)", "distance: image row 9 is out of range (the album has 4 embedded images)")
        }
    }
}
