#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zstandard decompression for Parquet's ZSTD pages, from the system's
/// libzstd (Debian's libzstd1, which dpkg itself needs, so every Debian
/// machine has it), opened with dlopen on the first ZSTD page rather than
/// linked: most albums never read one.
enum Zstd {
    typealias Decompress = @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int) -> Int
    typealias IsError = @convention(c) (Int) -> UInt32
    typealias ErrorName = @convention(c) (Int) -> UnsafePointer<CChar>?

    /// `@unchecked Sendable`: C function pointers, resolved once and never changed.
    struct Functions: @unchecked Sendable {
        let decompress: Decompress
        let isError: IsError
        let errorName: ErrorName
    }

    /// The library's file names, tried in order; $CURATOR_LIBZSTD names another file.
    static let libraryNames = ["libzstd.so.1", "libzstd.1.dylib", "/opt/homebrew/lib/libzstd.1.dylib", "/usr/local/lib/libzstd.1.dylib"]

    /// Loaded once, on first use.
    static let loaded: Result<Functions, LibraryUnavailable> = load()

    /// Why a ZSTD page cannot be read: damaged data, or no libzstd.
    enum Failure: Error {
        case malformed(String)
        case unavailable(LibraryUnavailable)
    }

    /// Decompresses the zstd frames in `input` into `output`, which must be
    /// exactly their decompressed size (libzstd never writes past it).
    static func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(Failure) {
        let functions: Functions
        switch loaded {
        case .success(let f): functions = f
        case .failure(let error): throw .unavailable(error)
        }
        let result = functions.decompress(output.baseAddress, output.count, input.baseAddress, input.count)
        if functions.isError(result) != 0 {
            let name = functions.errorName(result).map { String(cString: $0) } ?? "error \(result)"
            throw .malformed("zstd says: \(name)")
        }
        guard result == output.count else {
            throw .malformed("the zstd data holds \(result) bytes, not the \(output.count) its page header says")
        }
    }

    private static func load() -> Result<Functions, LibraryUnavailable> {
        var names = libraryNames
        if let override = getenv("CURATOR_LIBZSTD"), override.pointee != 0 { names = [String(cString: override)] }
        var handle: UnsafeMutableRawPointer?
        var reason = "not found"
        for (i, name) in names.enumerated() {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
            if handle != nil { break }
            // The first name's failure is the telling one; the rest are fallbacks for other systems.
            if i == 0 { reason = dlerror().map { String(cString: $0) } ?? reason }
        }
        guard let handle else {
            return .failure(LibraryUnavailable(description:
                "libzstd (\(names[0])) could not be loaded: \(reason); ZSTD-compressed Parquet pages need it "
                + "(Debian: apt-get install libzstd1; macOS: brew install zstd) or set CURATOR_LIBZSTD to its path"))
        }
        guard let decompress = dlsym(handle, "ZSTD_decompress"), let isError = dlsym(handle, "ZSTD_isError"),
              let errorName = dlsym(handle, "ZSTD_getErrorName") else {
            return .failure(LibraryUnavailable(description: "libzstd (\(names[0])) lacks ZSTD_decompress, ZSTD_isError or ZSTD_getErrorName"))
        }
        return .success(Functions(decompress: unsafeBitCast(decompress, to: Decompress.self),
                                  isError: unsafeBitCast(isError, to: IsError.self),
                                  errorName: unsafeBitCast(errorName, to: ErrorName.self)))
    }
}
