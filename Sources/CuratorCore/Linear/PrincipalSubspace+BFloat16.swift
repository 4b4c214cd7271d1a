import CKernels

extension PrincipalSubspace {
    /// Whether `init(bfloat16Sample:dimension:rank:copyRows:)` can run here
    /// (the processor has AVX512_BF16; without it the plain C body would be
    /// far slower than float32's BLAS).
    static var bfloat16CovarianceAvailable: Bool { BFloat16Gram.isAvailable }

    /// The leading `rank` axes of a `count`-row sample whose rows
    /// `copyRows(range, into)` writes as float32 (row-major, `dimension`
    /// long; called from several threads at once, for disjoint ranges of at
    /// most 64 rows), from a covariance in bfloat16 (`curator_bf16_gram_*`):
    /// each centred value rounded to 8 significant bits, products and sums
    /// in float32, at twice float32's multiply-adds per instruction. Nil when
    /// the processor lacks AVX512_BF16 or the axes cannot be found.
    /// `powerSteps` is `subspaceIteration`'s.
    ///
    /// The rows are read twice, 64 at a time (once for the mean, once to
    /// centre, round and pack them), and never copied whole: at 4,096 × 768
    /// a float32 copy was 12 MiB of fresh pages, most of the gather's time.
    init?(bfloat16Sample s: Int, dimension d: Int, rank p: Int, powerSteps: Int = 2,
          copyRows: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        guard Self.bfloat16CovarianceAvailable, p > 0, p < d, s > p else { return nil }
        let chunk = 64
        let chunks = (s + chunk - 1) / chunk
        let parts = max(1, min(activeCoreCount, chunks))
        // Each part takes a fixed run of chunks, so the sums and packing do
        // not depend on which thread finishes first.
        func chunkRange(_ part: Int) -> Range<Int> { (part * chunks / parts)..<((part + 1) * chunks / parts) }
        // The mean: float sums per chunk, added up in doubles per part, then in part order.
        var partSums = [Double](repeating: 0, count: parts * d)
        partSums.withUnsafeMutableBufferPointer { sums in
            let out = UncheckedSendable(sums.baseAddress!)
            parallelFor(parts) { part in
                let rows = UnsafeMutablePointer<Float>.allocate(capacity: chunk * d)
                let partial = UnsafeMutablePointer<Float>.allocate(capacity: d)
                defer { rows.deallocate(); partial.deallocate() }
                for c in chunkRange(part) {
                    let range = (c * chunk)..<min(s, (c + 1) * chunk)
                    copyRows(range, rows)
                    partial.update(repeating: 0, count: d)
                    for i in 0..<range.count { VectorKernels.accumulate(rows + i * d, into: partial, count: d) }
                    let sum = out.value + part * d
                    for t in 0..<d { sum[t] += Double(partial[t]) }
                }
            }
        }
        var total = [Double](repeating: 0, count: d)
        for part in 0..<parts { for t in 0..<d { total[t] += partSums[part * d + t] } }
        let mean = total.map { Float($0 / Double(s)) }
        let packed = HugePageMemory.allocate(UInt16.self, count: curator_bf16_gram_packed_values(s, d))
        defer { HugePageMemory.deallocate(packed) }
        mean.withUnsafeBufferPointer { m in
            let target = UncheckedSendable(packed), centre = UncheckedSendable(m.baseAddress!)
            parallelFor(parts) { part in
                let rows = UnsafeMutablePointer<Float>.allocate(capacity: chunk * d)
                defer { rows.deallocate() }
                for c in chunkRange(part) {
                    let range = (c * chunk)..<min(s, (c + 1) * chunk)
                    copyRows(range, rows)
                    curator_bf16_gram_pack(rows, range.count, d, d, centre.value, range.lowerBound, s, target.value)
                }
            }
        }
        var covariance = [Float](repeating: 0, count: d * d)
        covariance.withUnsafeMutableBufferPointer { cb in
            BFloat16Gram.fill(packed: packed, samples: s, features: d, alpha: 1 / Float(s), c: cb.baseAddress!, ldc: d)
        }
        // The total variance: the covariance's trace.
        var trace = 0.0
        for t in 0..<d { trace += Double(covariance[t * d + t]) }
        self.init(covariance: covariance, totalVariance: trace, mean: mean, dimension: d, rank: p, powerSteps: powerSteps)
    }
}
