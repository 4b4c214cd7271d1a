/// One contiguous, row-major block of float32 embedding vectors: row `i` is
/// the vector of the album's `i`-th embedded image. Matrix work (selection,
/// duplicates, maps) reads this block in place; nothing copies it per row.
public final class EmbeddingMatrix: @unchecked Sendable {
    /// The number of vectors.
    public let rows: Int
    /// The length of each vector.
    public let dimension: Int
    /// The values, `rows * dimension` of them, row after row.
    public let storage: UnsafeMutableBufferPointer<Float>

    /// Creates a zero-filled matrix.
    public init(rows: Int, dimension: Int) {
        precondition(rows >= 0 && dimension >= 0, "EmbeddingMatrix: negative shape")
        self.rows = rows
        self.dimension = dimension
        storage = .allocate(capacity: max(rows * dimension, 1))
        storage.initialize(repeating: 0)
    }

    /// Creates a matrix whose values the caller is about to overwrite
    /// entirely (skips zero-filling, which costs a pass over the memory).
    public init(uninitializedRows rows: Int, dimension: Int) {
        precondition(rows >= 0 && dimension >= 0, "EmbeddingMatrix: negative shape")
        self.rows = rows
        self.dimension = dimension
        storage = .allocate(capacity: max(rows * dimension, 1))
    }

    /// Creates a matrix holding a copy of `values` (row-major, `rows * dimension` long).
    public convenience init(rows: Int, dimension: Int, values: [Float]) {
        precondition(values.count == rows * dimension, "EmbeddingMatrix: \(values.count) values for \(rows)×\(dimension)")
        self.init(rows: rows, dimension: dimension)
        _ = values.withUnsafeBufferPointer { storage.baseAddress!.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { storage.deallocate() }

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
    public static func normalize(_ v: UnsafeMutablePointer<Float>, count: Int) {
        var sum: Float = 0
        for j in 0..<count { sum += v[j] * v[j] }
        guard sum > 0, sum.isFinite else { return }
        let scale = 1 / sum.squareRoot()
        for j in 0..<count { v[j] *= scale }
    }
}
