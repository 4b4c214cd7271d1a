#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file being written under a hidden temporary name in its destination
/// folder, to be published under its real name only once it is complete
/// and on disk. A crash or a failure leaves no half-written file under a
/// real name; failures remove the temporary file.
struct StagedFile {
    /// The temporary file's path.
    let temporaryPath: FileSystemPath

    /// Why staging failed: reading the source, or writing the destination.
    enum Failure: Error {
        /// The source could not be read (`path` is the source).
        case source(path: FileSystemPath, reason: String)
        /// The destination folder could not take the file.
        case destination(SystemCallError)

        /// The failure as a report entry for copying `source` to `destination`.
        func exportFailure(source: FileSystemPath, destination: FileSystemPath) -> ExportFailure {
            switch self {
            case let .source(path, reason):
                return ExportFailure(path: path, reason: reason)
            case let .destination(error):
                return ExportFailure(path: source,
                                     reason: "copying to \(destination): \(error.operation): \(error.reason)")
            }
        }
    }

    /// Copies the file at `source` (following symbolic links: the content is
    /// copied, never a link) into `directory`, keeping its access and
    /// modification times.
    static func copy(from source: FileSystemPath, into directory: FileSystemPath, fileSystem: any ExportFileSystem) throws(Failure) -> StagedFile {
        let input: Int32
        do { input = try fileSystem.openForReading(source) } catch {
            throw .source(path: source, reason: Self.reason(error))
        }
        defer { fileSystem.close(input) }
        let status: FileStatus
        do { status = try fileSystem.status(ofDescriptor: input, path: source) } catch {
            throw .source(path: source, reason: Self.reason(error))
        }
        switch status.kind {
        case .regular: break
        case .directory: throw .source(path: source, reason: "is a folder, not a file")
        default: throw .source(path: source, reason: "is not a regular file")
        }

        return try stage(in: directory, fileSystem: fileSystem, times: (status.accessTime, status.modificationTime)) { (output: Int32, temporary: FileSystemPath) throws(Failure) in
            let chunk = 1 << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let count: Int
                do { count = try fileSystem.read(input, into: buffer, path: source) } catch {
                    throw .source(path: source, reason: Self.reason(error))
                }
                if count == 0 { break }
                try writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), to: output, path: temporary, fileSystem: fileSystem)
            }
        }
    }

    /// Writes `bytes` as a new file in `directory`.
    static func write(_ bytes: [UInt8], into directory: FileSystemPath, fileSystem: any ExportFileSystem) throws(Failure) -> StagedFile {
        try stage(in: directory, fileSystem: fileSystem, times: nil) { (output: Int32, temporary: FileSystemPath) throws(Failure) in
            do {
                try bytes.withUnsafeBytes { buffer in
                    try writeAll(buffer, to: output, path: temporary, fileSystem: fileSystem)
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw .destination(SystemCallError("write", path: temporary, code: EIO))
            }
        }
    }

    /// Publishes the file as `destination` without replacing anything there.
    /// Throws the system error (`EEXIST` when the name is taken).
    func publish(as destination: FileSystemPath, fileSystem: any ExportFileSystem) throws {
        try fileSystem.moveWithoutReplacing(temporaryPath, to: destination)
    }

    /// Publishes the file as `destination`, replacing what is there.
    func publishReplacing(_ destination: FileSystemPath, fileSystem: any ExportFileSystem) throws {
        try fileSystem.moveReplacing(temporaryPath, to: destination)
    }

    /// Removes the temporary file (after a failure).
    func discard(fileSystem: any ExportFileSystem) {
        try? fileSystem.remove(temporaryPath)
    }

    static let temporaryPrefix = ".curator-"
    static let temporarySuffix = ".partial"

    /// Removes the temporary files that exports interrupted by a crash or
    /// kill -9 left in `directory`, and returns their paths. A file of a
    /// process still running is kept (another export may be writing it); one
    /// of the older form without a process id only when it is over an hour old.
    static func removeLeftovers(in directory: FileSystemPath) -> [FileSystemPath] {
        guard let dir = directory.withCPath({ opendir($0) }) else { return [] }
        defer { closedir(dir) }
        var removed: [FileSystemPath] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            guard let text = String(validating: name, as: UTF8.self), text.hasPrefix(temporaryPrefix), text.hasSuffix(temporarySuffix) else { continue }
            let middle = text.dropFirst(temporaryPrefix.count).dropLast(temporarySuffix.count)
            let path = directory.appending(name)
            var info = stat()
            guard path.withCPath({ lstat($0, &info) }) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            if let dash = middle.firstIndex(of: "-"), let pid = Int32(middle[..<dash]) {
                if pid == getpid() || kill(pid, 0) == 0 || errno == EPERM { continue }  // its writer still runs
            } else if time(nil) - info.st_mtim.tv_sec < 3600 {
                continue
            }
            if path.withCPath({ unlink($0) }) == 0 { removed.append(path) }
        }
        return removed.sorted(by: FileSystemPath.byteOrder)
    }

    // MARK: - Helpers

    private static func stage(in directory: FileSystemPath, fileSystem: any ExportFileSystem,
                              times: ((seconds: Int, nanoseconds: Int), (seconds: Int, nanoseconds: Int))?,
                              fill: (Int32, FileSystemPath) throws(Failure) -> Void) throws(Failure) -> StagedFile {
        let (output, temporary) = try createTemporary(in: directory, fileSystem: fileSystem)
        var closed = false
        do throws(Failure) {
            try fill(output, temporary)
            if let (access, modification) = times {
                do { try fileSystem.setTimes(output, access: access, modification: modification, path: temporary) } catch {
                    throw Failure.destination(Self.systemError(error, "futimens", temporary))
                }
            }
            do { try fileSystem.synchronize(output, path: temporary) } catch {
                throw Failure.destination(Self.systemError(error, "fsync", temporary))
            }
            fileSystem.close(output)
            closed = true
            return StagedFile(temporaryPath: temporary)
        } catch {
            if !closed { fileSystem.close(output) }
            try? fileSystem.remove(temporary)
            throw error
        }
    }

    private static func createTemporary(in directory: FileSystemPath, fileSystem: any ExportFileSystem) throws(Failure) -> (Int32, FileSystemPath) {
        // A hidden name no album file plausibly has; O_EXCL makes it ours. The
        // process id lets a later export tell a leftover of a process that
        // died (kill -9) from a file another export is still writing.
        for _ in 0..<64 {
            let token = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let path = directory.appending("\(Self.temporaryPrefix)\(getpid())-\(token)\(Self.temporarySuffix)")
            do {
                return (try fileSystem.createNew(path), path)
            } catch let error as SystemCallError where error.code == EEXIST {
                continue
            } catch {
                throw .destination(Self.systemError(error, "create", path))
            }
        }
        throw .destination(SystemCallError("create", path: directory, code: EEXIST))
    }

    private static func writeAll(_ buffer: UnsafeRawBufferPointer, to output: Int32, path: FileSystemPath,
                                 fileSystem: any ExportFileSystem) throws(Failure) {
        var offset = 0
        while offset < buffer.count {
            let written: Int
            do {
                written = try fileSystem.write(output, from: UnsafeRawBufferPointer(rebasing: buffer[offset...]), path: path)
            } catch {
                throw .destination(Self.systemError(error, "write", path))
            }
            // A zero-length write of a non-empty buffer means the device took nothing.
            if written <= 0 { throw .destination(SystemCallError("write", path: path, code: ENOSPC)) }
            offset += written
        }
    }

    private static func systemError(_ error: any Error, _ operation: String, _ path: FileSystemPath) -> SystemCallError {
        if let error = error as? SystemCallError { return error }
        return SystemCallError(operation, path: path, code: EIO)
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? SystemCallError { return "\(error.operation): \(error.reason)" }
        return String(describing: error)
    }
}
