/// Decompresses a raw Snappy block (the format Parquet's SNAPPY pages use:
/// no framing), as described in Snappy's format_description.txt: a varint
/// uncompressed length, then literals and back-references.
///
/// Every length and offset is checked against the output and input before
/// use, and the output is exactly the size the caller expects (a page
/// header says it) or the block is refused, so damaged input cannot write
/// out of bounds or make the output grow.
enum Snappy {
    /// Why a block cannot be decompressed, in words.
    struct Malformed: Error {
        let problem: String
    }

    /// The uncompressed length a block claims (its leading varint).
    static func uncompressedLength(_ input: UnsafeRawBufferPointer) throws(Malformed) -> Int {
        var position = 0
        return try preamble(input, &position)
    }

    /// Decompresses `input` into `output`, which must be exactly the block's uncompressed length.
    static func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(Malformed) {
        var position = 0
        let length = try preamble(input, &position)
        guard length == output.count else {
            throw Malformed(problem: "the block holds \(length) bytes, not the \(output.count) its page header says")
        }
        guard length > 0 else { return }
        let src = input.baseAddress!, dst = output.baseAddress!
        let inEnd = input.count
        var produced = 0
        while position < inEnd {
            let tag = src.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            var copyLength: Int
            var offset: Int
            switch tag & 3 {
            case 0:  // a literal
                var literal = Int(tag >> 2)
                if literal >= 60 {
                    let extra = literal - 59
                    guard position + extra <= inEnd else { throw Malformed(problem: "a literal's length is cut off") }
                    literal = 0
                    for i in 0..<extra { literal |= Int(src.load(fromByteOffset: position + i, as: UInt8.self)) << (8 * i) }
                    position += extra
                }
                literal += 1
                guard literal <= inEnd - position else { throw Malformed(problem: "a literal runs past the end of the input") }
                guard literal <= length - produced else { throw Malformed(problem: "a literal runs past the stated length") }
                if literal <= 16, inEnd - position >= 16, length - produced >= 16 {
                    // Short literals (most of them): two 8-byte moves, past the end while there is room.
                    (dst + produced).storeBytes(of: src.loadUnaligned(fromByteOffset: position, as: UInt64.self), as: UInt64.self)
                    (dst + produced + 8).storeBytes(of: src.loadUnaligned(fromByteOffset: position + 8, as: UInt64.self), as: UInt64.self)
                } else {
                    (dst + produced).copyMemory(from: src + position, byteCount: literal)
                }
                position += literal
                produced += literal
                continue
            case 1:
                guard position < inEnd else { throw Malformed(problem: "a copy is cut off") }
                copyLength = Int((tag >> 2) & 7) + 4
                offset = Int(tag >> 5) << 8 | Int(src.load(fromByteOffset: position, as: UInt8.self))
                position += 1
            case 2:
                guard position + 2 <= inEnd else { throw Malformed(problem: "a copy is cut off") }
                copyLength = Int(tag >> 2) + 1
                offset = Int(src.load(fromByteOffset: position, as: UInt8.self)) | Int(src.load(fromByteOffset: position + 1, as: UInt8.self)) << 8
                position += 2
            default:
                guard position + 4 <= inEnd else { throw Malformed(problem: "a copy is cut off") }
                copyLength = Int(tag >> 2) + 1
                offset = 0
                for i in 0..<4 { offset |= Int(src.load(fromByteOffset: position + i, as: UInt8.self)) << (8 * i) }
                position += 4
            }
            guard offset > 0, offset <= produced else {
                throw Malformed(problem: "a copy refers \(offset) bytes back, before the start of the output")
            }
            guard copyLength <= length - produced else { throw Malformed(problem: "a copy runs past the stated length") }
            let from = dst + produced - offset
            if offset >= 8, length - produced >= copyLength + 8 {
                // Eight bytes at a time: each move reads only bytes already
                // written (offset ≥ 8), and may write up to 7 past the copy
                // while the output has room (later bytes overwrite them).
                var i = 0
                while i < copyLength {
                    (dst + produced + i).storeBytes(of: (from + i).loadUnaligned(as: UInt64.self), as: UInt64.self)
                    i += 8
                }
            } else if offset >= copyLength {
                (dst + produced).copyMemory(from: from, byteCount: copyLength)
            } else {
                // Overlapping: the run repeats the last `offset` bytes.
                for i in 0..<copyLength {
                    (dst + produced + i).storeBytes(of: from.load(fromByteOffset: i, as: UInt8.self), as: UInt8.self)
                }
            }
            produced += copyLength
        }
        guard produced == length else {
            throw Malformed(problem: "the block ends after \(produced) of its \(length) bytes")
        }
    }

    private static func preamble(_ input: UnsafeRawBufferPointer, _ position: inout Int) throws(Malformed) -> Int {
        var value = 0
        var shift = 0
        while true {
            guard position < input.count else { throw Malformed(problem: "the block is empty or its length is cut off") }
            let b = input[position]
            position += 1
            value |= Int(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
            guard shift < 35 else { throw Malformed(problem: "the block's length is longer than five bytes") }
        }
    }
}
