/// Exact k-nearest-neighbour search by blocked matrix products: each block
/// of query rows is multiplied against the whole matrix with one GEMM, and
/// every query keeps its k best. Quadratic, so used for small albums (and
/// for the few images an incremental map adds).
enum ExactNeighbors {
    /// The exact neighbour graph of `matrix`'s rows under cosine distance.
    static func search(_ matrix: EmbeddingMatrix, k: Int) -> NeighborGraph {
        search(queries: matrix, selfRows: Array(0..<matrix.rows), in: matrix, k: k)
    }

    /// The exact neighbours in `matrix` of each row of `queries`, where
    /// query `r` is row `selfRows[r]` of `matrix` (listed first, at distance 0).
    static func search(queries: EmbeddingMatrix, selfRows: [Int], in matrix: EmbeddingMatrix, k: Int) -> NeighborGraph {
        let n = matrix.rows, d = matrix.dimension, m = queries.rows
        let k = min(k, n)
        guard m > 0, n > 0, k > 0 else {
            return NeighborGraph(count: m, k: k, indices: [], distances: [])
        }
        // At most ~32 MB of similarities at a time.
        let block = max(1, min(m, 8_388_608 / n))
        let scores = SharedBuffer<Float>(repeating: 0, count: block * n)
        let indices = SharedBuffer<Int32>(repeating: 0, count: m * k)
        let distances = SharedBuffer<Float>(repeating: 0, count: m * k)
        let x = UnsafePointer(matrix.storage.baseAddress!)
        let q = UnsafePointer(queries.storage.baseAddress!)
        for start in stride(from: 0, to: m, by: block) {
            let rows = min(block, m - start)
            if d > 0 {
                BLAS.gemm(transposeB: true, m: rows, n: n, k: d, a: q + start * d, lda: d, b: x, ldb: d,
                          c: scores.pointer, ldc: n)
            } else {
                scores.pointer.update(repeating: 0, count: rows * n)
            }
            parallelChunks(rows, chunk: 64) { _, range in
                var best = SmallestK(k: k)
                defer { best.deallocate() }
                for r in range {
                    let query = start + r
                    let me = selfRows[query]
                    let line = scores.pointer + r * n
                    // The row itself always comes first, even among duplicates.
                    best.offer(Int32(me), -1)
                    for j in 0..<n where j != me {
                        let distance = max(1 - line[j], 0)
                        if distance <= best.bound { best.offer(Int32(j), distance) }
                    }
                    best.take(indices: indices.pointer + query * k, distances: distances.pointer + query * k)
                    distances[query * k] = 0
                }
            }
        }
        return NeighborGraph(count: m, k: k, indices: indices.array, distances: distances.array)
    }
}
