import Foundation

/// SigLIP's vision transformer over a batch of preprocessed images: patch
/// embedding (im2col + GEMM, with its bias) plus position embeddings, no
/// class token and no pre-layernorm, the shared encoder blocks
/// (`CLIPTransformerStack`, bidirectional), the post-layernorm over every
/// token, then the attention-pooling head: the probe's query attends over
/// each image's tokens (keys and values of the whole batch in one GEMM),
/// the output projection, and the head's MLP added back; L2 normalisation.
/// The workspace is allocated once for `capacity` images and reused.
/// `@unchecked Sendable`: its workspace is used by one batch at a time, which the owning encoder's lock ensures; the weights are read-only.
final class SigLIPVisionTransformer: @unchecked Sendable, ImageTower {
    let config: CLIPVisionConfiguration
    let weights: SigLIPVisionWeights
    /// The most images one `run` takes.
    let capacity: Int

    private let d: Int, s: Int
    private let stack: CLIPTransformerStack
    private let x: UnsafeMutablePointer<Float>        // residual stream, rows × D
    private let query: UnsafeMutablePointer<Float>    // the probe's projected query, D
    private let pooled: UnsafeMutablePointer<Float>   // attention output, capacity × D
    private let head: UnsafeMutablePointer<Float>     // after the output projection, capacity × D
    private let normed: UnsafeMutablePointer<Float>   // capacity × D
    private let hidden: UnsafeMutablePointer<Float>   // the head MLP's hidden layer, capacity × intermediate
    private let weightsRow: UnsafeMutablePointer<Float>  // one image's attention weights over its tokens, s

    init(config: CLIPVisionConfiguration, weights: SigLIPVisionWeights, capacity: Int, parallelAttentionLimit: Int = 262_144,
         workers: Int = CLIPParallel.workers) {
        self.config = config
        self.weights = weights
        self.capacity = max(1, capacity)
        d = config.hiddenSize
        s = config.tokens
        let rows = self.capacity * s
        let patchValues = 3 * config.patchSize * config.patchSize
        stack = CLIPTransformerStack(width: d, heads: config.heads, intermediate: config.intermediateSize,
                                     activation: config.activation, epsilon: config.layerNormEpsilon,
                                     maxRows: rows, maxLength: s, scratchFloats: rows * patchValues,
                                     parallelAttentionLimit: parallelAttentionLimit, workers: workers,
                                     bfloat16: weights.blocks.contains { $0.bfloat16 != nil })
        x = .allocate(capacity: rows * d)
        query = .allocate(capacity: d)
        pooled = .allocate(capacity: self.capacity * d)
        head = .allocate(capacity: self.capacity * d)
        normed = .allocate(capacity: self.capacity * d)
        hidden = .allocate(capacity: self.capacity * config.intermediateSize)
        weightsRow = .allocate(capacity: s)
        // The probe is the same for every image: its query is computed once.
        query.update(from: weights.headInBias.pointer, count: d)
        BLAS.gemm(transposeB: true, m: 1, n: d, k: d, a: weights.probe.pointer, lda: d,
                  b: weights.headInWeight.pointer, ldb: d, beta: 1, c: query, ldc: d)
    }

    deinit {
        for p in [x, query, pooled, head, normed, hidden, weightsRow] { p.deallocate() }
    }

    /// The bytes of workspace this instance holds.
    var workspaceBytes: Int {
        stack.workspaceBytes + 4 * (capacity * s * d + d + 3 * capacity * d + capacity * config.intermediateSize + s)
    }

