import CKernels
import Foundation

/// An int8 copy of a matrix's rows (one scale per row) for searches over
/// large albums: a scan reads a quarter of the float32 bytes, multiplies in
/// integers against an int8 copy of the query, and the rows that could be
/// among the best are then scored exactly in float32, so the results are
/// those of the exact scan. A row's error is bounded, not guessed: the
/// quantisation leaves residuals, x = s·q + r for the row and v = t·p + e
/// for the query, so the scan's score s·t·(q·p) is off from x·v by
/// r·v + s·q·e, at most ‖r‖·‖v‖ + ‖s·q‖·‖e‖.
final class QuantizedRows: @unchecked Sendable {  // immutable after init
    /// The float32 matrix this copies (exact scores come from it).
    let matrix: EmbeddingMatrix
    private let values: UnsafeMutablePointer<Int8>
    private let scales: UnsafeMutablePointer<Float>
    /// ‖r‖ of each row: the length of what quantisation lost.
    private let residuals: UnsafeMutablePointer<Float>
    /// ‖s·q‖ of each row: the length of what it kept.
    private let norms: UnsafeMutablePointer<Float>

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
        norms = .allocate(capacity: max(rows, 1))
        let (q, s) = (UncheckedSendable(values), UncheckedSendable(scales))
        let (e, n) = (UncheckedSendable(residuals), UncheckedSendable(norms))
        parallelChunks(rows, chunk: Self.chunkRows) { _, range in
            // Offsets from the chunk's start, so a float16 chunk widened into scratch quantises as in place.
            let first = range.lowerBound
            matrix.withRows(range) { x in
                curator_quantize_rows_i8(x, 0, range.count, d, q.value + first * d, s.value + first, e.value + first, n.value + first)
            }
        }
    }

    deinit {
        values.deallocate()
        scales.deallocate()
        residuals.deallocate()
        norms.deallocate()
    }

    /// The bytes this copy holds.
    var byteCount: Int { matrix.rows * (matrix.dimension + 12) }

    /// The rows scoring best along `direction`, best first, exactly as
    /// `EmbeddingMatrix.best(along:k:minimum:)` finds them: the `k` best
    /// (with `minimum`, only those at or above it; `k` nil keeps all of those).
    func best(along direction: [Float], k: Int?, minimum: Float?) -> [(row: Int, score: Float)] {
        let rows = matrix.rows, d = matrix.dimension
        precondition(direction.count == d, "QuantizedRows: a \(direction.count)-d direction for \(d)-d rows")
        guard rows > 0, k.map({ $0 > 0 }) ?? true else { return [] }
        // Every row passes: nothing to narrow down.
        if k == nil && minimum == nil { return matrix.best(along: direction, k: nil, minimum: nil) }
        // So many wanted that the gather below would cost more than the full scan.
        if let k, k > rows / 8 { return matrix.best(along: direction, k: k, minimum: minimum) }
        let query = Query(direction, dimension: d)
        let chunk = Self.chunkRows
        let tasks = (rows + chunk - 1) / chunk
        // Each task scans its rows, then keeps its k best lower bounds: the
        // k-th best exact score is at least the k-th best of those.
        let approximate = SharedBuffer<Float>(repeating: 0, count: rows)
        let kept = min(k ?? 0, chunk)  // a task adds at most this many to the k best
        let lowest = SharedBuffer<Float>(repeating: -.infinity, count: tasks * kept)
        let (q, s, e, n) = (UncheckedSendable(values), UncheckedSendable(scales), UncheckedSendable(residuals), UncheckedSendable(norms))
        query.values.withUnsafeBufferPointer { p in
            let p = UncheckedSendable(UnsafeMutablePointer(mutating: p.baseAddress!))
            parallelChunks(rows, chunk: chunk) { task, range in
                let out = approximate.pointer + range.lowerBound
                curator_scores_i8(q.value, s.value, range.lowerBound, range.upperBound, d, p.value, out)
                for i in 0..<range.count { out[i] *= query.scale }
                guard k != nil else { return }
                let lower = UnsafeMutablePointer<Float>.allocate(capacity: range.count)
                defer { lower.deallocate() }
                for (i, r) in range.enumerated() {
                    lower[i] = out[i] - query.bound(residual: e.value[r], norm: n.value[r])
                }
                let best = TopScores.select(UnsafeBufferPointer(start: lower, count: range.count), k: kept, minimum: nil)
                for (i, b) in best.enumerated() { lowest.pointer[task * kept + i] = b.score }
            }
        }
        var floor = minimum ?? -.infinity
        if let k {
            let best = TopScores.select(UnsafeBufferPointer(start: lowest.pointer, count: lowest.count), k: k, minimum: nil)
            if best.count == k { floor = max(floor, best[k - 1].score) }
        }
        // The candidates: rows whose upper bound reaches the floor, per task, in row order.
        var found = [[Int]](repeating: [], count: tasks)
        found.withUnsafeMutableBufferPointer { lists in
            let lists = UncheckedSendable(lists.baseAddress!)
            parallelChunks(rows, chunk: chunk) { task, range in
                var mine: [Int] = []
                for r in range where approximate.pointer[r] + query.bound(residual: e.value[r], norm: n.value[r]) >= floor {
                    mine.append(r)
                }
                lists.value[task] = mine
            }
        }
        let candidates = found.flatMap { $0 }
        // A bound too loose to narrow much (a minimum below most scores): the full scan is cheaper than a gather.
        if candidates.count > rows / 8 { return matrix.best(along: direction, k: k, minimum: minimum) }
        // Exact float32 scores of the candidates, in row order (so ties go to the lower row, as in the full scan).
        let gathered = EmbeddingMatrix(uninitializedRows: candidates.count, dimension: d)
        for (i, r) in candidates.enumerated() { matrix.copyRow(r, into: gathered.row(i)) }
        let exact = gathered.scores(along: direction)
        return exact.withUnsafeBufferPointer { TopScores.select($0, k: k, minimum: minimum) }.map { (candidates[$0.row], $0.score) }
    }

    /// Raises `cover[r]` to row r's exact score along `direction` wherever
    /// that is higher — what a float32 GEMV and an element-wise maximum
    /// would leave — reading the int8 copy: only the rows whose score's upper
    /// bound passes their cover are scored exactly (facility location raises
    /// every image's cover so once per pick; after the first few picks most
    /// rows are far below their cover).
    func raise(_ cover: UnsafeMutablePointer<Float>, along direction: UnsafePointer<Float>) {
        let rows = matrix.rows, d = matrix.dimension
        guard rows > 0 else { return }
        let query = Query(direction, dimension: d)
        let (q, s, e, n) = (UncheckedSendable(values), UncheckedSendable(scales), UncheckedSendable(residuals), UncheckedSendable(norms))
        let shared = UncheckedSendable((cover, direction))
        // Two equal chunks per core: the scan is the same work for every row.
        let chunk = max(256, (rows + 2 * activeCoreCount - 1) / (2 * activeCoreCount))
        query.values.withUnsafeBufferPointer { p in
            let p = UncheckedSendable(p.baseAddress!)
            BLAS.withSingleThreadedCalls {
                parallelChunks(rows, chunk: chunk) { _, range in
                    let (cover, direction) = shared.value
                    let scores = UnsafeMutablePointer<Float>.allocate(capacity: range.count)
                    defer { scores.deallocate() }
                    curator_scores_i8(q.value, s.value, range.lowerBound, range.upperBound, d, p.value, scores)
                    // The rows whose bound passes their cover, marked by a score of +∞.
                    var passing = 0
                    for (i, r) in range.enumerated() {
                        if scores[i] * query.scale + query.bound(residual: e.value[r], norm: n.value[r]) > cover[r] {
                            scores[i] = .infinity
                            passing += 1
                        }
                    }
                    guard passing > 0 else { return }
                    if passing > range.count / 4 {
                        // While covers are low (the first picks) most rows pass: one GEMV of the chunk beats a
                        // dot per row (a row that did not pass cannot raise its cover, so all may take part).
                        BLAS.gemv(m: range.count, n: d, a: matrix.row(range.lowerBound), lda: d, x: direction, y: scores)
                        VectorKernels.raiseToMaximum(cover + range.lowerBound, scores, count: range.count)
                    } else {
                        for (i, r) in range.enumerated() where scores[i] == .infinity {
                            let exact = BLAS.dot(d, matrix.row(r), direction)
                            if exact > cover[r] { cover[r] = exact }
                        }
                    }
                }
            }
        }
    }

    /// A direction quantised like the rows, and the error terms of its scores.
    private struct Query: Sendable {
        /// The direction in int8; its scores are `scale` times the integer sums.
        var values: [Int8]
        var scale: Float = 0
        /// The bound's factors of a row's ‖r‖ and ‖s·q‖ (see the type's comment).
        var errorPerResidual: Float
        var errorPerNorm: Float = 0
        /// Covers float32 rounding of both sums (d ulps of ‖v‖ each).
        var slack: Float

        init(_ direction: UnsafePointer<Float>, dimension d: Int) {
            values = [Int8](repeating: 0, count: d)
            var scale: Float = 0, residual: Float = 0, kept: Float = 0
            values.withUnsafeMutableBufferPointer { p in
                curator_quantize_rows_i8(direction, 0, 1, d, p.baseAddress!, &scale, &residual, &kept)
            }
            var squared: Float = 0
            for j in 0..<d { squared += direction[j] * direction[j] }
            let norm = squared.squareRoot()
            self.scale = scale
            errorPerResidual = norm
            errorPerNorm = residual
            slack = 4 * Float(d) * Float.ulpOfOne * max(norm, 1)
        }

        /// How far a row's scan score can be from its exact score.
        @inline(__always) func bound(residual: Float, norm: Float) -> Float {
            errorPerResidual * residual + errorPerNorm * norm + slack
        }
    }
}
