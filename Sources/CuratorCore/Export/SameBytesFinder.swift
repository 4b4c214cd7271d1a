#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds, among the files already in an export's target folder, one with
/// exactly the bytes of an image about to be copied, so that exporting into
/// the same folder again (a re-run of a workflow) never adds a second copy
/// of an image under another name.
///
/// Files are grouped by size when the folder is first read; only files of
/// the same size are compared, byte for byte. Hidden files (the exporter's
/// temporary files among them) are not candidates.
struct SameBytesFinder {
    private let folder: FileSystemPath
    private let fileSystem: any ExportFileSystem
    private var bySize: [Int64: [[UInt8]]] = [:]
    /// Names already matched to an image of this export (one file serves one image).
    private var used = Set<[UInt8]>()

    /// Reads the names and sizes of the regular files in `folder` (none when it does not exist yet).
    init(folder: FileSystemPath, fileSystem: any ExportFileSystem) {
        self.folder = folder
        self.fileSystem = fileSystem
        for name in Self.names(in: folder) where name.first != PathBytes.dot {
            let path = folder.appending(name)
            guard let status = try? fileSystem.status(of: path, followingLinks: false), status.kind == .regular else { continue }
            bySize[status.size, default: []].append(name)
        }
    }

    /// The name of a file in the folder with the same bytes as `source`
    /// (whose size is `size`), not matched before; nil when there is none.
    mutating func match(source: FileSystemPath, size: Int64) -> [UInt8]? {
        for name in bySize[size] ?? [] where !used.contains(name) {
            if sameBytes(source, folder.appending(name)) {
                used.insert(name)
                return name
            }
        }
        return nil
    }

    private func sameBytes(_ a: FileSystemPath, _ b: FileSystemPath) -> Bool {
        guard let fa = try? fileSystem.openForReading(a) else { return false }
        defer { fileSystem.close(fa) }
        guard let fb = try? fileSystem.openForReading(b) else { return false }
        defer { fileSystem.close(fb) }
        let chunk = 1 << 16
        let bufferA = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        let bufferB = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { bufferA.deallocate(); bufferB.deallocate() }
        while true {
            guard let na = try? readFully(fa, bufferA, a), let nb = try? readFully(fb, bufferB, b), na == nb else { return false }
            if na == 0 { return true }
            if memcmp(bufferA.baseAddress!, bufferB.baseAddress!, na) != 0 { return false }
        }
    }

    /// Reads until the buffer is full or the file ends.
    private func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ path: FileSystemPath) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = try fileSystem.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), path: path)
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    /// The entry names of `folder` (empty when it cannot be read).
    static func names(in folder: FileSystemPath) -> [[UInt8]] {
        guard let dir = folder.withCPath({ opendir($0) }) else { return [] }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw -> [UInt8] in
                let length = strnlen(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                return Array(raw.prefix(length))
            }
            if name != [PathBytes.dot], name != [PathBytes.dot, PathBytes.dot] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }
}
