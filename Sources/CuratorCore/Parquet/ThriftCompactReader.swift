/// Reads Apache Thrift's compact protocol, the encoding of a Parquet file's
/// footer and page headers, from bytes someone else wrote.
///
/// Nothing the bytes claim is trusted: every length and element count is
/// checked against the bytes that remain before anything is read or
/// allocated (every element takes at least one byte, so a list cannot claim
/// more elements than there are bytes left), varints are at most ten bytes,
/// and structures nest at most `maximumDepth` deep, so damaged or hostile
/// input ends in `Malformed`, never in a crash, a hang or a huge allocation.
struct ThriftCompactReader {
    /// The compact protocol's type codes (field headers and list elements).
    enum FieldType {
        static let stop: UInt8 = 0
        static let booleanTrue: UInt8 = 1
        static let booleanFalse: UInt8 = 2
        static let byte: UInt8 = 3
        static let i16: UInt8 = 4
        static let i32: UInt8 = 5
        static let i64: UInt8 = 6
        static let double: UInt8 = 7
        static let binary: UInt8 = 8
        static let list: UInt8 = 9
        static let set: UInt8 = 10
        static let map: UInt8 = 11
        static let structure: UInt8 = 12
    }

    /// What is wrong with the bytes, in words; the caller adds which file and structure.
    struct Malformed: Error {
        let problem: String
    }

    /// How deep structures, lists and maps may nest; Parquet's own go about five deep.
    static let maximumDepth = 32

    private let bytes: [UInt8]
    /// The offset of the next byte to read.
    private(set) var position: Int
    private let end: Int
    private var depth = 0

    /// A reader of `bytes[start..<end]` (the whole array by default).
    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        position = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    /// How many bytes are left.
    var remaining: Int { end - position }

    mutating func byte() throws(Malformed) -> UInt8 {
        guard position < end else { throw Malformed(problem: "it ends in the middle of a value") }
        defer { position += 1 }
        return bytes[position]
    }

    /// An unsigned LEB128 varint (at most ten bytes).
    mutating func varint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw Malformed(problem: "a number is longer than ten bytes") }
        }
    }

    /// A zigzag-encoded signed varint (Thrift's i16, i32 and i64).
    mutating func zigzag() throws(Malformed) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    /// An integer field of any integer type (Parquet's enums are i32), as Int.
    mutating func integer(_ type: UInt8) throws(Malformed) -> Int {
        switch type {
        case FieldType.byte: return Int(Int8(bitPattern: try byte()))
        case FieldType.i16, FieldType.i32, FieldType.i64: return Int(try zigzag())
        default: throw Malformed(problem: "a field has type \(type) where an integer belongs")
        }
    }

    /// A boolean struct field: its value is the type code itself.
    func boolean(_ type: UInt8) throws(Malformed) -> Bool {
        switch type {
        case FieldType.booleanTrue: return true
        case FieldType.booleanFalse: return false
        default: throw Malformed(problem: "a field has type \(type) where a boolean belongs")
        }
    }

    /// A binary or string value's bytes.
    mutating func binary(_ type: UInt8 = FieldType.binary) throws(Malformed) -> ArraySlice<UInt8> {
        guard type == FieldType.binary else { throw Malformed(problem: "a field has type \(type) where a string belongs") }
        let length = try varint()
        guard length <= UInt64(remaining) else {
            throw Malformed(problem: "a string claims \(length) bytes but only \(remaining) remain")
        }
        defer { position += Int(length) }
        return bytes[position..<position + Int(length)]
    }

    /// A string value (invalid UTF-8 shows as U+FFFD).
    mutating func string(_ type: UInt8 = FieldType.binary) throws(Malformed) -> String {
        String(decoding: try binary(type), as: UTF8.self)
    }

    /// A list or set header: element count (at most the bytes left) and element type.
    mutating func listHeader(_ type: UInt8 = FieldType.list) throws(Malformed) -> (count: Int, elementType: UInt8) {
        guard type == FieldType.list || type == FieldType.set else {
            throw Malformed(problem: "a field has type \(type) where a list belongs")
        }
        let header = try byte()
        var count = UInt64(header >> 4)
        if count == 15 { count = try varint() }
        guard count <= UInt64(remaining) else {
            throw Malformed(problem: "a list claims \(count) elements but only \(remaining) bytes remain")
        }
        return (Int(count), header & 0x0F)
    }

    /// A list whose elements `element` reads (given the element type).
    mutating func list<T>(_ type: UInt8, _ element: (inout ThriftCompactReader, UInt8) throws(Malformed) -> T) throws(Malformed) -> [T] {
        let (count, elementType) = try listHeader(type)
        try enter()
        defer { depth -= 1 }
        var out: [T] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try element(&self, elementType)) }
        return out
    }

    /// Reads a structure: `field` is called with each field's id and type and
    /// returns whether it read the value; fields it does not read are skipped.
    mutating func structure(_ field: (inout ThriftCompactReader, Int, UInt8) throws(Malformed) -> Bool) throws(Malformed) {
        try enter()
        defer { depth -= 1 }
        var lastID = 0
        while true {
            let header = try byte()
            let type = header & 0x0F
            if type == FieldType.stop { return }
            let delta = Int(header >> 4)
            let id = delta == 0 ? Int(try zigzag()) : lastID + delta
            lastID = id
            if try !field(&self, id, type) { try skip(type) }
        }
    }

    /// Skips one value of `type`.
    mutating func skip(_ type: UInt8) throws(Malformed) {
        switch type {
        case FieldType.booleanTrue, FieldType.booleanFalse: return
        case FieldType.byte: _ = try byte()
        case FieldType.i16, FieldType.i32, FieldType.i64: _ = try varint()
        case FieldType.double:
            guard remaining >= 8 else { throw Malformed(problem: "it ends in the middle of a value") }
            position += 8
        case FieldType.binary: _ = try binary()
        case FieldType.list, FieldType.set:
            let (count, elementType) = try listHeader(type)
            try enter()
            defer { depth -= 1 }
            for _ in 0..<count {
                // Booleans in lists take a byte each (unlike in structures).
                if elementType == FieldType.booleanTrue || elementType == FieldType.booleanFalse { _ = try byte() } else { try skip(elementType) }
            }
        case FieldType.map:
            let count = try varint()
            guard count > 0 else { return }
            guard count <= UInt64(remaining) else {
                throw Malformed(problem: "a map claims \(count) entries but only \(remaining) bytes remain")
            }
            let types = try byte()
            try enter()
            defer { depth -= 1 }
            for _ in 0..<count {
                try skip(types >> 4)
                try skip(types & 0x0F)
            }
        case FieldType.structure:
            try structure { _, _, _ throws(Malformed) in false }
        default:
            throw Malformed(problem: "unknown value type \(type)")
        }
    }

    private mutating func enter() throws(Malformed) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw Malformed(problem: "values nest more than \(Self.maximumDepth) deep")
        }
    }
}
