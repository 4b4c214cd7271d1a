/// The best-scoring rows of a score vector: the `k` highest (ties to the
/// lower row), or every row at or above a minimum, in one pass that keeps
/// only the current best `k`.
enum TopScores {
    /// Rows and scores, best first. `k` nil keeps every row that passes `minimum`.
    static func select(_ scores: UnsafeBufferPointer<Float>, k: Int?, minimum: Float?) -> [(row: Int, score: Float)] {
        let floor = minimum ?? -.infinity
        guard let k else {
            var all: [(row: Int, score: Float)] = []
            for (row, score) in scores.enumerated() where score >= floor { all.append((row, score)) }
            return all.sorted { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
        }
        guard k > 0 else { return [] }
        // A sorted list of at most k (best first); a row enters only when it beats the last.
        var best: [(row: Int, score: Float)] = []
        best.reserveCapacity(k + 1)
        var threshold = floor
        for row in 0..<scores.count {
            let score = scores[row]
            guard score >= threshold, score.isFinite else { continue }
            if best.count == k && !(score > best[k - 1].score) { continue }
            var at = best.count
            while at > 0 && best[at - 1].score < score { at -= 1 }
            best.insert((row, score), at: at)
            if best.count > k { best.removeLast() }
            if best.count == k { threshold = max(floor, best[k - 1].score) }
        }
        return best
    }
}

extension EmbeddingMatrix {
    /// Every row's dot product with `direction` (one GEMV): for unit rows
    /// and a unit direction, their cosine similarities — a search's scores.
    public func scores(along direction: [Float]) -> [Float] {
        precondition(direction.count == dimension, "EmbeddingMatrix: a \(direction.count)-d direction for \(dimension)-d rows")
        var out = [Float](repeating: 0, count: rows)
        guard rows > 0 else { return out }
        // A float16 matrix is widened 4,096 rows (8 MB at 512-d) at a time.
        let blockRows = precision == .float32 ? rows : 4096
        out.withUnsafeMutableBufferPointer { y in
            for start in stride(from: 0, to: rows, by: blockRows) {
                let end = Swift.min(rows, start + blockRows)
                withRows(start..<end) { a in
                    BLAS.gemv(m: end - start, n: dimension, a: a, lda: dimension, x: direction, y: y.baseAddress! + start)
                }
            }
        }
        return out
    }

    /// The rows scoring best along `direction`, best first: the `k` best
    /// (with `minimum`, only those at or above it; `k` nil keeps all of those).
    public func best(along direction: [Float], k: Int?, minimum: Float? = nil) -> [(row: Int, score: Float)] {
        scores(along: direction).withUnsafeBufferPointer { TopScores.select($0, k: k, minimum: minimum) }
    }
}
