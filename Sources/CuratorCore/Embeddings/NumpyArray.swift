import Foundation

/// One numpy array read from `.npy` bytes (a file, or a member of an `.npz`):
/// its header and its data, in C (row-major) order. Fortran-order 2-D arrays
/// are transposed on reading; object arrays (`|O`, pickled Python objects) are
/// never unpickled: they are returned *skipped*, with a header but no data.
///
/// Accessors convert to what curator works with and throw an
/// `EmbeddingFileError` naming the file and key when the array is not of a
/// type or rank that fits.
public struct NumpyArray: Sendable {
    /// The parsed header (shape and dtype as stored; data is always C order here).
    public let header: NumpyHeader
    /// Where the array came from, for messages: a path, or `path: key 'name'`.
    public let location: String
    /// The data bytes; nil for skipped (object) arrays.
    let block: ByteBlock?
    /// The offset of the first element in `block`.
    let dataStart: Int

    /// The element type.
    public var dtype: NumpyDType { header.dtype }
    /// The shape; empty for a 0-d array.
    public var shape: [Int] { header.shape }
    /// The number of elements.
    public var count: Int { header.elementCount }
    /// Whether the data was not loaded (object arrays: pickles are never unpickled).
    public var isSkipped: Bool { block == nil }
    /// Why the array was skipped, when it was.
    public var note: String? {
        isSkipped ? "\(location): object array (pickled Python objects) skipped; curator never unpickles" : nil
    }

    // MARK: Reading

    /// Reads an `.npy` file; the data goes from the file straight to its buffer.
    public init(contentsOf url: URL) throws {
        let file = try RawFile(url)
        let header = try Self.header(of: file)
        guard let needed = header.dataByteCount else {
            self.init(header: header, location: url.path, block: nil, dataStart: 0)
            return
        }
        try Self.checkDataLength(file.size - header.dataOffset, header: header, location: url.path)
        let block = try ByteBlock(count: needed, for: "the array data", location: url.path)
        try file.read(into: block.base, count: needed, at: header.dataOffset, what: "the array data")
        try self.init(reordering: header, location: url.path, block: block, dataStart: 0)
    }

    /// Reads only the header of the `.npy` file at `url`, checking that the
    /// file holds the data the header's shape calls for (so the shape can be
    /// trusted to size an allocation).
    public static func header(contentsOf url: URL) throws -> NumpyHeader {
        let file = try RawFile(url)
        let header = try header(of: file)
        try checkDataLength(file.size - header.dataOffset, header: header, location: url.path)
        return header
    }

    static func header(of file: RawFile) throws -> NumpyHeader {
        let prefix = try file.bytes(count: min(file.size, NumpyHeader.prefixLength), at: 0, what: "the .npy header")
        let total = try NumpyHeader.totalLength(prefix: prefix, location: file.path)
        guard total <= file.size else {
            throw EmbeddingFileError(.corrupt, file.path, "truncated: the .npy header claims \(total) bytes but the file has \(file.size)")
        }
        return try NumpyHeader.parse(file.bytes(count: total, at: 0, what: "the .npy header"), location: file.path)
    }

    /// The `.npy` file at `url` as a float32 matrix (see `floatMatrix()`),
    /// read a block at a time.
    public static func floatMatrix(contentsOf url: URL) throws -> EmbeddingMatrix {
        try readRows(contentsOf: url, into: ImportedRows.asStored).matrix()
    }

    /// The `.npy` file at `url` (a 2-D float matrix) into the rows `make`
    /// makes: a C-order or Fortran-order float16, float32 or float64 matrix
    /// a block at a time (`streamFloats`), anything else read whole first
    /// (for its errors).
    static func readRows(contentsOf url: URL, into make: ImportedRows.Maker) throws -> ImportedRows {
        let file = try RawFile(url)
        let header = try Self.header(of: file)
        guard header.dtype.isFloat, header.shape.count == 2 else {
            return try NumpyArray(contentsOf: url).storeRows(into: make)
        }
        try checkDataLength(file.size - header.dataOffset, header: header, location: url.path)
        let rows = try make(header.shape[0], header.shape[1], url.path)  // every row is stored or the read throws
        try streamFloats(from: file, header: header, into: rows, firstRow: 0)
        return rows
    }

