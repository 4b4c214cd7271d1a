import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only file read with positioned reads straight into caller buffers,
/// so large arrays reach their final memory in one copy (no `Data` in between).
/// `@unchecked Sendable`: immutable after opening, and `pread` does not move a shared file offset.
final class RawFile: @unchecked Sendable {
    /// The path as the caller gave it, for messages.
    let path: String
    /// The file's size in bytes when it was opened.
    let size: Int
    private let fd: Int32

    /// Opens `url` for reading; errors name the file and the system's reason.
    init(_ url: URL) throws {
        path = url.path
        do throws(RegularFile.Failure) {
            let (fd, info) = try RegularFile.open(path)
            self.fd = fd
            size = Int(info.st_size)
        } catch {
            if error.code == 0 {
                throw EmbeddingFileError(.notRecognized, path, error.reason)
            }
            throw EmbeddingFileError(.unreadable, path, "cannot open: \(error.reason)")
        }
    }

    deinit { close(fd) }

    /// Reads exactly `count` bytes at `offset` into `buffer`; a short file is
    /// reported as truncated, naming `what` (e.g. "the .npy header").
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int, what: String) throws {
        var done = 0
        while done < count {
            // Bounded chunks: some systems refuse single reads above 2 GiB.
            let chunk = min(count - done, 1 << 30)
            let n = retryingInterrupted { pread(fd, buffer + done, chunk, off_t(offset + done)) }
            if n < 0 {
                throw EmbeddingFileError(.unreadable, path, "read error in \(what): \(String(cString: strerror(errno)))")
            }
            if n == 0 {
                throw EmbeddingFileError(.corrupt, path, "truncated: \(what) needs \(count) bytes at offset \(offset) but the file ends at \(size)")
            }
            done += n
        }
    }

    /// Reads `count` bytes at `offset` into a new array (for small structures).
    func bytes(count: Int, at offset: Int, what: String) throws -> [UInt8] {
        guard count > 0 else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try read(into: buffer.baseAddress!, count: count, at: offset, what: what)
            initialized = count  // read fills every byte or throws
        }
    }
}

/// An owned, immutable block of raw bytes (an array's data or a whole member).
/// `@unchecked Sendable`: the memory is written only while it is being filled,
/// before the block is shared, and freed once with the last reference.
final class ByteBlock: @unchecked Sendable {
    /// The start of the bytes (64-byte aligned; never nil, even when empty).
    let base: UnsafeMutableRawPointer
    /// How many bytes there are.
    let count: Int

    /// Allocates `count` uninitialised bytes for `what` of `location` (a
    /// size a file claims): refused above `ArrayMemory`'s cap, and a system
    /// that cannot allocate gives an error, not an abort.
    init(count: Int, for what: String, location: String) throws {
        self.count = count
        base = try ArrayMemory.allocate(count, for: what, location: location)
    }

    deinit { free(base) }
}
