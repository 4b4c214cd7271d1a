import XCTest
@testable import CuratorCore

final class GramProductTests: XCTestCase {
    /// The symmetric product equals the general one, both ways round, on
    /// sizes that end mid-tile, with a scale, and comes out exactly symmetric.
    func testEqualsTheGeneralProductBothWaysAndIsSymmetric() {
        var random = Xoshiro256StarStar(seed: 11)
        for (rows, depth) in [(1, 3), (130, 7), (300, 257), (129, 128)] {
            let a = (0..<(rows * depth)).map { _ in Float(random.nextGaussian()) }
            for transposed in [false, true] {
                let size = transposed ? depth : rows
                var gram = [Float](repeating: .nan, count: size * size)
                var general = [Float](repeating: 0, count: size * size)
                a.withUnsafeBufferPointer { x in
                    BLAS.gramOnCores(transposed: transposed, rows: rows, depth: depth, alpha: 0.5, a: x.baseAddress!,
                                     lda: depth, c: &gram, ldc: size)
                    BLAS.gemm(transposeA: transposed, transposeB: !transposed, m: size, n: size, k: transposed ? rows : depth,
                              alpha: 0.5, a: x.baseAddress!, lda: depth, b: x.baseAddress!, ldb: depth, c: &general, ldc: size)
                }
                for i in 0..<size {
                    for j in 0..<size {
                        XCTAssertEqual(gram[i * size + j], general[i * size + j],
                                       accuracy: 1e-4 * max(1, abs(general[i * size + j])),
                                       "\(rows)×\(depth) transposed \(transposed) at \(i),\(j)")
                        XCTAssertEqual(gram[i * size + j], gram[j * size + i])
                    }
                }
            }
        }
    }
}
