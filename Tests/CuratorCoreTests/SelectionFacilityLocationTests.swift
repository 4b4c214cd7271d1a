import XCTest
@testable import CuratorCore

final class SelectionFacilityLocationTests: XCTestCase {
    /// Plain greedy on the dense objective Σᵢ max(0, maxⱼ sim(i, j)), every
    /// gain recomputed at every step, lowest row on ties.
    private func naiveGreedy(_ m: EmbeddingMatrix, candidates: [Int], count: Int) -> [Int] {
        func sim(_ a: Int, _ b: Int) -> Float {
            max(0, 1 - (1 - BLAS.dot(m.dimension, m.row(a), m.row(b))))
        }
        var cover = [Float](repeating: 0, count: candidates.count)
        var picks: [Int] = []
        while picks.count < count {
            var best: Float = -1
            var bestRow = -1
            for j in candidates where !picks.contains(j) {
                var gain: Float = 0
                for (i, c) in candidates.enumerated() { gain += max(0, sim(c, j) - cover[i]) }
                if gain > best + 1e-5 { best = gain; bestRow = j }
            }
            picks.append(bestRow)
            for (i, c) in candidates.enumerated() { cover[i] = max(cover[i], sim(c, bestRow)) }
        }
        return picks
    }

    func testLazyGreedyOnTheFullGraphEqualsPlainGreedy() throws {
        let m = SelectionTestData.blobs(5, perBlob: 24, dimension: 12, noise: 0.5, seed: 4)
        let candidates = Array(0..<m.rows)
        let run = try MonteCarlo.run(FacilityLocationSampler(neighbors: m.rows), matrix: m, candidates: candidates,
                                     count: 9, iterations: 1, seed: 1)
        let naive = naiveGreedy(m, candidates: candidates, count: 9)
        XCTAssertEqual(Set(run.rowPicks[0]), Set(naive))
        let objective = FacilityLocationSampler.objective(matrix: m, candidates: candidates, picks: run.rowPicks[0])
        let naiveObjective = FacilityLocationSampler.objective(matrix: m, candidates: candidates, picks: naive)
        XCTAssertEqual(objective, naiveObjective, accuracy: 1e-3)
    }

    func testExactlyCountDistinctCandidatesAndBeatsFPSAndKMeansOnItsObjective() throws {
        let m = SelectionTestData.blobs(10, perBlob: 60, dimension: 24, noise: 0.45, seed: 8)
        let candidates = (0..<m.rows).filter { $0 % 7 != 3 }
        let facility = try MonteCarlo.run(FacilityLocationSampler(), matrix: m, candidates: candidates,
                                          count: 25, iterations: 6, seed: 5)
        for list in facility.rowPicks {
            XCTAssertEqual(list.count, 25)
            XCTAssertEqual(Set(list).count, 25)
            XCTAssertTrue(Set(list).isSubset(of: Set(candidates)))
        }
        XCTAssertEqual(facility.selection.count, 25)
        // Bootstrap weights make iterations differ; one iteration is the plain greedy, the same every time.
        XCTAssertGreaterThan(Set(facility.picks.map { Set($0) }).count, 1)
        func one(_ sampler: any Sampler) throws -> SelectionRun {
            try MonteCarlo.run(sampler, matrix: m, candidates: candidates, count: 25, iterations: 1, seed: 5)
        }
        let single = try one(FacilityLocationSampler())
        let again = try MonteCarlo.run(FacilityLocationSampler(), matrix: m, candidates: candidates,
                                       count: 25, iterations: 1, seed: 99)
        XCTAssertEqual(single.picks, again.picks)
        let fps = try one(FarthestPointSampler())
        let kmeans = try one(KMeansSampler())
        func objective(_ run: SelectionRun) -> Double {
            FacilityLocationSampler.objective(matrix: m, candidates: candidates, picks: run.rowSelection)
        }
        XCTAssertGreaterThan(objective(single), objective(fps))
        XCTAssertGreaterThanOrEqual(objective(single), objective(kmeans))
        XCTAssertGreaterThan(objective(facility), objective(fps), "the voted selection still represents well")
    }

    func testIncludedImagesRepresentTheirNeighboursAndStartIsTheFirstPick() throws {
        let m = SelectionTestData.blobs(4, perBlob: 30, dimension: 10, noise: 0.2, seed: 2)
        // Include one member of blob 0: the picks then go to the three other blobs first.
        let run = try MonteCarlo.run(FacilityLocationSampler(), matrix: m, candidates: Array(0..<m.rows),
                                     count: 3, iterations: 1, seed: 1, include: [0])
        XCTAssertEqual(Set(run.picks[0].map { $0 / 30 }), [1, 2, 3])
        let started = try MonteCarlo.run(FacilityLocationSampler(), matrix: m, candidates: Array(0..<m.rows),
                                         count: 4, iterations: 3, seed: 1, start: 77)
        XCTAssertEqual(started.picks.map { $0[0] }, [77, 77, 77])
    }

