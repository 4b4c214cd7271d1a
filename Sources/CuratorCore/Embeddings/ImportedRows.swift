import CKernels
import Foundation

/// Where an import puts the matrix it reads: the readers hand their rows
/// over as float32 blocks of a few megabytes, in any order and from several
/// threads, and each block is checked and scaled to unit length
/// (`normalizing`), kept at `precision`, and stored in memory of its own
/// or written straight into the matrix file that will keep it
/// (`MatrixFile.Writer(streaming:…)`, with `pwrite`).
///
/// Writing the file from the block rather than filling a mapping of it is
/// what makes a large first open cheap: a page of a new file faulted in
/// through a mapping is zero-filled by the kernel just before the read
/// overwrites it (half the CPU of a million-row first open), and a float16
/// import never holds more than a block of float32 rows per worker (it used
/// to import float32 whole, then convert: 2.3 × the float16 matrix).
/// `@unchecked Sendable`: workers store disjoint rows; what they found is kept under `lock`.
final class ImportedRows: @unchecked Sendable {
    /// Makes the rows an import of a `rows` × `dimension` matrix read from
    /// `location` (named in errors) fills; called once per import, after
    /// the file's sizes were checked and before any row is read.
    typealias Maker = (_ rows: Int, _ dimension: Int, _ location: String) throws -> ImportedRows

    /// The number of rows.
    let rows: Int
    /// The values per row.
    let dimension: Int
    /// How the rows are kept.
    let precision: MatrixPrecision
    /// Whether stored rows are checked and scaled to unit length (imports)
    /// or kept exactly as read (`NumpyArray.floatMatrix()`).
    let normalizing: Bool

    private enum Home {
        case memory(EmbeddingMatrix)
        case file(MatrixFile.Writer, halves: ScratchPool?)
    }
    private let home: Home
    private let lock = NSLock()
    private var found: [(first: Int, check: EmbeddingMatrix.RowCheck)] = []

    /// Rows in memory of their own, for a shape a file claims (a shape too
    /// large to allocate is an `EmbeddingFileError` naming `location`).
    init(rows: Int, dimension: Int, precision: MatrixPrecision = .float32, normalizing: Bool, location: String) throws {
        self.rows = rows
        self.dimension = dimension
        self.precision = precision
        self.normalizing = normalizing
        home = .memory(try EmbeddingMatrix(uninitializedRows: rows, dimension: dimension, precision: precision, location: location))
    }

    /// Rows written into the temporary matrix file `writer` made (its
    /// precision is theirs), normalised.
    init(writer: MatrixFile.Writer) {
        rows = writer.rows
        dimension = writer.dimension
        precision = writer.precision
        normalizing = true
        home = .file(writer, halves: writer.precision == .float16 ? ScratchPool(bytes: Self.blockRows(dimension: writer.dimension) * max(writer.dimension, 1) * 2) : nil)
    }

    /// The default maker of imports: float32 rows in memory, normalised.
    static func inMemory(rows: Int, dimension: Int, location: String) throws -> ImportedRows {
        try ImportedRows(rows: rows, dimension: dimension, normalizing: true, location: location)
    }

    /// The maker of `NumpyArray.floatMatrix()` and the like: float32 rows in memory, as stored.
    static func asStored(rows: Int, dimension: Int, location: String) throws -> ImportedRows {
        try ImportedRows(rows: rows, dimension: dimension, normalizing: false, location: location)
    }

    /// Rows per block for readers: about 1 MB of float32 values (at least one
    /// row), small enough to stay in cache between reading, checksumming,
    /// scaling and writing.
    static func blockRows(dimension: Int) -> Int { max(1, (1 << 18) / max(dimension, 1)) }

    /// Takes rows `range` as float32 at `values` (`range.count × dimension`
    /// of them, the caller's scratch: they are scaled in place). Blocks of
    /// disjoint rows may be stored from several threads at once. Throws when
    /// the matrix file cannot be written (a full disk, say).
    func store(_ range: Range<Int>, _ values: UnsafeMutablePointer<Float>) throws {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "ImportedRows: rows \(range) outside 0..<\(rows)")
        guard !range.isEmpty, dimension > 0 else { return }
        if normalizing {
            let check = EmbeddingMatrix.normalize(rows: range, at: values, dimension: dimension)
            if check.firstNonFinite != nil || !check.zeroRows.isEmpty {
                lock.withLock { found.append((range.lowerBound, check)) }
            }
        }
        let count = range.count * dimension
        switch home {
        case .memory(let matrix):
            switch precision {
            case .float32: matrix.row(range.lowerBound).update(from: values, count: count)
            case .float16: curator_f32_to_f16(values, matrix.halfRow(range.lowerBound), count)
            }
        case .file(let writer, let halves):
            let at = range.lowerBound * dimension * precision.bytesPerValue
            var written = true
            if let halves {
                // Converted a pool buffer's worth at a time (readers' blocks fit one).
                let perBuffer = halves.bytes / 2
                var k = 0
                while written && k < count {
                    let n = min(perBuffer, count - k)
                    written = halves.withBuffer { buffer in
                        curator_f32_to_f16(values + k, buffer.assumingMemoryBound(to: UInt16.self), n)
                        return writer.writeRows(buffer, count: n * 2, at: at + k * 2)
                    }
                    k += n
                }
            } else {
                written = writer.writeRows(values, count: count * 4, at: at)
            }
            guard written else {
                throw IndexError.cannotCreateIndex(path: writer.path, reason: "the vectors file could not be written (\(String(cString: strerror(errno))))")
            }
        }
    }

    /// The rows, once every one was stored: the matrix in memory, or the
    /// written file's rows mapped (read from the page cache the writes filled).
    func matrix() throws -> EmbeddingMatrix {
        switch home {
        case .memory(let matrix): return matrix
        case .file(let writer, _):
            guard let matrix = writer.mapRows() else {
                throw IndexError.cannotCreateIndex(path: writer.path, reason: "the vectors file could not be mapped (\(String(cString: strerror(errno))))")
            }
            return matrix
        }
    }

    /// What scaling found, over every row stored (rows in ascending order).
    var check: EmbeddingMatrix.RowCheck {
        lock.withLock { EmbeddingMatrix.RowCheck(combining: found.sorted { $0.first < $1.first }.map(\.check)) }
    }

    /// Throws, naming the row and its image (`name`), when the imported rows
    /// cannot be compared: no values (0 columns), NaN or infinity, or all
    /// zeros (a zero vector has no direction: every distance to it is the
    /// same, and farthest-point sampling would pick it first). Huge or tiny
    /// values were normalised.
    func refuseIncomparable(location: String, name: (Int) -> String) throws {
        guard dimension > 0 || rows == 0 else {
            throw EmbeddingFileError(.wrongType, location, "the rows have no values (shape (\(rows), 0)); embeddings need at least one column")
        }
        let check = self.check
        if let row = check.firstNonFinite {
            throw EmbeddingFileError(.corrupt, location, "row \(row) (\(name(row))) holds NaN or infinite values")
        }
        let zero = check.zeroRows
        guard zero.isEmpty else {
            throw EmbeddingFileError(.corrupt, location, "\(zero.count) of the \(rows) rows are all zeros (the first is row \(zero[0]), \(name(zero[0]))); a zero vector has no direction to compare, so the file is refused")
        }
    }
}
