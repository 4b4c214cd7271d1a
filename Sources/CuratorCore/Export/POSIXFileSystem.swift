#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system, through POSIX calls on the paths' bytes.
public struct POSIXFileSystem: ExportFileSystem {
    /// Creates the file system.
    public init() {}

    public func status(of path: FileSystemPath, followingLinks: Bool) throws -> FileStatus? {
        var info = stat()
        let result = path.withCPath { followingLinks ? stat($0, &info) : lstat($0, &info) }
        if result != 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw SystemCallError(followingLinks ? "stat" : "lstat", path: path, code: code)
        }
        return Self.fileStatus(info)
    }

    public func makeDirectory(_ path: FileSystemPath) throws {
        if path.withCPath({ mkdir($0, 0o777) }) != 0 { throw SystemCallError("mkdir", path: path, code: errno) }
    }

    public func openForReading(_ path: FileSystemPath) throws -> Int32 {
        // O_NONBLOCK so a FIFO named like an image cannot hang the export;
        // it changes nothing for regular files.
        let fd = path.withCPath { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        if fd < 0 { throw SystemCallError("open", path: path, code: errno) }
        return fd
    }

    public func status(ofDescriptor descriptor: Int32, path: FileSystemPath) throws -> FileStatus {
        var info = stat()
        if fstat(descriptor, &info) != 0 { throw SystemCallError("fstat", path: path, code: errno) }
        return Self.fileStatus(info)
    }

    public func createNew(_ path: FileSystemPath) throws -> Int32 {
        let fd = path.withCPath { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o666) }
        if fd < 0 { throw SystemCallError("create", path: path, code: errno) }
        return fd
    }

    public func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: FileSystemPath) throws -> Int {
        try Self.transfer("read", path: path) { systemRead(descriptor, buffer.baseAddress, buffer.count) }
    }

    public func write(_ descriptor: Int32, from buffer: UnsafeRawBufferPointer, path: FileSystemPath) throws -> Int {
        try Self.transfer("write", path: path) { systemWrite(descriptor, buffer.baseAddress, buffer.count) }
    }

    /// The bytes `call` (a read or write) moved, retried on EINTR; a failure
    /// becomes `SystemCallError` naming `operation` and `path`.
    private static func transfer(_ operation: String, path: FileSystemPath, _ call: () -> Int) throws -> Int {
        let n = retryingInterrupted(call)
        if n < 0 { throw SystemCallError(operation, path: path, code: errno) }
        return n
    }

    public func setTimes(_ descriptor: Int32, access: (seconds: Int, nanoseconds: Int),
                         modification: (seconds: Int, nanoseconds: Int), path: FileSystemPath) throws {
        var times = [
            timespec(tv_sec: access.seconds, tv_nsec: access.nanoseconds),
            timespec(tv_sec: modification.seconds, tv_nsec: modification.nanoseconds),
        ]
        if futimens(descriptor, &times) != 0 { throw SystemCallError("futimens", path: path, code: errno) }
    }

    public func synchronize(_ descriptor: Int32, path: FileSystemPath) throws {
        if fsync(descriptor) != 0 { throw SystemCallError("fsync", path: path, code: errno) }
    }

    public func close(_ descriptor: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }

    public func moveWithoutReplacing(_ source: FileSystemPath, to destination: FileSystemPath) throws {
        // One atomic no-replace rename where the system has it; otherwise a
        // hard link (which never replaces) and removing the old name. A plain
        // "check, then rename" could clobber a file created in between.
        if let code = Self.renameNoReplace(source, destination) {
            if code == 0 { return }
            if !Self.flagUnsupported(code) { throw SystemCallError("rename", path: destination, code: code) }
        }
        let linked = source.withCPath { s in destination.withCPath { d in link(s, d) } }
        if linked != 0 { throw SystemCallError("link", path: destination, code: errno) }
        _ = source.withCPath { unlink($0) }
    }

    public func moveReplacing(_ source: FileSystemPath, to destination: FileSystemPath) throws {
        let result = source.withCPath { s in destination.withCPath { d in rename(s, d) } }
        if result != 0 { throw SystemCallError("rename", path: destination, code: errno) }
    }

    public func remove(_ path: FileSystemPath) throws {
        if path.withCPath({ unlink($0) }) != 0 { throw SystemCallError("unlink", path: path, code: errno) }
    }

    public func synchronizeDirectory(_ path: FileSystemPath) {
        let fd = path.withCPath { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    // MARK: - Helpers

    private static func fileStatus(_ info: stat) -> FileStatus {
        let kind: FileStatus.Kind
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        default: kind = .other
        }
        #if canImport(Glibc)
        let atime = (seconds: Int(info.st_atim.tv_sec), nanoseconds: Int(info.st_atim.tv_nsec))
        let mtime = (seconds: Int(info.st_mtim.tv_sec), nanoseconds: Int(info.st_mtim.tv_nsec))
        #else
        let atime = (seconds: Int(info.st_atimespec.tv_sec), nanoseconds: Int(info.st_atimespec.tv_nsec))
        let mtime = (seconds: Int(info.st_mtimespec.tv_sec), nanoseconds: Int(info.st_mtimespec.tv_nsec))
        #endif
        return FileStatus(kind: kind, size: Int64(info.st_size), accessTime: atime, modificationTime: mtime)
    }

    /// Errors meaning "this file system cannot rename without replacing",
    /// after which a hard link is tried instead.
    private static func flagUnsupported(_ code: Int32) -> Bool {
        code == EINVAL || code == ENOSYS || code == ENOTSUP || code == EOPNOTSUPP
    }

    /// Renames without replacing; nil when the system has no such call,
    /// otherwise 0 or the `errno` value.
    private static func renameNoReplace(_ source: FileSystemPath, _ destination: FileSystemPath) -> Int32? {
        #if canImport(Glibc)
        // glibc declares renameat2 only under _GNU_SOURCE, which Swift's
        // Glibc module does not define: look it up at run time.
        guard let call = renameat2Function else { return nil }
        let noReplace: UInt32 = 1  // RENAME_NOREPLACE
        let result = source.withCPath { s in destination.withCPath { d in call(AT_FDCWD, s, AT_FDCWD, d, noReplace) } }
        return result == 0 ? 0 : errno
        #else
        let result = source.withCPath { s in destination.withCPath { d in renamex_np(s, d, UInt32(RENAME_EXCL)) } }
        return result == 0 ? 0 : errno
        #endif
    }
}

#if canImport(Glibc)
typealias Renameat2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

extension POSIXFileSystem {
    /// glibc's `renameat2`, when the running C library has it (`ExportModes` swaps folders with it).
    static var renameat2: Renameat2? { renameat2Function }
}

/// glibc's `renameat2`, when the running C library has it.
private let renameat2Function: Renameat2? = {
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "renameat2") else { return nil }
    return unsafeBitCast(symbol, to: Renameat2.self)
}()
#endif
