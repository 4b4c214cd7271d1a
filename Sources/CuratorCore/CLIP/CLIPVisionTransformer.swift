import Foundation

/// The CLIP vision transformer's forward pass over a batch of preprocessed
/// images: patch embedding (im2col + GEMM), class and position embeddings,
/// pre-layernorm, pre-LN transformer blocks, post-layernorm of the class
/// token, visual projection, L2 normalisation.
///
/// The batch's tokens are one matrix (images × tokens rows), so every linear
/// layer is a single GEMM over the whole batch with the weights used as they
/// lie in the file; attention is two small GEMMs per image and head, read in
/// place from the packed query/key/value matrix. The workspace is allocated
/// once for `capacity` images and reused; one instance runs one batch at a time.
final class CLIPVisionTransformer: @unchecked Sendable {
    let config: CLIPVisionConfiguration
    let weights: CLIPVisionWeights
    /// The most images one `run` takes.
    let capacity: Int

    private let d: Int, s: Int, patches: Int, patchValues: Int, qkvWidth: Int, ff: Int
    // Workspace (capacity × tokens rows each).
    private let x: UnsafeMutablePointer<Float>       // residual stream, rows × D
    private let h: UnsafeMutablePointer<Float>       // normalised input of a sub-layer, rows × D
    private let qkv: UnsafeMutablePointer<Float>     // rows × 3D; also the im2col patches
    private let attention: UnsafeMutablePointer<Float>  // rows × D
    private let mlp: UnsafeMutablePointer<Float>     // rows × intermediate
    private let pooled: UnsafeMutablePointer<Float>  // capacity × D
    private let scores: UnsafeMutablePointer<Float>  // one S×S block per worker

    /// Attention products up to this many multiply-adds run one per core on
    /// our threads; larger ones run one at a time, threaded by the BLAS.
    /// OpenBLAS threads products above 65,536 × 4 itself, and nesting both
    /// kinds of threading would oversubscribe the cores.
    let parallelAttentionLimit: Int

    init(config: CLIPVisionConfiguration, weights: CLIPVisionWeights, capacity: Int, parallelAttentionLimit: Int = 262_144) {
        self.parallelAttentionLimit = parallelAttentionLimit
        self.config = config
        self.weights = weights
        self.capacity = max(1, capacity)
        d = config.hiddenSize
        s = config.tokens
        patches = config.gridSize * config.gridSize
        patchValues = 3 * config.patchSize * config.patchSize
        qkvWidth = 3 * config.hiddenSize
        ff = config.intermediateSize
        let rows = self.capacity * s
        x = .allocate(capacity: rows * d)
        h = .allocate(capacity: rows * d)
        qkv = .allocate(capacity: rows * qkvWidth)
        attention = .allocate(capacity: rows * d)
        // The MLP buffer also holds the im2col patches before the first block.
        mlp = .allocate(capacity: max(rows * ff, self.capacity * patches * patchValues))
        pooled = .allocate(capacity: self.capacity * d)
        scores = .allocate(capacity: CLIPParallel.workers * s * s)
    }

    deinit {
        for p in [x, h, qkv, attention, mlp, pooled, scores] { p.deallocate() }
    }

