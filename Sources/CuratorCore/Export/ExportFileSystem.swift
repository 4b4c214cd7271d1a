#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What `stat` says about a file, reduced to what export needs.
public struct FileStatus: Sendable, Equatable {
    /// The kind of directory entry.
    public enum Kind: Sendable, Equatable {
        /// A regular file.
        case regular
        /// A directory.
        case directory
        /// A symbolic link (only seen when links are not followed).
        case symbolicLink
        /// A device, FIFO or socket.
        case other
    }

    /// The kind of entry.
    public var kind: Kind
    /// The size in bytes.
    public var size: Int64
    /// Last access time: seconds and nanoseconds since the epoch.
    public var accessTime: (seconds: Int, nanoseconds: Int)
    /// Last modification time: seconds and nanoseconds since the epoch.
    public var modificationTime: (seconds: Int, nanoseconds: Int)

    /// Creates a status.
    public init(kind: Kind, size: Int64, accessTime: (seconds: Int, nanoseconds: Int),
                modificationTime: (seconds: Int, nanoseconds: Int)) {
        self.kind = kind
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
    }

    public static func == (a: FileStatus, b: FileStatus) -> Bool {
        a.kind == b.kind && a.size == b.size
            && a.accessTime == b.accessTime && a.modificationTime == b.modificationTime
    }
}

/// A failed system call: which call, on which path, and the `errno` it set.
public struct SystemCallError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// The call that failed, e.g. `open` or `write`.
    public let operation: String
    /// The path it was working on.
    public let path: FileSystemPath
    /// The `errno` value.
    public let code: Int32

    /// Creates the error for `operation` on `path` with `errno` `code`.
    public init(_ operation: String, path: FileSystemPath, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The system's wording of `code`, e.g. "No space left on device".
    public var reason: String { String(cString: strerror(code)) }

    public var description: String { "\(path.string): \(operation): \(reason)" }
    public var errorDescription: String? { description }
}

/// The file-system calls export goes through: POSIX on `FileSystemPath`s, whose
/// bytes go to the system as they are, so names that are not UTF-8 work. `POSIXFileSystem` is the real one; tests put a
/// wrapper in between to make a disk fill up or a folder vanish.
///
/// Descriptors are plain POSIX descriptors. Every call throws
/// `SystemCallError` naming the path.
public protocol ExportFileSystem: Sendable {
    /// The status of `path`, or nil when nothing is there (`ENOENT`).
    /// With `followingLinks` false a symbolic link is reported as itself.
    func status(of path: FileSystemPath, followingLinks: Bool) throws -> FileStatus?
    /// Creates the directory `path` (it must not exist).
    func makeDirectory(_ path: FileSystemPath) throws
    /// Opens `path` for reading, following symbolic links.
    func openForReading(_ path: FileSystemPath) throws -> Int32
    /// The status of an open descriptor (`path` names it in errors).
    func status(ofDescriptor descriptor: Int32, path: FileSystemPath) throws -> FileStatus
    /// Creates `path` for writing; fails with `EEXIST` when anything is there.
    func createNew(_ path: FileSystemPath) throws -> Int32
    /// Reads up to `buffer.count` bytes; 0 at the end of the file.
    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: FileSystemPath) throws -> Int
    /// Writes some of `buffer`, returning how many bytes were written.
    func write(_ descriptor: Int32, from buffer: UnsafeRawBufferPointer, path: FileSystemPath) throws -> Int
    /// Sets the access and modification times of an open file.
    func setTimes(_ descriptor: Int32, access: (seconds: Int, nanoseconds: Int),
                  modification: (seconds: Int, nanoseconds: Int), path: FileSystemPath) throws
    /// Flushes an open file to stable storage.
    func synchronize(_ descriptor: Int32, path: FileSystemPath) throws
    /// Closes a descriptor.
    func close(_ descriptor: Int32)
    /// Gives the file at `source` the name `destination` without ever
    /// replacing an existing `destination` (fails with `EEXIST`); afterwards
    /// `source` is gone. Both are in the same directory.
    func moveWithoutReplacing(_ source: FileSystemPath, to destination: FileSystemPath) throws
    /// Renames `source` to `destination`, atomically replacing what is there.
    func moveReplacing(_ source: FileSystemPath, to destination: FileSystemPath) throws
    /// Removes the file `path`.
    func remove(_ path: FileSystemPath) throws
    /// Flushes the directory `path` so finished renames survive a crash (best effort).
    func synchronizeDirectory(_ path: FileSystemPath)
}

extension ExportFileSystem {
    /// `mkdir -p`: creates `folder` and any missing parents; throws
    /// `ExportError.notADirectory` when one of them is something else.
    public func makeFolders(_ folder: FileSystemPath) throws {
        let found: FileStatus?
        do {
            found = try status(of: folder, followingLinks: true)
        } catch let error as SystemCallError where error.code == ENOTDIR {
            // A file on the way: the parents' turn below names it.
            found = nil
        }
        if let status = found {
            if status.kind == .directory { return }
            throw ExportError.notADirectory(folder)
        }
        let parent = folder.parent
        if parent != folder, parent.bytes != Array(".".utf8), parent.bytes != [PathBytes.slash] { try makeFolders(parent) }
        do {
            try makeDirectory(folder)
        } catch let error as SystemCallError where error.code == EEXIST {
            // Created meanwhile by someone else: fine if it is a folder.
            if try status(of: folder, followingLinks: true)?.kind != .directory {
                throw ExportError.notADirectory(folder)
            }
        }
    }
}
