import Foundation

/// Buffers of one size lent to parallel workers and given back, so a pass
/// over a large file in blocks reuses a few buffers, hot in cache, instead
/// of touching fresh memory per block (every first touch of a fresh page
/// costs the kernel a zero-filled page).
/// `@unchecked Sendable`: the list of idle buffers is read and written under `lock`;
/// a lent buffer belongs to its borrower alone.
final class ScratchPool: @unchecked Sendable {
    /// The size of every buffer, in bytes.
    let bytes: Int
    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []

    /// A pool of `bytes`-byte buffers (64-byte aligned), made as workers first need them.
    init(bytes: Int) { self.bytes = max(bytes, 1) }

    /// Calls `body` with a buffer no other worker holds meanwhile.
    func withBuffer<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        let buffer = lock.withLock { idle.popLast() } ?? Self.allocate(bytes)
        defer { lock.withLock { idle.append(buffer) } }
        return try body(buffer)
    }

    /// Sizes are a few megabytes chosen by the caller, never read from a file.
    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        alignedAllocation(bytes, for: "ScratchPool")
    }

    deinit { idle.forEach { free($0) } }
}
