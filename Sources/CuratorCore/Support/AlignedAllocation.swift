#if canImport(Darwin)
import Darwin
#else
import Glibc
#endif

/// 64-byte-aligned memory (or `alignment`, a larger power of two) from the
/// C allocator (free it with `free`), for SIMD kernels and BLAS, of a size
/// the program chose — scratch buffers, a matrix it builds from values it holds. Sizes read from a file go through
/// `ArrayMemory.allocate`, which checks them and throws; here the system
/// refusing leaves nothing sensible to go on with, so it stops, naming `owner`.
func alignedAllocation(_ bytes: Int, alignment: Int = 64, for owner: String) -> UnsafeMutableRawPointer {
    var pointer: UnsafeMutableRawPointer?
    guard posix_memalign(&pointer, max(alignment, 64), max(bytes, 4)) == 0, let pointer else {
        fatalError("\(owner): cannot allocate \(bytes) bytes")
    }
    return pointer
}
