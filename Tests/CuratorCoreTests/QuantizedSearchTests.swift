import CKernels
import Foundation
import XCTest
@testable import CuratorCore

/// The int8 scan large albums search with: it must find what the float32
/// scan finds (the same rows in the same order, float32 scores), including
/// among near-duplicates and exact ties that quantisation cannot tell apart.
/// Rows whose scores differ by less than float32 rounding (1e-6) are equal
/// answers: the full scan's own order among them depends on how BLAS sums.
final class QuantizedSearchTests: XCTestCase {
    /// Clustered unit rows with planted near-duplicates (cosine ≈ 0.9999) and exact copies.
    private func matrix(rows n: Int, dimension d: Int, seed: UInt64) -> EmbeddingMatrix {
        var generator = Xoshiro256StarStar(seed: seed)
        let centres = (0..<20).map { _ in (0..<d).map { _ in Float(generator.nextDouble() * 2 - 1) } }
        let matrix = EmbeddingMatrix(rows: n, dimension: d)
        for i in 0..<n {
            let row = matrix.row(i)
            if i % 50 == 1 {  // a copy of the row before, nudged by 1e-4 in one coordinate
                row.update(from: matrix.row(i - 1), count: d)
                row[i % d] += 1e-4
            } else if i % 50 == 2 {  // an exact copy: a tie
                row.update(from: matrix.row(i - 2), count: d)
            } else {
                let c = centres[i % centres.count]
                for j in 0..<d { row[j] = c[j] + Float(generator.nextDouble() - 0.5) * 0.6 }
            }
            EmbeddingMatrix.normalize(row, count: d)
        }
        return matrix
    }

    func testQuantisationKeepsEveryValueToTheNearestStepAndMeasuresWhatItLost() {
        // Lengths past, at and short of the vector kernel's 32-value steps.
        for d in [5, 37, 64, 768] {
            let x = matrix(rows: 40, dimension: d, seed: UInt64(d))
            x.row(3).update(repeating: 0, count: d)  // an all-zero row: scale 1, nothing lost
            var q = [Int8](repeating: 0, count: 40 * d)
            var scales = [Float](repeating: 0, count: 40), residuals = scales, norms = scales
            curator_quantize_rows_i8(x.row(0), 0, 40, d, &q, &scales, &residuals, &norms)
            for r in 0..<40 {
                let row = x.row(r)
                let largest = (0..<d).map { abs(row[$0]) }.max()!
                let scale = largest > 0 ? largest / 127 : 1
                XCTAssertEqual(scales[r], scale, "d \(d) row \(r)")
                var lost = 0.0, kept = 0.0
                for j in 0..<d {
                    let v = min(127, max(-127, (row[j] * (1 / scale)).rounded(.toNearestOrEven)))
                    XCTAssertEqual(q[r * d + j], Int8(v), "d \(d) row \(r) value \(j)")
                    lost += pow(Double(row[j]) - Double(scale) * Double(v), 2)
                    kept += Double(v) * Double(v)
                }
                XCTAssertEqual(Double(residuals[r]), lost.squareRoot(), accuracy: 1e-6 * max(1, lost.squareRoot()), "d \(d) row \(r)")
                XCTAssertEqual(Double(norms[r]), Double(scale) * kept.squareRoot(), accuracy: 1e-5, "d \(d) row \(r)")
            }
        }
    }

    func testTheScanFindsWhatTheExactScanFinds() {
        for (n, d) in [(3000, 64), (1500, 37)] {
            let x = matrix(rows: n, dimension: d, seed: UInt64(n))
            let scan = QuantizedRows(x)
            var generator = Xoshiro256StarStar(seed: 9)
            var queries: [[Float]] = [x.vector(0), x.vector(1), x.vector(n / 2)]
            queries.append((0..<d).map { _ in Float(generator.nextDouble() * 2 - 1) })  // not unit length
            for (q, query) in queries.enumerated() {
                for (k, minimum) in [(1, nil), (20, nil), (500, nil), (20, Float(0.5)), (nil, Float(0.8)), (n + 10, nil)] as [(Int?, Float?)] {
                    let exact = x.best(along: query, k: k, minimum: minimum)
                    let found = scan.best(along: query, k: k, minimum: minimum)
                    let label = "n=\(n) d=\(d) query \(q) k=\(k.map(String.init) ?? "nil") minimum=\(minimum.map { "\($0)" } ?? "nil")"
                    let truth = (0..<n).map { r in (0..<d).reduce(0.0) { $0 + Double(x.row(r)[$1]) * Double(query[$1]) } }
                    XCTAssertEqual(found.count, exact.count, label)
                    XCTAssertEqual(Set(found.map(\.row)).count, found.count, label)
                    for (a, b) in zip(found, exact) {
                        XCTAssertEqual(a.score, b.score, accuracy: 1e-6, label)
                        if a.row != b.row { XCTAssertEqual(truth[a.row], truth[b.row], accuracy: 1e-6, "\(label): rows \(a.row) and \(b.row) differ") }
                    }
                    // Nothing the exact scan keeps is missing unless a row as good took its place.
                    let kept = Set(found.map(\.row))
                    let last = found.last.map { truth[$0.row] } ?? .infinity
                    for b in exact where !kept.contains(b.row) { XCTAssertLessThanOrEqual(truth[b.row], last + 1e-6, label) }
                    var differing = 0
                    for (a, b) in zip(found, exact) where a.row != b.row { differing += 1 }
                    XCTAssertLessThanOrEqual(differing, 2, "\(label): only rows tied within rounding may trade places")
                }
            }
        }
    }
}
