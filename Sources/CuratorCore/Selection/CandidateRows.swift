/// The rows a matrix computation walks over: either the album matrix itself
/// (when most rows are candidates — the few others are masked, which costs
/// less than a copy) or a compact copy of the candidate rows (when fewer than
/// half are candidates, so the copy stays under half the matrix's bytes).
final class CandidateRows {
    /// The album matrix.
    let matrix: EmbeddingMatrix
    /// The candidates, ascending album rows.
    let candidates: [Int]
    /// Rows of the working block.
    let count: Int
    /// The vector length.
    let dimension: Int
    /// Whether the working block is the album matrix (local index = album row).
    let isAlbumMatrix: Bool
    /// The start of the working block, row-major `count × dimension`.
    let base: UnsafePointer<Float>
    private let copy: UnsafeMutableBufferPointer<Float>?

    init(matrix: EmbeddingMatrix, candidates: [Int]) {
        self.matrix = matrix
        self.candidates = candidates
        dimension = matrix.dimension
        if candidates.count * 2 >= matrix.rows {
            isAlbumMatrix = true
            count = matrix.rows
            base = UnsafePointer(matrix.row(0))
            copy = nil
        } else {
            isAlbumMatrix = false
            count = candidates.count
            let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count * dimension))
            for (i, row) in candidates.enumerated() {
                (block.baseAddress! + i * dimension).update(from: matrix.row(row), count: dimension)
            }
            copy = block
            base = UnsafePointer(block.baseAddress!)
        }
    }

    deinit { copy?.deallocate() }

    /// The album row of working row `local`.
    @inline(__always) func albumRow(_ local: Int) -> Int {
        isAlbumMatrix ? local : candidates[local]
    }

    /// The working row of album row `row`, if it is a candidate.
    func localRow(_ row: Int) -> Int? {
        if isAlbumMatrix { return row }
        var low = 0, high = candidates.count
        while low < high {
            let mid = (low + high) / 2
            if candidates[mid] < row { low = mid + 1 } else { high = mid }
        }
        return low < candidates.count && candidates[low] == row ? low : nil
    }

    /// Sets entries of non-candidate working rows to `value` in a working-row-sized array.
    func maskNonCandidates(_ values: UnsafeMutablePointer<Float>, with value: Float) {
        guard isAlbumMatrix, candidates.count < count else { return }
        var next = 0
        for row in 0..<count {
            if next < candidates.count, candidates[next] == row {
                next += 1
            } else {
                values[row] = value
            }
        }
    }
}
