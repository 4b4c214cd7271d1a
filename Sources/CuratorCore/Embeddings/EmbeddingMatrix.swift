import Foundation

/// Makes the matrix an import fills entirely with `rows` × `dimension`
/// values read from `location` (named in errors): memory of its own
/// (`EmbeddingMatrix.allocate`), or the mapped rows of the file that will
/// keep them (`MatrixFile.Writer(filling:rows:dimension:)`).
typealias MatrixAllocator = (_ rows: Int, _ dimension: Int, _ location: String) throws -> EmbeddingMatrix

/// One contiguous, row-major block of float32 embedding vectors: row `i` is
/// the vector of the album's `i`-th embedded image. Matrix work (selection,
/// duplicates, maps) reads this block in place; nothing copies it per row.
/// `@unchecked Sendable`: the block is written while a matrix is filled (by one owner, or by workers at disjoint rows) and only read once it is shared.
public final class EmbeddingMatrix: @unchecked Sendable {
    /// The number of vectors.
    public let rows: Int
    /// The length of each vector.
    public let dimension: Int
    /// The values, `rows * dimension` of them, row after row.
    public let storage: UnsafeMutableBufferPointer<Float>
    /// The file mapping the values live in (`storage` points inside it), or
    /// nil when they were allocated: a mapped matrix is unmapped, not freed.
    private let mapping: (base: UnsafeMutableRawPointer, length: Int)?

    /// Creates a zero-filled matrix.
    public init(rows: Int, dimension: Int) {
        precondition(rows >= 0 && dimension >= 0, "EmbeddingMatrix: negative shape")
        self.rows = rows
        self.dimension = dimension
        storage = Self.storage(count: rows * dimension)
        mapping = nil
        storage.initialize(repeating: 0)
    }

    /// Creates a matrix whose values the caller is about to overwrite
    /// entirely (skips zero-filling, which costs a pass over the memory).
    public init(uninitializedRows rows: Int, dimension: Int) {
        precondition(rows >= 0 && dimension >= 0, "EmbeddingMatrix: negative shape")
        self.rows = rows
        self.dimension = dimension
        storage = Self.storage(count: rows * dimension)
        mapping = nil
    }

    /// Creates a matrix of a shape a file claims, to be overwritten entirely:
    /// a shape above `ArrayMemory`'s cap, or one the system cannot allocate,
    /// is an `EmbeddingFileError` naming `location`, never an abort.
    init(uninitializedRows rows: Int, dimension: Int, location: String) throws {
        precondition(rows >= 0 && dimension >= 0, "EmbeddingMatrix: negative shape")
        let (count, overflow) = rows.multipliedReportingOverflow(by: dimension)
        let bytes = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        let what = "a \(rows) × \(dimension) float32 matrix"
        guard !overflow, !bytes.overflow else { throw EmbeddingFileError(.tooLarge, location, "\(what) is impossibly large") }
        let base = try ArrayMemory.allocate(bytes.partialValue, for: what, location: location)
        self.rows = rows
        self.dimension = dimension
        storage = UnsafeMutableBufferPointer(start: base.bindMemory(to: Float.self, capacity: max(count, 1)), count: max(count, 1))
        mapping = nil
    }

    /// Memory of its own for a matrix a file claims (`init(uninitializedRows:dimension:location:)`):
    /// the `MatrixAllocator` imports use unless told otherwise.
    static func allocate(rows: Int, dimension: Int, location: String) throws -> EmbeddingMatrix {
        try EmbeddingMatrix(uninitializedRows: rows, dimension: dimension, location: location)
    }

    /// Takes over a private file mapping of `length` bytes at `base` whose
    /// values start `offset` bytes in (a multiple of 4): the matrix is read
    /// from the page cache as it is used, never copied, and unmapped in
    /// `deinit`. Writes stay in this process (copy-on-write).
    init(mapping base: UnsafeMutableRawPointer, length: Int, offset: Int, rows: Int, dimension: Int) {
        precondition(offset % MemoryLayout<Float>.alignment == 0 && offset + rows * dimension * 4 <= length,
                     "EmbeddingMatrix: mapping too short")
        self.rows = rows
        self.dimension = dimension
        let count = max(rows * dimension, 1)
        storage = UnsafeMutableBufferPointer(start: (base + offset).bindMemory(to: Float.self, capacity: count), count: count)
        mapping = (base, length)
    }

