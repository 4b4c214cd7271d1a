#if canImport(Accelerate)
import Accelerate
#else
import Glibc
#endif

/// The few BLAS routines curator's matrix work is written in, over row-major
/// single-precision buffers. OpenBLAS on Linux, Accelerate on Apple platforms.
///
/// On Linux OpenBLAS is opened with dlopen on the first call rather than
/// linked: loading it binds some 12,000 symbols and starts its thread pool,
/// about a quarter of curator's start-up time for scripts that never compute.
/// Operations that compute call `require()` first so that a missing OpenBLAS
/// is an error naming it; a BLAS call without it stops the process with
/// that same message.
public enum BLAS {
    /// Loads the BLAS library if needed, or throws why it cannot be used.
    public static func require() throws(LibraryUnavailable) {
        if let reason = unavailableReason { throw LibraryUnavailable(description: reason) }
    }

    /// Why the BLAS library cannot be used (naming it), or nil when it can.
    public static var unavailableReason: String? {
        #if canImport(Accelerate)
        return nil
        #else
        if case .failure(let error) = OpenBLAS.loaded { return error.description }
        return nil
        #endif
    }

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
        #if canImport(Accelerate)
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            blasInt(m), blasInt(n), blasInt(k), alpha,
            a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
        #else
        OpenBLAS.functions.sgemm(
            OpenBLAS.rowMajor,
            transposeA ? OpenBLAS.trans : OpenBLAS.noTrans,
            transposeB ? OpenBLAS.trans : OpenBLAS.noTrans,
            blasInt(m), blasInt(n), blasInt(k), alpha,
            a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
        #endif
    }

    /// `gemm` with the rows of C split between the cores, each part a
    /// single-threaded call. For code that keeps OpenBLAS's own threads
    /// asleep (`withSingleThreadedCalls`): once woken they spin for a while
    /// after each call, taking a core from the work that follows.
    static func gemmOnCores(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let parts = max(1, min(activeCoreCount, m / 64))
        let shared = UncheckedSendable((a, b, c))
        withSingleThreadedCalls {
            parallelFor(parts) { part in
                let (a, b, c) = shared.value
                let first = part * m / parts, last = (part + 1) * m / parts
                gemm(transposeA: transposeA, transposeB: transposeB, m: last - first, n: n, k: k, alpha: alpha,
                     a: transposeA ? a + first : a + first * lda, lda: lda, b: b, ldb: ldb,
                     c: c + first * ldc, ldc: ldc)
            }
        }
    }

