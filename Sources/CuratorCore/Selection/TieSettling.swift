/// The exact float32 values of an album's rows, for a matrix kept at lower
/// precision (float16): what settles FPS's near-ties (`TieSettling`), read
/// from where the album keeps them exactly (an index-only album's embeddings
/// file, a folder album's index).
public struct ExactRows: Sendable {
    /// Copies album row `row`'s exact values, scaled to unit length as a
    /// float32 import scales them, to `target` (`dimension` floats).
    let copyRow: @Sendable (_ row: Int, _ target: UnsafeMutablePointer<Float>) throws -> Void

    /// Rows read by `copyRow`.
    public init(copyRow: @escaping @Sendable (_ row: Int, _ target: UnsafeMutablePointer<Float>) throws -> Void) {
        self.copyRow = copyRow
    }
}

/// Settles FPS's near-ties on exact values, so that the picks depend neither
/// on how the matrix is kept nor on the order in which a float32 sum is taken.
///
/// FPS picks the row whose minimum distance to the picked set is largest.
/// Computed in float32 from a float16 matrix, every distance is off by at
/// most δ (the rounding of both vectors plus the sum's): two rows whose exact
/// distances differ by less than 2δ can come out in either order, and at a
/// million rows such near-ties reach the top within the first hundred picks.
/// Float32 has the same problem on a smaller scale: its distances are one
/// rounding among many (the engine sums in one fixed order, `FixedOrderDots`;
/// OpenBLAS sums differently with the shape of a GEMM), so float32's own
/// order of two such rows is an accident of that rounding, which the
/// float16 copy cannot reproduce.
///
/// So the engine makes every row within `tolerance` (2δ) of a run's maximum
/// exact in its own arithmetic, and when a row other than the maximum lies
/// there (seen from values it has anyway) those rows — the exact maximum is
/// always among them — are scored again exactly: the float32 values (the
/// matrix's own for a float32 album, `ExactRows` for a float16 one) in
/// float64, the same way in both precisions. The highest exact score wins,
/// the lowest row on an exact tie. A float32 album and its float16 copy then
/// pick the same rows, as long as the exact values can be read. Without a
/// second row in the margin nothing is re-scored: float32's margin (6e-5 at
/// 512-d) almost never holds one.
final class TieSettling {
    /// Rows whose engine distance is within this of the maximum are scored exactly.
    let tolerance: Float
    private let dimension: Int
    /// Album row → its exact float32 values.
    private let row: (Int) throws -> UnsafePointer<Float>
    /// How far a float32 dot product of two unit vectors can be from the
    /// exact one, twice: a pick whose float32 dot is that far below the
    /// best cannot be the nearest.
    private let dotSlack: Float
    /// Set when an exact row could not be read: the engine's picks stand from then on.
    private var failed = false
    /// Rows × picked rows scored for one step at most (a larger near-tie keeps the engine's pick).
    static let budget = 1 << 16

    /// Settling for `matrix`: float32 rows are their own exact values; a
    /// float16 matrix needs `exactRows` (nil without them: nothing to settle with).
    init?(matrix: EmbeddingMatrix, exactRows: ExactRows?) {
        let dimension = matrix.dimension
        self.dimension = dimension
        tolerance = Self.tolerance(precision: matrix.precision, dimension: dimension)
        dotSlack = Self.tolerance(precision: .float32, dimension: dimension)
        switch matrix.precision {
        case .float32:
            row = { UnsafePointer(matrix.row($0)) }
        case .float16:
            guard let exactRows else { return nil }
            let cache = RowCache(dimension: dimension, read: exactRows.copyRow)
            row = { try cache.row($0) }
        }
    }

    /// A float16 album's exact rows, read once each.
    private final class RowCache {
        let dimension: Int
        let read: (Int, UnsafeMutablePointer<Float>) throws -> Void
        var rows: [Int: UnsafeMutablePointer<Float>] = [:]
        init(dimension: Int, read: @escaping (Int, UnsafeMutablePointer<Float>) throws -> Void) {
            self.dimension = dimension
            self.read = read
        }
        deinit { for (_, values) in rows { values.deallocate() } }
        func row(_ index: Int) throws -> UnsafePointer<Float> {
            if let known = rows[index] { return UnsafePointer(known) }
            let values = UnsafeMutablePointer<Float>.allocate(capacity: dimension)
            do { try read(index, values) } catch { values.deallocate(); throw error }
            rows[index] = values
            return UnsafePointer(values)
        }
    }

    /// 2δ for distances `1 − x·y` of unit vectors of `dimension` values
    /// computed in float32 from values kept at `precision`: the sum's error
    /// (at most γ_D = D·2⁻²⁴/(1 − D·2⁻²⁴), any order of summation) and the
    /// subtraction's, plus for float16 the rounding of both vectors: with
    /// e = 2⁻¹¹ + √D·2⁻²⁵ (relative rounding, and subnormals' absolute one)
    /// |x̂·ŷ − x·y| ≤ 2e + e². With a 1 % margin.
    static func tolerance(precision: MatrixPrecision, dimension: Int) -> Float {
        let d = Double(max(dimension, 1)), u = 0x1p-24
        var delta = d * u / (1 - d * u) + 2 * u
        if precision == .float16 {
            let e = 0x1p-11 + d.squareRoot() * 0x1p-25
            delta += 2 * e + e * e
        }
        return Float(2 * delta * 1.01)
    }

