/// The values of a Parquet BYTE_ARRAY (string) column, one per row, null
/// where an optional column holds none: all bytes in one buffer with each
/// row's end offset, so a million rows are three arrays, not a million.
public struct ParquetStrings: Sendable {
    /// Every value's bytes, back to back.
    private(set) var bytes: [UInt8] = []
    /// Where each row's value ends in `bytes` (it starts where the previous ends).
    private(set) var ends: [Int] = []
    /// Whether each row is null; empty while no row is.
    private(set) var nulls: [Bool] = []
    /// The most bytes this column may hold (see `ParquetFile.decodedBytesLimit`).
    let byteLimit: Int

    init(byteLimit: Int) { self.byteLimit = byteLimit }

    /// How many rows there are.
    public var count: Int { ends.count }

    /// Whether any row is null.
    public var hasNulls: Bool { !nulls.isEmpty }

    /// The bytes of row `row`, or nil when it is null.
    public subscript(row: Int) -> ArraySlice<UInt8>? {
        if !nulls.isEmpty && nulls[row] { return nil }
        return bytes[(row == 0 ? 0 : ends[row - 1])..<ends[row]]
    }

    /// Row `row` as text (invalid UTF-8 shows as U+FFFD), or nil when it is null.
    public func string(_ row: Int) -> String? {
        self[row].map { String(decoding: $0, as: UTF8.self) }
    }

    /// Reserves room for `rows` more rows.
    mutating func reserve(rows: Int) {
        ends.reserveCapacity(ends.count + rows)
    }

    /// Reserves room for up to `count` more bytes (within `byteLimit`),
    /// growing geometrically so that page after page does not copy anew.
    mutating func reserve(bytes count: Int) {
        let needed = min(byteLimit, bytes.count + count)
        if needed > bytes.capacity { bytes.reserveCapacity(min(byteLimit, max(needed, bytes.capacity * 2))) }
    }

    /// Appends a value, refusing to grow past `byteLimit`.
    mutating func append(_ value: UnsafeRawBufferPointer) throws(ParquetFile.Overflow) {
        guard value.count <= byteLimit - bytes.count else { throw ParquetFile.Overflow(limit: byteLimit) }
        bytes.append(contentsOf: UnsafeBufferPointer(start: value.baseAddress?.assumingMemoryBound(to: UInt8.self), count: value.count))
        ends.append(bytes.count)
        if !nulls.isEmpty { nulls.append(false) }
    }

    /// Appends row `row` of `other` (a dictionary).
    mutating func append(row: Int, of other: ParquetStrings) throws(ParquetFile.Overflow) {
        let start = row == 0 ? 0 : other.ends[row - 1], end = other.ends[row]
        guard end - start <= byteLimit - bytes.count else { throw ParquetFile.Overflow(limit: byteLimit) }
        bytes.append(contentsOf: other.bytes[start..<end])
        ends.append(bytes.count)
        if !nulls.isEmpty { nulls.append(false) }
    }

    /// Appends a null row.
    mutating func appendNull() {
        if nulls.isEmpty {
            nulls.reserveCapacity(ends.capacity)
            nulls.append(contentsOf: repeatElement(false, count: ends.count))
        }
        ends.append(bytes.count)
        nulls.append(true)
    }
}