    /// Parses `.npy` bytes held in memory; `location` names them in errors.
    public init(npyBytes bytes: [UInt8], location: String) throws {
        let block = try ByteBlock(count: bytes.count, for: "the array", location: location)
        bytes.withUnsafeBytes { if $0.count > 0 { block.base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        try self.init(block: block, location: location)
    }

    /// Parses a whole `.npy` held in `block` (header first, then data), as read
    /// from an `.npz` member; the data is used in place.
    init(block: ByteBlock, location: String) throws {
        let header = try Self.header(in: block, location: location)
        guard header.dataByteCount != nil else {
            self.init(header: header, location: location, block: nil, dataStart: 0)
            return
        }
        try Self.checkDataLength(block.count - header.dataOffset, header: header, location: location)
        try self.init(reordering: header, location: location, block: block, dataStart: header.dataOffset)
    }

    /// The header at the start of `block` (which may hold only a prefix of the array).
    static func header(in block: ByteBlock, location: String) throws -> NumpyHeader {
        let bytes = UnsafeRawBufferPointer(start: block.base, count: block.count)
        let total = try NumpyHeader.totalLength(prefix: Array(bytes.prefix(NumpyHeader.prefixLength)), location: location)
        guard total <= block.count else {
            throw EmbeddingFileError(.corrupt, location, "truncated: the .npy header claims \(total) bytes but only \(block.count) are present")
        }
        return try NumpyHeader.parse(Array(bytes.prefix(total)), location: location)
    }

    /// An array whose data was not loaded (object arrays).
    init(skipped header: NumpyHeader, location: String) {
        self.init(header: header, location: location, block: nil, dataStart: 0)
    }

    private init(header: NumpyHeader, location: String, block: ByteBlock?, dataStart: Int) {
        self.header = header
        self.location = location
        self.block = block
        self.dataStart = dataStart
    }

    /// Stores the array in C order, transposing 2-D Fortran-order data.
    private init(reordering header: NumpyHeader, location: String, block: ByteBlock, dataStart: Int) throws {
        guard header.isFortranOrder, header.shape.count >= 2 else {
            // 0-d and 1-D arrays are laid out the same in both orders.
            self.init(header: header, location: location, block: block, dataStart: dataStart)
            return
        }
        guard header.shape.count == 2 else {
            throw EmbeddingFileError(.unsupported, location, "Fortran-order arrays of \(header.shape.count) dimensions are not supported; save it in C order with np.ascontiguousarray(arr)")
        }
        let rows = header.shape[0], columns = header.shape[1], size = header.dtype.itemSize
        let transposed = try ByteBlock(count: rows * columns * size, for: "the transposed array", location: location)
        let source = block.base + dataStart
        // Column-major element (i, j) sits at j*rows + i; row-major at i*columns + j.
        for j in 0..<columns {
            for i in 0..<rows {
                (transposed.base + (i * columns + j) * size).copyMemory(from: source + (j * rows + i) * size, byteCount: size)
            }
        }
        self.init(header: header, location: location, block: transposed, dataStart: 0)
    }

    static func checkDataLength(_ actual: Int, header: NumpyHeader, location: String) throws {
        guard let needed = header.dataByteCount, actual != needed else { return }
        throw EmbeddingFileError(.corrupt, location, "data is \(actual) bytes but shape \(header.shapeText) of \(header.dtype) (\(header.dtype.itemSize) bytes each) needs \(needed) bytes: the file is truncated or its header does not match its data")
    }

    // MARK: Accessors

    /// The 2-D float array (float16, float32 or float64) as a float32 matrix,
    /// rows as stored (not normalised).
    public func floatMatrix() throws -> EmbeddingMatrix {
        try storeRows(into: ImportedRows.asStored).matrix()
    }

    /// The 2-D float array's rows into the rows `make` makes, widened to
    /// float32 a block at a time on all cores.
    func storeRows(into make: ImportedRows.Maker) throws -> ImportedRows {
        try requireData()
        guard shape.count == 2 else {
            throw wrongType("is \(describeShape); expected a 2-D matrix (rows × dimension)")
        }
        guard dtype.isFloat else {
            throw wrongType("has dtype \(dtype); expected a float matrix (float16, float32 or float64)")
        }
        let rows = try make(shape[0], shape[1], location)
        let dimension = shape[1], blockRows = ImportedRows.blockRows(dimension: dimension)
        guard let block, dimension > 0 else { return rows }
        let raw = UncheckedSendable(UnsafeRawPointer(block.base + dataStart))
        let (dtype, size) = (self.dtype, self.dtype.itemSize)
        let floats = ScratchPool(bytes: blockRows * dimension * 4)
        try parallelForThrowing((shape[0] + blockRows - 1) / blockRows) { b in
            let range = b * blockRows..<min(shape[0], (b + 1) * blockRows)
            try floats.withBuffer { buffer in
                let values = buffer.assumingMemoryBound(to: Float.self)
                Self.convertFloats(raw.value + range.lowerBound * dimension * size, dtype: dtype, count: range.count * dimension, into: values)
                try rows.store(range, values)
            }
        }
        return rows
    }

    /// Converts `n` little-endian elements of the float type `dtype` at `raw`
    /// to Float at `destination` (other types write nothing).
    static func convertFloats(_ raw: UnsafeRawPointer, dtype: NumpyDType, count n: Int, into destination: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .float32:
            #if _endian(little)
            UnsafeMutableRawPointer(destination).copyMemory(from: raw, byteCount: n * 4)
            #else
            for k in 0..<n { destination[k] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self))) }
            #endif
        case .float16:
            for k in 0..<n {
                destination[k] = Self.float(fromHalf: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: k * 2, as: UInt16.self)))
            }
        case .float64:
            for k in 0..<n {
                destination[k] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self))))
            }
        default:
            break
        }
    }

    /// All elements (any rank, C order) of a float, integer or bool array as doubles.
    public func doubles() throws -> [Double] {
        try requireData()
        guard dtype.isFloat || dtype.isInteger || dtype == .bool else {
            throw wrongType("has dtype \(dtype); expected numbers")
        }
        return (0..<count).map { number(at: $0) }
    }

    /// All elements (any rank, C order) of an integer or bool array.
    public func int64s() throws -> [Int64] {
        try requireData()
        guard dtype.isInteger || dtype == .bool else {
            throw wrongType("has dtype \(dtype); expected integers")
        }
        var out: [Int64] = []
        out.reserveCapacity(count)
        for k in 0..<count {
            guard let v = integer(at: k) else {
                throw wrongType("element \(k) does not fit in a 64-bit signed integer")
            }
            out.append(v)
        }
        return out
    }

    /// All elements (any rank, C order) of a bool array.
    public func bools() throws -> [Bool] {
        try requireData()
        guard dtype == .bool else { throw wrongType("has dtype \(dtype); expected booleans (|b1)") }
        let raw = UnsafeRawPointer(block!.base + dataStart)
        return (0..<count).map { raw.load(fromByteOffset: $0, as: UInt8.self) != 0 }
    }

    /// The strings of a 1-D or 0-d unicode (`U`) or bytes (`S`, as UTF-8)
    /// array, with numpy's trailing NUL padding removed. Code points that are
    /// not characters (Python's surrogate escapes of file names that are not
    /// UTF-8) show as U+FFFD; `fileSystemPaths()` keeps their bytes.
    public func strings() throws -> [String] {
        try requireData()
        guard dtype.isString else {
            throw wrongType("has dtype \(dtype); expected strings (a numpy unicode array such as <U40)")
        }
        guard shape.count <= 1 else {
            throw wrongType("is \(describeShape); expected a 1-D list of strings")
        }
        var out: [String] = []
        out.reserveCapacity(count)
        for k in 0..<count { out.append(try string(at: k)) }
        return out
    }

    /// The elements of a 1-D or 0-d string array as file-system paths, in
    /// bytes: UTF-8, except that Python's surrogate escapes (U+DC80–U+DCFF, how
    /// `os.fsdecode` spells bytes of a name that are not UTF-8) become the
    /// bytes they stand for, as `os.fsencode` would write them. `S` arrays give
    /// their bytes as stored.
    public func fileSystemPaths() throws -> [FileSystemPath] {
        try requireData()
        guard dtype.isString else {
            throw wrongType("has dtype \(dtype); expected paths (a numpy unicode array such as <U40)")
        }
        guard shape.count <= 1 else {
            throw wrongType("is \(describeShape); expected a 1-D list of paths")
        }
        var out: [FileSystemPath] = []
        out.reserveCapacity(count)
        for k in 0..<count {
            switch dtype {
            case .unicode(let n):
                var invalid: UInt32?
                out.append(FileSystemPath(bytes: utf8(at: k, characters: n) { code in
                    if (0xDC80...0xDCFF).contains(code) { return [UInt8(code - 0xDC00)] }
                    invalid = invalid ?? code
                    return []
                }))
                if let code = invalid {
                    throw EmbeddingFileError(.corrupt, location, "element \(k) holds an invalid code point 0x\(String(code, radix: 16)), which is neither a character nor an escaped file-name byte")
                }
            case .bytes(let n):
                out.append(FileSystemPath(bytes: Array(byteString(at: k, length: n))))
            default:
                break
            }
        }
        return out
    }

    /// The single string of a 0-d (or one-element) string array.
    public func scalarString() throws -> String {
        try requireScalar()
        guard dtype.isString else { throw wrongType("has dtype \(dtype); expected a string") }
        return try string(at: 0)
    }

    /// The single value of a 0-d (or one-element) integer or bool array; a
    /// float array is accepted when its value is a whole number.
    public func scalarInt() throws -> Int {
        try requireScalar()
        if dtype.isInteger || dtype == .bool, let v = integer(at: 0), let i = Int(exactly: v) { return i }
        if dtype.isFloat, let i = Int(exactly: number(at: 0)) { return i }
        throw wrongType("has dtype \(dtype) and value \(describeElement(0)); expected an integer")
    }

    /// The single value of a 0-d (or one-element) numeric array.
    public func scalarDouble() throws -> Double {
        try requireScalar()
        guard dtype.isFloat || dtype.isInteger || dtype == .bool else {
            throw wrongType("has dtype \(dtype); expected a number")
        }
        return number(at: 0)
    }

    // MARK: Element access

    private var raw: UnsafeRawPointer { UnsafeRawPointer(block!.base + dataStart) }

    private func number(at k: Int) -> Double {
        switch dtype {
        case .float16: return Double(Self.float(fromHalf: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: k * 2, as: UInt16.self))))
        case .float32: return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self))))
        case .float64: return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self)))
        case .uint(8): return Double(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self)))
        default: return integer(at: k).map(Double.init) ?? .nan
        }
    }

    private func integer(at k: Int) -> Int64? {
        switch dtype {
        case .bool, .uint(1): return Int64(raw.load(fromByteOffset: k, as: UInt8.self))
        case .int(1): return Int64(raw.load(fromByteOffset: k, as: Int8.self))
        case .int(2): return Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: k * 2, as: Int16.self)))
        case .int(4): return Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: k * 4, as: Int32.self)))
        case .int(8): return Int64(littleEndian: raw.loadUnaligned(fromByteOffset: k * 8, as: Int64.self))
        case .uint(2): return Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: k * 2, as: UInt16.self)))
        case .uint(4): return Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self)))
        case .uint(8): return Int64(exactly: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self)))
        default: return nil
        }
    }

    private func string(at k: Int) throws -> String {
        switch dtype {
        case .unicode(let n):
            return String(decoding: utf8(at: k, characters: n) { _ in [0xEF, 0xBF, 0xBD] }, as: UTF8.self)  // U+FFFD
        case .bytes(let n):
            return String(decoding: byteString(at: k, length: n), as: UTF8.self)
        default:
            throw wrongType("has dtype \(dtype); expected strings")
        }
    }

    /// Element `k` of a `U<n>` array (UTF-32LE, trailing NULs dropped) as
    /// UTF-8; code points that are not Unicode scalars are spelled by `invalid`.
    private func utf8(at k: Int, characters n: Int, invalid: (UInt32) -> [UInt8]) -> [UInt8] {
        let start = k * n * 4
        var length = n
        while length > 0, raw.loadUnaligned(fromByteOffset: start + (length - 1) * 4, as: UInt32.self) == 0 { length -= 1 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for c in 0..<length {
            let code = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + c * 4, as: UInt32.self))
            switch code {
            case 0..<0x80:
                bytes.append(UInt8(code))
            case 0x80..<0x800:
                bytes.append(UInt8(0xC0 | code >> 6)); bytes.append(UInt8(0x80 | code & 0x3F))
            case 0xD800...0xDFFF, 0x110000...:
                bytes.append(contentsOf: invalid(code))
            case 0x800..<0x10000:
                bytes.append(UInt8(0xE0 | code >> 12)); bytes.append(UInt8(0x80 | code >> 6 & 0x3F)); bytes.append(UInt8(0x80 | code & 0x3F))
            default:
                bytes.append(UInt8(0xF0 | code >> 18)); bytes.append(UInt8(0x80 | code >> 12 & 0x3F))
                bytes.append(UInt8(0x80 | code >> 6 & 0x3F)); bytes.append(UInt8(0x80 | code & 0x3F))
            }
        }
        return bytes
    }

    /// The bytes of element `k` of an `S<n>` array, without trailing NULs.
    private func byteString(at k: Int, length n: Int) -> UnsafeRawBufferPointer {
        var length = n
        while length > 0, raw.load(fromByteOffset: k * n + length - 1, as: UInt8.self) == 0 { length -= 1 }
        return UnsafeRawBufferPointer(start: raw + k * n, count: length)
    }

    private func describeElement(_ k: Int) -> String {
        dtype.isFloat ? String(number(at: k)) : integer(at: k).map(String.init) ?? "?"
    }

    private var describeShape: String {
        shape.isEmpty ? "0-d (a scalar)" : "\(shape.count)-D with shape \(header.shapeText)"
    }

    private func requireData() throws {
        if isSkipped {
            throw EmbeddingFileError(.wrongType, location, "is an object array (pickled Python objects), which curator never unpickles")
        }
    }

    private func requireScalar() throws {
        try requireData()
        guard count == 1 else { throw wrongType("is \(describeShape); expected a single value (a 0-d array)") }
    }

    private func wrongType(_ problem: String) -> EmbeddingFileError {
        EmbeddingFileError(.wrongType, location, problem)
    }

    /// Converts IEEE half-precision bits to Float (exact: every half is a float).
    @inline(__always)
    static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F {  // infinity or NaN
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        }
        if exponent == 0 {  // zero or subnormal: mantissa × 2⁻²⁴
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }
}