    /// Embeds `count` images (≤ `capacity`) whose normalised pixels lie at
    /// `pixels` and writes `count` unit vectors of `hiddenSize` values to `output`.
    func run(pixels: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        precondition(count >= 0 && count <= capacity, "SigLIPVisionTransformer: batch of \(count) exceeds capacity \(capacity)")
        guard count > 0 else { return }
        let rows = count * s, eps = config.layerNormEpsilon
        CLIPKernels.embedPatches(pixels: pixels, count: count, imageSize: config.imageSize, patchSize: config.patchSize,
                                 weight: weights.patchWeight.pointer, width: d, scratch: stack.mlp, output: x,
                                 workers: stack.workers)
        let bias = weights.patchBias.pointer, position = weights.positionEmbedding.pointer
        for image in 0..<count {
            let tokens = x + image * s * d
            for t in 0..<s {
                let row = tokens + t * d, pe = position + t * d
                for j in 0..<d { row[j] += pe[j] + bias[j] }
            }
        }
        stack.run(weights.blocks, x: x, sequences: count, length: s, causal: false)
        CLIPKernels.layerNorm(rows: rows, width: d, input: x, inputStride: d, output: x, outputStride: d,
                              weight: weights.postNormWeight.pointer, bias: weights.postNormBias.pointer, epsilon: eps,
                              workers: stack.workers)
        pool(count: count, output: output)
    }

    /// The attention-pooling head over the post-normed tokens in `x`.
    private func pool(count: Int, output: UnsafeMutablePointer<Float>) {
        let rows = count * s, heads = config.heads, hd = d / heads
        // Keys and values of every token of the batch: rows × 2D, in the stack's QKV buffer.
        let kv = stack.qkv, kvWidth = 2 * d
        CLIPKernels.fillRows(kv, rows: rows, width: kvWidth, stride: kvWidth, with: weights.headInBias.pointer + d)
        BLAS.gemm(transposeB: true, m: rows, n: kvWidth, k: d, a: x, lda: d,
                  b: weights.headInWeight.pointer + d * d, ldb: d, beta: 1, c: kv, ldc: kvWidth)
        // softmax(q·Kᵀ/√hd)·V per image and head: one query row, so two GEMVs each.
        let scale = 1 / Float(hd).squareRoot()
        for image in 0..<count {
            let keys = kv + image * s * kvWidth
            for h in 0..<heads {
                BLAS.gemv(m: s, n: hd, alpha: scale, a: keys + h * hd, lda: kvWidth, x: query + h * hd, y: weightsRow)
                CLIPKernels.softmaxRows(weightsRow, rows: 1, width: s, stride: s)
                BLAS.gemv(transpose: true, m: s, n: hd, a: keys + d + h * hd, lda: kvWidth, x: weightsRow,
                          y: pooled + image * d + h * hd)
            }
        }
        // Output projection, then hidden + MLP(LN(hidden)).
        CLIPKernels.fillRows(head, rows: count, width: d, stride: d, with: weights.headOutBias.pointer)
        BLAS.gemm(transposeB: true, m: count, n: d, k: d, a: pooled, lda: d,
                  b: weights.headOutWeight.pointer, ldb: d, beta: 1, c: head, ldc: d)
        CLIPKernels.layerNorm(rows: count, width: d, input: head, inputStride: d, output: normed, outputStride: d,
                              weight: weights.headNormWeight.pointer, bias: weights.headNormBias.pointer,
                              epsilon: config.layerNormEpsilon, workers: stack.workers)
        let ff = config.intermediateSize
        CLIPKernels.fillRows(hidden, rows: count, width: ff, stride: ff, with: weights.headFC1Bias.pointer)
        BLAS.gemm(transposeB: true, m: count, n: ff, k: d, a: normed, lda: d,
                  b: weights.headFC1Weight.pointer, ldb: d, beta: 1, c: hidden, ldc: ff)
        CLIPKernels.activate(config.activation, hidden, count: count * ff)
        CLIPKernels.addRows(head, rows: count, width: d, stride: d, bias: weights.headFC2Bias.pointer)
        BLAS.gemm(transposeB: true, m: count, n: d, k: ff, a: hidden, lda: ff,
                  b: weights.headFC2Weight.pointer, ldb: ff, beta: 1, c: head, ldc: d)
        output.update(from: head, count: count * d)
        for i in 0..<count { EmbeddingMatrix.normalize(output + i * d, count: d) }
    }
}
