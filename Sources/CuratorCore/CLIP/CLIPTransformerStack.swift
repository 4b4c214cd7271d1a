import Foundation

/// One pre-LN transformer block of a CLIP tower (vision or text): the same
/// tensors under two naming schemes. Every matrix keeps the layout it has in
/// the file (Linear weights out×in, multiplied with GEMM's transpose flag), so
/// Float32 weights are used in place from the mapping.
struct CLIPTransformerBlock {
    /// The query/key/value projections: three matrices, or open_clip's one
    /// packed 3D×D matrix with queries, keys and values stacked.
    enum QKV {
        case separate(q: FloatTensor, qBias: FloatTensor, k: FloatTensor, kBias: FloatTensor, v: FloatTensor, vBias: FloatTensor)
        case packed(weight: FloatTensor, bias: FloatTensor)
    }

    let norm1Weight, norm1Bias: FloatTensor
    let qkv: QKV
    let outWeight, outBias: FloatTensor
    let norm2Weight, norm2Bias: FloatTensor
    let fc1Weight, fc1Bias: FloatTensor
    let fc2Weight, fc2Bias: FloatTensor
    /// The block's four linear layers rounded to bfloat16 and packed
    /// (`roundedToBFloat16()`), when the tower runs them in bfloat16; nil runs float32.
    var bfloat16: BFloat16Linears? = nil

    /// A block's linear layers packed for bfloat16 products: queries, keys
    /// and values as one matrix (their outputs side by side, as the QKV
    /// workspace holds them), the attention's output, and the MLP's two layers.
    struct BFloat16Linears: Sendable {
        let qkv, out, fc1, fc2: BFloat16Matrix
    }

    /// This block with its linear layers also rounded to bfloat16 and packed.
    func roundedToBFloat16() -> CLIPTransformerBlock {
        let d = outWeight.shape[1], ff = fc1Weight.shape[0]
        let qkvParts: [(values: UnsafePointer<Float>, rows: Int)]
        switch qkv {
        case let .separate(q, _, k, _, v, _): qkvParts = [(q.pointer, d), (k.pointer, d), (v.pointer, d)]
        case let .packed(weight, _): qkvParts = [(weight.pointer, 3 * d)]
        }
        var block = self
        block.bfloat16 = BFloat16Linears(qkv: BFloat16Matrix(stacking: qkvParts, inputs: d),
                                         out: BFloat16Matrix(stacking: [(outWeight.pointer, d)], inputs: d),
                                         fc1: BFloat16Matrix(stacking: [(fc1Weight.pointer, ff)], inputs: d),
                                         fc2: BFloat16Matrix(stacking: [(fc2Weight.pointer, d)], inputs: ff))
        // The float32 copies are no longer read: a ViT-L/14's 1.2 GB of them leave the process's memory.
        let linears: [FloatTensor]
        switch qkv {
        case let .separate(q, _, k, _, v, _): linears = [q, k, v]
        case let .packed(weight, _): linears = [weight]
        }
        for tensor in linears + [outWeight, fc1Weight, fc2Weight] { tensor.releaseMappedPages() }
        return block
    }

    /// Every tensor of the block.
    var tensors: [FloatTensor] {
        var all = [norm1Weight, norm1Bias, outWeight, outBias, norm2Weight, norm2Bias, fc1Weight, fc1Bias, fc2Weight, fc2Bias]
        switch qkv {
        case let .separate(q, qb, k, kb, v, vb): all += [q, qb, k, kb, v, vb]
        case let .packed(w, b): all += [w, b]
        }
        return all
    }

    /// The Hugging Face block under `prefix` (e.g. `text_model.encoder.layers.3.`).
    static func huggingFace(_ prefix: String, width d: Int, intermediate i: Int,
                            take: (String, [Int]) throws -> FloatTensor) throws -> CLIPTransformerBlock {
        let l = prefix
        return CLIPTransformerBlock(
            norm1Weight: try take(l + "layer_norm1.weight", [d]), norm1Bias: try take(l + "layer_norm1.bias", [d]),
            qkv: .separate(q: try take(l + "self_attn.q_proj.weight", [d, d]), qBias: try take(l + "self_attn.q_proj.bias", [d]),
                           k: try take(l + "self_attn.k_proj.weight", [d, d]), kBias: try take(l + "self_attn.k_proj.bias", [d]),
                           v: try take(l + "self_attn.v_proj.weight", [d, d]), vBias: try take(l + "self_attn.v_proj.bias", [d])),
            outWeight: try take(l + "self_attn.out_proj.weight", [d, d]), outBias: try take(l + "self_attn.out_proj.bias", [d]),
            norm2Weight: try take(l + "layer_norm2.weight", [d]), norm2Bias: try take(l + "layer_norm2.bias", [d]),
            fc1Weight: try take(l + "mlp.fc1.weight", [i, d]), fc1Bias: try take(l + "mlp.fc1.bias", [i]),
            fc2Weight: try take(l + "mlp.fc2.weight", [d, i]), fc2Bias: try take(l + "mlp.fc2.bias", [d]))
    }

