/// The rows a matrix computation walks over: either the album matrix itself
/// (when most rows are candidates — the few others are masked, which costs
/// less than a copy) or a compact copy of the candidate rows (when fewer than
/// half are candidates, so the copy stays under half the matrix's bytes).
/// A projected block (`init(projecting:onto:)`) holds the projections of
/// another's working rows, indexed the same way.
final class CandidateRows {
    /// The album matrix (whose rows are the full vectors even when the
    /// working block holds projections: read working rows through `base`).
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
            let block = Self.gather(count, dimension) { UnsafePointer(matrix.row(candidates[$0])) }
            copy = block
            base = UnsafePointer(block.baseAddress!)
        }
    }

    /// A new `count × dimension` block whose row i is a copy of `row(i)`.
    private static func gather(_ count: Int, _ dimension: Int,
                               _ row: (Int) -> UnsafePointer<Float>) -> UnsafeMutableBufferPointer<Float> {
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count * dimension))
        for i in 0..<count { (block.baseAddress! + i * dimension).update(from: row(i), count: dimension) }
        return block
    }

    /// The projections of `source`'s working rows onto `subspace`: same
    /// candidates and working-row indices, `subspace.rank` long. Rows are
    /// projected in parallel blocks.
    init(projecting source: CandidateRows, onto subspace: PrincipalSubspace) {
        matrix = source.matrix
        candidates = source.candidates
        count = source.count
        isAlbumMatrix = source.isAlbumMatrix
        dimension = subspace.rank
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count * dimension))
        let rowsPerBlock = 4096
        let blocks = (count + rowsPerBlock - 1) / rowsPerBlock
        let target = UncheckedSendable(block.baseAddress!)
        let from = UncheckedSendable(source.base)
        let (p, d) = (dimension, source.dimension)
        BLAS.withSingleThreadedCalls {
            parallelFor(blocks) { b in
                let start = b * rowsPerBlock
                let rows = min(rowsPerBlock, source.count - start)
                subspace.project(from.value + start * d, count: rows, into: target.value + start * p)
            }
        }
        copy = block
        base = UnsafePointer(block.baseAddress!)
    }

    /// The projections onto `subspace` of some of `source`'s candidates,
    /// the `indices`-th (ascending positions in `source.candidates`), as
    /// working rows 0, 1, …: gathered and projected block by block, so the
    /// full vectors are never copied whole.
    init(projecting source: CandidateRows, indices: [Int], onto subspace: PrincipalSubspace) {
        matrix = source.matrix
        candidates = indices.map { source.candidates[$0] }
        count = indices.count
        isAlbumMatrix = false
        dimension = subspace.rank
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count * dimension))
        let rowsPerBlock = 1024
        let blocks = (count + rowsPerBlock - 1) / rowsPerBlock
        let target = UncheckedSendable(block.baseAddress!)
        let (p, d) = (dimension, source.dimension)
        BLAS.withSingleThreadedCalls {
            parallelFor(blocks) { b in
                let start = b * rowsPerBlock
                let rows = min(rowsPerBlock, indices.count - start)
                let gathered = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
                defer { gathered.deallocate() }
                for i in 0..<rows { (gathered + i * d).update(from: source.candidateRow(indices[start + i]), count: d) }
                subspace.project(gathered, count: rows, into: target.value + start * p)
            }
        }
        copy = block
        base = UnsafePointer(block.baseAddress!)
    }

    /// A compact copy of some of `source`'s candidates: the `indices`-th
    /// (ascending positions in `source.candidates`), as working rows 0, 1, ….
    init(sampling source: CandidateRows, indices: [Int]) {
        matrix = source.matrix
        candidates = indices.map { source.candidates[$0] }
        count = indices.count
        isAlbumMatrix = false
        dimension = source.dimension
        let block = Self.gather(count, dimension) { source.candidateRow(indices[$0]) }
        copy = block
        base = UnsafePointer(block.baseAddress!)
    }

    deinit { copy?.deallocate() }

    /// The working row of the `index`-th candidate (`candidates[index]`).
    @inline(__always) func candidateRow(_ index: Int) -> UnsafePointer<Float> {
        base + (isAlbumMatrix ? candidates[index] : index) * dimension
    }

    /// The album row of working row `local`.
    @inline(__always) func albumRow(_ local: Int) -> Int {
        isAlbumMatrix ? local : candidates[local]
    }

    /// The working row of album row `row`, if it is a candidate.
    func localRow(_ row: Int) -> Int? {
        if isAlbumMatrix && candidates.count == count { return (0..<count).contains(row) ? row : nil }
        var low = 0, high = candidates.count
        while low < high {
            let mid = (low + high) / 2
            if candidates[mid] < row { low = mid + 1 } else { high = mid }
        }
        guard low < candidates.count && candidates[low] == row else { return nil }
        return isAlbumMatrix ? row : low
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
