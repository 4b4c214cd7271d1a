import Foundation

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

    /// Scales every row to unit L2 length; all-zero rows stay zero.
    public func normalizeRows() {
        for i in 0..<rows { Self.normalize(row(i), count: dimension) }
    }

    /// Scales `count` floats at `v` to unit L2 length (zero vectors stay zero).
    /// Values so large that their squares overflow (3e38) or so small that
    /// they underflow are divided by the largest first, so they too come out
    /// of unit length instead of unchanged.
    public static func normalize(_ v: UnsafeMutablePointer<Float>, count: Int) {
        var sum: Float = 0
        for j in 0..<count { sum += v[j] * v[j] }
        if !(sum.isNormal && sum.isFinite) {
            var largest: Float = 0
            for j in 0..<count { largest = max(largest, abs(v[j])) }
            guard largest > 0, largest.isFinite else { return }
            sum = 0
            for j in 0..<count { v[j] /= largest; sum += v[j] * v[j] }
        }
        let scale = 1 / sum.squareRoot()
        for j in 0..<count { v[j] *= scale }
    }
}