    /// How a checkpoint names its blocks: Hugging Face's `…layers.N.`
    /// (`huggingFace(_:width:intermediate:take:)`) or open_clip's
    /// `…resblocks.N.` (`openCLIP(_:width:intermediate:take:)`).
    enum Naming { case huggingFace, openCLIP }

    /// A tower's `layers` blocks, named `prefix` + `N.` for N from 0. A block
    /// `layers` in the file means the config says fewer layers than the
    /// weights hold: refused (`wrongShape`, naming the config's field) rather
    /// than run as a shallower model. `tower` starts the message ("text ", or
    /// "" for a vision tower).
    static func stack(_ naming: Naming, prefix: String, layers: Int, tower: String, width d: Int, intermediate i: Int,
                      file: String, has: (String) -> Bool,
                      take: (String, [Int]) throws -> FloatTensor) throws -> [CLIPTransformerBlock] {
        let blocks = try (0..<layers).map { n in
            switch naming {
            case .huggingFace: return try huggingFace("\(prefix)\(n).", width: d, intermediate: i, take: take)
            case .openCLIP: return try openCLIP("\(prefix)\(n).", width: d, intermediate: i, take: take)
            }
        }
        switch naming {
        case .huggingFace where has("\(prefix)\(layers).layer_norm1.weight"):
            throw CLIPError(.wrongShape, file, "the file has more \(tower)transformer layers than the config's num_hidden_layers (\(layers))")
        case .openCLIP where has("\(prefix)\(layers).ln_1.weight"):
            throw CLIPError(.wrongShape, file, "the file has more \(tower)transformer blocks than the config's layers (\(layers))")
        default:
            return blocks
        }
    }

    /// The open_clip block under `prefix` (e.g. `transformer.resblocks.3.`).
    static func openCLIP(_ prefix: String, width d: Int, intermediate i: Int,
                         take: (String, [Int]) throws -> FloatTensor) throws -> CLIPTransformerBlock {
        let l = prefix
        return CLIPTransformerBlock(
            norm1Weight: try take(l + "ln_1.weight", [d]), norm1Bias: try take(l + "ln_1.bias", [d]),
            qkv: .packed(weight: try take(l + "attn.in_proj_weight", [3 * d, d]), bias: try take(l + "attn.in_proj_bias", [3 * d])),
            outWeight: try take(l + "attn.out_proj.weight", [d, d]), outBias: try take(l + "attn.out_proj.bias", [d]),
            norm2Weight: try take(l + "ln_2.weight", [d]), norm2Bias: try take(l + "ln_2.bias", [d]),
            fc1Weight: try take(l + "mlp.c_fc.weight", [i, d]), fc1Bias: try take(l + "mlp.c_fc.bias", [i]),
            fc2Weight: try take(l + "mlp.c_proj.weight", [d, i]), fc2Bias: try take(l + "mlp.c_proj.bias", [d]))
    }
}

/// The transformer blocks of a CLIP tower run over a batch of sequences: the
/// batch's tokens are one matrix (sequences × length rows), so every linear
/// layer is a single GEMM over the whole batch; attention is two small GEMMs
/// per sequence and head, read in place from the packed query/key/value
/// matrix. The vision tower runs it bidirectionally, the text tower with
/// the causal mask. The workspace is allocated once for `maxRows` rows and
/// reused; one instance runs one batch at a time.
/// `@unchecked Sendable`: its workspace is used by one batch at a time, which the owning encoder's lock ensures; the weights are read-only.
final class CLIPTransformerStack: @unchecked Sendable {
    let width: Int, heads: Int, intermediate: Int
    let activation: CLIPActivation
    let epsilon: Float
    /// The most rows (sequences × length) one `run` takes.
    let maxRows: Int
    /// The longest sequence one `run` takes.
    let maxLength: Int

    private let qkvWidth: Int
    /// The normalised input of a sub-layer, rows × D.
    let h: UnsafeMutablePointer<Float>
    /// rows × 3D: queries, keys and values side by side; callers may use it as scratch between runs.
    let qkv: UnsafeMutablePointer<Float>
    private let attention: UnsafeMutablePointer<Float>
    /// rows × intermediate (at least `scratchFloats`); callers may use it as scratch between runs.
    let mlp: UnsafeMutablePointer<Float>
    private let mlpCount: Int
    private let scores: UnsafeMutablePointer<Float>
    /// A sub-layer's input rounded to bfloat16 (rows × the widest input), for blocks run in bfloat16; nil otherwise.
    private let roundedRows: UnsafeMutablePointer<UInt16>?
    private let roundedCount: Int

