/// The element types curator reads from `.npy` data, all little-endian (or
/// single-byte, where byte order does not apply).
public enum NumpyDType: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// IEEE half precision (`<f2`); older PhotoMapAI indexes store embeddings so.
    case float16
    /// IEEE single precision (`<f4`).
    case float32
    /// IEEE double precision (`<f8`).
    case float64
    /// Signed integers of 1, 2, 4 or 8 bytes (`|i1`, `<i2`, `<i4`, `<i8`).
    case int(bytes: Int)
    /// Unsigned integers of 1, 2, 4 or 8 bytes (`|u1`, `<u2`, `<u4`, `<u8`).
    case uint(bytes: Int)
    /// Booleans, one byte each (`|b1`).
    case bool
    /// Fixed-length Unicode strings of `characters` UTF-32LE code points (`<U12`).
    case unicode(characters: Int)
    /// Fixed-length byte strings (`|S12`), read as UTF-8.
    case bytes(length: Int)
    /// Python objects (`|O`): their data is a pickle, which curator never loads.
    case object

    /// The size of one element in bytes (object arrays: the pointer size numpy uses).
    public var itemSize: Int {
        switch self {
        case .float16: return 2
        case .float32: return 4
        case .float64: return 8
        case .int(let b), .uint(let b): return b
        case .bool: return 1
        case .unicode(let n): return 4 * n
        case .bytes(let n): return n
        case .object: return 8
        }
    }

    /// Whether this is one of the floating-point types.
    public var isFloat: Bool { self == .float16 || self == .float32 || self == .float64 }

    /// Whether this is a signed or unsigned integer type.
    public var isInteger: Bool {
        switch self {
        case .int, .uint: return true
        default: return false
        }
    }

    /// Whether this is a string type (`U` or `S`).
    public var isString: Bool {
        switch self {
        case .unicode, .bytes: return true
        default: return false
        }
    }

    /// numpy's spelling, e.g. `<f4`, `|b1`, `<U12`.
    public var description: String {
        switch self {
        case .float16: return "<f2"
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .int(let b): return b == 1 ? "|i1" : "<i\(b)"
        case .uint(let b): return b == 1 ? "|u1" : "<u\(b)"
        case .bool: return "|b1"
        case .unicode(let n): return "<U\(n)"
        case .bytes(let n): return "|S\(n)"
        case .object: return "|O"
        }
    }

    /// Parses a numpy type string (the header's `descr`). Errors are plain
    /// sentences; the caller adds the file and key.
    static func parse(_ descr: String) throws -> NumpyDType {
        var chars = Substring(descr)
        var order: Character = "="
        if let first = chars.first, "<>|=".contains(first) {
            order = first
            chars = chars.dropFirst()
        }
        guard let kind = chars.first else { throw DTypeProblem.unknown(descr) }
        let sizeText = chars.dropFirst()
        let size: Int? = sizeText.isEmpty ? nil : Int(sizeText)
        if !sizeText.isEmpty && size == nil { throw DTypeProblem.unknown(descr) }

        let type: NumpyDType
        switch (kind, size) {
        case ("f", 2): type = .float16
        case ("f", 4): type = .float32
        case ("f", 8): type = .float64
        case ("i", let s?) where [1, 2, 4, 8].contains(s): type = .int(bytes: s)
        case ("u", let s?) where [1, 2, 4, 8].contains(s): type = .uint(bytes: s)
        case ("b", 1), ("?", nil): type = .bool
        case ("U", let n?): type = .unicode(characters: n)
        case ("S", let n?), ("a", let n?): type = .bytes(length: n)
        case ("O", nil), ("O", 4), ("O", 8): type = .object
        default: throw DTypeProblem.unknown(descr)
        }
        // Byte order matters only for multi-byte numbers and UTF-32 code units.
        let orderMatters: Bool
        switch type {
        case .bool, .bytes, .object: orderMatters = false
        case .unicode: orderMatters = true
        default: orderMatters = type.itemSize > 1
        }
        if orderMatters {
            switch order {
            case ">": throw DTypeProblem.bigEndian(descr)
            case "|": throw DTypeProblem.unknown(descr)
            default: break  // "<", or "=" (native: every platform curator runs on is little-endian)
            }
        }
        return type
    }
}

/// Why a `descr` was refused; turned into an `EmbeddingFileError` by the caller.
enum DTypeProblem: Error {
    case unknown(String)
    case bigEndian(String)

    var message: String {
        switch self {
        case .unknown(let d):
            return "unsupported dtype '\(d)' (curator reads float16/32/64, int and uint of 1–8 bytes, bool, unicode 'U' and bytes 'S' arrays)"
        case .bigEndian(let d):
            let little = "<" + d.dropFirst()
            return "dtype '\(d)' is big-endian, which curator does not read; rewrite it with arr.astype('\(little)')"
        }
    }
}