    /// `y = alpha * op(A) * x + beta * y` for a row-major m×n matrix A.
    public static func gemv(
        transpose: Bool = false, m: Int, n: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        guard m > 0, n > 0 else { return }
        #if canImport(Accelerate)
        cblas_sgemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
            blasInt(m), blasInt(n), alpha, a, blasInt(lda), x, 1, beta, y, 1)
        #else
        OpenBLAS.functions.sgemv(
            OpenBLAS.rowMajor, transpose ? OpenBLAS.trans : OpenBLAS.noTrans,
            blasInt(m), blasInt(n), alpha, a, blasInt(lda), x, 1, beta, y, 1)
        #endif
    }

    /// The dot product of two length-`n` vectors.
    public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        #if canImport(Accelerate)
        cblas_sdot(blasInt(n), x, 1, y, 1)
        #else
        OpenBLAS.functions.sdot(blasInt(n), x, 1, y, 1)
        #endif
    }

    /// `y = alpha * x + y` for length-`n` vectors.
    public static func axpy(_ n: Int, alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        guard n > 0 else { return }
        #if canImport(Accelerate)
        cblas_saxpy(blasInt(n), alpha, x, 1, y, 1)
        #else
        OpenBLAS.functions.saxpy(blasInt(n), alpha, x, 1, y, 1)
        #endif
    }

    /// `x = alpha * x` for a length-`n` vector.
    public static func scale(_ n: Int, alpha: Float, _ x: UnsafeMutablePointer<Float>) {
        guard n > 0 else { return }
        #if canImport(Accelerate)
        cblas_sscal(blasInt(n), alpha, x, 1)
        #else
        OpenBLAS.functions.sscal(blasInt(n), alpha, x, 1)
        #endif
    }

    /// The eigenvectors of the `count` largest eigenvalues of a symmetric
    /// n×n matrix (LAPACK's `ssyevr`), as an n×count row-major matrix whose
    /// columns are unit length, largest eigenvalue first; nil when the LAPACK
    /// routine is not available or fails (callers then do without).
    ///
    /// Past half of them it asks for all: `ssyevr` finds a subset by
    /// bisection and inverse iteration, all of them by its faster MRRR
    /// (128 of 160 took 3.5 ms, all 160 about 1.3).
    public static func leadingEigenvectors(ofSymmetric matrix: [Float], n: Int, count: Int) -> [Float]? {
        let p = min(count, n)
        guard n > 0, p > 0, matrix.count == n * n else { return nil }
        let all = 2 * p > n
        let wanted = all ? n : p
        var a = matrix  // overwritten by the routine
        var jobz = CChar(UInt8(ascii: "V")), range = CChar(UInt8(ascii: all ? "A" : "I")), uplo = CChar(UInt8(ascii: "U"))
        var size = Int32(n), lda = Int32(n), ldz = Int32(n)
        var lower: Float = 0, upper: Float = 0, tolerance: Float = 0
        var first = Int32(n - p + 1), last = Int32(n)
        var found: Int32 = 0, info: Int32 = 0
        var values = [Float](repeating: 0, count: n)
        var vectors = [Float](repeating: 0, count: n * wanted)
        var support = [Int32](repeating: 0, count: 2 * wanted)
        var workSize: Float = 0, iworkSize: Int32 = 0
        // A first call with sizes −1 only reports the workspace it wants.
        var queryWork: Int32 = -1, queryIntegerWork: Int32 = -1
        func call(_ work: UnsafeMutablePointer<Float>, _ lwork: inout Int32,
                  _ iwork: UnsafeMutablePointer<Int32>, _ liwork: inout Int32) -> Bool {
            #if canImport(Accelerate)
            ssyevr_(&jobz, &range, &uplo, &size, &a, &lda, &lower, &upper, &first, &last, &tolerance,
                    &found, &values, &vectors, &ldz, &support, work, &lwork, iwork, &liwork, &info)
            #else
            guard let ssyevr = OpenBLAS.functions.ssyevr else { return false }
            ssyevr(&jobz, &range, &uplo, &size, &a, &lda, &lower, &upper, &first, &last, &tolerance,
                   &found, &values, &vectors, &ldz, &support, work, &lwork, iwork, &liwork, &info, 1, 1, 1)
            #endif
            return info == 0
        }
        guard call(&workSize, &queryWork, &iworkSize, &queryIntegerWork) else { return nil }
        var lwork = Int32(max(Float(26 * n), workSize.rounded(.up)))
        var liwork = max(Int32(10 * n), iworkSize)
        var work = [Float](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        guard call(&work, &lwork, &iwork, &liwork), Int(found) == wanted else { return nil }
        // Column-major n×wanted, ascending eigenvalues → row-major n×p, the largest first.
        var basis = [Float](repeating: 0, count: n * p)
        for j in 0..<p {
            let column = wanted - 1 - j
            for i in 0..<n { basis[i * p + j] = vectors[column * n + i] }
        }
        return basis
    }

    /// Runs `body` with BLAS calls single-threaded, for code that spreads its
    /// own BLAS calls over the cores (small blocks in parallel beat one big
    /// threaded call for tall-skinny products, and nested threading thrashes).
    /// Accelerate schedules concurrent calls itself, so there it just runs `body`.
    public static func withSingleThreadedCalls<T>(_ body: () throws -> T) rethrows -> T {
        #if canImport(Accelerate)
        return try body()
        #else
        let blas = OpenBLAS.functions
        let previous = blas.getThreads()
        guard previous > 1 else { return try body() }
        blas.setThreads(1)
        defer { blas.setThreads(previous) }
        return try body()
        #endif
    }

    #if canImport(Accelerate)
    @inline(__always) private static func blasInt(_ v: Int) -> Int32 { Int32(v) }
    #else
    @inline(__always) private static func blasInt(_ v: Int) -> Int32 { Int32(v) }
    #endif
}

