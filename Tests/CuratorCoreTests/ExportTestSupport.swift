#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import XCTest
@testable import CuratorCore

#if canImport(Glibc)
private let systemWrite = Glibc.write
private let systemRead = Glibc.read
private let systemSymlink = Glibc.symlink
#else
private let systemWrite = Darwin.write
private let systemRead = Darwin.read
private let systemSymlink = Darwin.symlink
#endif

/// A scratch folder for one test, removed afterwards; paths as `FileSystemPath`s.
final class ExportScratchFolder {
    let root: FileSystemPath

    init() throws {
        var template = Array("/tmp/curator-export-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SystemCallError("mkdtemp", path: FileSystemPath("/tmp"), code: errno)
        }
        root = FileSystemPath(String(cString: made))
    }

    deinit { exportRemoveTree(root) }

    /// `root/relative`.
    func path(_ relative: String) -> FileSystemPath { root.appending(relative) }

    /// Writes `content` at `relative` (bytes), creating folders.
    @discardableResult
    func write(_ relative: [UInt8], _ content: [UInt8], modified: Int? = nil) -> FileSystemPath {
        let full = root.appending(relative)
        makeFolders(full.parent)
        let fd = full.withCPath { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        precondition(fd >= 0, "cannot create \(full)")
        content.withUnsafeBytes { _ = systemWrite(fd, $0.baseAddress, $0.count) }
        if let modified {
            var times = [timespec(tv_sec: modified, tv_nsec: 123_456_789), timespec(tv_sec: modified, tv_nsec: 123_456_789)]
            futimens(fd, &times)
        }
        close(fd)
        return full
    }

    @discardableResult
    func write(_ relative: String, _ content: String, modified: Int? = nil) -> FileSystemPath {
        write(Array(relative.utf8), Array(content.utf8), modified: modified)
    }

    func makeFolders(_ path: FileSystemPath) {
        if path.bytes.isEmpty || path.bytes == [PathBytes.slash] { return }
        var info = stat()
        if path.withCPath({ stat($0, &info) }) == 0 { return }
        makeFolders(path.parent)
        _ = path.withCPath { mkdir($0, 0o755) }
    }

    func symlink(_ target: String, at relative: String) {
        let full = path(relative)
        makeFolders(full.parent)
        _ = target.withCString { t in full.withCPath { systemSymlink(t, $0) } }
    }
}

/// The names in a folder (bytes), sorted; empty when it does not exist.
func folderListing(_ folder: FileSystemPath) -> [[UInt8]] {
    guard let dir = folder.withCPath({ opendir($0) }) else { return [] }
    defer { closedir(dir) }
    var names: [[UInt8]] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
        if name != [46] && name != [46, 46] { names.append(name) }
    }
    return names.sorted { $0.lexicographicallyPrecedes($1) }
}

/// The names in a folder as display strings, sorted.
func folderNames(_ folder: FileSystemPath) -> [String] { folderListing(folder).map { String(decoding: $0, as: UTF8.self) } }

/// The bytes of a file, or nil when it cannot be read.
func fileBytes(_ path: FileSystemPath) -> [UInt8]? {
    let fd = path.withCPath { open($0, O_RDONLY) }
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    return out
}

func fileText(_ path: FileSystemPath) -> String? { fileBytes(path).map { String(decoding: $0, as: UTF8.self) } }

func exportEntryKind(_ path: FileSystemPath) -> FileStatus.Kind? { try? POSIXFileSystem().status(of: path, followingLinks: false)?.kind }

func exportRemoveTree(_ path: FileSystemPath) {
    var info = stat()
    guard path.withCPath({ lstat($0, &info) }) == 0 else { return }
    if info.st_mode & S_IFMT == S_IFDIR {
        for name in folderListing(path) { exportRemoveTree(path.appending(name)) }
        _ = path.withCPath { rmdir($0) }
    } else {
        _ = path.withCPath { unlink($0) }
    }
}

/// An album image entry for tests.
func exportEntry(_ scratch: ExportScratchFolder, _ relative: String, index: Int, votes: Int = 10, iterations: Int = 10,
           excluded: Bool = false) -> CurationEntry {
    CurationEntry(path: RelativePath(relative), albumRoot: scratch.path("album"), votes: votes,
                  frequency: Double(votes) / Double(iterations), index: index, excluded: excluded)
}

