#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening a file that curator is about to read whole (an `.npz`, `.npy`,
/// `model.safetensors`, a path list, a caption) without ever blocking.
///
/// `open(2)` on a FIFO waits for a writer, so a FIFO planted where a file is
/// expected would hang a script forever. Opening with `O_NONBLOCK` returns at
/// once; `fstat` on the descriptor (not on the name, which could be swapped in
/// between) then refuses anything but a regular file before a byte is read.
public enum RegularFile {
    /// Why a path could not be opened as a regular file.
    public struct Failure: Error, Sendable {
        /// What went wrong, in words: "is a folder, not a file", "is a FIFO
        /// (named pipe), not a regular file", or the system's reason.
        public let reason: String
        /// The `errno` of a failed system call; 0 for a file of the wrong kind.
        public let code: Int32
        /// Whether nothing is at the path.
        public var isMissing: Bool { code == ENOENT }
    }

    /// Opens `path` read-only and returns the descriptor with its status;
    /// the caller closes it. Throws `Failure` for anything that is not a
    /// regular file. Reads on the descriptor block as usual (the flag only
    /// matters for FIFOs and devices, which are refused).
    public static func open(_ path: String) throws(Failure) -> (descriptor: Int32, status: stat) {
        try open(FileSystemPath(path))
    }

    /// `open(_:)` for a path given by its exact bytes (names need not be UTF-8).
    public static func open(_ path: FileSystemPath) throws(Failure) -> (descriptor: Int32, status: stat) {
        let fd = path.withCPath { systemOpen($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else { let code = errno; throw Failure(reason: String(cString: strerror(code)), code: code) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw Failure(reason: "cannot read its status: \(String(cString: strerror(code)))", code: code)
        }
        if let kind = kindName(info.st_mode) {
            close(fd)
            throw Failure(reason: "is \(kind), not a regular file", code: 0)
        }
        // Back to blocking reads: a regular file never blocks anyway, and
        // callers' read loops need not handle EAGAIN.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return (fd, info)
    }

    /// Reads the whole regular file at `path`, at most `limit` bytes (a larger
    /// file is an error, not a reason to allocate its size).
    public static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        try read(FileSystemPath(path), limit: limit, truncating: false)
    }

    /// Reads the regular file at `path`; with `truncating`, a longer file
    /// gives its first `limit` bytes instead of an error.
    public static func read(_ path: FileSystemPath, limit: Int, truncating: Bool) throws(Failure) -> [UInt8] {
        let (fd, info) = try open(path)
        defer { close(fd) }
        let size = Int(info.st_size)
        guard size <= limit || truncating else {
            throw Failure(reason: "is \(size) bytes, more than the \(limit) bytes curator reads from such a file", code: EFBIG)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(size, limit))
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = retryingInterrupted { buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) } }
            if n < 0 {
                let code = errno
                throw Failure(reason: "read error: \(String(cString: strerror(code)))", code: code)
            }
            if n == 0 { break }
            // The file may have grown since fstat: the limit still holds.
            guard bytes.count + n <= limit else {
                if truncating { bytes += buffer[0..<(limit - bytes.count)]; break }
                throw Failure(reason: "is more than the \(limit) bytes curator reads from such a file", code: EFBIG)
            }
            bytes += buffer[0..<n]
        }
        return bytes
    }

    /// "a folder", "a FIFO (named pipe)"… for what is not a regular file; nil for a regular file.
    static func kindName(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR, S_IFBLK: return "a device"
        default: return "a special file"
        }
    }
}

// The C call under a name that the enum's own `open` does not shadow (read: `systemRead`).
private func systemOpen(_ path: UnsafePointer<CChar>, _ flags: Int32) -> Int32 { open(path, flags) }
