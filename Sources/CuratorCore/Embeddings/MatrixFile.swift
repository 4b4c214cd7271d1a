#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One embedder's matrix in a file beside the index, mapped into memory when
/// read: re-opening a large album costs a header read, not a copy of every
/// vector, and rows come from the page cache as they are used.
///
/// For an album opened from a folder it is a cache: the vectors' home is the
/// index, and the file is used only while the index's embedding generation is
/// the one it was saved at. For an index-only album (an embeddings file) it is
/// the vectors' only copy (see `EmbeddingStore.fileHomed`).
///
/// Layout: the magic `CURMTX02`, then generation, rows, dimension, bytes per
/// value (4: float32, 2: float16, see `MatrixPrecision`), the values' offset
/// and the index's token as little-endian UInt64, the rows' image ids
/// as Int64, zero padding to a multiple of the page size, then the rows.
struct MatrixFile {
    /// The file's path.
    let path: String

    fileprivate static let magic = Array("CURMTX02".utf8)
    fileprivate static let headerBytes = 56
    /// Values start at a multiple of this, so the mapping of the rows is page-aligned.
    private static let alignment = 16384

    /// Where the rows start in a file of `rows` image ids.
    static func valuesOffset(rows: Int) -> Int {
        (headerBytes + rows * 8 + alignment - 1) / alignment * alignment
    }

    /// The precision of the file if `load` would map it, from its header and
    /// size alone; nil when it would not.
    func currentPrecision(generation: Int64, token: Int64, dimension: Int) -> MatrixPrecision? {
        guard let fd = try? RegularFile.open(path).descriptor else { return nil }
        defer { close(fd) }
        return header(fd, generation: generation, token: token, dimension: dimension)?.precision
    }

    /// Whether `load` would map the file, from its header and size alone.
    func isCurrent(generation: Int64, token: Int64, dimension: Int) -> Bool {
        currentPrecision(generation: generation, token: token, dimension: dimension) != nil
    }