#if !canImport(Accelerate)
/// OpenBLAS's CBLAS interface, resolved with dlopen/dlsym on first use (see
/// `BLAS`). The prototypes are cblas.h's for a 32-bit-integer build (the
/// one Debian ships as libopenblas.so.0; a 64-bit-integer build is refused
/// when loading). CBLAS enums are passed as C ints. BLASDeclarationTests
/// checks the constants and integer width against the installed cblas.h.
enum OpenBLAS {
    typealias Sgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Sgemv = @convention(c) (Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Sdot = @convention(c) (Int32, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32) -> Float
    typealias Saxpy = @convention(c) (Int32, Float, UnsafePointer<Float>?, Int32, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Sscal = @convention(c) (Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias GetThreads = @convention(c) () -> Int32
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias GetConfig = @convention(c) () -> UnsafePointer<CChar>?
    /// LAPACK's Fortran `ssyevr_`, with the three hidden lengths of its
    /// character arguments that gfortran-built LAPACKs take last.
    typealias Ssyevr = @convention(c) (
        UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<Int32>?,
        UnsafeMutablePointer<Float>?, UnsafePointer<Int32>?, UnsafePointer<Float>?, UnsafePointer<Float>?,
        UnsafePointer<Int32>?, UnsafePointer<Int32>?, UnsafePointer<Float>?, UnsafeMutablePointer<Int32>?,
        UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafePointer<Int32>?, UnsafeMutablePointer<Int32>?,
        UnsafeMutablePointer<Float>?, UnsafePointer<Int32>?, UnsafeMutablePointer<Int32>?, UnsafePointer<Int32>?,
        UnsafeMutablePointer<Int32>?, Int, Int, Int) -> Void

    /// CBLAS_ORDER.CblasRowMajor, CBLAS_TRANSPOSE.CblasNoTrans / CblasTrans.
    static let rowMajor: Int32 = 101
    static let noTrans: Int32 = 111
    static let trans: Int32 = 112

    /// The resolved functions.
    /// `@unchecked Sendable`: C function pointers, resolved once and never changed.
    struct Functions: @unchecked Sendable {
        let sgemm: Sgemm
        let sgemv: Sgemv
        let sdot: Sdot
        let saxpy: Saxpy
        let sscal: Sscal
        let getThreads: GetThreads
        let setThreads: SetThreads
        /// LAPACK's symmetric eigensolver: OpenBLAS builds usually carry
        /// LAPACK, but curator works without it (see `leadingEigenvectors`).
        let ssyevr: Ssyevr?
    }

    /// The library's file name: the soname of Debian's libopenblas0 (which
    /// the alternatives system points at the pthread, OpenMP or serial
    /// build); $CURATOR_LIBOPENBLAS names another file.
    static let libraryName = "libopenblas.so.0"

    /// Loaded once, on first use.
    static let loaded: Result<Functions, LibraryUnavailable> = load()

    /// The functions; a BLAS call without OpenBLAS cannot go on, so this
    /// stops with the loader's message (callers that compute check
    /// `BLAS.require()` first and report it as an error instead).
    static var functions: Functions {
        switch loaded {
        case .success(let functions): return functions
        case .failure(let error): fatalError(error.description)
        }
    }

    private static func load() -> Result<Functions, LibraryUnavailable> {
        var name = libraryName
        if let override = getenv("CURATOR_LIBOPENBLAS"), override.pointee != 0 { name = String(cString: override) }
        // OpenBLAS starts its threads when loaded, and they (as after every
        // threaded call) spin on sched_yield for about 2^28 cycles, a tenth
        // of a second, before they sleep: a core taken from whatever follows.
        // Nearly every call here is single-threaded (`withSingleThreadedCalls`)
        // and spread over the cores by curator, so its threads are told to
        // sleep at once (the shortest wait OpenBLAS takes, 2^4 cycles) unless
        // the user set it. (FPS at 10,000 × 768, 5 runs of 100, right after
        // the load: 0.026 s instead of 0.036 s, CPU 0.040 s instead of 0.069.)
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0)
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            return .failure(LibraryUnavailable(description:
                "OpenBLAS (\(name)) could not be loaded: \(reason); install it (Debian: apt-get install libopenblas0) "
                + "or set CURATOR_LIBOPENBLAS to its path"))
        }
        var missing: [String] = []
        func symbol<T>(_ symbol: String, as type: T.Type) -> T? {
            guard let pointer = dlsym(handle, symbol) else { missing.append(symbol); return nil }
            return unsafeBitCast(pointer, to: type)
        }
        let sgemm = symbol("cblas_sgemm", as: Sgemm.self)
        let sgemv = symbol("cblas_sgemv", as: Sgemv.self)
        let sdot = symbol("cblas_sdot", as: Sdot.self)
        let saxpy = symbol("cblas_saxpy", as: Saxpy.self)
        let sscal = symbol("cblas_sscal", as: Sscal.self)
        let getThreads = symbol("openblas_get_num_threads", as: GetThreads.self)
        let setThreads = symbol("openblas_set_num_threads", as: SetThreads.self)
        guard let sgemm, let sgemv, let sdot, let saxpy, let sscal, let getThreads, let setThreads else {
            return .failure(LibraryUnavailable(description:
                "OpenBLAS (\(name)) lacks \(missing.joined(separator: ", ")); curator needs OpenBLAS's CBLAS interface"))
        }
        // 64-bit-integer builds take 64-bit sizes: calling them with the
        // 32-bit prototypes above would pass garbage.
        if let config = symbol("openblas_get_config", as: GetConfig.self)?(),
           String(cString: config).contains("USE64BITINT") {
            return .failure(LibraryUnavailable(description:
                "OpenBLAS (\(name)) is a 64-bit-integer build; curator needs the 32-bit-integer one (libopenblas0)"))
        }
        return .success(Functions(sgemm: sgemm, sgemv: sgemv, sdot: sdot, saxpy: saxpy, sscal: sscal,
                                  getThreads: getThreads, setThreads: setThreads,
                                  ssyevr: dlsym(handle, "ssyevr_").map { unsafeBitCast($0, to: Ssyevr.self) }))
    }
}
#endif
