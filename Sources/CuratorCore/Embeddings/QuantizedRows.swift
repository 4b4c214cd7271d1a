import CKernels
import Foundation

/// An int8 copy of a matrix's rows (one scale per row) for searches over
/// large albums: a scan reads a quarter of the float32 bytes, and the rows
/// that could be among the best are then scored exactly in float32, so the
/// results are those of the exact scan. A row's error is bounded, not
/// guessed: the quantisation leaves a residual r with x = s·q + r, so the
/// scan's score of a query v is off by at most |v·r| ≤ ‖v‖·‖r‖.
final class QuantizedRows: @unchecked Sendable {  // immutable after init
    /// The float32 matrix this copies (exact scores come from it).
    let matrix: EmbeddingMatrix
    private let values: UnsafeMutablePointer<Int8>
    private let scales: UnsafeMutablePointer<Float>
    private let residuals: UnsafeMutablePointer<Float>

    /// Below this many rows a search scans the float32 matrix directly:
    /// one GEMV is already a few milliseconds, and the copy would cost memory.
    static let worthwhileRows = 100_000

    /// Rows per task of the quantisation and of the scan (about 1 MB of int8 at 512-d).
    private static let chunkRows = 2048

    /// Quantises every row of `matrix` (one pass, on every core).
    init(_ matrix: EmbeddingMatrix) {
        self.matrix = matrix
        let rows = matrix.rows, d = matrix.dimension
        values = .allocate(capacity: max(rows * d, 1))
        scales = .allocate(capacity: max(rows, 1))
        residuals = .allocate(capacity: max(rows, 1))
        let (x, q, s, e) = (SendablePointer(matrix.row(0)), SendablePointer(values), SendablePointer(scales), SendablePointer(residuals))
        parallelChunks(rows, chunk: Self.chunkRows) { _, range in
            curator_quantize_rows_i8(x.pointer, range.lowerBound, range.upperBound, d, q.pointer, s.pointer, e.pointer)
        }
    }

    deinit {
        values.deallocate()
        scales.deallocate()
        residuals.deallocate()
    }

    /// The bytes this copy holds.
    var byteCount: Int { matrix.rows * (matrix.dimension + 8) }

    /// The rows scoring best along `direction`, best first, exactly as
    /// `EmbeddingMatrix.best(along:k:minimum:)` finds them: the `k` best
    /// (with `minimum`, only those at or above it; `k` nil keeps all of those).
    func best(along direction: [Float], k: Int?, minimum: Float?) -> [(row: Int, score: Float)] {
        let rows = matrix.rows, d = matrix.dimension
        precondition(direction.count == d, "QuantizedRows: a \(direction.count)-d direction for \(d)-d rows")
        guard rows > 0, k.map({ $0 > 0 }) ?? true else { return [] }
        // Every row passes: nothing to narrow down.
        if k == nil && minimum == nil { return matrix.best(along: direction, k: nil, minimum: nil) }
        var approximate = [Float](repeating: 0, count: rows)
        approximate.withUnsafeMutableBufferPointer { out in
            let (q, s, y) = (SendablePointer(values), SendablePointer(scales), SendablePointer(out.baseAddress!))
            direction.withUnsafeBufferPointer { v in
                let query = SendablePointer(UnsafeMutablePointer(mutating: v.baseAddress!))
                parallelChunks(rows, chunk: Self.chunkRows) { _, range in
                    curator_scores_i8(q.pointer, s.pointer, range.lowerBound, range.upperBound, d, query.pointer,
                                      y.pointer + range.lowerBound)
                }
            }
        }
        // Each row's score lies within bound[r] of its approximation; the
        // slack covers float32 rounding of both sums (d ulps of ‖v‖ each).
        let norm = direction.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        let slack = 4 * Float(d) * Float.ulpOfOne * max(norm, 1)
        let bound = { (r: Int) in norm * self.residuals[r] + slack }
        // The k-th best exact score is at least the k-th best lower bound.
        var floor = minimum ?? -.infinity
        if let k, k < rows {
            var lower = [Float](repeating: 0, count: rows)
            for r in 0..<rows { lower[r] = approximate[r] - bound(r) }
            let kth = lower.withUnsafeBufferPointer { TopScores.select($0, k: k, minimum: nil) }.last?.score ?? -.infinity
            floor = max(floor, kth)
        }
        var candidates: [Int] = []
        for r in 0..<rows where approximate[r] + bound(r) >= floor { candidates.append(r) }
        // A bound too loose to narrow much (a minimum below most scores): the full scan is cheaper than a gather.
        if candidates.count > rows / 8 { return matrix.best(along: direction, k: k, minimum: minimum) }
        // Exact float32 scores of the candidates, in row order (so ties go to the lower row, as in the full scan).
        let gathered = EmbeddingMatrix(uninitializedRows: candidates.count, dimension: d)
        for (i, r) in candidates.enumerated() { gathered.row(i).update(from: matrix.row(r), count: d) }
        let exact = gathered.scores(along: direction)
        return exact.withUnsafeBufferPointer { TopScores.select($0, k: k, minimum: minimum) }.map { (candidates[$0.row], $0.score) }
    }
}