/// A file system that behaves like the real one until told to fail: a disk
/// that fills up, files that cannot be opened, a folder that refuses new
/// files, hooks that run before files are created or published. Tests are
/// single-threaded, so plain mutable state is safe here.
final class ExportFaultyFileSystem: ExportFileSystem, @unchecked Sendable {
    let real = POSIXFileSystem()
    /// Bytes that may still be written before writes fail with ENOSPC (nil: unlimited).
    var capacity: Int?
    /// Paths whose opening for reading fails with this errno.
    var unreadable: [FileSystemPath: Int32] = [:]
    /// When set, creating files fails with this errno.
    var createFailure: Int32?
    /// Runs before each file is created (with its path).
    var beforeCreate: (FileSystemPath) -> Void = { _ in }
    /// Runs before each publish (with the final path).
    var beforePublish: (FileSystemPath) -> Void = { _ in }
    /// Every final path published, in order.
    var published: [FileSystemPath] = []

    func status(of path: FileSystemPath, followingLinks: Bool) throws -> FileStatus? {
        try real.status(of: path, followingLinks: followingLinks)
    }
    func makeDirectory(_ path: FileSystemPath) throws {
        if let code = createFailure { throw SystemCallError("mkdir", path: path, code: code) }
        try real.makeDirectory(path)
    }
    func openForReading(_ path: FileSystemPath) throws -> Int32 {
        if let code = unreadable[path] { throw SystemCallError("open", path: path, code: code) }
        return try real.openForReading(path)
    }
    func status(ofDescriptor descriptor: Int32, path: FileSystemPath) throws -> FileStatus {
        try real.status(ofDescriptor: descriptor, path: path)
    }
    func createNew(_ path: FileSystemPath) throws -> Int32 {
        beforeCreate(path)
        if let code = createFailure { throw SystemCallError("create", path: path, code: code) }
        return try real.createNew(path)
    }
    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: FileSystemPath) throws -> Int {
        try real.read(descriptor, into: buffer, path: path)
    }
    func write(_ descriptor: Int32, from buffer: UnsafeRawBufferPointer, path: FileSystemPath) throws -> Int {
        guard let left = capacity else { return try real.write(descriptor, from: buffer, path: path) }
        if left == 0 { throw SystemCallError("write", path: path, code: ENOSPC) }
        let count = min(left, buffer.count)
        let written = try real.write(descriptor, from: UnsafeRawBufferPointer(rebasing: buffer[0..<count]), path: path)
        capacity = left - written
        return written
    }
    func setTimes(_ descriptor: Int32, access: (seconds: Int, nanoseconds: Int),
                  modification: (seconds: Int, nanoseconds: Int), path: FileSystemPath) throws {
        try real.setTimes(descriptor, access: access, modification: modification, path: path)
    }
    func synchronize(_ descriptor: Int32, path: FileSystemPath) throws { try real.synchronize(descriptor, path: path) }
    func close(_ descriptor: Int32) { real.close(descriptor) }
    func moveWithoutReplacing(_ source: FileSystemPath, to destination: FileSystemPath) throws {
        if !destination.name.starts(with: Array(".curator-".utf8)) { beforePublish(destination) }
        try real.moveWithoutReplacing(source, to: destination)
        published.append(destination)
    }
    func moveReplacing(_ source: FileSystemPath, to destination: FileSystemPath) throws { try real.moveReplacing(source, to: destination) }
    func remove(_ path: FileSystemPath) throws { try real.remove(path) }
    func synchronizeDirectory(_ path: FileSystemPath) { real.synchronizeDirectory(path) }
}

/// A progress sink that records updates and cancels after `cancelAfter` of
/// them, or once an update satisfies `cancelWhen`.
final class ExportRecordingProgress: ProgressSink {
    var updates: [(String, Int, Int)] = []
    var finished: [String] = []
    var cancelAfter: Int?
    var cancelWhen: ((_ label: String, _ done: Int, _ total: Int) -> Bool)?
    var isCancelled: Bool {
        if let n = cancelAfter, updates.count >= n { return true }
        return cancelWhen.map { stop in updates.contains { stop($0.0, $0.1, $0.2) } } ?? false
    }
    func update(label: String, done: Int, total: Int) { updates.append((label, done, total)) }
    func finish(label: String) { finished.append(label) }
}

/// True when no temporary export file is left in `folder`.
func assertNoExportTemporaryFiles(in folder: FileSystemPath, file: StaticString = #filePath, line: UInt = #line) {
    let leftovers = folderNames(folder).filter { $0.hasPrefix(".curator-") }
    XCTAssertEqual(leftovers, [], "temporary files left behind", file: file, line: line)
}
