import CKernels
import XCTest
@testable import CuratorCore

final class Int8CandidateScoresTests: XCTestCase {
    func testProductsApproximateFloatAndTheVectorBodyMatchesThePortableOne() {
        // 37 columns (padded to 40) and 45 candidates (padded to 64): every padding path.
        let (queries, _) = MapTestData.clusters(groups: 3, perGroup: 4, dimension: 37, noise: 0.5, seed: 5)
        let (candidates, _) = MapTestData.clusters(groups: 5, perGroup: 9, dimension: 37, noise: 0.5, seed: 6)
        let m = queries.rows - 1, n = candidates.rows, d = 37
        let scores = Int8CandidateScores(dimension: d)
        scores.setCandidates(UnsafePointer(candidates.row(0)), count: n)
        XCTAssertEqual(scores.paddedCount, 64)
        var fast = [Float](repeating: .nan, count: m * 64)
        scores.score(queries: UnsafePointer(queries.row(0)), count: m, into: &fast)
        for i in 0..<m {
            for j in 0..<n {
                let exact = MapKernels.dot(queries.row(i), candidates.row(j), d)
                XCTAssertEqual(fast[i * 64 + j], exact, accuracy: 0.01, "query \(i), candidate \(j)")
            }
            for j in n..<64 { XCTAssertEqual(fast[i * 64 + j], 0, "padding candidate \(j) scored") }
        }
        // The same packed bytes through the plain C body: integer sums, so equal to the last bit.
        let d4 = curator_i8_padded_dimension(d)
        var q = [Int8](repeating: 0, count: m * d4), qs = [Float](repeating: 0, count: m), qo = [Int32](repeating: 0, count: m)
        curator_i8_quantize_queries(queries.row(0), m, d, &q, &qs, &qo)
        let panels = UnsafeMutableRawPointer.allocate(byteCount: 64 * d4, alignment: 64)
        defer { panels.deallocate() }
        var cs = [Float](repeating: 0, count: 64)
        curator_i8_pack_candidates(candidates.row(0), n, d, panels.assumingMemoryBound(to: UInt8.self), &cs)
        var portable = [Float](repeating: .nan, count: m * 64)
        curator_i8_products_portable(q, qs, qo, m, d, panels.assumingMemoryBound(to: UInt8.self), cs, 64, &portable, 64)
        XCTAssertEqual(fast, portable)
    }

    func testShortlistedSearchFindsWhatFloat32FindsWithExactDistances() throws {
        // Planted clusters; the int8 shortlist (AVX-512 VNNI machines; elsewhere float32 again) against
        // float32 scores of every candidate, from the same lists.
        let (matrix, _) = MapTestData.clusters(groups: 30, perGroup: 100, dimension: 48, noise: 0.6, seed: 11)
        let k = 15
        let plain = try InvertedFile.neighborGraph(matrix, k: k, seed: 3, gathersRows: true)
        let shortlisted = try InvertedFile.neighborGraph(matrix, k: k, seed: 3, gathersRows: true, scoresInInt8: true)
        XCTAssertGreaterThanOrEqual(shortlisted.recall(against: plain), 0.995)
        let exact = NeighborGraph.exact(matrix, k: k)
        XCTAssertGreaterThanOrEqual(shortlisted.recall(against: exact), 0.9)
        for p in 0..<matrix.rows {
            XCTAssertEqual(Int(shortlisted.indices[p * k]), p, "row \(p) is not its own first neighbour")
            for j in 1..<k {
                let q = Int(shortlisted.indices[p * k + j])
                XCTAssertGreaterThanOrEqual(q, 0)
                let distance = max(1 - MapKernels.dot(matrix.row(p), matrix.row(q), matrix.dimension), 0)
                XCTAssertEqual(shortlisted.distances[p * k + j], distance, accuracy: 1e-5)
            }
        }
    }
}