    func testCoverThroughTheInt8CopyPicksAsTheFloatProductDoes() throws {
        // 5,000 rows: past the exact limit, where a single run raises its covers through QuantizedRows.
        let m = SelectionTestData.blobs(50, perBlob: 100, dimension: 64, noise: 0.5, seed: 6)
        XCTAssertGreaterThan(m.rows, SparseNeighbors.exactLimit)
        let graph = try ReverseNeighbors(matrix: m, candidates: Array(0..<m.rows), include: [], k: 16,
                                         progress: SelectionProgress(sink: nil, label: "facility", total: 1))
        let ones = [[Float](repeating: 1, count: graph.rows)]
        let quantized = try graph.greedy(count: 40, weights: ones, start: nil, quantizedCover: true)
        let float = try graph.greedy(count: 40, weights: ones, start: nil, quantizedCover: false)
        XCTAssertEqual(quantized[0].count, 40)
        XCTAssertEqual(quantized, float)
        // Runs advanced in lockstep (one product per step) pick what each picks alone.
        let weights = (0..<3).map { FacilityLocationSampler.bootstrapWeights(count: graph.rows, seed: UInt64($0)) }
        let together = try graph.greedy(count: 20, weights: weights, start: 7)
        for r in 0..<3 {
            XCTAssertEqual(together[r], try graph.greedy(count: 20, weights: [weights[r]], start: 7, quantizedCover: false)[0])
            XCTAssertEqual(together[r][0], 7)
        }
    }

    func testLloydCentresAreUnitDeterministicAndEachStepRepresentsTheSampleBetter() {
        let m = SelectionTestData.blobs(8, perBlob: 50, dimension: 16, noise: 0.6, seed: 12)
        let d = m.dimension
        // 100 sample rows per list of 8: the sample is every row, so each step's sum over the rows of the
        // similarity to the nearest centre is the sum spherical k-means never lowers.
        func represented(_ centres: [Float]) -> Double {
            (0..<m.rows).reduce(0.0) { total, i in
                total + Double((0..<(centres.count / d)).map { j in
                    centres.withUnsafeBufferPointer { BLAS.dot(d, m.row(i), $0.baseAddress! + j * d) }
                }.max()!)
            }
        }
        var previous = -Double.infinity
        for steps in 0...4 {
            let centres = InvertedFile.lloydCentres(matrix: m, lists: 8, samplePerList: 100, steps: steps, seed: 3)
            XCTAssertEqual(centres.count, 8 * d)
            for j in 0..<8 {
                let length = centres.withUnsafeBufferPointer { BLAS.dot(d, $0.baseAddress! + j * d, $0.baseAddress! + j * d) }
                XCTAssertEqual(length, 1, accuracy: 1e-4, "steps \(steps), centre \(j)")
            }
            XCTAssertEqual(centres, InvertedFile.lloydCentres(matrix: m, lists: 8, samplePerList: 100, steps: steps, seed: 3))
            let sum = represented(centres)
            XCTAssertGreaterThanOrEqual(sum, previous - 1e-3, "step \(steps) lowered the sum")
            previous = sum
        }
        XCTAssertNotEqual(InvertedFile.lloydCentres(matrix: m, lists: 8, samplePerList: 100, steps: 0, seed: 3),
                          InvertedFile.lloydCentres(matrix: m, lists: 8, samplePerList: 100, steps: 0, seed: 4))
    }

    func testLloydCentresAndTwoSearchedListsKeepTheObjectivePastTheExactLimit() throws {
        // 5,000 rows: past the exact limit, where the graph comes from the inverted file.
        let m = SelectionTestData.blobs(50, perBlob: 100, dimension: 64, noise: 0.5, seed: 6)
        XCTAssertGreaterThan(m.rows, SparseNeighbors.exactLimit)
        let candidates = Array(0..<m.rows)
        func run(_ sampler: any Sampler) throws -> SelectionRun {
            try MonteCarlo.run(sampler, matrix: m, candidates: candidates, count: 40, iterations: 1, seed: 2)
        }
        func objective(_ run: SelectionRun) -> Double {
            FacilityLocationSampler.objective(matrix: m, candidates: candidates, picks: run.rowSelection)
        }
        let facility = try run(FacilityLocationSampler())
        XCTAssertEqual(facility.rowSelection.count, 40)
        XCTAssertEqual(try run(FacilityLocationSampler()).picks, facility.picks)
        // Session 8's graph: the K-Means sampler's centres of 8 rows per list, 3 searched lists.
        let before = try run(FacilityLocationSampler(searchedLists: 3, centreSteps: nil, samplePerList: 8))
        XCTAssertEqual(objective(facility), objective(before), accuracy: 0.005 * objective(before),
                       "now \(objective(facility)), before \(objective(before))")
        XCTAssertGreaterThan(objective(facility), objective(try run(FarthestPointSampler())))
    }

    func testBootstrapWeightsArePoissonOfMeanOne() {
        let weights = FacilityLocationSampler.bootstrapWeights(count: 20_000, seed: 3)
        let mean = weights.reduce(0, +) / Float(weights.count)
        XCTAssertEqual(mean, 1, accuracy: 0.03)
        let zeros = Float(weights.filter { $0 == 0 }.count) / Float(weights.count)
        XCTAssertEqual(zeros, 0.3679, accuracy: 0.015)
        XCTAssertEqual(weights, FacilityLocationSampler.bootstrapWeights(count: 20_000, seed: 3))
    }
}
