import CKernels
import Foundation

/// One contiguous, row-major block of embedding vectors: row `i` is the
/// vector of the album's `i`-th embedded image. Matrix work (selection,
/// duplicates, maps) reads this block in place; nothing copies it per row.
///
/// The values are float32, or float16 for an album kept at half precision
/// (`precision`). Row pointers (`row`, `storage`) exist for float32 only;
/// `rows(_:into:)` is the one way every consumer reads rows of either kind
/// as float32 (a float16 block is widened into the caller's scratch, F16C
/// when the processor has it), so algorithms stay float32 and go through BLAS.
/// `@unchecked Sendable`: the block is written while a matrix is filled (by one owner, or by workers at disjoint rows) and only read once it is shared.
public final class EmbeddingMatrix: @unchecked Sendable {
    /// The number of vectors.
    public let rows: Int
    /// The length of each vector.
    public let dimension: Int
    /// How the values are kept.
    public let precision: MatrixPrecision
    /// The values, `rows * dimension` of `precision` (at least one value's room).
    private let values: UnsafeMutableRawPointer
    /// The file mapping the values live in (`values` points inside it), or
    /// nil when they were allocated: a mapped matrix is unmapped, not freed.
    private let mapping: (base: UnsafeMutableRawPointer, length: Int)?
    /// For a file mapping, the file's descriptor and the size it had when
    /// mapped: `checkFile()` compares them before the rows are read.
    private let mappedFile: (descriptor: Int32, path: String, size: Int)?

    /// The values as float32, row after row. A float16 matrix has none:
    /// read its rows with `rows(_:into:)` or `float32()`.
    public var storage: UnsafeMutableBufferPointer<Float> {
        precondition(precision == .float32, Self.float16Misuse)
        return UnsafeMutableBufferPointer(start: values.assumingMemoryBound(to: Float.self), count: max(rows * dimension, 1))
    }

    private static let float16Misuse = "EmbeddingMatrix: a float16 matrix has no float32 row pointers; read it with rows(_:into:) or float32()"

    /// Creates a zero-filled float32 matrix.
    public init(rows: Int, dimension: Int) {
        precondition(rows >= 0 && dimension >= 0, "EmbeddingMatrix: negative shape")
        self.rows = rows
        self.dimension = dimension
        precision = .float32
        values = Self.allocate(bytes: max(rows * dimension, 1) * 4)
        mapping = nil
        mappedFile = nil
        storage.initialize(repeating: 0)
    }

    /// Creates a matrix whose values the caller is about to overwrite
    /// entirely (skips zero-filling, which costs a pass over the memory).
    public init(uninitializedRows rows: Int, dimension: Int, precision: MatrixPrecision = .float32) {
        precondition(rows >= 0 && dimension >= 0, "EmbeddingMatrix: negative shape")
        self.rows = rows
        self.dimension = dimension
        self.precision = precision
        values = Self.allocate(bytes: max(rows * dimension, 1) * precision.bytesPerValue)
        mapping = nil
        mappedFile = nil
    }

    /// Creates a matrix of a shape a file claims, to be overwritten entirely:
    /// a shape above `ArrayMemory`'s cap, or one the system cannot allocate,
    /// is an `EmbeddingFileError` naming `location`, never an abort.
    init(uninitializedRows rows: Int, dimension: Int, precision: MatrixPrecision = .float32, location: String) throws {
        precondition(rows >= 0 && dimension >= 0, "EmbeddingMatrix: negative shape")
        let (count, overflow) = rows.multipliedReportingOverflow(by: dimension)
        let bytes = count.multipliedReportingOverflow(by: precision.bytesPerValue)
        let what = "a \(rows) × \(dimension) \(precision == .float16 ? "float16" : "float32") matrix"
        guard !overflow, !bytes.overflow else { throw EmbeddingFileError(.tooLarge, location, "\(what) is impossibly large") }
        let base = try ArrayMemory.allocate(max(bytes.partialValue, 4), for: what, location: location)
        self.rows = rows
        self.dimension = dimension
        self.precision = precision
        values = base
        mapping = nil
        mappedFile = nil
    }

    /// Takes over a file mapping of `length` bytes at `base` whose values
    /// (of `precision`) start `offset` bytes in: the matrix is read from the
    /// page cache as it is used, never copied, and unmapped in `deinit`.
    /// With `file` (a descriptor this matrix then owns, the file's path and
    /// its size when mapped), `checkFile()` can tell that the file was cut
    /// short before a read of the mapping would fault.
    init(mapping base: UnsafeMutableRawPointer, length: Int, offset: Int, rows: Int, dimension: Int,
         precision: MatrixPrecision = .float32, file: (descriptor: Int32, path: String, size: Int)? = nil) {
        precondition(offset % precision.bytesPerValue == 0 && offset + rows * dimension * precision.bytesPerValue <= length,
                     "EmbeddingMatrix: mapping too short")
        self.rows = rows
        self.dimension = dimension
        self.precision = precision
        values = base + offset
        mapping = (base, length)
        mappedFile = file
    }

