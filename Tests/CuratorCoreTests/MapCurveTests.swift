import XCTest
@testable import CuratorCore

final class MapCurveTests: XCTestCase {
    /// umap-learn 0.5's `find_ab_params(1.0, min_dist)` (scipy curve_fit).
    func testFitMatchesUmapLearn() {
        let expected: [(Double, Double, Double)] = [
            (0.1, 1.57694346046584, 0.8950608779639974),
            (0.05, 1.7502249630984574, 0.8420553922927806),
            (0.5, 0.5830300203968329, 1.3341669926352966),
            (0.001, 1.9290733950863033, 0.7915045328700837),
        ]
        for (minDist, a, b) in expected {
            let curve = UMAPCurve.fit(minDist: minDist, spread: 1)
            XCTAssertEqual(curve.a, a, accuracy: 1e-3 * a, "a for min_dist \(minDist)")
            XCTAssertEqual(curve.b, b, accuracy: 1e-3 * b, "b for min_dist \(minDist)")
        }
    }

    func testFastPowerIsAccurateOverTheRangeTheLayoutUses() {
        var worst: Float = 0
        for e in stride(from: -20.0, through: 20.0, by: 0.173) {
            let x = Float(pow(2.0, e))
            for y: Float in [0.79, 0.842, 0.895, 1.334, -0.158] {
                let relative = abs(MapKernels.fastPow(x, y) / Float(pow(Double(x), Double(y))) - 1)
                worst = max(worst, relative)
            }
        }
        XCTAssertLessThan(worst, 1e-4)
    }
}