    /// The bytes of workspace this instance holds.
    var workspaceBytes: Int {
        let rows = capacity * s
        return 4 * (rows * (3 * d + qkvWidth) + max(rows * ff, capacity * patches * patchValues)
                    + capacity * d + CLIPParallel.workers * s * s)
    }

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
                              epsilon: config.layerNormEpsilon)
        for block in weights.blocks { runBlock(block, count: count) }

        // Class token of each image → post-layernorm → projection → unit length.
        CLIPKernels.layerNorm(rows: count, width: d, input: x, inputStride: s * d, output: pooled, outputStride: d,
                              weight: weights.postNormWeight.pointer, bias: weights.postNormBias.pointer,
                              epsilon: config.layerNormEpsilon)
        let out = config.projectionDimension
        BLAS.gemm(transposeB: weights.projectionIsOutByIn, m: count, n: out, k: d,
                  a: pooled, lda: d, b: weights.projection.pointer, ldb: weights.projectionIsOutByIn ? d : out,
                  c: output, ldc: out)
        for i in 0..<count { EmbeddingMatrix.normalize(output + i * out, count: out) }
    }

    /// Patch embedding, class token and position embeddings into `x`.
    private func embedPatches(pixels: UnsafePointer<Float>, count: Int) {
        let p = config.patchSize, grid = config.gridSize, side = config.imageSize
        let imageValues = 3 * side * side
        let cols = patchValues
        let buffer = mlp
        // im2col: one row per patch, its values in the conv kernel's (channel, y, x) order.
        let source = Unshared(pixels), destination = Unshared(buffer)
        CLIPParallel.forEachChunk(count * patches, minimumChunk: 64) { range in
            let pixels = source.value, buffer = destination.value
            for row in range {
                let image = row / (grid * grid), patch = row % (grid * grid)
                let py = patch / grid, px = patch % grid
                var dst = buffer + row * cols
                for c in 0..<3 {
                    for ky in 0..<p {
                        let src = pixels + image * imageValues + c * side * side + (py * p + ky) * side + px * p
                        dst.update(from: src, count: p)
                        dst += p
                    }
                }
            }
        }
        // All patches of the batch in one GEMM (conv weight [D, 3·p·p], used transposed).
        let embedded = qkv  // scratch: count·patches×D fits in rows×3D
        BLAS.gemm(transposeB: true, m: count * patches, n: d, k: cols,
                  a: buffer, lda: cols, b: weights.patchWeight.pointer, ldb: cols, c: embedded, ldc: d)
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

    private func runBlock(_ block: CLIPVisionWeights.Block, count: Int) {
        let rows = count * s
        let eps = config.layerNormEpsilon

        // Attention sub-layer: x += out_proj(attention(ln_1(x))).
        CLIPKernels.layerNorm(rows: rows, width: d, input: x, inputStride: d, output: h, outputStride: d,
                              weight: block.norm1Weight.pointer, bias: block.norm1Bias.pointer, epsilon: eps)
        switch block.qkv {
        case let .packed(weight, bias):
            CLIPKernels.fillRows(qkv, rows: rows, width: qkvWidth, stride: qkvWidth, with: bias.pointer)
            BLAS.gemm(transposeB: true, m: rows, n: qkvWidth, k: d, a: h, lda: d,
                      b: weight.pointer, ldb: d, beta: 1, c: qkv, ldc: qkvWidth)
        case let .separate(q, qBias, k, kBias, v, vBias):
            for (part, (w, b)) in [(q, qBias), (k, kBias), (v, vBias)].enumerated() {
                CLIPKernels.fillRows(qkv + part * d, rows: rows, width: d, stride: qkvWidth, with: b.pointer)
                BLAS.gemm(transposeB: true, m: rows, n: d, k: d, a: h, lda: d,
                          b: w.pointer, ldb: d, beta: 1, c: qkv + part * d, ldc: qkvWidth)
            }
        }
        selfAttention(count: count)
        CLIPKernels.addRows(x, rows: rows, width: d, stride: d, bias: block.outBias.pointer)
        BLAS.gemm(transposeB: true, m: rows, n: d, k: d, a: attention, lda: d,
                  b: block.outWeight.pointer, ldb: d, beta: 1, c: x, ldc: d)

        // MLP sub-layer: x += fc2(act(fc1(ln_2(x)))).
        CLIPKernels.layerNorm(rows: rows, width: d, input: x, inputStride: d, output: h, outputStride: d,
                              weight: block.norm2Weight.pointer, bias: block.norm2Bias.pointer, epsilon: eps)
        CLIPKernels.fillRows(mlp, rows: rows, width: ff, stride: ff, with: block.fc1Bias.pointer)
        BLAS.gemm(transposeB: true, m: rows, n: ff, k: d, a: h, lda: d,
                  b: block.fc1Weight.pointer, ldb: d, beta: 1, c: mlp, ldc: ff)
        let activation = config.activation
        let hidden = Unshared(mlp), width = ff
        CLIPParallel.forEachChunk(rows, minimumChunk: 8) { range in
            CLIPKernels.activate(activation, hidden.value + range.lowerBound * width, count: range.count * width)
        }
        CLIPKernels.addRows(x, rows: rows, width: d, stride: d, bias: block.fc2Bias.pointer)
        BLAS.gemm(transposeB: true, m: rows, n: d, k: ff, a: mlp, lda: ff,
                  b: block.fc2Weight.pointer, ldb: ff, beta: 1, c: x, ldc: d)
    }

    /// softmax(Q Kᵀ / √head) V for every image and head, read from `qkv`
    /// (queries, keys, values side by side in each row) into `attention`.
    private func selfAttention(count: Int) {
        let heads = config.heads, hd = config.headSize, s = self.s, d = self.d, width = qkvWidth
        let scale = 1 / Float(hd).squareRoot()
        let input = Unshared(qkv), output = Unshared(attention), scratch = Unshared(scores)
        let work = count * heads
        let smallProducts = s * s * hd <= parallelAttentionLimit
        let chunks = smallProducts ? min(CLIPParallel.workers, work) : 1
        let body: @Sendable (Int) -> Void = { chunk in
            let qkv = input.value, out = output.value
            let block = scratch.value + chunk * s * s
            for item in (work * chunk / chunks)..<(work * (chunk + 1) / chunks) {
                let image = item / heads, head = item % heads
                let base = qkv + image * s * width + head * hd
                BLAS.gemm(transposeB: true, m: s, n: s, k: hd, alpha: scale,
                          a: base, lda: width, b: base + d, ldb: width, c: block, ldc: s)
                CLIPKernels.softmaxRows(block, rows: s, width: s, stride: s)
                BLAS.gemm(m: s, n: hd, k: s, a: block, lda: s, b: base + 2 * d, ldb: width,
                          c: out + image * s * d + head * hd, ldc: d)
            }
        }
        if chunks == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: body) }
    }
}
