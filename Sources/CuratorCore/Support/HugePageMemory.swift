import Foundation

/// Memory for the large temporary matrices of one selection call (a
/// seeding's Gram matrix, per-row state of a clustering), in 2 MiB pages
/// where the kernel's transparent huge pages allow it (in their `madvise`
/// mode a buffer has to ask, as this does). Every first touch of a fresh 4 KiB page is a fault that
/// zero-fills it: a fresh 16 MiB Gram matrix took 4,096 of them, 8 ms of a
/// 10,000-row clustering on the benchmark machine; in huge pages it is 8.
///
/// Even in huge pages the kernel zero-fills every fresh page on first
/// touch, and where no free huge page is at hand it first compacts memory:
/// 64 MiB took 5.5 ms with free huge pages and 126 ms without on the
/// benchmark machine. Inside `reusingPages`, huge regions given back are
/// kept and handed out again instead of fresh ones.
/// (Filling regions ahead of time on a thread of its own while K-Means
/// found its axes was slower: 0.130 against 0.123 s at 10,000 rows, its
/// faults contending with the working threads'.)
enum HugePageMemory {
    /// The size of a huge page.
    static let pageBytes = 2 << 20
    /// Sizes from this one on are rounded up to whole huge pages.
    static let hugeFrom = 1 << 20

    /// Room for `count` values of `T`, uninitialised (it may hold a previous
    /// user's values); give it back with `deallocate`.
    static func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(1, count * MemoryLayout<T>.stride)
        guard bytes >= hugeFrom else {
            return alignedAllocation(bytes, alignment: 64, for: "HugePageMemory").bindMemory(to: T.self, capacity: count)
        }
        let size = roundedSize(bytes)
        let pointer = regions.take(atLeast: size) ?? freshRegion(size)
        return pointer.bindMemory(to: T.self, capacity: count)
    }

    /// Frees memory from `allocate` (inside `reusingPages`, keeps a huge region for reuse).
    static func deallocate<T>(_ pointer: UnsafeMutablePointer<T>) {
        let raw = UnsafeMutableRawPointer(pointer)
        if !regions.giveBack(raw) { free(raw) }
    }

    /// Runs `body` with huge regions kept for reuse: given back inside it,
    /// they are handed to later `allocate` calls (the smallest that fits)
    /// rather than freed; at the end of the outermost such call every kept
    /// region is freed. Memory from `allocate` may then hold old values.
    static func reusingPages<R>(_ body: () throws -> R) rethrows -> R {
        regions.open()
        defer { regions.close() }
        return try body()
    }

    /// Frees every region kept for reuse so far (the scope stays open):
    /// for a phase that allocates no more huge regions, so they do not add
    /// to its peak.
    static func releaseKept() { regions.releaseKept() }

    /// How many regions are kept for reuse right now (for tests).
    static var keptRegionCount: Int { regions.keptCount }

    private static func roundedSize(_ bytes: Int) -> Int { (bytes + pageBytes - 1) / pageBytes * pageBytes }

    /// A new region of `size` bytes (a whole number of huge pages), aligned to them.
    private static func freshRegion(_ size: Int) -> UnsafeMutableRawPointer {
        // Sizes come from the clustering's own parameters, never from a file.
        let pointer = alignedAllocation(size, alignment: pageBytes, for: "HugePageMemory")
        #if os(Linux)
        _ = madvise(pointer, size, 14 /* MADV_HUGEPAGE */)
        #endif
        regions.record(pointer, size: size)
        return pointer
    }

    private static let regions = RegionCache()
}

/// The huge regions `HugePageMemory` handed out (their sizes) and those kept
/// for reuse. `@unchecked Sendable`: every field is read and written under `lock`.
private final class RegionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var sizes: [UnsafeMutableRawPointer: Int] = [:]
    private var kept: [(pointer: UnsafeMutableRawPointer, size: Int)] = []
    private var scopes = 0

    func open() { lock.withLock { scopes += 1 } }

    var keptCount: Int { lock.withLock { kept.count } }

    /// Ends a `reusingPages` scope; the last one frees every kept region.
    func close() {
        let last = lock.withLock { scopes -= 1; return scopes == 0 }
        if last { releaseKept() }
    }

    func releaseKept() {
        let freed: [UnsafeMutableRawPointer] = lock.withLock {
            let all = kept.map(\.pointer)
            for p in all { sizes[p] = nil }
            kept = []
            return all
        }
        for p in freed { free(p) }
    }

    func record(_ pointer: UnsafeMutableRawPointer, size: Int) { lock.withLock { sizes[pointer] = size } }

    /// The smallest kept region of at least `size` bytes, no longer kept.
    func take(atLeast size: Int) -> UnsafeMutableRawPointer? {
        lock.withLock {
            var best: Int?
            for (i, region) in kept.enumerated() where region.size >= size && (best == nil || region.size < kept[best!].size) {
                best = i
            }
            return best.map { kept.remove(at: $0).pointer }
        }
    }

    /// Keeps a region from `allocate` for reuse when a scope is open; false
    /// (the caller frees it) otherwise or when it is not a huge region.
    func giveBack(_ pointer: UnsafeMutableRawPointer) -> Bool {
        lock.withLock {
            guard let size = sizes[pointer] else { return false }
            guard scopes > 0 else { sizes[pointer] = nil; return false }
            kept.append((pointer, size))
            return true
        }
    }

}
