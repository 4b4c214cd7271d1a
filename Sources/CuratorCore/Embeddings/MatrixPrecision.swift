/// How an album keeps its matrix of vectors: float32 (the default), or
/// float16, which halves the memory and the file (10M × 768 is 15 GB, not
/// 31 GB) at a relative rounding error below 2⁻¹¹ per value. Work on a
/// float16 matrix widens its rows to float32 a block at a time
/// (`EmbeddingMatrix.rows(_:into:)`), so the arithmetic stays float32.
public enum MatrixPrecision: String, Sendable, CaseIterable {
    /// Four bytes per value.
    case float32 = "f32"
    /// Two bytes per value (IEEE 754 binary16).
    case float16 = "f16"

    /// The bytes one value takes.
    public var bytesPerValue: Int { self == .float32 ? 4 : 2 }

    /// The precision a user named: "f32"/"float32" or "f16"/"float16" (any case).
    public init(parsing text: String) throws {
        switch text.lowercased() {
        case "f32", "float32": self = .float32
        case "f16", "float16": self = .float16
        default: throw IndexError.unknownPrecision(value: text)
        }
    }

    /// The precision whose values take `bytes` bytes, if any.
    init?(bytesPerValue bytes: Int) {
        switch bytes {
        case 4: self = .float32
        case 2: self = .float16
        default: return nil
        }
    }
}