    /// Attention products up to this many multiply-adds run one per core on
    /// our threads; larger ones run one at a time, threaded by the BLAS.
    /// OpenBLAS threads products above 65,536 × 4 itself, and nesting both
    /// kinds of threading would oversubscribe the cores.
    let parallelAttentionLimit: Int
    /// The threads its own loops (layer norms, activations, attention) use:
    /// every core, or 1 for a stack that is one of several running side by side.
    let workers: Int

    init(width: Int, heads: Int, intermediate: Int, activation: CLIPActivation, epsilon: Float,
         maxRows: Int, maxLength: Int, scratchFloats: Int = 0, parallelAttentionLimit: Int = 262_144,
         workers: Int = CLIPParallel.workers, bfloat16: Bool = false) {
        self.width = width
        self.heads = heads
        self.intermediate = intermediate
        self.activation = activation
        self.epsilon = epsilon
        self.maxRows = max(1, maxRows)
        self.maxLength = max(1, maxLength)
        self.parallelAttentionLimit = parallelAttentionLimit
        self.workers = max(1, workers)
        qkvWidth = 3 * width
        h = .allocate(capacity: self.maxRows * width)
        qkv = .allocate(capacity: self.maxRows * qkvWidth)
        attention = .allocate(capacity: self.maxRows * width)
        mlpCount = max(self.maxRows * intermediate, scratchFloats)
        mlp = .allocate(capacity: mlpCount)
        scores = .allocate(capacity: self.workers * self.maxLength * self.maxLength)
        roundedCount = bfloat16 ? BFloat16Matrix.roundedRowValues(rows: self.maxRows, inputs: max(width, intermediate)) : 0
        roundedRows = bfloat16 ? .allocate(capacity: roundedCount) : nil
    }

    deinit {
        for p in [h, qkv, attention, mlp, scores] { p.deallocate() }
        roundedRows?.deallocate()
    }

    /// The bytes of workspace this instance holds.
    var workspaceBytes: Int {
        4 * (maxRows * (2 * width + qkvWidth) + mlpCount + workers * maxLength * maxLength) + 2 * roundedCount
    }

    /// Runs `blocks` over `sequences` sequences of `length` tokens held in
    /// `x` (rows × width, the residual stream), in place. With `causal`, a
    /// token attends only to itself and the tokens before it; with
    /// `keyLengths`, every token of sequence `n` attends only to its first
    /// `keyLengths[n]` tokens (an attention mask hiding padding).
    func run(_ blocks: [CLIPTransformerBlock], x: UnsafeMutablePointer<Float>, sequences: Int, length: Int, causal: Bool,
             keyLengths: [Int]? = nil) {
        precondition(sequences * length <= maxRows && length <= maxLength,
                     "CLIPTransformerStack: \(sequences) × \(length) exceeds the workspace (\(maxRows) rows, length \(maxLength))")
        precondition(keyLengths.map { $0.count == sequences && $0.allSatisfy { (1...length).contains($0) } } ?? true,
                     "CLIPTransformerStack: one key length in 1...\(length) per sequence")
        precondition(roundedRows != nil || blocks.allSatisfy { $0.bfloat16 == nil },
                     "CLIPTransformerStack: blocks in bfloat16 need a stack made with bfloat16: true")
        for block in blocks { runBlock(block, x: x, sequences: sequences, length: length, causal: causal, keyLengths: keyLengths) }
    }

