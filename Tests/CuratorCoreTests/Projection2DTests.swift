import Foundation
import XCTest
@testable import CuratorCore

final class Projection2DTests: XCTestCase {
    /// Points spread widely along one direction, less along a second, and
    /// barely along the rest, with a large offset: the map must recover the
    /// two directions (up to sign) and centre the points.
    func testRecoversTheTwoDirectionsOfLargestSpread() throws {
        let n = 600, d = 48
        var state: UInt64 = 7
        func gaussian() -> Float {
            func unit() -> Double {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return (Double(state >> 11) + 0.5) * 0x1.0p-53
            }
            return Float((-2 * log(unit())).squareRoot() * cos(2 * Double.pi * unit()))
        }
        // Two orthonormal directions that are not coordinate axes.
        var u = [Float](repeating: 0, count: d), w = [Float](repeating: 0, count: d)
        for j in 0..<d { u[j] = j % 2 == 0 ? 1 : -1; w[j] = j < d / 2 ? 1 : -1 }
        let scale = 1 / Float(d).squareRoot()
        for j in 0..<d { u[j] *= scale; w[j] *= scale }
        var values = [Float](repeating: 0, count: n * d)
        var a = [Float](), b = [Float]()
        for i in 0..<n {
            let s = 6 * gaussian(), t = 2 * gaussian()
            a.append(s); b.append(t)
            for j in 0..<d { values[i * d + j] = 3 + s * u[j] + t * w[j] + 0.05 * gaussian() }
        }
        let matrix = EmbeddingMatrix(rows: n, dimension: d, values: values)

        let map = try Projection2D.principalComponents(of: matrix)

        XCTAssertEqual(map.points.count, n)
        XCTAssertGreaterThan(abs(correlation(map.points.map(\.x), a)), 0.999)
        XCTAssertGreaterThan(abs(correlation(map.points.map(\.y), b)), 0.999)
        XCTAssertEqual(map.points.map(\.x).reduce(0, +) / Float(n), 0, accuracy: 1e-2)
        XCTAssertEqual(map.variances.x, variance(a), accuracy: variance(a) * 0.02)
        XCTAssertEqual(map.variances.y, variance(b), accuracy: variance(b) * 0.05)
    }

    func testTheSameMatrixGivesTheSameMapAndDegenerateInputsDoNotFail() throws {
        let values = (0..<(50 * 8)).map { Float(sin(Double($0) * 0.37)) }
        let matrix = EmbeddingMatrix(rows: 50, dimension: 8, values: values)
        XCTAssertEqual(try Projection2D.principalComponents(of: matrix).points,
                       try Projection2D.principalComponents(of: matrix).points)

        let same = EmbeddingMatrix(rows: 5, dimension: 4, values: Array(repeating: 0.5, count: 20))
        XCTAssertEqual(try Projection2D.principalComponents(of: same).points, Array(repeating: .zero, count: 5))
        let line = EmbeddingMatrix(rows: 3, dimension: 2, values: [0, 0, 1, 0, 2, 0])
        let onLine = try Projection2D.principalComponents(of: line).points
        XCTAssertEqual(onLine.map(\.x), [-1, 0, 1], accuracy: 1e-5)
        XCTAssertEqual(onLine.map(\.y), [0, 0, 0], accuracy: 1e-5)
        XCTAssertEqual(try Projection2D.principalComponents(of: EmbeddingMatrix(rows: 0, dimension: 4)).points, [])
    }

    private func correlation(_ x: [Float], _ y: [Float]) -> Float {
        let mx = x.reduce(0, +) / Float(x.count), my = y.reduce(0, +) / Float(y.count)
        var sxy: Float = 0, sxx: Float = 0, syy: Float = 0
        for (p, q) in zip(x, y) { sxy += (p - mx) * (q - my); sxx += (p - mx) * (p - mx); syy += (q - my) * (q - my) }
        return sxy / (sxx * syy).squareRoot()
    }

    private func variance(_ x: [Float]) -> Float {
        let m = x.reduce(0, +) / Float(x.count)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(x.count)
    }
}
