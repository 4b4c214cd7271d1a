#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// The few BLAS routines curator's matrix work is written in, over row-major
/// single-precision buffers. OpenBLAS on Linux, Accelerate on Apple platforms.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C`, all row-major.
    ///
    /// - Parameters:
    ///   - transposeA: use Aᵀ; A is then stored as k×m.
    ///   - transposeB: use Bᵀ; B is then stored as n×k.
    ///   - m: rows of op(A) and C.
    ///   - n: columns of op(B) and C.
    ///   - k: columns of op(A), rows of op(B).
    ///   - lda, ldb, ldc: row strides of the stored A, B, C.
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            blasInt(m), blasInt(n), blasInt(k), alpha,
            a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }

    /// `y = alpha * op(A) * x + beta * y` for a row-major m×n matrix A.
    public static func gemv(
        transpose: Bool = false, m: Int, n: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
            blasInt(m), blasInt(n), alpha, a, blasInt(lda), x, 1, beta, y, 1)
    }

    /// The dot product of two length-`n` vectors.
    public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        cblas_sdot(blasInt(n), x, 1, y, 1)
    }

    #if canImport(Accelerate)
    @inline(__always) private static func blasInt(_ v: Int) -> Int32 { Int32(v) }
    #else
    @inline(__always) private static func blasInt(_ v: Int) -> blasint { blasint(v) }
    #endif
}
