/// How well a set of picks covers the candidates it was chosen from: every
/// candidate's cosine distance to its nearest pick, summarised. A small
/// maximum means no candidate is far from the selection (nothing the
/// selection leaves unrepresented); the mean says how close the typical
/// image is.
public struct SelectionCoverage: Sendable, Equatable {
    /// How many candidates were measured.
    public let candidates: Int
    /// The mean distance of a candidate to its nearest pick.
    public let mean: Double
    /// The 95th percentile of those distances (nearest rank).
    public let p95: Double
    /// The largest of them: the candidate worst represented.
    public let max: Double
    /// The album row of that candidate.
    public let farthestRow: Int?

    /// Measures `picks` against `candidates` (album rows of `matrix`; picks
    /// among them count with distance 0). Picks' vectors are multiplied
    /// against blocks of candidate rows (one small GEMM per block, on every
    /// core), so no candidates × picks matrix is ever held.
    ///
    /// With no picks every distance is undefined: the result is all zero
    /// with `candidates` 0.
    public static func measure(matrix: EmbeddingMatrix, candidates: [Int], picks: [Int]) -> SelectionCoverage {
        let distances = nearestPickDistances(matrix: matrix, candidates: candidates, picks: picks)
        guard !picks.isEmpty, !distances.isEmpty else {
            return SelectionCoverage(candidates: 0, mean: 0, p95: 0, max: 0, farthestRow: nil)
        }
        var sum = 0.0
        var worst = -Float.infinity
        var worstIndex = 0
        for (i, value) in distances.enumerated() {
            sum += Double(value)
            if value > worst { worst = value; worstIndex = i }
        }
        let rank = Swift.max(0, Int((0.95 * Double(distances.count)).rounded(.up)) - 1)
        var copy = distances
        let p95 = copy.withUnsafeMutableBufferPointer { QuickSelect.select(rank, in: $0) }
        return SelectionCoverage(candidates: distances.count, mean: sum / Double(distances.count), p95: Double(p95),
                                 max: Double(worst), farthestRow: candidates[worstIndex])
    }

    /// Per candidate (in `candidates` order), the cosine distance `1 − dot`
    /// to its nearest pick, clamped at 0; empty when there are no picks.
    static func nearestPickDistances(matrix: EmbeddingMatrix, candidates: [Int], picks: [Int]) -> [Float] {
        nearestPicks(matrix: matrix, candidates: candidates, picks: picks, withIndex: false).distance
    }

    /// Per candidate (in `candidates` order), the index in `picks` of its
    /// nearest pick (by cosine; the first of equals) and the cosine distance
    /// to it, clamped at 0; empty when there are no picks. `withIndex` false
    /// leaves `nearest` empty and skips finding it.
    ///
    /// One GEMM per block of candidates against every pick, each block's
    /// similarities reduced to a maximum per row at once, the blocks spread
    /// over the cores (each call single-threaded). A block of consecutive
    /// album rows (the usual case: every image, or all but a few excluded)
    /// is read in place; only scattered candidates are copied together.
    static func nearestPicks(matrix: EmbeddingMatrix, candidates: [Int], picks: [Int],
                             withIndex: Bool = true) -> (nearest: [Int32], distance: [Float]) {
        let n = candidates.count, m = picks.count, d = matrix.dimension
        guard n > 0, m > 0 else { return ([], []) }
        let pickVectors = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, m * d))
        defer { pickVectors.deallocate() }
        for (j, row) in picks.enumerated() { matrix.copyRow(row, into: pickVectors + j * d) }
        var result = [Float](repeating: 0, count: n)
        var nearest = [Int32](repeating: 0, count: withIndex ? n : 0)
        let blockRows = coverageBlockRows
        let blocks = (n + blockRows - 1) / blockRows
        let threads = Swift.max(1, Swift.min(activeCoreCount, blocks))
        result.withUnsafeMutableBufferPointer { out in
        nearest.withUnsafeMutableBufferPointer { which in
        candidates.withUnsafeBufferPointer { rows in
            // An empty array's buffer may still have an address: only `withIndex` says whether to write it.
            let shared = UncheckedSendable((out.baseAddress!, withIndex ? which.baseAddress : nil, UnsafePointer(pickVectors),
                                            rows.baseAddress!))
            BLAS.withSingleThreadedCalls {
                parallelFor(threads) { t in
                    let (output, index, picked, rows) = shared.value
                    var gathered: UnsafeMutablePointer<Float>?
                    let products = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * m)
                    defer { gathered?.deallocate(); products.deallocate() }
                    for block in stride(from: t, to: blocks, by: threads) {
                        let start = block * blockRows
                        let b = Swift.min(blockRows, n - start)
                        let first = rows[start]
                        var consecutive = first + b <= matrix.rows
                        var i = 1
                        while consecutive && i < b { consecutive = rows[start + i] == first + i; i += 1 }
                        let a: UnsafePointer<Float>
                        let buffer = gathered ?? UnsafeMutablePointer<Float>.allocate(capacity: blockRows * d)
                        gathered = buffer
                        if consecutive {
                            a = matrix.rows(first..<first + b, into: buffer)  // in place unless float16
                        } else {
                            for i in 0..<b { matrix.copyRow(rows[start + i], into: buffer + i * d) }
                            a = UnsafePointer(buffer)
                        }
                        // b × m: each candidate's similarities to every pick, in a row.
                        BLAS.gemm(transposeB: true, m: b, n: m, k: d, a: a, lda: d, b: picked, ldb: d,
                                  c: products, ldc: m)
                        for i in 0..<b {
                            let row = products + i * m
                            let best = VectorKernels.maximum(row, count: m)
                            output[start + i] = Swift.max(0, 1 - best)
                            if let index { index[start + i] = Int32(VectorKernels.firstIndex(of: best, in: row, count: m) ?? 0) }
                        }
                    }
                }
            }
        }
        }
        }
        return (nearest, result)
    }

    /// Candidates per GEMM: large enough that OpenBLAS's packing of the picks
    /// is paid once per many rows, small enough that a block's similarities
    /// (rows × picks) stay in a core's cache. 1,024 and 4,096 time alike on
    /// 85,491 × 768 with 200 picks; 16,384 is slower.
    static let coverageBlockRows = 1_024
}

/// Hoare's selection: the `k`-th smallest value (from 0) of `values`, which
/// it reorders. Linear on average; used for percentiles of large arrays.
enum QuickSelect {
    static func select(_ k: Int, in values: UnsafeMutableBufferPointer<Float>) -> Float {
        var low = 0, high = values.count - 1
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        while low < high {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let pivot = values[low + Int((state >> 33) % UInt64(high - low + 1))]
            var i = low, j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { high = j } else if k >= i { low = i } else { return values[k] }
        }
        return values[k]
    }
}