    /// Storage from the C allocator (`deinit` frees it), 64-byte aligned for SIMD and BLAS.
    /// (Sizes from files go through the throwing init.)
    private static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        alignedAllocation(bytes, for: "EmbeddingMatrix")
    }

    /// Creates a matrix holding a copy of `values` (row-major, `rows * dimension` long).
    public convenience init(rows: Int, dimension: Int, values: [Float]) {
        precondition(values.count == rows * dimension, "EmbeddingMatrix: \(values.count) values for \(rows)×\(dimension)")
        self.init(rows: rows, dimension: dimension)
        values.withUnsafeBufferPointer { storage.baseAddress!.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Tells the kernel the rows will not be read for a while. The clean
    /// pages of a file mapping then leave this process's memory (they are
    /// read from the file again when next used); values held in memory of
    /// the matrix's own, and rows this process changed, stay as they are.
    /// Only a hint: nothing is lost either way.
    public func releaseResidentPages() {
        releaseResidentPages(bytes: 0, count: byteCount)
    }

    /// `releaseResidentPages()` for the whole pages inside `count` bytes of
    /// values from byte `offset` (pages shared with a neighbouring range stay).
    func releaseResidentPages(bytes offset: Int, count: Int) {
        #if os(Linux)
        guard mapping != nil, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = Int(bitPattern: values + offset), last = first + count
        let start = (first + page - 1) / page * page, end = last / page * page
        guard end > start, let base = UnsafeMutableRawPointer(bitPattern: start) else { return }
        let pageOut: Int32 = 21  // MADV_PAGEOUT (Linux 5.4); older kernels refuse it, which is harmless
        _ = madvise(base, end - start, pageOut)
        #endif
    }

    deinit {
        if let mapping { munmap(mapping.base, mapping.length) } else { free(values) }
        if let mappedFile { close(mappedFile.descriptor) }
    }

    /// Whether the values are a mapping of a file (read from the page cache
    /// as they are used) rather than memory of their own.
    public var isMapped: Bool { mapping != nil }

    /// The address of row `i` (float32 matrices only).
    @inline(__always)
    public func row(_ i: Int) -> UnsafeMutablePointer<Float> {
        precondition(precision == .float32, Self.float16Misuse)
        return values.assumingMemoryBound(to: Float.self) + i * dimension
    }

    /// The address of row `i` of a float16 matrix, as float16 bit patterns.
    @inline(__always)
    func halfRow(_ i: Int) -> UnsafeMutablePointer<UInt16> {
        precondition(precision == .float16, "EmbeddingMatrix: not a float16 matrix")
        return values.assumingMemoryBound(to: UInt16.self) + i * dimension
    }

    /// Rows `range` as float32, row-major: for a float32 matrix the rows
    /// themselves (`scratch` untouched), for a float16 one `scratch` (room
    /// for `range.count × dimension` floats) filled with them, widened. The
    /// one way consumers read rows of either precision; safe from many
    /// threads with scratch of their own.
    @inline(__always)
    public func rows(_ range: Range<Int>, into scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        switch precision {
        case .float32:
            return UnsafePointer(values.assumingMemoryBound(to: Float.self) + range.lowerBound * dimension)
        case .float16:
            curator_f16_to_f32(values.assumingMemoryBound(to: UInt16.self) + range.lowerBound * dimension, scratch, range.count * dimension)
            return UnsafePointer(scratch)
        }
    }

    /// Calls `body` with rows `range` as float32 (`rows(_:into:)`, with
    /// scratch of its own for a float16 matrix).
    public func withRows<R>(_ range: Range<Int>, _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        guard precision == .float16 else { return try body(UnsafePointer(row(range.lowerBound))) }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, range.count * dimension))
        defer { scratch.deallocate() }
        return try body(rows(range, into: scratch))
    }

    /// Copies row `i` as float32 to `target` (`dimension` floats).
    @inline(__always)
    public func copyRow(_ i: Int, into target: UnsafeMutablePointer<Float>) {
        switch precision {
        case .float32: target.update(from: row(i), count: dimension)
        case .float16: curator_f16_to_f32(halfRow(i), target, dimension)
        }
    }

    /// A copy of row `i`, for callers outside hot paths.
    public func vector(_ i: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: dimension) { buffer, count in
            if dimension > 0 { copyRow(i, into: buffer.baseAddress!) }
            count = dimension
        }
    }

    /// The size of the values in bytes.
    public var byteCount: Int { rows * dimension * precision.bytesPerValue }

    /// The raw values, `byteCount` bytes (for writing them to a file).
    var rawValues: UnsafeRawPointer { UnsafeRawPointer(values) }

    /// This matrix at `target` precision: itself when it already is, else a
    /// converted copy (float16 rounds to nearest, ties to even), made in
    /// parallel blocks of about 4 MB.
    public func converted(to target: MatrixPrecision) -> EmbeddingMatrix {
        guard target != precision else { return self }
        let copy = EmbeddingMatrix(uninitializedRows: rows, dimension: dimension, precision: target)
        convert(into: copy)
        return copy
    }

    /// Writes these values at `target`'s precision into `target` (same
    /// shape), in parallel blocks of about 4 MB.
    func convert(into target: EmbeddingMatrix) {
        precondition(target.rows == rows && target.dimension == dimension, "EmbeddingMatrix: converting to another shape")
        let count = rows * dimension
        guard count > 0 else { return }
        let chunk = 1 << 20
        let from = UncheckedSendable(values), to = UncheckedSendable(target.values)
        let (source, destination) = (precision, target.precision)
        parallelFor((count + chunk - 1) / chunk) { c in
            let start = c * chunk, n = min(chunk, count - start)
            Self.convert(n, from.value + start * source.bytesPerValue, source,
                         into: to.value + start * destination.bytesPerValue, destination)
        }
    }

    /// Converts `count` values at `from` (of `source` precision) into `to` (of `target` precision).
    private static func convert(_ count: Int, _ from: UnsafeRawPointer, _ source: MatrixPrecision,
                                into to: UnsafeMutableRawPointer, _ target: MatrixPrecision) {
        switch (source, target) {
        case (.float16, .float32):
            curator_f16_to_f32(from.assumingMemoryBound(to: UInt16.self), to.assumingMemoryBound(to: Float.self), count)
        case (.float32, .float16):
            curator_f32_to_f16(from.assumingMemoryBound(to: Float.self), to.assumingMemoryBound(to: UInt16.self), count)
        default:
            to.copyMemory(from: from, byteCount: count * source.bytesPerValue)
        }
    }

    /// Converts the values to `target` precision in parallel blocks of about
    /// 4 MB, each into one of a few reused buffers, and hands each block to
    /// `write` (its bytes, byte count, and byte offset in the converted
    /// values); the first error `write` throws stops it and is rethrown.
    /// For a converted file written with `pwrite`: no mapping of it is
    /// filled (the kernel would zero-fill every page just before it is
    /// overwritten). With `releasingSource`, each block of a mapped source
    /// leaves this process's memory once converted
    /// (`releaseResidentPages(bytes:count:)`): a file converted for storage
    /// is then never resident whole (a million 512-d rows made float16
    /// peaked at source and copy, 3.4 GB, before blocks were given back).
    func convert(to target: MatrixPrecision, releasingSource: Bool = false,
                 write: (UnsafeRawPointer, _ count: Int, _ offset: Int) throws -> Void) throws {
        let count = rows * dimension
        guard count > 0 else { return }
        let chunk = 1 << 20
        let from = UncheckedSendable(values)
        let source = precision
        let release = releasingSource && isMapped
        let buffers = ScratchPool(bytes: chunk * max(source.bytesPerValue, target.bytesPerValue))
        try parallelForThrowing((count + chunk - 1) / chunk) { c in
            let start = c * chunk, n = min(chunk, count - start)
            defer { if release { self.releaseResidentPages(bytes: start * source.bytesPerValue, count: n * source.bytesPerValue) } }
            try buffers.withBuffer { buffer in
                Self.convert(n, from.value + start * source.bytesPerValue, source, into: buffer, target)
                try write(buffer, n * target.bytesPerValue, start * target.bytesPerValue)
            }
        }
    }

    /// The float32 matrix of these values: itself, or a widened copy of a float16 one.
    public func float32() -> EmbeddingMatrix { converted(to: .float32) }

    /// Throws when the file this matrix maps has changed size since it was
    /// mapped (truncated or rewritten in place by another program), where
    /// reading a row would end the process with SIGBUS. A stat of an open
    /// descriptor: cheap enough for the start of every operation. Matrices
    /// in memory of their own always pass.
    public func checkFile() throws {
        guard let mappedFile else { return }
        var info = stat()
        let size = fstat(mappedFile.descriptor, &info) == 0 ? Int(info.st_size) : -1
        guard size == mappedFile.size else {
            throw IndexError.matrixFileChanged(path: mappedFile.path, expected: mappedFile.size, found: size)
        }
    }

    /// Scales every row to unit L2 length, in parallel blocks; all-zero rows
    /// stay zero, and a row holding NaN or infinity is left as it is.
    /// Returns what it found, so a caller checking someone else's file needs
    /// no second pass over the matrix.
    @discardableResult
    public func normalizeRows() -> RowCheck {
        precondition(precision == .float32, Self.float16Misuse)
        let rows = self.rows, dimension = self.dimension
        guard rows > 0, dimension > 0 else { return RowCheck(firstNonFinite: nil, zeroRows: []) }
        let blockRows = max(1, (1 << 20) / dimension)  // about 4 MB per task
        let blocks = (rows + blockRows - 1) / blockRows
        let found = SharedBuffer<RowCheck?>(repeating: nil, count: blocks)
        let base = UncheckedSendable(row(0))
        DispatchQueue.concurrentPerform(iterations: blocks) { b in
            let range = b * blockRows..<min(rows, (b + 1) * blockRows)
            found[b] = Self.normalize(rows: range, at: base.value + range.lowerBound * dimension, dimension: dimension)
        }
        return RowCheck(combining: found.array.compactMap { $0 })
    }

    /// Scales the rows at `base` (numbered `range`: row `range.lowerBound`
    /// first) of `dimension` float32 values each to unit L2 length, as
    /// `normalizeRows` does, and says what it found, rows numbered as in `range`.
    static func normalize(rows range: Range<Int>, at base: UnsafeMutablePointer<Float>, dimension: Int) -> RowCheck {
        var firstNonFinite: Int?
        var zeroRows: [Int] = []
        guard dimension > 0 else { return RowCheck(firstNonFinite: nil, zeroRows: []) }
        for i in range {
            switch normalizeChecking(base + (i - range.lowerBound) * dimension, count: dimension) {
            case .normalized: break
            case .zero: zeroRows.append(i)
            case .nonFinite: if firstNonFinite == nil { firstNonFinite = i }
            }
        }
        return RowCheck(firstNonFinite: firstNonFinite, zeroRows: zeroRows)
    }

    /// What `normalizeRows` found: the first row holding NaN or infinity
    /// (nil when none does) and the all-zero rows, ascending.
    public struct RowCheck: Sendable {
        /// The first row with a NaN or infinite value, left unscaled.
        public let firstNonFinite: Int?
        /// The rows whose values are all zero.
        public let zeroRows: [Int]

        init(firstNonFinite: Int?, zeroRows: [Int]) {
            self.firstNonFinite = firstNonFinite
            self.zeroRows = zeroRows
        }

        /// The findings of consecutive blocks of rows, given in row order, as one.
        init(combining parts: [RowCheck]) {
            self.init(firstNonFinite: parts.lazy.compactMap(\.firstNonFinite).first, zeroRows: parts.flatMap(\.zeroRows))
        }
    }

    /// Scales `count` floats at `v` to unit L2 length (zero vectors stay zero).
    /// Values so large that their squares overflow (3e38) or so small that
    /// they underflow are divided by the largest first, so they too come out
    /// of unit length instead of unchanged.
    public static func normalize(_ v: UnsafeMutablePointer<Float>, count: Int) {
        _ = normalizeChecking(v, count: count)
    }

    private enum RowOutcome { case normalized, zero, nonFinite }

    /// `normalize`, saying whether the row was all zeros or held NaN or
    /// infinity (left unchanged). The squares are summed eight lanes at a time.
    @inline(__always)
    private static func normalizeChecking(_ v: UnsafeMutablePointer<Float>, count: Int) -> RowOutcome {
        var lanes = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= count {
            let x = UnsafeRawPointer(v + j).loadUnaligned(as: SIMD8<Float>.self)
            lanes += x * x
            j += 8
        }
        var sum = lanes.sum()
        while j < count { sum += v[j] * v[j]; j += 1 }
        if !(sum.isNormal && sum.isFinite) {
            var largest: Float = 0
            for k in 0..<count {
                guard v[k].isFinite else { return .nonFinite }
                largest = max(largest, abs(v[k]))
            }
            guard largest > 0 else { return .zero }
            sum = 0
            for k in 0..<count { v[k] /= largest; sum += v[k] * v[k] }
        }
        let scale = SIMD8<Float>(repeating: 1 / sum.squareRoot())
        j = 0
        while j + 8 <= count {
            let x = UnsafeRawPointer(v + j).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(v + j).storeBytes(of: x * scale, as: SIMD8<Float>.self)
            j += 8
        }
        while j < count { v[j] *= scale[0]; j += 1 }
        return .normalized
    }
}
