import XCTest
@testable import CuratorCore

final class SelectionDuplicateIndexTests: XCTestCase {
    /// Clustered unit vectors with near-copies planted two ways: random
    /// noise, and a step towards another row (the copy then leans into a
    /// neighbouring list, the hard case for an inverted file). Returns the matrix.
    static func plantedMatrix(rows: Int = 4000, dimension: Int = 48, seed: UInt64 = 9) -> EmbeddingMatrix {
        let base = SelectionTestData.blobs(40, perBlob: rows / 40, dimension: dimension, noise: 0.7, seed: seed)
        var values = Array(UnsafeBufferPointer(start: base.row(0), count: base.rows * dimension))
        var random = Xoshiro256StarStar(seed: seed ^ 77)
        let d = dimension
        for copy in 0..<(rows / 20) {
            let source = random.nextInt(below: rows), target = random.nextInt(below: rows)
            guard source != target else { continue }
            let x = Array(values[(source * d)..<(source * d + d)])
            var y: [Float]
            if copy % 2 == 0 {
                y = x.map { $0 + 0.12 * SelectionTestData.gaussian(&random) / Float(d).squareRoot() }
            } else {
                let other = random.nextInt(below: rows)
                let z = Array(values[(other * d)..<(other * d + d)])
                let step = Float(0.05 + 0.15 * random.nextDouble())
                y = zip(x, z).map { $0 + step * ($1 - $0) }
            }
            values.replaceSubrange((target * d)..<(target * d + d), with: y)
        }
        let m = EmbeddingMatrix(rows: rows, dimension: d, values: values)
        m.normalizeRows()
        return m
    }

    /// Every pair of `rows` at or above `threshold`, by brute force.
    static func allPairs(_ m: EmbeddingMatrix, rows: [Int], threshold: Float) -> [(Int, Int)] {
        var products = [Float](repeating: 0, count: m.rows * m.rows)
        products.withUnsafeMutableBufferPointer {
            BLAS.gemm(transposeB: true, m: m.rows, n: m.rows, k: m.dimension, a: m.row(0), lda: m.dimension,
                      b: m.row(0), ldb: m.dimension, c: $0.baseAddress!, ldc: m.rows)
        }
        var pairs: [(Int, Int)] = []
        for (a, i) in rows.enumerated() {
            for j in rows[(a + 1)...] where products[i * m.rows + j] >= threshold { pairs.append((i, j)) }
        }
        return pairs
    }

    func testIndexFindsThePairsOfBruteForceAndOnlyThem() throws {
        let m = Self.plantedMatrix()
        for threshold: Float in [0.97, 0.93] {
            let index = try InvertedFile.duplicateIndex(matrix: m, horizon: InvertedFile.horizon(for: threshold))
            XCTAssertEqual(index.listCount, InvertedFile.duplicateListCount(rows: m.rows))
            for rows in [Array(0..<m.rows), (0..<m.rows).filter { $0 % 5 != 2 }] {
                let finder = NearDuplicateFinder(threshold: threshold)
                let exact = try finder.groups(matrix: m, rows: rows)
                let found = try finder.groups(matrix: m, rows: rows, index: index)
                let groupOf = Dictionary(uniqueKeysWithValues: found.enumerated().flatMap { g, group in group.rows.map { ($0, g) } })
                let exactGroupOf = Dictionary(uniqueKeysWithValues: exact.enumerated().flatMap { g, group in group.rows.map { ($0, g) } })
                // Only true pairs join rows: each group found lies inside one exact group.
                for group in found {
                    XCTAssertEqual(Set(group.rows.map { exactGroupOf[$0] }).count, 1, "threshold \(threshold)")
                    XCTAssertNil(group.rows.first { !rows.contains($0) }, "an excluded row was grouped")
                }
                let pairs = Self.allPairs(m, rows: rows, threshold: threshold)
                let recalled = pairs.filter { groupOf[$0.0] != nil && groupOf[$0.0] == groupOf[$0.1] }.count
                XCTAssertGreaterThan(pairs.count, 100)
                XCTAssertGreaterThanOrEqual(Double(recalled), 0.99 * Double(pairs.count),
                                            "threshold \(threshold): \(recalled) of \(pairs.count) pairs")
                // The index compares a small part of all pairs.
                var isCandidate = [Bool](repeating: false, count: m.rows)
                for row in rows { isCandidate[row] = true }
                let work = index.work(threshold: threshold, isCandidate: isCandidate)
                XCTAssertLessThan(work.index * 4, work.allPairs)
            }
        }
    }

    func testKnownRowsAreReusedAndNewRowsAssignedAlike() throws {
        let m = Self.plantedMatrix(rows: 1200)
        let horizon = InvertedFile.horizon(for: 0.95)
        let full = try InvertedFile.duplicateIndex(matrix: m, horizon: horizon)
        // Half the rows known from the full index, the rest assigned afresh: the same index.
        let known: [InvertedFile.RowAssignment?] = (0..<m.rows).map { $0 % 2 == 0 ? full.assignment(of: $0) : nil }
        let updated = try InvertedFile(centres: full.centres, matrix: m, horizon: horizon, known: known)
        XCTAssertEqual(updated.lists, full.lists)
        XCTAssertEqual(updated.neighbourStart, full.neighbourStart)
        XCTAssertEqual(updated.neighbourLists, full.neighbourLists)
        // A wider horizon keeps more neighbours; a narrower one fewer.
        let wide = try InvertedFile(centres: full.centres, matrix: m, horizon: horizon * 2)
        XCTAssertGreaterThan(wide.neighbourLists.count, full.neighbourLists.count)
        XCTAssertTrue(full.neighbourDistances.allSatisfy { $0 >= 0 && $0 <= horizon })
    }

    func testDamagedPartsAreRejected() {
        XCTAssertThrowsError(try InvertedFile(dimension: 2, centres: [1, 0], horizon: 0.1, lists: [0, 1],
                                                neighbourStart: [0, 0, 0], neighbourLists: [], neighbourDistances: []))
        XCTAssertThrowsError(try InvertedFile(dimension: 2, centres: [1, 0, 0, 1], horizon: 0.1, lists: [0, 1],
                                                neighbourStart: [0, 1, 0], neighbourLists: [1], neighbourDistances: [0.01]))
        XCTAssertNoThrow(try InvertedFile(dimension: 2, centres: [1, 0, 0, 1], horizon: 0.1, lists: [0, 1],
                                            neighbourStart: [0, 1, 1], neighbourLists: [1], neighbourDistances: [0.01]))
    }
}
