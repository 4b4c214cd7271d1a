import CKernels
import XCTest
@testable import CuratorCore

/// The bfloat16 covariance of K-Means' principal axes (CKernels/BFloat16Gram.c)
/// against a reference written here: centred values rounded to bfloat16 by
/// the rule itself, products summed in Double. Its blocks are 32 × 32 features
/// and its rows go in pairs, so the shapes leave every kind of remainder.
final class BFloat16GramTests: XCTestCase {
    /// Every block on and below the diagonal, packed in chunks as
    /// `PrincipalSubspace(bfloat16Sample:…)` packs them, with the processor's
    /// kernel and the plain C one.
    func testBlocksMatchTheReferenceOnOddShapes() {
        var random = Xoshiro256StarStar(seed: 23)
        for (s, d) in [(1, 1), (2, 33), (7, 32), (65, 70), (130, 97)] {
            let x = (0..<(s * d)).map { _ in Float(random.nextGaussian()) }
            let mean = (0..<d).map { _ in Float(random.nextGaussian()) * 0.1 }
            var packed = [UInt16](repeating: 0xffff, count: curator_bf16_gram_packed_values(s, d))
            x.withUnsafeBufferPointer { xp in
                for first in stride(from: 0, to: s, by: 4) {
                    curator_bf16_gram_pack(xp.baseAddress! + first * d, min(4, s - first), d, d, mean, first, s, &packed)
                }
            }
            let panels = (d + 31) / 32
            for bi in 0..<panels {
                for bj in 0...bi {
                    var fast = [Float](repeating: .nan, count: 32 * 33), plain = fast
                    curator_bf16_gram_block(packed, s, d, bi, bj, 0.5, &fast, 33)
                    curator_bf16_gram_block_portable(packed, s, d, bi, bj, 0.5, &plain, 33)
                    for i in 0..<32 {
                        for j in 0..<33 {
                            let (fi, fj) = (bi * 32 + i, bj * 32 + j)
                            guard i < 32, j < 32, fi < d, fj < d else {
                                XCTAssert(fast[i * 33 + j].isNaN && plain[i * 33 + j].isNaN,
                                          "\(s)×\(d) block (\(bi), \(bj)): [\(i)][\(j)] outside the block was written")
                                continue
                            }
                            var sum = 0.0, magnitude = 1e-30
                            for r in 0..<s {
                                let a = Double(bfloat16Reference(x[r * d + fi] - mean[fi])), b = Double(bfloat16Reference(x[r * d + fj] - mean[fj]))
                                sum += a * b
                                magnitude += abs(a * b)
                            }
                            for (name, value) in [("kernel", fast[i * 33 + j]), ("plain C", plain[i * 33 + j])] {
                                XCTAssertLessThan(abs(Double(value) - 0.5 * sum) / (0.5 * magnitude), 1e-6,
                                                  "\(s)×\(d) block (\(bi), \(bj)) [\(i)][\(j)], \(name)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// The axes from the bfloat16 covariance are those of the float32 one:
    /// the same leading directions, the same share of the variance.
    func testAxesMatchTheFloat32Covariance() throws {
        try XCTSkipUnless(PrincipalSubspace.bfloat16CovarianceAvailable, "no AVX512_BF16 here")
        let n = 3001, d = 200, rank = 24
        var random = Xoshiro256StarStar(seed: 5)
        // Variance decaying along the coordinates, as embeddings' does over their axes, plus an offset.
        let data = (0..<(n * d)).map { i in Float(random.nextGaussian()) / Float(1 + i % d).squareRoot() + 0.3 }
        let float32 = try data.withUnsafeBufferPointer { x in
            try XCTUnwrap(PrincipalSubspace(sample: (0..<n).map { x.baseAddress! + $0 * d }, dimension: d, rank: rank))
        }
        let rounded = try data.withUnsafeBufferPointer { x in
            try XCTUnwrap(PrincipalSubspace(bfloat16Sample: n, dimension: d, rank: rank) { range, target in
                (target).update(from: x.baseAddress! + range.lowerBound * d, count: range.count * d)
            })
        }
        XCTAssertEqual(rounded.retainedVariance, float32.retainedVariance, accuracy: 1e-3)
        for (a, b) in zip(rounded.mean, float32.mean) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // The leading axes (well separated eigenvalues) agree; later ones may mix among near-equal neighbours.
        for column in 0..<4 {
            var agreement: Float = 0
            for j in 0..<d { agreement += rounded.basis[j * rank + column] * float32.basis[j * rank + column] }
            XCTAssertGreaterThan(abs(agreement), 0.99, "axis \(column)")
        }
    }

    /// The seeding's Gram matrix: every entry on both sides of the diagonal
    /// is the product of the two rows centred over the rows and rounded, so
    /// cᵢᵢ + cⱼⱼ − 2cᵢⱼ is their squared distance up to the rounding, however
    /// large the offset they share; on shapes with every kind of remainder
    /// and a row stride wider than the matrix.
    func testCentredRowProductsGiveDistancesOnBothSidesOfTheDiagonal() throws {
        try XCTSkipUnless(BFloat16Gram.isAvailable, "no AVX512_BF16 here")
        var random = Xoshiro256StarStar(seed: 31)
        for (rows, depth) in [(1, 3), (33, 7), (70, 13), (129, 128)] {
            let lda = depth + 3, ldc = rows + 5
            // A large common offset, as projections of embeddings have.
            let a = (0..<(rows * lda)).map { _ in Float(random.nextGaussian()) + 40 }
            var c = [Float](repeating: .nan, count: rows * ldc)
            a.withUnsafeBufferPointer { ap in
                BFloat16Gram.centredRowProducts(rows: rows, depth: depth, a: ap.baseAddress!, lda: lda, c: &c, ldc: ldc)
            }
            var mean = [Double](repeating: 0, count: depth)
            for i in 0..<rows { for t in 0..<depth { mean[t] += Double(a[i * lda + t]) / Double(rows) } }
            func rounded(_ i: Int, _ t: Int) -> Double { Double(bfloat16Reference(a[i * lda + t] - Float(mean[t]))) }
            for i in 0..<rows {
                for j in 0..<rows {
                    var product = 0.0, magnitude = 1e-30
                    for t in 0..<depth { product += rounded(i, t) * rounded(j, t); magnitude += abs(rounded(i, t) * rounded(j, t)) }
                    XCTAssertLessThan(abs(Double(c[i * ldc + j]) - product) / magnitude, 1e-6, "\(rows)×\(depth) [\(i)][\(j)]")
                    guard i != j else { continue }
                    var distance = 0.0
                    for t in 0..<depth { distance += pow(Double(a[i * lda + t]) - Double(a[j * lda + t]), 2) }
                    let found = Double(c[i * ldc + i] + c[j * ldc + j] - 2 * c[i * ldc + j])
                    XCTAssertEqual(found, distance, accuracy: 0.02 * distance + 1e-3, "\(rows)×\(depth) distance \(i)–\(j)")
                }
                for j in rows..<ldc { XCTAssert(c[i * ldc + j].isNaN, "\(rows)×\(depth) [\(i)][\(j)] past the matrix was written") }
            }
        }
    }
}
