/// The rows a matrix computation walks over: either the album matrix itself
/// (when most rows are candidates — the few others are masked, which costs
/// less than a copy) or a compact copy of the candidate rows (when fewer than
/// half are candidates, so the copy stays under half the matrix's bytes).
/// A projected block (`init(projecting:onto:)`) holds the projections of
/// another's working rows, indexed the same way.
///
/// A float16 album matrix is read through `rows(_:_:into:)`, which widens
/// each block into the caller's scratch (the matrix stays float16; only
/// candidates copied out are float32, and only when they take at most half
/// the float16 matrix's bytes).
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
    /// The start of the working block, row-major `count × dimension`, when
    /// it is float32 (nil for a float16 album matrix: read `rows(_:_:into:)`).
    private let float32Base: UnsafePointer<Float>?
    private let copy: UnsafeMutableBufferPointer<Float>?

    init(matrix: EmbeddingMatrix, candidates: [Int]) {
        self.matrix = matrix
        self.candidates = candidates
        dimension = matrix.dimension
        // A float32 copy of a float16 matrix's rows takes twice their bytes.
        let copyShare = matrix.precision == .float32 ? 2 : 4
        if candidates.count * copyShare >= matrix.rows {
            isAlbumMatrix = true
            count = matrix.rows
            float32Base = matrix.precision == .float32 ? UnsafePointer(matrix.row(0)) : nil
            copy = nil
        } else {
            isAlbumMatrix = false
            count = candidates.count
            let block = Self.gather(count, dimension) { matrix.copyRow(candidates[$0], into: $1) }
            copy = block
            float32Base = UnsafePointer(block.baseAddress!)
        }
    }

    /// A new `count × dimension` block whose row i `fill(i, row)` writes.
    private static func gather(_ count: Int, _ dimension: Int,
                               _ fill: (Int, UnsafeMutablePointer<Float>) -> Void) -> UnsafeMutableBufferPointer<Float> {
        let block = Self.allocateBlock(count * dimension)
        for i in 0..<count { fill(i, block.baseAddress! + i * dimension) }
        return block
    }

    /// Whether reading working rows needs scratch (a float16 album matrix).
    var needsScratch: Bool { float32Base == nil }

    /// Scratch for `rows(_:_:into:)` of up to `rows` working rows: room for
    /// them when reading needs it, else a token allocation. Deallocate it.
    func makeScratch(rows: Int) -> UnsafeMutablePointer<Float> {
        .allocate(capacity: needsScratch ? max(1, rows * dimension) : 1)
    }

    /// Working rows `start..<start + rows` as float32, row-major: in place
    /// when the working block is float32, else widened into `scratch` (from
    /// `makeScratch`). Safe from many threads, each with its own scratch.
    @inline(__always)
    func rows(_ start: Int, _ rows: Int, into scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if let float32Base { return float32Base + start * dimension }
        return matrix.rows(start..<start + rows, into: scratch)
    }

    /// Copies the working row of the `index`-th candidate to `target` as float32.
    @inline(__always)
    func copyCandidateRow(_ index: Int, into target: UnsafeMutablePointer<Float>) {
        copyWorkingRow(isAlbumMatrix ? candidates[index] : index, into: target)
    }

    /// Working row `local` in place, when the working block is float32 (nil
    /// for a float16 album matrix: copy it out with `copyWorkingRow`).
    @inline(__always)
    func workingRow(_ local: Int) -> UnsafePointer<Float>? {
        float32Base.map { $0 + local * dimension }
    }

    /// Copies working row `local` to `target` as float32.
    @inline(__always)
    func copyWorkingRow(_ local: Int, into target: UnsafeMutablePointer<Float>) {
        if let float32Base { target.update(from: float32Base + local * dimension, count: dimension) } else { matrix.copyRow(local, into: target) }
    }

    /// `out[i]` = working row i · `vector`, for every working row: one GEMV
    /// over a float32 block, or GEMVs over blocks widened one at a time.
    func products(with vector: [Float], into out: UnsafeMutablePointer<Float>) {
        vector.withUnsafeBufferPointer { x in
            guard needsScratch else {
                BLAS.gemv(m: count, n: dimension, a: float32Base!, lda: dimension, x: x.baseAddress!, y: out)
                return
            }
            let blockRows = 4096
            let scratch = makeScratch(rows: blockRows)
            defer { scratch.deallocate() }
            for start in stride(from: 0, to: count, by: blockRows) {
                let b = min(blockRows, count - start)
                BLAS.gemv(m: b, n: dimension, a: rows(start, b, into: scratch), lda: dimension, x: x.baseAddress!, y: out + start)
            }
        }
    }

    /// A new contiguous float32 copy of the `indices`-th candidates' working
    /// rows; free it with `HugePageMemory.deallocate`.
    func gatherCandidates(_ indices: [Int]) -> UnsafeMutableBufferPointer<Float> {
        Self.gather(indices.count, dimension) { copyCandidateRow(indices[$0], into: $1) }
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
        let block = Self.allocateBlock(count * dimension)
        // Blocks of at most 4,096 rows, as many as a multiple of the cores
        // (three blocks of 10,000 rows kept one core idle for a third of the time).
        let cores = activeCoreCount
        let blocks = max(1, ((count + 4095) / 4096 + cores - 1) / cores * cores)
        let rowsPerBlock = max(1, (count + blocks - 1) / blocks)
        let target = UncheckedSendable(block.baseAddress!)
        let p = dimension
        BLAS.withSingleThreadedCalls {
            parallelFor(blocks) { b in
                let start = b * rowsPerBlock
                let rows = min(rowsPerBlock, source.count - start)
                guard rows > 0 else { return }
                let scratch = source.makeScratch(rows: rows)
                defer { scratch.deallocate() }
                subspace.project(source.rows(start, rows, into: scratch), count: rows, into: target.value + start * p)
            }
        }
        copy = block
        float32Base = UnsafePointer(block.baseAddress!)
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
        let block = Self.allocateBlock(count * dimension)
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
                for i in 0..<rows { source.copyCandidateRow(indices[start + i], into: gathered + i * d) }
                subspace.project(gathered, count: rows, into: target.value + start * p)
            }
        }
        copy = block
        float32Base = UnsafePointer(block.baseAddress!)
    }

    /// A compact copy of some of `source`'s candidates: the `indices`-th
    /// (ascending positions in `source.candidates`), as working rows 0, 1, ….
    init(sampling source: CandidateRows, indices: [Int]) {
        matrix = source.matrix
        candidates = indices.map { source.candidates[$0] }
        count = indices.count
        isAlbumMatrix = false
        dimension = source.dimension
        let block = source.gatherCandidates(indices)
        copy = block
        float32Base = UnsafePointer(block.baseAddress!)
    }

    deinit { copy.map { HugePageMemory.deallocate($0.baseAddress!) } }

    /// Room for a working block of `values` floats, in huge pages when large
    /// (a fresh 5 MiB projection block was 1,250 page faults). Freed in `deinit`.
    private static func allocateBlock(_ values: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: HugePageMemory.allocate(Float.self, count: max(1, values)), count: max(1, values))
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
