import CKernels
import Foundation
import XCTest
@testable import CuratorCore

/// The bfloat16 products of the image towers (CKernels/BFloat16GEMM.c through
/// `BFloat16Matrix`) against a reference written here: operands rounded to
/// bfloat16 by the rule itself, products summed in Double. The kernel's
/// register tile is 12 rows × 32 outputs and it passes over k 256 values at
/// a time, so the shapes below leave every kind of remainder.
final class BFloat16MatrixTests: XCTestCase {
    private struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    func testProductsMatchTheReferenceOnOddShapes() {
        var rng = Generator(state: 19)
        // (rows, outputs, inputs): remainders of the 12-row tile, the 32-output
        // panel, the pair of k and the 256-value pass over k; one output; one input.
        let shapes = [(1, 1, 1), (13, 33, 3), (25, 47, 257), (12, 32, 256), (11, 17, 513), (37, 100, 768), (3, 65, 1), (50, 64, 1030)]
        for (m, n, k) in shapes {
            let a = (0..<(m * k)).map { _ in Float.random(in: -2...2, using: &rng) }
            let w = (0..<(n * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let ldc = n + 3  // columns past n must stay as they were
            let start = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
            let matrix = w.withUnsafeBufferPointer { BFloat16Matrix(stacking: [($0.baseAddress!, n)], inputs: k) }
            for workers in [1, 2] {
                var c = start
                var rounded = [UInt16](repeating: 0, count: BFloat16Matrix.roundedRowValues(rows: m, inputs: k))
                a.withUnsafeBufferPointer { ap in
                    c.withUnsafeMutableBufferPointer { cp in
                        rounded.withUnsafeMutableBufferPointer { rp in
                            matrix.multiplyAdd(rows: m, a: ap.baseAddress!, lda: k, roundedRows: rp.baseAddress!,
                                               c: cp.baseAddress!, ldc: ldc, workers: workers)
                        }
                    }
                }
                var worst = 0.0, worstFloat32 = 0.0
                for i in 0..<m {
                    for j in 0..<ldc {
                        guard j < n else {
                            XCTAssertEqual(c[i * ldc + j], start[i * ldc + j], "\(m)×\(n)×\(k): column \(j) past the outputs was written")
                            continue
                        }
                        var sum = Double(start[i * ldc + j]), exact = sum, magnitude = 1.0
                        for t in 0..<k {
                            sum += Double(bfloat16Reference(a[i * k + t])) * Double(bfloat16Reference(w[j * k + t]))
                            exact += Double(a[i * k + t]) * Double(w[j * k + t])
                            magnitude += abs(Double(a[i * k + t]) * Double(w[j * k + t]))
                        }
                        worst = max(worst, abs(Double(c[i * ldc + j]) - sum) / magnitude)
                        worstFloat32 = max(worstFloat32, abs(Double(c[i * ldc + j]) - exact) / magnitude)
                    }
                }
                // float32 sums of exact products: a few units of float32's rounding.
                XCTAssertLessThan(worst, 1e-6, "\(m)×\(n)×\(k), \(workers) workers: off the bfloat16 reference")
                // And the rounding of the operands costs at most 2 × 2⁻⁹ of the products' magnitude.
                XCTAssertLessThan(worstFloat32, 4e-3, "\(m)×\(n)×\(k): too far from float32")
            }
        }
    }

    func testStackedPartsAreOneMatrixOfTheirOutputs() {
        // A block's query, key and value projections are packed as one matrix:
        // 40 + 40 + 40 outputs (panels of 32 straddle the parts).
        var rng = Generator(state: 7)
        let k = 40, m = 5
        let parts = (0..<3).map { _ in (0..<(40 * k)).map { _ in Float.random(in: -1...1, using: &rng) } }
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let joined = parts.flatMap { $0 }
        func product(_ matrix: BFloat16Matrix) -> [Float] {
            var c = [Float](repeating: 0, count: m * 120)
            var rounded = [UInt16](repeating: 0, count: BFloat16Matrix.roundedRowValues(rows: m, inputs: k))
            matrix.multiplyAdd(rows: m, a: a, lda: k, roundedRows: &rounded, c: &c, ldc: 120, workers: 1)
            return c
        }
        let stacked = parts[0].withUnsafeBufferPointer { p0 in
            parts[1].withUnsafeBufferPointer { p1 in
                parts[2].withUnsafeBufferPointer { p2 in
                    BFloat16Matrix(stacking: [(p0.baseAddress!, 40), (p1.baseAddress!, 40), (p2.baseAddress!, 40)], inputs: k)
                }
            }
        }
        let whole = joined.withUnsafeBufferPointer { BFloat16Matrix(stacking: [($0.baseAddress!, 120)], inputs: k) }
        XCTAssertEqual(product(stacked), product(whole))
    }

    func testRoundingIsNearestWithTiesToEven() {
        // Ties (the dropped half exactly 0x8000) go to the even neighbour, both ways;
        // the vector conversion of AVX512_BF16 (when present) must agree with the rule.
        let values: [Float] = [Float(bitPattern: 0x3f80_8000), Float(bitPattern: 0x3f81_8000), Float(bitPattern: 0x3f80_8001),
                               Float(bitPattern: 0xbf81_7fff), 1, -2.5, 3.0e38, 1e-30, 0, -0.0]
            + (0..<40).map { Float($0) * 0.123_456_7 - 2 }
        var rounded = [UInt16](repeating: 0, count: BFloat16Matrix.roundedRowValues(rows: 1, inputs: values.count))
        curator_bf16_round_rows(values, 1, values.count, values.count, &rounded)
        for (i, v) in values.enumerated() {
            XCTAssertEqual(Float(bitPattern: UInt32(rounded[i]) << 16), bfloat16Reference(v), "\(v)")
            XCTAssertEqual(curator_bf16_round(v), rounded[i], "\(v)")
        }
        XCTAssertEqual(Float(bitPattern: UInt32(rounded[0]) << 16), 1)
        XCTAssertEqual(Float(bitPattern: UInt32(rounded[1]) << 16), Float(bitPattern: 0x3f82_0000))
    }

    func testTowersInEitherPrecisionMatchTransformers() throws {
        // The product's bar (cosine ≥ 0.9999 against transformers' float32) in
        // both precisions, on every fixture tower layout: Hugging Face and
        // open_clip CLIP, SigLIP and SigLIP 2. bfloat16 runs where the
        // processor has AVX512_BF16, and says so.
        let clip = try [CLIPFixture.expected("tiny-hf"), CLIPFixture.expected("tiny-openclip")]
        let siglip = try [SigLIPFixture.expected("tiny-siglip"), SigLIPFixture.expected("tiny-siglip2")]
        let models = [(CLIPFixture.huggingFaceModel, clip[0].names, clip[0].pixels, clip[0].embeddings),
                      (CLIPFixture.openCLIPModel, clip[1].names, clip[1].pixels, clip[1].embeddings),
                      (SigLIPFixture.siglipModel, siglip[0].names, siglip[0].pixels, siglip[0].embeddings),
                      (SigLIPFixture.siglip2Model, siglip[1].names, siglip[1].pixels, siglip[1].embeddings)]
        for (folder, names, pixels, embeddings) in models {
            for precision in CLIPPrecision.allCases {
                let encoder = try CLIPVisionEncoder(modelFolder: folder, options: CLIPEncoderOptions(batchSize: 3, precision: precision))
                XCTAssertEqual(encoder.precision, precision == .bfloat16 && !CLIPPrecision.bfloat16IsAvailable ? .float32 : precision)
                let out = EmbeddingMatrix(rows: names.count, dimension: encoder.dimension)
                encoder.embed(pixels: pixels.row(0), count: names.count, into: out.row(0))
                for i in 0..<names.count {
                    let cosine = clipCosine(out.row(i), embeddings.row(i), encoder.dimension)
                    XCTAssertGreaterThanOrEqual(cosine, 0.9999, "\(folder.lastPathComponent) \(precision) \(names[i]): cosine \(cosine)")
                }
            }
        }
        // Unasked, an encoder runs bfloat16 where it can.
        let encoder = try CLIPVisionEncoder(modelFolder: CLIPFixture.huggingFaceModel)
        XCTAssertEqual(encoder.precision, CLIPPrecision.bfloat16IsAvailable ? .bfloat16 : .float32)
    }
}
