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
}
