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

    func testTabulatedCoefficientsMatchTheirFormulas() {
        let a = 1.75, b = 0.842
        let formula = { (d2: Double) in 2 * b / ((0.001 + d2) * (a * pow(d2, b) + 1)) }
        let table = SquaredDistanceTable(formula)
        var worst = 0.0
        for e in stride(from: -20.0, through: 20.0, by: 0.0137) {
            let d2 = pow(2.0, e)
            worst = max(worst, abs(Double(table(Float(d2))) / formula(Double(Float(d2))) - 1))
        }
        XCTAssertLessThan(worst, 3e-4)
        // Outside the range the ends are used.
        XCTAssertEqual(table(0), table(Float(pow(2.0, -24))))
        XCTAssertEqual(table(.greatestFiniteMagnitude), table(Float(pow(2.0, 24))))
    }
}
