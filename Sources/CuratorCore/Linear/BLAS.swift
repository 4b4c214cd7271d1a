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

    /// `y = alpha * x + y` for length-`n` vectors.
    public static func axpy(_ n: Int, alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        guard n > 0 else { return }
        cblas_saxpy(blasInt(n), alpha, x, 1, y, 1)
    }

    /// `x = alpha * x` for a length-`n` vector.
    public static func scale(_ n: Int, alpha: Float, _ x: UnsafeMutablePointer<Float>) {
        guard n > 0 else { return }
        cblas_sscal(blasInt(n), alpha, x, 1)
    }

    /// Runs `body` with BLAS calls single-threaded, for code that spreads its
    /// own BLAS calls over the cores (small blocks in parallel beat one big
    /// threaded call for tall-skinny products, and nested threading thrashes).
    /// Accelerate schedules concurrent calls itself, so there it just runs `body`.
    public static func withSingleThreadedCalls<T>(_ body: () throws -> T) rethrows -> T {
        #if canImport(Accelerate)
        return try body()
        #else
        let previous = openblas_get_num_threads()
        guard previous > 1 else { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return try body()
        #endif
    }

    #if canImport(Accelerate)
    @inline(__always) private static func blasInt(_ v: Int) -> Int32 { Int32(v) }
    #else
    @inline(__always) private static func blasInt(_ v: Int) -> blasint { blasint(v) }
    #endif
}
