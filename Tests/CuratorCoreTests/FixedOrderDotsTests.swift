import CKernels
import XCTest
@testable import CuratorCore

final class FixedOrderDotsTests: XCTestCase {
    /// Rows scattered in memory, vectors contiguous, every tile shape the
    /// AVX-512 body has (1–16 rows, 1–4 vectors, dimension tails).
    func testEveryShapeGivesTheSameFloatsAsThePortableBodyAndOneProductAlone() {
        var random = Xoshiro256StarStar(seed: 5)
        for dimension in [1, 7, 16, 17, 40, 512, 768] {
            let rowCount = 37, vectorCount = 11
            let rows = (0..<rowCount).map { _ in (0..<dimension).map { _ in Float(random.nextInt(below: 20001)) / 10000 - 1 } }
            let vectors = (0..<vectorCount * dimension).map { _ in Float(random.nextInt(below: 20001)) / 10000 - 1 }
            let pointers = rows.map { row -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: dimension)
                p.initialize(from: row, count: dimension)
                return p
            }
            defer { pointers.forEach { $0.deallocate() } }
            var table = pointers.map { Optional(UnsafePointer($0)) }
            for g in [1, 2, 3, 4, 5, 8, 9, 16, 17, 37] {
                for m in [1, 2, 3, 4, 5, 7, 11] {
                    var fast = [Float](repeating: .nan, count: m * g)
                    var plain = [Float](repeating: .nan, count: m * g)
                    var far = [Float](repeating: .nan, count: m * g)
                    var pointed = [Float](repeating: .nan, count: m * g)
                    vectors.withUnsafeBufferPointer { v in
                        curator_f32_dots(&table, g, v.baseAddress!, m, dimension, &fast, g)
                        curator_f32_dots_portable(&table, g, v.baseAddress!, m, dimension, &plain, g)
                        curator_f32_dots_far(&table, g, v.baseAddress!, m, dimension, &far, g)
                        // The vectors by pointer, each in a buffer of its own.
                        let copies = (0..<m).map { j -> UnsafeMutablePointer<Float> in
                            let p = UnsafeMutablePointer<Float>.allocate(capacity: dimension)
                            p.initialize(from: v.baseAddress! + j * dimension, count: dimension)
                            return p
                        }
                        defer { copies.forEach { $0.deallocate() } }
                        var vectorTable = copies.map { Optional(UnsafePointer($0)) }
                        curator_f32_dots_far_pointed(&table, g, &vectorTable, m, dimension, &pointed, g)
                    }
                    XCTAssertEqual(fast, plain, "\(g) rows × \(m) vectors, dimension \(dimension)")
                    XCTAssertEqual(far, plain, "fetching ahead: \(g) rows × \(m) vectors, dimension \(dimension)")
                    XCTAssertEqual(pointed, plain, "vectors by pointer: \(g) rows × \(m) vectors, dimension \(dimension)")
                    for i in 0..<g {
                        for j in 0..<m {
                            // The same product computed alone, in a 1 × 1 call from another row list.
                            var alone: Float = .nan
                            var single = [table[i]]
                            vectors.withUnsafeBufferPointer { v in
                                curator_f32_dots(&single, 1, v.baseAddress! + j * dimension, 1, dimension, &alone, 1)
                            }
                            XCTAssertEqual(fast[j * g + i], alone, "row \(i), vector \(j), \(g) × \(m), dimension \(dimension)")
                            var exact = 0.0
                            for k in 0..<dimension { exact += Double(rows[i][k]) * Double(vectors[j * dimension + k]) }
                            XCTAssertEqual(Double(fast[j * g + i]), exact, accuracy: 1e-4 * Double(dimension).squareRoot())
                        }
                    }
                }
            }
        }
    }
}
