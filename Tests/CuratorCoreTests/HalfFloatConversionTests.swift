import CKernels
import XCTest
@testable import CuratorCore

/// The float16 ⇄ float32 conversions a float16 album's rows go through:
/// F16C's and the portable body's agree with each other and with Swift's own
/// `Float16` on every half value and on values between them.
final class HalfFloatConversionTests: XCTestCase {
    func testWideningIsExactForEveryHalfValue() {
        let halves = (0...UInt16.max).map { $0 }
        var fast = [Float](repeating: 0, count: halves.count), plain = fast
        curator_f16_to_f32(halves, &fast, halves.count)
        curator_f16_to_f32_portable(halves, &plain, halves.count)
        for (i, h) in halves.enumerated() {
            let expected = Float(Float16(bitPattern: h))
            if expected.isNaN {
                XCTAssertTrue(fast[i].isNaN && plain[i].isNaN, "0x\(String(h, radix: 16))")
            } else {
                XCTAssertEqual(fast[i].bitPattern, expected.bitPattern, "0x\(String(h, radix: 16))")
                XCTAssertEqual(plain[i].bitPattern, expected.bitPattern, "0x\(String(h, radix: 16))")
            }
        }
    }

    func testNarrowingRoundsToNearestEven() {
        var random = Xoshiro256StarStar(seed: 5)
        // Halfway points and their neighbours, subnormals, overflow, and random values of every scale.
        var values: [Float] = [0, -0, 1, 65504, 65520, 65519.99, 1e-8, 3e-5, 6.1e-5, -2.5e-6, .infinity, -.infinity, 1 + 1.0 / 2048, 1 + 3.0 / 2048]
        for _ in 0..<20_000 {
            values.append(Float(random.nextDouble() * 2 - 1) * Float(pow(2.0, Double(Int(random.nextDouble() * 40) - 28))))
        }
        var fast = [UInt16](repeating: 0, count: values.count), plain = fast
        curator_f32_to_f16(values, &fast, values.count)
        curator_f32_to_f16_portable(values, &plain, values.count)
        for (i, v) in values.enumerated() {
            XCTAssertEqual(fast[i], Float16(v).bitPattern, "\(v)")
            XCTAssertEqual(plain[i], Float16(v).bitPattern, "\(v)")
        }
    }

    func testAMatrixReadsTheSameRowsAtEitherPrecision() {
        let m = SelectionTestData.randomMatrix(rows: 37, dimension: 13, seed: 2)
        let half = m.converted(to: .float16)
        XCTAssertEqual(half.byteCount, m.byteCount / 2)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 37 * 13)
        defer { scratch.deallocate() }
        let rows = half.rows(5..<20, into: scratch)
        for i in 5..<20 {
            XCTAssertEqual(Array(UnsafeBufferPointer(start: rows + (i - 5) * 13, count: 13)), half.vector(i))
            XCTAssertEqual(half.vector(i), m.vector(i), accuracy: 1.0 / 2048)
        }
        XCTAssertEqual(half.float32().vector(36), half.vector(36))
        XCTAssertTrue(m.float32() === m)
        // Widened a block at a time or all at once: the same products.
        XCTAssertEqual(half.scores(along: m.vector(3)), half.float32().scores(along: m.vector(3)), accuracy: 1e-6)
        XCTAssertEqual(m.scores(along: m.vector(3)), half.scores(along: m.vector(3)), accuracy: 2e-3)
    }
}
