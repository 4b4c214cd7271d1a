import Foundation

/// Memory for the large temporary matrices of one selection call (a
/// seeding's Gram matrix, per-row state of a clustering), in 2 MiB pages
/// where the kernel's transparent huge pages allow it (in their `madvise`
/// mode a buffer has to ask, as this does). Every first touch of a fresh 4 KiB page is a fault that
/// zero-fills it: a fresh 16 MiB Gram matrix took 4,096 of them, 8 ms of a
/// 10,000-row clustering on the benchmark machine; in huge pages it is 8.
enum HugePageMemory {
    /// The size of a huge page.
    static let pageBytes = 2 << 20
    /// Sizes from this one on are rounded up to whole huge pages.
    static let hugeFrom = 1 << 20

    /// Room for `count` values of `T`, uninitialised; give it back with `deallocate`.
    static func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(1, count * MemoryLayout<T>.stride)
        let huge = bytes >= hugeFrom
        let size = huge ? (bytes + pageBytes - 1) / pageBytes * pageBytes : bytes
        // Sizes come from the clustering's own parameters, never from a file.
        let pointer = alignedAllocation(size, alignment: huge ? pageBytes : 64, for: "HugePageMemory")
        #if os(Linux)
        if huge { _ = madvise(pointer, size, 14 /* MADV_HUGEPAGE */) }
        #endif
        return pointer.bindMemory(to: T.self, capacity: count)
    }

    /// Frees memory from `allocate`.
    static func deallocate<T>(_ pointer: UnsafeMutablePointer<T>) { free(pointer) }
}