    /// The rows, precision and values' offset of the open file when its
    /// header and size match what the index expects; nil otherwise.
    private func header(_ fd: Int32, generation: Int64, token: Int64, dimension: Int)
        -> (rows: Int, precision: MatrixPrecision, offset: Int, length: Int)? {
        var header = [UInt8](repeating: 0, count: Self.headerBytes)
        guard pread(fd, &header, Self.headerBytes, 0) == Self.headerBytes, Array(header[0..<8]) == Self.magic else { return nil }
        let fields = header.withUnsafeBytes { raw in
            (0..<6).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 + 8 * $0, as: Int64.self)) }
        }
        guard fields[0] == generation, fields[5] == token, fields[2] == Int64(dimension),
              let precision = MatrixPrecision(bytesPerValue: Int(clamping: fields[3])),
              fields[1] >= 0, fields[1] < Int64(Int32.max) else { return nil }
        let rows = Int(fields[1])
        let offset = Self.valuesOffset(rows: rows)
        let length = offset + rows * dimension * precision.bytesPerValue
        var info = stat()
        guard fields[4] == Int64(offset), fstat(fd, &info) == 0, Int(info.st_size) == length else { return nil }
        return (rows, precision, offset, length)
    }

    /// Maps the matrix if the file exists, is whole and was saved at
    /// `generation` by the index whose token is `token`, for `embedder` with
    /// `dimension` columns (float32 or float16, as the file says); nil
    /// otherwise. (Generations count changes from zero in every index: the
    /// token tells one index's file from another's.) The matrix keeps the
    /// file open, so it can tell when the file is cut short under it
    /// (`EmbeddingMatrix.checkFile`).
    func load(embedder: String, generation: Int64, token: Int64, dimension: Int) -> AlbumMatrix? {
        guard let fd = try? RegularFile.open(path).descriptor else { return nil }
        guard let (rows, precision, offset, length) = header(fd, generation: generation, token: token, dimension: dimension),
              let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            close(fd)
            return nil
        }
        var ids = [Int64](repeating: 0, count: rows)
        ids.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + Self.headerBytes, count: rows * 8)) }
        #if !_endian(little)
        ids = ids.map { Int64(littleEndian: $0) }
        #endif
        // The ids' pages are not needed again; the rows are read front to back by most work.
        madvise(base, offset, MADV_DONTNEED)
        let matrix = EmbeddingMatrix(mapping: base, length: length, offset: offset, rows: rows, dimension: dimension,
                                     precision: precision, file: (fd, path, length))
        return AlbumMatrix(embedder: embedder, matrix: matrix, imageIDs: ids)
    }

    /// Writes `source` at `precision` in place of this file, atomically:
    /// the rows are converted in parallel blocks into a few reused buffers
    /// and written with `pwrite` to a temporary file (no converted copy of
    /// the matrix, no mapping of the new file whose pages the kernel would
    /// zero-fill before they are overwritten), which is flushed and renamed
    /// over the old file only when whole. Until then, and whenever it fails
    /// (false), the old file stays as it was and usable.
    @discardableResult
    func saveConverted(_ source: AlbumMatrix, to precision: MatrixPrecision, generation: Int64, token: Int64) -> Bool {
        let matrix = source.matrix
        guard matrix.precision != precision else { return save(source, generation: generation, token: token) }
        guard let writer = Writer(streaming: path, rows: matrix.rows, dimension: matrix.dimension, precision: precision) else {
            // No file to stream into (an empty matrix; a full disk fails in `save` too).
            let converted = AlbumMatrix(embedder: source.embedder, matrix: matrix.converted(to: precision), imageIDs: source.imageIDs)
            return save(converted, generation: generation, token: token)
        }
        do {
            // The source is replaced by the converted file: its pages need not stay resident.
            try matrix.convert(to: precision, releasingSource: true) { bytes, count, offset in
                guard writer.writeRows(bytes, count: count, at: offset) else { throw ShortWrite() }
            }
        } catch {
            writer.abandon()
            return false
        }
        return writer.finish(imageIDs: source.imageIDs, generation: generation, token: token)
    }

    /// A converted block the file did not take (its `errno` says why).
    private struct ShortWrite: Error {}

    /// Saves the matrix atomically (temporary file, flushed, then renamed).
    /// Returns false when it could not (say, a read-only folder or a full disk),
    /// leaving no temporary file behind.
    @discardableResult
    func save(_ matrix: AlbumMatrix, generation: Int64, token: Int64) -> Bool {
        guard let writer = Writer(path: path, matrix: matrix.matrix) else { return false }
        return writer.finish(imageIDs: matrix.imageIDs, generation: generation, token: token)
    }

    /// Writes a matrix file in two steps, so the rows (the bulk) can be
    /// written while the caller is still deciding the header: `init` writes
    /// the rows to a temporary file (or the caller does, block by block);
    /// `finish` adds the header and the image ids, flushes and renames it into place.
    final class Writer: @unchecked Sendable {  // used by one thread at a time
        /// Where `finish` puts the file.
        var path: String
        private let temporary: String
        /// The rows, values per row and precision of the matrix written.
        let rows: Int, dimension: Int, precision: MatrixPrecision
        private var fd: Int32
        /// The rows as a shared mapping of the temporary file (what is
        /// written to it is the file), made by `mapRows()` once they were written.
        private(set) var matrix: EmbeddingMatrix?

        /// Writes the rows of `matrix` to a temporary file beside `path`; nil when that fails.
        init?(path: String, matrix: EmbeddingMatrix) {
            self.path = path
            temporary = path + ".tmp-\(getpid())"
            rows = matrix.rows
            dimension = matrix.dimension
            precision = matrix.precision
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { return nil }
            let offset = MatrixFile.valuesOffset(rows: rows)
            guard rows == 0 || MatrixFile.writeFully(fd, matrix.rawValues, count: matrix.byteCount, at: offset) else {
                abandon()
                return nil
            }
        }

        /// Makes a temporary file beside `path` for `rows` × `dimension`
        /// values of `precision`, for the caller to write the rows into
        /// (`writeRows`, from any thread, at disjoint offsets) before
        /// `finish`. The file's blocks are reserved first, so a full disk is
        /// a nil here rather than a failure halfway. Nil when the file cannot
        /// be made (the caller keeps the rows in memory instead).
        init?(streaming path: String, rows: Int, dimension: Int, precision: MatrixPrecision = .float32) {
            self.path = path
            temporary = path + ".tmp-\(getpid())"
            self.rows = rows
            self.dimension = dimension
            self.precision = precision
            let offset = MatrixFile.valuesOffset(rows: rows)
            let (count, overflow) = rows.multipliedReportingOverflow(by: dimension * precision.bytesPerValue)
            guard rows > 0, dimension > 0, !overflow else { return nil }
            fd = open(temporary, O_RDWR | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { return nil }
            guard posix_fallocate(fd, 0, off_t(offset + count)) == 0 else {
                abandon()
                return nil
            }
        }

        /// Writes `count` bytes of rows at byte `offset` of the values (the
        /// values' first byte is 0); false when the file could not take them.
        func writeRows(_ bytes: UnsafeRawPointer, count: Int, at offset: Int) -> Bool {
            precondition(offset >= 0 && offset + count <= rows * dimension * precision.bytesPerValue, "MatrixFile.Writer: rows written outside the matrix")
            return fd >= 0 && MatrixFile.writeFully(fd, bytes, count: count, at: MatrixFile.valuesOffset(rows: rows) + offset)
        }

        /// The rows as a shared mapping of the temporary file (`matrix`,
        /// made on the first call): pages written already are read from the
        /// page cache. Nil when the file cannot be mapped.
        func mapRows() -> EmbeddingMatrix? {
            if let matrix { return matrix }
            let count = rows * dimension * precision.bytesPerValue
            guard fd >= 0, count > 0,
                  let base = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(MatrixFile.valuesOffset(rows: rows))),
                  base != MAP_FAILED else { return nil }
            matrix = EmbeddingMatrix(mapping: base, length: count, offset: 0, rows: rows, dimension: dimension, precision: precision)
            return matrix
        }

        /// Writes the header and `imageIDs` (one per row), flushes the file and
        /// renames it into place; false (and no temporary file left) on failure.
        func finish(imageIDs: [Int64], generation: Int64, token: Int64) -> Bool {
            guard fd >= 0, imageIDs.count == rows else { abandon(); return false }
            let offset = MatrixFile.valuesOffset(rows: rows)
            var header = MatrixFile.magic
            for field in [generation, Int64(rows), Int64(dimension), Int64(precision.bytesPerValue), Int64(offset), token] {
                withUnsafeBytes(of: field.littleEndian) { header += $0 }
            }
            var prefix = [UInt8](repeating: 0, count: offset)
            prefix.replaceSubrange(0..<header.count, with: header)
            prefix.withUnsafeMutableBytes { raw in
                for (i, id) in imageIDs.enumerated() { raw.storeBytes(of: id.littleEndian, toByteOffset: MatrixFile.headerBytes + 8 * i, as: Int64.self) }
            }
            // An empty matrix still needs its file to be exactly header-long.
            guard MatrixFile.writeFully(fd, prefix, count: prefix.count, at: 0), fsync(fd) == 0 else { abandon(); return false }
            close(fd)
            fd = -1
            guard rename(temporary, path) == 0 else { unlink(temporary); return false }
            return true
        }

        /// Removes the temporary file (a failure, or a writer not finished).
        func abandon() {
            if fd >= 0 { close(fd) }
            fd = -1
            unlink(temporary)
        }

        deinit { if fd >= 0 { abandon() } }
    }

    /// Removes the file (nothing happens when there is none).
    func remove() { unlink(path) }

    /// Writes all `count` bytes at `offset`, retrying short writes.
    fileprivate static func writeFully(_ fd: Int32, _ buffer: UnsafeRawPointer, count: Int, at offset: Int) -> Bool {
        var done = 0
        while done < count {
            let n = pwrite(fd, buffer + done, min(count - done, 1 << 30), off_t(offset + done))
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}