    /// The row to pick instead of `pick` (a working row at the maximum of
    /// `distances`, `count` of them, every row within `tolerance` of it
    /// exact): the one of highest exact score among those rows. `topRows`,
    /// when given, holds every row that can be within the margin (the lazy
    /// step's); else all rows are scanned. `picked` are the album rows
    /// picked so far (included rows first); `albumRow` maps working rows.
    ///
    /// A row's exact score is its smallest `1 − x·y` over the picked rows in
    /// float64, from the nearest picks only: float32 dot products (BLAS)
    /// find them, and every pick within `dotSlack` of the best is scored
    /// exactly (the exact nearest is always among them), so the score is
    /// the one all picks would give, at a fraction of the cost. `known`
    /// keeps, per working row, how far that went (the run's picks only grow),
    /// so a row near the top step after step is compared with new picks only.
    func settle(pick: Int, distances: UnsafeMutablePointer<Float>, count: Int, topRows: [Int]?,
                picked: [Int], albumRow: (Int) -> Int, known: inout [Int: Nearest]) -> Int {
        let threshold = distances[pick] - tolerance
        guard !failed, threshold.isFinite, !picked.isEmpty else { return pick }
        var near: [Int] = []
        if let topRows {
            near = topRows.filter { distances[$0] >= threshold }.sorted()
        } else {
            var i = 0
            while let found = VectorKernels.firstIndex(atLeast: threshold, in: distances + i, count: count - i) {
                near.append(i + found)
                if near.count * picked.count > Self.budget { return pick }
                i += found + 1
            }
        }
        guard near.count > 1, near.count * picked.count <= Self.budget else { return pick }
        do {
            var best = pick, bestScore = -Double.infinity
            for candidate in near {  // ascending: the lowest row wins an exact tie
                let score = try exactScore(of: candidate, albumRow: albumRow(candidate), picked: picked, known: &known)
                if score > bestScore { (best, bestScore) = (candidate, score) }
            }
            return best
        } catch {
            failed = true
            return pick
        }
    }

    /// Whether working row `pick`, whose engine distance to the picked set is
    /// `distance`, lies below `threshold` (`count="auto"`'s stop): decided on
    /// its exact score when the engine's value is within `tolerance` of the
    /// threshold, so a float16 album stops where its float32 twin does.
    /// `picked` is only gathered then (every step asks).
    func isBelow(_ threshold: Float, pick: Int, distance: Float, albumRow: Int, picked: @autoclosure () -> [Int],
                 known: inout [Int: Nearest]) -> Bool {
        guard !failed, abs(distance - threshold) <= tolerance else { return distance < threshold }
        let picked = picked()
        guard !picked.isEmpty else { return distance < threshold }
        do {
            return try exactScore(of: pick, albumRow: albumRow, picked: picked, known: &known) < Double(threshold)
        } catch {
            failed = true
            return distance < threshold
        }
    }

    /// The exact score of working row `candidate` (album row `albumRow`):
    /// its smallest `1 − x·y` over `picked` in float64, from the nearest picks
    /// only (see `settle`); `known` keeps how far that went.
    private func exactScore(of candidate: Int, albumRow: Int, picked: [Int], known: inout [Int: Nearest]) throws -> Double {
        let x = try row(albumRow)
        var nearest = known[candidate] ?? Nearest()
        // Each new pick's float32 dot; the exact one for those within reach of the best
        // (a pick left out is below the best by more than both errors: not the nearest).
        var dots: [(index: Int, dot: Float)] = []
        for j in nearest.picks..<picked.count {
            let dot = BLAS.dot(dimension, x, try row(picked[j]))
            nearest.top = max(nearest.top, dot)
            dots.append((j, dot))
        }
        for (j, dot) in dots where dot >= nearest.top - dotSlack {
            nearest.exact = max(nearest.exact, Self.exactDot(x, try row(picked[j]), count: dimension))
        }
        nearest.picks = picked.count
        known[candidate] = nearest
        return 1 - nearest.exact
    }

    /// A row's nearest picks so far: over the first `picks` picked rows, the
    /// largest float32 dot product and the largest exact one among those
    /// within `dotSlack` of it (which is the largest exact one of all).
    struct Nearest {
        var picks = 0
        var top = -Float.infinity
        var exact = -Double.infinity
    }

    /// x·y in float64, in one fixed order (four lanes, then the rest): the same
    /// value for the same rows whichever album computes it.
    private static func exactDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Double {
        var lanes = SIMD4<Double>(repeating: 0)
        var j = 0
        while j + 4 <= n {
            let a = SIMD4<Double>(Double(x[j]), Double(x[j + 1]), Double(x[j + 2]), Double(x[j + 3]))
            let b = SIMD4<Double>(Double(y[j]), Double(y[j + 1]), Double(y[j + 2]), Double(y[j + 3]))
            lanes += a * b
            j += 4
        }
        var sum = lanes.sum()
        while j < n { sum += Double(x[j]) * Double(y[j]); j += 1 }
        return sum
    }
}
