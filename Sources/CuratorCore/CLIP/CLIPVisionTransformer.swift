import Foundation

/// The CLIP vision transformer's forward pass over a batch of preprocessed
/// images: patch embedding (im2col + GEMM), class and position embeddings,
/// pre-layernorm, pre-LN transformer blocks (`CLIPTransformerStack`, no
/// mask), post-layernorm of the class token, visual projection, L2
/// normalisation. The workspace is allocated once for `capacity` images and
/// reused; one instance runs one batch at a time.
/// `@unchecked Sendable`: its workspace is used by one batch at a time, which the owning encoder's lock ensures; the weights are read-only.
final class CLIPVisionTransformer: @unchecked Sendable {
    let config: CLIPVisionConfiguration
    let weights: CLIPVisionWeights
    /// The most images one `run` takes.
    let capacity: Int

    private let d: Int, s: Int, patches: Int, patchValues: Int
    /// The transformer blocks and their workspace; its MLP buffer also holds
    /// the im2col patches and its QKV buffer the patch embeddings before the
    /// first block.
    private let stack: CLIPTransformerStack
    private let x: UnsafeMutablePointer<Float>       // residual stream, rows × D
    private let pooled: UnsafeMutablePointer<Float>  // capacity × D

    init(config: CLIPVisionConfiguration, weights: CLIPVisionWeights, capacity: Int, parallelAttentionLimit: Int = 262_144,
         workers: Int = CLIPParallel.workers) {
        self.config = config
        self.weights = weights
        self.capacity = max(1, capacity)
        d = config.hiddenSize
        s = config.tokens
        patches = config.gridSize * config.gridSize
        patchValues = 3 * config.patchSize * config.patchSize
        let rows = self.capacity * s
        stack = CLIPTransformerStack(width: d, heads: config.heads, intermediate: config.intermediateSize,
                                     activation: config.activation, epsilon: config.layerNormEpsilon,
                                     maxRows: rows, maxLength: s, scratchFloats: self.capacity * patches * patchValues,
                                     parallelAttentionLimit: parallelAttentionLimit, workers: workers,
                                     bfloat16: weights.blocks.contains { $0.bfloat16 != nil })
        x = .allocate(capacity: rows * d)
        pooled = .allocate(capacity: self.capacity * d)
    }

    deinit {
        x.deallocate()
        pooled.deallocate()
    }

    /// The bytes of workspace this instance holds.
    var workspaceBytes: Int { stack.workspaceBytes + 4 * (capacity * s * d + capacity * d) }

    /// Embeds `count` images (≤ `capacity`) whose normalised pixels lie at
    /// `pixels` (each 3 × imageSize × imageSize, channel-major) and writes
    /// `count` unit vectors of `projectionDimension` values to `output`.
    func run(pixels: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        precondition(count >= 0 && count <= capacity, "CLIPVisionTransformer: batch of \(count) exceeds capacity \(capacity)")
        guard count > 0 else { return }
        let rows = count * s
        embedPatches(pixels: pixels, count: count)
        CLIPKernels.layerNorm(rows: rows, width: d, input: x, inputStride: d, output: x, outputStride: d,
                              weight: weights.preNormWeight.pointer, bias: weights.preNormBias.pointer,
                              epsilon: config.layerNormEpsilon, workers: stack.workers)
        stack.run(weights.blocks, x: x, sequences: count, length: s, causal: false)

        // Class token of each image → post-layernorm → projection → unit length.
        CLIPKernels.layerNorm(rows: count, width: d, input: x, inputStride: s * d, output: pooled, outputStride: d,
                              weight: weights.postNormWeight.pointer, bias: weights.postNormBias.pointer,
                              epsilon: config.layerNormEpsilon, workers: stack.workers)
        let out = config.projectionDimension
        BLAS.gemm(transposeB: weights.projectionIsOutByIn, m: count, n: out, k: d,
                  a: pooled, lda: d, b: weights.projection.pointer, ldb: weights.projectionIsOutByIn ? d : out,
                  c: output, ldc: out)
        for i in 0..<count { EmbeddingMatrix.normalize(output + i * out, count: out) }
    }

    /// Patch embedding, class token and position embeddings into `x`.
    private func embedPatches(pixels: UnsafePointer<Float>, count: Int) {
        let embedded = stack.qkv  // scratch: count·patches×D fits in rows×3D
        CLIPKernels.embedPatches(pixels: pixels, count: count, imageSize: config.imageSize, patchSize: config.patchSize,
                                 weight: weights.patchWeight.pointer, width: d, scratch: stack.mlp, output: embedded,
                                 workers: stack.workers)
        let cls = weights.classEmbedding.pointer, pos = weights.positionEmbedding.pointer
        let bias = weights.patchBias?.pointer
        for image in 0..<count {
            let tokens = x + image * s * d
            for j in 0..<d { tokens[j] = cls[j] + pos[j] }
            for t in 0..<patches {
                let dst = tokens + (t + 1) * d, src = embedded + (image * patches + t) * d, pe = pos + (t + 1) * d
                if let bias {
                    for j in 0..<d { dst[j] = src[j] + pe[j] + bias[j] }
                } else {
                    for j in 0..<d { dst[j] = src[j] + pe[j] }
                }
            }
        }
    }
}
