/// The header of an `.npy` array: format version, element type, memory order
/// and shape, plus where the data starts. Versions 1.0, 2.0 and 3.0 are read
/// (they differ in the width of the header length and in the header's text
/// encoding: Latin-1 for 1 and 2, UTF-8 for 3).
public struct NumpyHeader: Equatable, Sendable {
    /// The format version (major, minor), e.g. (1, 0).
    public let version: (major: Int, minor: Int)
    /// The element type.
    public let dtype: NumpyDType
    /// Whether the file stores the array in Fortran (column-major) order.
    public let isFortranOrder: Bool
    /// The shape; empty for a 0-d (scalar) array.
    public let shape: [Int]
    /// The offset of the first data byte from the start of the `.npy` bytes.
    public let dataOffset: Int

    /// The number of elements (1 for a 0-d array).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The number of data bytes the shape and dtype call for; nil for object
    /// arrays, whose data is a pickle of unknown length.
    public var dataByteCount: Int? { dtype == .object ? nil : elementCount * dtype.itemSize }

    public static func == (a: NumpyHeader, b: NumpyHeader) -> Bool {
        a.version == b.version && a.dtype == b.dtype && a.isFortranOrder == b.isFortranOrder
            && a.shape == b.shape && a.dataOffset == b.dataOffset
    }

    /// The shape as Python prints it: `()`, `(5,)`, `(3, 4)`.
    public var shapeText: String { Self.shapeText(shape) }

    static func shapeText(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// The magic string every `.npy` starts with.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    /// The longest header read (numpy's own default limit is 10,000 bytes).
    static let maximumLength = 1 << 20
    /// Bytes needed to learn the header's total length.
    static let prefixLength = 12

    /// The total header length (magic through padding) from the first bytes,
    /// which must be at least `prefixLength` long unless the input is shorter.
    static func totalLength(prefix: [UInt8], location: String) throws -> Int {
        guard prefix.count >= 10, Array(prefix[0..<6]) == magic else {
            throw EmbeddingFileError(.notRecognized, location, "not a numpy .npy array (it does not start with \\x93NUMPY)")
        }
        let major = Int(prefix[6]), minor = Int(prefix[7])
        switch major {
        case 1:
            return 10 + (Int(prefix[8]) | Int(prefix[9]) << 8)
        case 2, 3:
            guard prefix.count >= 12 else {
                throw EmbeddingFileError(.corrupt, location, "truncated .npy header")
            }
            let total = 12 + (Int(prefix[8]) | Int(prefix[9]) << 8 | Int(prefix[10]) << 16 | Int(prefix[11]) << 24)
            // numpy itself refuses headers above 10,000 bytes unless told otherwise.
            guard total <= maximumLength else {
                throw EmbeddingFileError(.corrupt, location, "the .npy header claims \(total) bytes; real headers are a few hundred (curator reads up to \(maximumLength))")
            }
            return total
        default:
            throw EmbeddingFileError(.unsupported, location, ".npy format version \(major).\(minor) is not supported (curator reads 1.0, 2.0 and 3.0)")
        }
    }

    /// Parses a complete header (`bytes` holds at least `totalLength` bytes).
    static func parse(_ bytes: [UInt8], location: String) throws -> NumpyHeader {
        let total = try totalLength(prefix: bytes, location: location)
        guard bytes.count >= total else {
            throw EmbeddingFileError(.corrupt, location, "truncated: the .npy header claims \(total) bytes but only \(bytes.count) are present")
        }
        let major = Int(bytes[6]), minor = Int(bytes[7])
        let textBytes = bytes[(major == 1 ? 10 : 12)..<total]
        let text: String
        if major == 3 {
            guard let utf8 = String(validating: textBytes, as: UTF8.self) else {
                throw EmbeddingFileError(.corrupt, location, "the .npy header is not valid UTF-8")
            }
            text = utf8
        } else {
            text = String(String.UnicodeScalarView(textBytes.map { Unicode.Scalar($0) }))  // Latin-1
        }

        let literal: PythonLiteral
        do {
            literal = try PythonLiteral.parse(text)
        } catch let e as PythonLiteral.SyntaxError {
            throw EmbeddingFileError(.corrupt, location, "the .npy header is not a valid Python dict (\(e.message) at character \(e.offset)): \(text.trimmingTrailingWhitespace)")
        }
        guard case .dict(let dict) = literal else {
            throw EmbeddingFileError(.corrupt, location, "the .npy header is not a dict: \(text.trimmingTrailingWhitespace)")
        }
        for key in ["descr", "fortran_order", "shape"] where dict[key] == nil {
            throw EmbeddingFileError(.corrupt, location, "the .npy header has no '\(key)' entry: \(text.trimmingTrailingWhitespace)")
        }

        let dtype: NumpyDType
        switch dict["descr"]! {
        case .string(let descr):
            do { dtype = try NumpyDType.parse(descr) } catch let p as DTypeProblem {
                throw EmbeddingFileError(.unsupported, location, p.message)
            }
        case let other:
            throw EmbeddingFileError(.unsupported, location, "structured dtype \(other.pythonText) is not supported (curator reads plain arrays)")
        }
        guard case .bool(let fortran) = dict["fortran_order"]! else {
            throw EmbeddingFileError(.corrupt, location, "the .npy header's 'fortran_order' is \(dict["fortran_order"]!.pythonText), not True or False")
        }
        guard case .tuple(let dims) = dict["shape"]! else {
            throw EmbeddingFileError(.corrupt, location, "the .npy header's 'shape' is \(dict["shape"]!.pythonText), not a tuple")
        }
        var shape: [Int] = []
        var count = 1
        for dim in dims {
            guard case .int(let n) = dim, n >= 0 else {
                throw EmbeddingFileError(.corrupt, location, "the .npy header's shape \(dict["shape"]!.pythonText) has an invalid dimension")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else {
                throw EmbeddingFileError(.corrupt, location, "the .npy header's shape \(dict["shape"]!.pythonText) is impossibly large")
            }
            count = product
            shape.append(n)
        }
        guard !count.multipliedReportingOverflow(by: dtype.itemSize).overflow else {
            throw EmbeddingFileError(.corrupt, location, "the .npy header's shape \(dict["shape"]!.pythonText) is impossibly large")
        }
        return NumpyHeader(version: (major, minor), dtype: dtype, isFortranOrder: fortran, shape: shape, dataOffset: total)
    }
}

extension String {
    /// The text without the spaces and newline that pad an .npy header.
    var trimmingTrailingWhitespace: String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
