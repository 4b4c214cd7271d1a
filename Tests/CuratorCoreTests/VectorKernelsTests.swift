import CKernels
import XCTest
@testable import CuratorCore

final class VectorKernelsTests: XCTestCase {
    /// The lane-wise top two agree with a plain scan, first index on ties,
    /// for every length (the lanes cover multiples of four, a scan the rest).
    func testTopTwoMatchesAPlainScan() {
        var random = Xoshiro256StarStar(seed: 9)
        for n in [1, 2, 3, 4, 5, 7, 8, 13, 64, 200, 203] {
            for trial in 0..<50 {
                // Few distinct values on odd trials, so ties are common.
                let scores = (0..<n).map { _ in trial % 2 == 0 ? Float(random.nextDouble()) : Float(random.nextInt(below: 4)) }
                let offsets = (0..<n).map { _ in trial % 3 == 0 ? 0 : Float(random.nextInt(below: 2)) * 0.5 }
                var first = -1, second = -1
                for j in 0..<n {
                    let v = scores[j] - offsets[j]
                    if first < 0 || v > scores[first] - offsets[first] { second = first; first = j }
                    else if second < 0 || v > scores[second] - offsets[second] { second = j }
                }
                let two = VectorKernels.topTwo(scores, minus: offsets, count: n)
                XCTAssertEqual(two.first, first, "n \(n) trial \(trial)")
                XCTAssertEqual(two.second, second, "n \(n) trial \(trial)")
                XCTAssertEqual(two.firstValue, scores[first] - offsets[first])
                if second >= 0 { XCTAssertEqual(two.secondValue, scores[second] - offsets[second]) }
            }
        }
    }

    /// K-Means' lists: the `count` largest of scores − offsets agree with a
    /// full sort (largest first, the first index first among equal values)
    /// for every length and count, with the lane threshold (counts up to 16
    /// of 32 or more values) and without it.
    func testLargestMatchesASort() {
        var random = Xoshiro256StarStar(seed: 11)
        for n in [1, 5, 16, 31, 32, 33, 100, 203] {
            for count in [1, 2, 9, 16, 17] {
                for trial in 0..<20 {
                    // Few distinct values on odd trials, so ties straddle the threshold.
                    let scores = (0..<n).map { _ in trial % 2 == 0 ? Float(random.nextDouble()) : Float(random.nextInt(below: 4)) }
                    let offsets = (0..<n).map { _ in trial % 3 == 0 ? 0 : Float(random.nextInt(below: 2)) * 0.5 }
                    let expected = (0..<n).sorted {
                        let a = scores[$0] - offsets[$0], b = scores[$1] - offsets[$1]
                        return a != b ? a > b : $0 < $1
                    }.prefix(count)
                    var values = [Float](repeating: 0, count: count), labels = [Int32](repeating: 0, count: count)
                    let found = VectorKernels.largest(count, of: scores, minus: offsets, count: n, values: &values, labels: &labels)
                    XCTAssertEqual(found, min(count, n), "n \(n) count \(count) trial \(trial)")
                    XCTAssertEqual(labels.prefix(found).map(Int.init), Array(expected), "n \(n) count \(count) trial \(trial)")
                    XCTAssertEqual(Array(values.prefix(found)), expected.map { scores[$0] - offsets[$0] })
                    // The plain C body gives the same list as the AVX-512 one.
                    var plainValues = [Float](repeating: 0, count: count), plainLabels = [Int32](repeating: 0, count: count)
                    let plain = curator_largest_portable(count, scores, offsets, n, &plainValues, &plainLabels)
                    XCTAssertEqual(plain, found)
                    XCTAssertEqual(plainLabels.prefix(plain), labels.prefix(found), "n \(n) count \(count) trial \(trial)")
                }
            }
        }
    }
}
