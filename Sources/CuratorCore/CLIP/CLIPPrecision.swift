/// The arithmetic of an image tower's transformer blocks.
///
/// In `bfloat16` the four linear layers of every block (queries/keys/values,
/// the attention's output, the MLP's two layers: nearly all of the tower's
/// multiply-adds) round both operands to bfloat16 and sum the exact products
/// in float32, with AVX512_BF16's dot-product instruction: about 1.7× the
/// float32 GEMM's speed per core. Everything else (patch embedding,
/// attention's own products and softmax, layer norms, residual sums, the
/// projection) stays float32. Measured against float32 on random ViT-B/32
/// and ViT-L/14 towers of the real shapes, every embedding keeps a cosine of
/// at least 0.99998 — within the agreement the fixture tests ask of
/// transformers' own float32 embeddings (0.9999).
public enum CLIPPrecision: String, Sendable, Equatable, CaseIterable {
    /// float32 throughout, through the BLAS (OpenBLAS or Accelerate).
    case float32
    /// The blocks' linear layers in bfloat16, where the processor has
    /// AVX512_BF16 (`isAvailable`); float32 elsewhere.
    case bfloat16

    /// Whether this processor runs `bfloat16` (AVX512_BF16 with AVX512BW and VL).
    public static var bfloat16IsAvailable: Bool { BFloat16Matrix.isSupported }

    /// What a tower asked for `requested` runs on this processor: `bfloat16`
    /// only where it is available; nil (the default) asks for bfloat16.
    public static func effective(_ requested: CLIPPrecision?) -> CLIPPrecision {
        (requested ?? .bfloat16) == .bfloat16 && bfloat16IsAvailable ? .bfloat16 : .float32
    }
}
