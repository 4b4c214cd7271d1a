extension BLAS {
    /// The symmetric product of a row-major `rows × depth` matrix A with
    /// itself, `C = alpha · A·Aᵀ` (`rows × rows`; `transposed`: `alpha · Aᵀ·A`,
    /// `depth × depth`), into the full, symmetric C.
    ///
    /// Only the tiles on and below the diagonal are multiplied (single-threaded
    /// GEMMs spread over the cores, as `gemmOnCores`), then mirrored: a Gram
    /// matrix or a covariance costs a little over half a general product.
    /// K-Means' fixed costs at album sizes are such products (the covariance
    /// of its principal axes, the Gram matrix of its seeding sample).
    static func gramOnCores(transposed: Bool = false, rows: Int, depth: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let size = transposed ? depth : rows
        let inner = transposed ? rows : depth
        guard size > 0 else { return }
        // Tiles of 128 keep each GEMM efficient and leave 56–60 % of the
        // work of the full product for the sizes K-Means asks for.
        let tile = 128
        let panels = (size + tile - 1) / tile
        var tiles: [(Int, Int)] = []
        for i in 0..<panels { for j in 0...i { tiles.append((i, j)) } }
        let shared = UncheckedSendable((a, c))
        let list = tiles
        withSingleThreadedCalls {
            let parts = max(1, min(activeCoreCount, list.count))
            parallelFor(parts) { part in
                let (a, c) = shared.value
                for t in stride(from: part, to: list.count, by: parts) {
                    let (i, j) = list[t]
                    let r0 = i * tile, r1 = min(size, r0 + tile)
                    let c0 = j * tile, c1 = min(size, c0 + tile)
                    if transposed {
                        // Columns r0..<r1 of A against columns c0..<c1.
                        gemm(transposeA: true, m: r1 - r0, n: c1 - c0, k: inner, alpha: alpha,
                             a: a + r0, lda: lda, b: a + c0, ldb: lda, c: c + r0 * ldc + c0, ldc: ldc)
                    } else {
                        gemm(transposeB: true, m: r1 - r0, n: c1 - c0, k: inner, alpha: alpha,
                             a: a + r0 * lda, lda: lda, b: a + c0 * lda, ldb: lda, c: c + r0 * ldc + c0, ldc: ldc)
                    }
                    // Its mirror image above the diagonal, in 16 × 16 squares:
                    // a row-by-row transpose would write to a new page per
                    // element and thrash the TLB.
                    for rs in stride(from: r0, to: r1, by: 16) {
                        for cs in stride(from: c0, to: min(c1, rs + 16), by: 16) {
                            for r in rs..<min(r1, rs + 16) {
                                let end = min(c1, cs + 16, r)
                                if end > cs { for col in cs..<end { c[col * ldc + r] = c[r * ldc + col] } }
                            }
                        }
                    }
                }
            }
        }
    }
}
