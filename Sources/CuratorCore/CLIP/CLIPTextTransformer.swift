import Foundation

/// The text transformer's forward pass over a batch of tokenized texts:
/// token and position embeddings, the transformer blocks
/// (`CLIPTransformerStack`; CLIP's with the causal mask, SigLIP's
/// bidirectional), the final layer norm at each text's pooling position,
/// the text projection (SigLIP's head adds a bias), L2 normalisation.
///
/// A CLIP batch runs at the length of its longest text, not the full
/// context: with the causal mask, tokens after a text's end cannot change
/// what comes before it, so the padding CLIP's reference code computes is
/// skipped. SigLIP reads the padding (its texts arrive padded to the
/// context, and it pools at the last position), so it runs at full length.
/// `@unchecked Sendable`: its workspace is used by one batch at a time, which the owning encoder's lock ensures; the weights are read-only.
final class CLIPTextTransformer: @unchecked Sendable {
    let config: CLIPTextConfiguration
    let weights: CLIPTextWeights
    /// The most texts one `run` takes.
    let capacity: Int

    private let stack: CLIPTransformerStack
    private let x: UnsafeMutablePointer<Float>       // residual stream, capacity × context × D
    private let pooled: UnsafeMutablePointer<Float>  // capacity × D

    init(config: CLIPTextConfiguration, weights: CLIPTextWeights, capacity: Int) {
        self.config = config
        self.weights = weights
        self.capacity = max(1, capacity)
        let rows = self.capacity * config.contextLength
        stack = CLIPTransformerStack(width: config.hiddenSize, heads: config.heads, intermediate: config.intermediateSize,
                                     activation: config.activation, epsilon: config.layerNormEpsilon,
                                     maxRows: rows, maxLength: config.contextLength)
        x = .allocate(capacity: rows * config.hiddenSize)
        pooled = .allocate(capacity: self.capacity * config.hiddenSize)
    }

    deinit {
        x.deallocate()
        pooled.deallocate()
    }

    /// Embeds `texts` (token ids, each at most the context length, ≤
    /// `capacity` of them) and writes one unit vector of
    /// `projectionDimension` values per text to `output`. With `lengths`,
    /// text `n` attends only to its first `lengths[n]` tokens (the padding
    /// is masked, for tokenizers that give the model an attention mask).
    func run(_ texts: [[Int]], lengths: [Int]? = nil, output: UnsafeMutablePointer<Float>) {
        precondition(texts.count <= capacity, "CLIPTextTransformer: batch of \(texts.count) exceeds capacity \(capacity)")
        guard !texts.isEmpty else { return }
        let d = config.hiddenSize
        let length = texts.map(\.count).max() ?? 1
        precondition(length <= config.contextLength, "CLIPTextTransformer: a text of \(length) tokens exceeds the context")
        let token = weights.tokenEmbedding.pointer, position = weights.positionEmbedding.pointer
        for (n, ids) in texts.enumerated() {
            for t in 0..<length {
                // Rows past a text's end repeat its end token; the causal mask keeps them from mattering.
                let id = t < ids.count ? ids[t] : ids[ids.count - 1]
                let row = x + (n * length + t) * d, embedding = token + id * d, pe = position + t * d
                for j in 0..<d { row[j] = embedding[j] + pe[j] }
            }
        }
        stack.run(weights.blocks, x: x, sequences: texts.count, length: length, causal: config.causal, keyLengths: lengths)
        for (n, ids) in texts.enumerated() {
            let at = config.poolingPosition(ids)
            CLIPKernels.layerNorm(rows: 1, width: d, input: x + (n * length + at) * d, inputStride: d,
                                  output: pooled + n * d, outputStride: d,
                                  weight: weights.finalNormWeight.pointer, bias: weights.finalNormBias.pointer,
                                  epsilon: config.layerNormEpsilon)
        }
        let out = config.projectionDimension
        BLAS.gemm(transposeB: weights.projectionIsOutByIn, m: texts.count, n: out, k: d,
                  a: pooled, lda: d, b: weights.projection.pointer, ldb: weights.projectionIsOutByIn ? d : out,
                  c: output, ldc: out)
        if let bias = weights.projectionBias?.pointer { CLIPKernels.addRows(output, rows: texts.count, width: out, stride: out, bias: bias) }
        for n in 0..<texts.count { EmbeddingMatrix.normalize(output + n * out, count: out) }
    }
}
