#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A saved copy of one embedder's matrix beside the index, so re-opening a
/// large album reads one contiguous file instead of one SQLite row per image.
/// It is only a cache: the vectors' home is the index, and the file is used
/// only while the index's embedding generation is the one it was saved at.
///
/// Layout: the magic `CURMTX01`, then generation, rows and dimension as
/// little-endian UInt64, the rows' image ids as Int64, then the float32 rows.
struct MatrixFile {
    /// The file's path.
    let path: String

    private static let magic = Array("CURMTX01".utf8)
    private static let headerBytes = 32

    /// Reads the matrix if the file exists and was saved at `generation` for `embedder`.
    func load(embedder: String, generation: Int64, dimension: Int) -> AlbumMatrix? {
        guard let fd = try? RegularFile.open(path).descriptor else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: Self.headerBytes)
        guard readFully(fd, into: &header, count: Self.headerBytes), Array(header[0..<8]) == Self.magic else { return nil }
        let fields = header.withUnsafeBytes { raw in
            (0..<3).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 + 8 * $0, as: Int64.self)) }
        }
        guard fields[0] == generation, fields[2] == Int64(dimension), fields[1] >= 0 else { return nil }
        let rows = Int(fields[1])
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) == Self.headerBytes + rows * 8 + rows * dimension * 4 else { return nil }
        var ids = [Int64](repeating: 0, count: rows)
        let idsOK = ids.withUnsafeMutableBytes { readFully(fd, into: $0.baseAddress!, count: rows * 8) }
        guard idsOK || rows == 0 else { return nil }
        let matrix = EmbeddingMatrix(uninitializedRows: rows, dimension: dimension)
        guard rows == 0 || readFully(fd, into: UnsafeMutableRawPointer(matrix.storage.baseAddress!), count: matrix.byteCount) else { return nil }
        return AlbumMatrix(embedder: embedder, matrix: matrix, imageIDs: ids.map { Int64(littleEndian: $0) })
    }

    /// Saves the matrix atomically (temporary file, then rename); a failure
    /// (say, a read-only folder) only means the next open reads the index.
    func save(_ matrix: AlbumMatrix, generation: Int64) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        var header = Self.magic
        for field in [generation, Int64(matrix.matrix.rows), Int64(matrix.matrix.dimension)] {
            withUnsafeBytes(of: field.littleEndian) { header += $0 }
        }
        let ids = matrix.imageIDs.map(\.littleEndian)
        let ok = writeFully(fd, header, count: header.count)
            && ids.withUnsafeBytes { writeFully(fd, $0.baseAddress!, count: $0.count) || ids.isEmpty }
            && (matrix.matrix.rows == 0 || writeFully(fd, matrix.matrix.storage.baseAddress!, count: matrix.matrix.byteCount))
        close(fd)
        if !ok || rename(temporary, path) != 0 { unlink(temporary) }
    }

    private func readFully(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) -> Bool {
        var done = 0
        while done < count {
            let n = read(fd, buffer + done, min(count - done, 1 << 30))
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    private func writeFully(_ fd: Int32, _ buffer: UnsafeRawPointer, count: Int) -> Bool {
        var done = 0
        while done < count {
            let n = write(fd, buffer + done, min(count - done, 1 << 30))
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}

