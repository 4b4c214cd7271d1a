import CKernels

/// A list's candidates scored in int8 (`Int8Products.c`): each row rounded
/// to bytes at its own scale, the products summed exactly in integers by
/// AVX-512 VNNI, four times as many per instruction as float32's GEMM. The
/// scores are approximate (about 10⁻³ off), so they only shortlist each
/// row's `shortlist` best candidates, which are then scored exactly in
/// float32: the neighbours and their distances are exact, and a true
/// neighbour is lost only when rounding pushes it past the shortlist.
///
/// One per thread: its buffers grow to the largest list and are reused.
final class Int8CandidateScores {
    /// Whether the processor has the instructions that make this pay
    /// (without them the search keeps float32's GEMM).
    static var available: Bool { curator_i8_has_vnni() != 0 }

    let dimension: Int
    private var panels: UnsafeMutableRawPointer?
    private var panelBytes = 0
    private var candidateScales: [Float] = []
    private var queries: [Int8] = []
    private var queryScales: [Float] = []
    private var queryOffsets: [Int32] = []
    /// Candidates packed (a multiple of 32, padding scored 0).
    private(set) var paddedCount = 0

    init(dimension: Int) { self.dimension = dimension }

    deinit { panels?.deallocate() }

    /// Packs `count` float32 rows (unit length) as the candidates.
    func setCandidates(_ rows: UnsafePointer<Float>, count: Int) {
        paddedCount = curator_i8_padded_count(count)
        let bytes = paddedCount * curator_i8_padded_dimension(dimension)
        if bytes > panelBytes {
            panels?.deallocate()
            panels = .allocate(byteCount: bytes, alignment: 64)
            panelBytes = bytes
        }
        if candidateScales.count < paddedCount { candidateScales = [Float](repeating: 0, count: paddedCount) }
        candidateScales.withUnsafeMutableBufferPointer { scales in
            curator_i8_pack_candidates(rows, count, dimension, panels!.assumingMemoryBound(to: UInt8.self),
                                       scales.baseAddress!)
        }
    }

    /// scores[i · paddedCount + j] ≈ query i · candidate j for `count` float32 query rows.
    func score(queries rows: UnsafePointer<Float>, count: Int, into scores: UnsafeMutablePointer<Float>) {
        let d4 = curator_i8_padded_dimension(dimension)
        if queries.count < count * d4 { queries = [Int8](repeating: 0, count: count * d4) }
        if queryScales.count < count {
            queryScales = [Float](repeating: 0, count: count)
            queryOffsets = [Int32](repeating: 0, count: count)
        }
        queries.withUnsafeMutableBufferPointer { q in
            queryScales.withUnsafeMutableBufferPointer { qs in
                queryOffsets.withUnsafeMutableBufferPointer { qo in
                    curator_i8_quantize_queries(rows, count, dimension, q.baseAddress!, qs.baseAddress!, qo.baseAddress!)
                    candidateScales.withUnsafeBufferPointer { cs in
                        curator_i8_products(q.baseAddress!, qs.baseAddress!, qo.baseAddress!, count, dimension,
                                            panels!.assumingMemoryBound(to: UInt8.self), cs.baseAddress!, paddedCount,
                                            scores, paddedCount)
                    }
                }
            }
        }
    }
}
