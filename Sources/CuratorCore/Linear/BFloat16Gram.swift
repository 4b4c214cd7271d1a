import CKernels

/// Symmetric products in bfloat16 (`curator_bf16_gram_*`, CKernels/BFloat16Gram.c):
/// each value rounded to 8 significant bits, products and sums in float32,
/// at twice float32's multiply-adds per instruction, and only the blocks on
/// and below the diagonal computed. K-Means' fixed costs are two such
/// products: the covariance its principal axes come from
/// (`PrincipalSubspace(bfloat16Sample:…)`) and the Gram matrix its seeding
/// draws from (`KMeansSampler.seedPlusPlus`).
enum BFloat16Gram {
    /// Whether the processor has AVX512_BF16; without it the plain C body
    /// would be far slower than float32's BLAS, so callers use that instead.
    static var isAvailable: Bool { BFloat16Matrix.isSupported }

    /// `c = alpha · XᵀX` (`features × features`, row stride `ldc`) of a
    /// sample of `samples` rows packed by `curator_bf16_gram_pack`: the
    /// 32 × 32 blocks on and below the diagonal spread over the cores, each
    /// mirrored above it.
    static func fill(packed: UnsafePointer<UInt16>, samples: Int, features: Int, alpha: Float,
                     c: UnsafeMutablePointer<Float>, ldc: Int) {
        let panels = (features + 31) / 32
        var blocks: [(Int, Int)] = []
        blocks.reserveCapacity(panels * (panels + 1) / 2)
        for i in 0..<panels { for j in 0...i { blocks.append((i, j)) } }
        let shared = UncheckedSendable((packed, c))
        let list = blocks, workers = max(1, min(activeCoreCount, list.count))
        parallelFor(workers) { worker in
            let (packed, c) = shared.value
            // Each block goes through a tile of its own, then into both of
            // its places a row at a time: mirrored element by element, the
            // stores went down columns, whose rows lie a power of two of bytes
            // apart for a 2,048-row Gram matrix and so fought over a few
            // cache sets (three quarters of the seeding Gram's time).
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: 32 * 32)
            defer { tile.deallocate() }
            for b in stride(from: worker, to: list.count, by: workers) {
                let (i, j) = list[b]
                let rows = min(32, features - i * 32), columns = min(32, features - j * 32)
                curator_bf16_gram_block(packed, samples, features, i, j, alpha, tile, 32)
                for r in 0..<rows { (c + (i * 32 + r) * ldc + j * 32).update(from: tile + r * 32, count: columns) }
                guard i != j else { continue }
                for col in 0..<columns {
                    let target = c + (j * 32 + col) * ldc + i * 32
                    for r in 0..<rows { target[r] = tile[r * 32 + col] }
                }
            }
        }
    }

    /// The Gram matrix `c = A·Aᵀ` (`rows × rows`, row stride `ldc`) of
    /// `rows` vectors of `depth` values (row stride `lda`), each first less
    /// the vectors' mean and then rounded: `cᵢᵢ + cⱼⱼ − 2cᵢⱼ` is the squared
    /// distance between the rounded vectors, which centring leaves as the
    /// distance between the vectors up to their rounding (without it, a
    /// common offset would take most of the 8 bits).
    static func centredRowProducts(rows: Int, depth: Int, a: UnsafePointer<Float>, lda: Int,
                                   c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard rows > 0, depth > 0 else { return }
        // The kernel's samples are the coordinates and its features the
        // vectors: Aᵀ, each coordinate centred over the vectors.
        let transposed = UnsafeMutablePointer<Float>.allocate(capacity: depth * rows)
        defer { transposed.deallocate() }
        var mean = [Double](repeating: 0, count: depth)
        for i in 0..<rows { for t in 0..<depth { mean[t] += Double(a[i * lda + t]) } }
        for t in 0..<depth {
            let centre = Float(mean[t] / Double(rows))
            let row = transposed + t * rows
            for i in 0..<rows { row[i] = a[i * lda + t] - centre }
        }
        let zero = [Float](repeating: 0, count: rows)
        let packed = UnsafeMutablePointer<UInt16>.allocate(capacity: curator_bf16_gram_packed_values(depth, rows))
        defer { packed.deallocate() }
        curator_bf16_gram_pack(transposed, depth, rows, rows, zero, 0, depth, packed)
        fill(packed: packed, samples: depth, features: rows, alpha: 1, c: c, ldc: ldc)
    }
}