    private func runBlock(_ block: CLIPTransformerBlock, x: UnsafeMutablePointer<Float>, sequences: Int, length: Int, causal: Bool,
                          keyLengths: [Int]?) {
        let rows = sequences * length, d = width, ff = intermediate
        let eps = epsilon

        // Attention sub-layer: x += out_proj(attention(ln_1(x))).
        CLIPKernels.layerNorm(rows: rows, width: d, input: x, inputStride: d, output: h, outputStride: d,
                              weight: block.norm1Weight.pointer, bias: block.norm1Bias.pointer, epsilon: eps, workers: workers)
        let low = block.bfloat16
        switch block.qkv {
        case let .packed(weight, bias):
            CLIPKernels.fillRows(qkv, rows: rows, width: qkvWidth, stride: qkvWidth, with: bias.pointer)
            if low == nil {
                BLAS.gemm(transposeB: true, m: rows, n: qkvWidth, k: d, a: h, lda: d,
                          b: weight.pointer, ldb: d, beta: 1, c: qkv, ldc: qkvWidth)
            }
        case let .separate(q, qBias, k, kBias, v, vBias):
            for (part, (w, b)) in [(q, qBias), (k, kBias), (v, vBias)].enumerated() {
                CLIPKernels.fillRows(qkv + part * d, rows: rows, width: d, stride: qkvWidth, with: b.pointer)
                if low == nil {
                    BLAS.gemm(transposeB: true, m: rows, n: d, k: d, a: h, lda: d,
                              b: w.pointer, ldb: d, beta: 1, c: qkv + part * d, ldc: qkvWidth)
                }
            }
        }
        // In bfloat16 the three projections are one product: their packed outputs lie side by side.
        low?.qkv.multiplyAdd(rows: rows, a: h, lda: d, roundedRows: roundedRows!, c: qkv, ldc: qkvWidth, workers: workers)
        selfAttention(sequences: sequences, length: length, causal: causal, keyLengths: keyLengths)
        CLIPKernels.addRows(x, rows: rows, width: d, stride: d, bias: block.outBias.pointer)
        linear(block.outWeight, low?.out, rows: rows, n: d, k: d, a: attention, c: x)

        // MLP sub-layer: x += fc2(act(fc1(ln_2(x)))).
        CLIPKernels.layerNorm(rows: rows, width: d, input: x, inputStride: d, output: h, outputStride: d,
                              weight: block.norm2Weight.pointer, bias: block.norm2Bias.pointer, epsilon: eps, workers: workers)
        CLIPKernels.fillRows(mlp, rows: rows, width: ff, stride: ff, with: block.fc1Bias.pointer)
        linear(block.fc1Weight, low?.fc1, rows: rows, n: ff, k: d, a: h, c: mlp)
        let activation = self.activation
        let hidden = UncheckedSendable(mlp)
        CLIPParallel.forEachChunk(rows, minimumChunk: 8, workers: workers) { range in
            CLIPKernels.activate(activation, hidden.value + range.lowerBound * ff, count: range.count * ff)
        }
        CLIPKernels.addRows(x, rows: rows, width: d, stride: d, bias: block.fc2Bias.pointer)
        linear(block.fc2Weight, low?.fc2, rows: rows, n: d, k: ff, a: mlp, c: x)
    }

    /// c += a · weightᵀ (a: rows × k, c: rows × n, both dense): in bfloat16
    /// from `packed` when the block has it, else float32 through the BLAS.
    private func linear(_ weight: FloatTensor, _ packed: BFloat16Matrix?, rows: Int, n: Int, k: Int,
                        a: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        if let packed {
            packed.multiplyAdd(rows: rows, a: a, lda: k, roundedRows: roundedRows!, c: c, ldc: n, workers: workers)
        } else {
            BLAS.gemm(transposeB: true, m: rows, n: n, k: k, a: a, lda: k, b: weight.pointer, ldb: k, beta: 1, c: c, ldc: n)
        }
    }

    /// softmax(Q Kᵀ / √head [+ causal mask]) V for every sequence and head,
    /// read from `qkv` into `attention`.
    private func selfAttention(sequences: Int, length s: Int, causal: Bool, keyLengths: [Int]?) {
        let heads = self.heads, hd = width / heads, d = width, qkvWidth = self.qkvWidth
        let scale = 1 / Float(hd).squareRoot()
        let input = UncheckedSendable(qkv), output = UncheckedSendable(attention), scratch = UncheckedSendable(scores)
        let work = sequences * heads
        let smallProducts = s * s * hd <= parallelAttentionLimit
        let chunks = smallProducts ? min(workers, work) : 1
        let stride = maxLength * maxLength
        let body: @Sendable (Int) -> Void = { chunk in
            let qkv = input.value, out = output.value
            let block = scratch.value + chunk * stride
            for item in (work * chunk / chunks)..<(work * (chunk + 1) / chunks) {
                let sequence = item / heads, head = item % heads
                let base = qkv + sequence * s * qkvWidth + head * hd
                BLAS.gemm(transposeB: true, m: s, n: s, k: hd, alpha: scale,
                          a: base, lda: qkvWidth, b: base + d, ldb: qkvWidth, c: block, ldc: s)
                if causal {
                    // Row i sees keys 0...i: the softmax runs over those, the rest weigh nothing.
                    for i in 0..<s {
                        let row = block + i * s
                        CLIPKernels.softmaxRows(row, rows: 1, width: i + 1, stride: s)
                        if i + 1 < s { (row + i + 1).update(repeating: 0, count: s - i - 1) }
                    }
                } else if let keys = keyLengths?[sequence], keys < s {
                    // Masked keys weigh nothing.
                    CLIPKernels.softmaxRows(block, rows: s, width: keys, stride: s)
                    for i in 0..<s { (block + i * s + keys).update(repeating: 0, count: s - keys) }
                } else {
                    CLIPKernels.softmaxRows(block, rows: s, width: s, stride: s)
                }
                BLAS.gemm(m: s, n: hd, k: s, a: block, lda: s, b: base + 2 * d, ldb: qkvWidth,
                          c: out + sequence * s * d + head * hd, ldc: d)
            }
        }
        if chunks == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: body) }
    }
}