    /// Storage for `count` floats from the C allocator (`deinit` frees it),
    /// 64-byte aligned for SIMD and BLAS.
    private static func storage(count: Int) -> UnsafeMutableBufferPointer<Float> {
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, 64, max(count, 1) * MemoryLayout<Float>.stride) == 0, let pointer else {
            fatalError("EmbeddingMatrix: cannot allocate \(count) floats")  // sizes from files go through the throwing init
        }
        return UnsafeMutableBufferPointer(start: pointer.bindMemory(to: Float.self, capacity: max(count, 1)), count: max(count, 1))
    }

    /// Creates a matrix holding a copy of `values` (row-major, `rows * dimension` long).
    public convenience init(rows: Int, dimension: Int, values: [Float]) {
        precondition(values.count == rows * dimension, "EmbeddingMatrix: \(values.count) values for \(rows)×\(dimension)")
        self.init(rows: rows, dimension: dimension)
        _ = values.withUnsafeBufferPointer { storage.baseAddress!.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Tells the kernel the rows will not be read for a while. The clean
    /// pages of a file mapping then leave this process's memory (they are
    /// read from the file again when next used); values held in memory of
    /// the matrix's own, and rows this process changed, stay as they are.
    /// Only a hint: nothing is lost either way.
    public func releaseResidentPages() {
        #if os(Linux)
        guard let mapping else { return }
        let pageOut: Int32 = 21  // MADV_PAGEOUT (Linux 5.4); older kernels refuse it, which is harmless
        _ = madvise(mapping.base, mapping.length, pageOut)
        #endif
    }

    deinit {
        if let mapping { munmap(mapping.base, mapping.length) } else { free(storage.baseAddress) }
    }

    /// Whether the values are a mapping of a file (read from the page cache
    /// as they are used) rather than memory of their own.
    public var isMapped: Bool { mapping != nil }

    /// The address of row `i`.
    @inline(__always)
    public func row(_ i: Int) -> UnsafeMutablePointer<Float> {
        storage.baseAddress! + i * dimension
    }

    /// A copy of row `i`, for callers outside hot paths.
    public func vector(_ i: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: row(i), count: dimension))
    }

    /// The size of the values in bytes.
    public var byteCount: Int { rows * dimension * MemoryLayout<Float>.stride }

    /// Scales every row to unit L2 length, in parallel blocks; all-zero rows
    /// stay zero, and a row holding NaN or infinity is left as it is.
    /// Returns what it found, so a caller checking someone else's file needs
    /// no second pass over the matrix.
    @discardableResult
    public func normalizeRows() -> RowCheck {
        let rows = self.rows, dimension = self.dimension
        guard rows > 0, dimension > 0 else { return RowCheck(firstNonFinite: nil, zeroRows: []) }
        let blockRows = max(1, (1 << 20) / dimension)  // about 4 MB per task
        let blocks = (rows + blockRows - 1) / blockRows
        let found = SharedBuffer<RowCheck?>(repeating: nil, count: blocks)
        let base = UncheckedSendable(row(0))
        DispatchQueue.concurrentPerform(iterations: blocks) { b in
            var firstNonFinite: Int?
            var zeroRows: [Int] = []
            for i in b * blockRows..<min(rows, (b + 1) * blockRows) {
                switch Self.normalizeChecking(base.value + i * dimension, count: dimension) {
                case .normalized: break
                case .zero: zeroRows.append(i)
                case .nonFinite: if firstNonFinite == nil { firstNonFinite = i }
                }
            }
            if firstNonFinite != nil || !zeroRows.isEmpty { found[b] = RowCheck(firstNonFinite: firstNonFinite, zeroRows: zeroRows) }
        }
        let parts = found.array.compactMap { $0 }
        return RowCheck(firstNonFinite: parts.lazy.compactMap(\.firstNonFinite).first, zeroRows: parts.flatMap(\.zeroRows))
    }

    /// What `normalizeRows` found: the first row holding NaN or infinity
    /// (nil when none does) and the all-zero rows, ascending.
    public struct RowCheck: Sendable {
        /// The first row with a NaN or infinite value, left unscaled.
        public let firstNonFinite: Int?
        /// The rows whose values are all zero.
        public let zeroRows: [Int]
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
