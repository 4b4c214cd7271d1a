import Foundation
#if canImport(CZlib)
import CZlib
#elseif canImport(zlib)
import zlib
#endif

/// Builds `.npz` (zip) files byte by byte, including ones no honest writer
/// makes: members whose directory entry lies about their size, deflate
/// streams that expand a thousandfold, arrays whose headers contradict each
/// other. Hostile-input tests generate their fixtures with it at run time,
/// so nothing large is committed.
enum ZipFixture {
    /// One member as it will be written.
    struct Member {
        var name: String
        /// The bytes stored in the archive (compressed for method 8).
        var data: [UInt8]
        /// 0 stored, 8 deflated.
        var method: UInt16
        /// CRC-32 of the uncompressed bytes.
        var crc: UInt32
        /// The uncompressed size the directory claims.
        var uncompressedSize: Int
    }

    /// An `.npy` header (version 1.0) padded to a multiple of 64 bytes, as numpy writes it.
    static func npyHeader(descr: String, shape: [Int], fortran: Bool = false) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var text = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
        while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
        text += "\n"
        let n = text.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(text.utf8)
    }

    /// A complete `.npy` of float32 rows.
    static func npy(rows: [[Float]]) -> [UInt8] {
        var bytes = npyHeader(descr: "<f4", shape: [rows.count, rows.first?.count ?? 0])
        for row in rows { for v in row { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } } }
        return bytes
    }

    /// A complete `.npy` of unicode strings (`<U n`), as PhotoMapAI's `filenames`.
    static func npy(strings: [String]) -> [UInt8] {
        let width = max(1, strings.map { $0.unicodeScalars.count }.max() ?? 1)
        var bytes = npyHeader(descr: "<U\(width)", shape: [strings.count])
        for s in strings {
            var scalars = s.unicodeScalars.map(\.value)
            scalars += Array(repeating: 0, count: width - scalars.count)
            for v in scalars { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        }
        return bytes
    }

    /// A stored member holding `bytes`.
    static func stored(_ name: String, _ bytes: [UInt8]) -> Member {
        Member(name: name, data: bytes, method: 0, crc: crc(bytes), uncompressedSize: bytes.count)
    }

    /// A deflated member holding `bytes`.
    static func deflated(_ name: String, _ bytes: [UInt8]) -> Member {
        Member(name: name, data: compress(bytes, finish: true), method: 8, crc: crc(bytes), uncompressedSize: bytes.count)
    }

    /// A deflated member that inflates to `prefix` followed by zeros up to
    /// `size` bytes, made without ever holding those zeros: a flushed deflate
    /// block of a MiB of zeros only refers to itself, so it is repeated.
    /// About 1 KB per MiB: a 2.4 GB member is 2.4 MB.
    static func zeroBomb(_ name: String, prefix: [UInt8], size: Int) -> Member {
        let chunk = 1 << 20
        precondition(size >= chunk && prefix.count < chunk, "zeroBomb: at least a MiB")
        let first = prefix + [UInt8](repeating: 0, count: chunk - prefix.count)
        let zeros = [UInt8](repeating: 0, count: chunk)
        let block = compress(zeros, finish: false)
        var data = compress(first, finish: false)
        let repeats = (size - chunk) / chunk, tail = (size - chunk) % chunk
        data.reserveCapacity(data.count + repeats * block.count + 1024)
        for _ in 0..<repeats { data += block }
        data += compress([UInt8](repeating: 0, count: tail), finish: true)  // ends the stream
        var sum = UInt(crc(first))
        let zeroCRC = UInt(crc(zeros))
        for _ in 0..<repeats { sum = crc32_combine(sum, zeroCRC, off_t(chunk)) }
        sum = crc32_combine(sum, UInt(crc([UInt8](repeating: 0, count: tail))), off_t(tail))
        return Member(name: name, data: data, method: 8, crc: UInt32(sum), uncompressedSize: size)
    }

    /// The archive's bytes: local headers and data, then the central
    /// directory (ZIP64 fields for sizes of 4 GiB and more), then its end record.
    static func archive(_ members: [Member]) -> [UInt8] {
        var out: [UInt8] = []
        var directory: [UInt8] = []
        for m in members {
            let offset = out.count
            let name = Array(m.name.utf8)
            let big = m.uncompressedSize >= 0xFFFF_FFFF || m.data.count >= 0xFFFF_FFFF
            out += u32(0x0403_4B50) + u16(big ? 45 : 20) + u16(0) + u16(m.method) + u16(0) + u16(0x21)
            out += u32(m.crc) + u32(big ? 0xFFFF_FFFF : UInt32(m.data.count)) + u32(big ? 0xFFFF_FFFF : UInt32(m.uncompressedSize))
            out += u16(UInt16(name.count)) + u16(0) + name
            out += m.data
            var extra: [UInt8] = []
            if big { extra = u16(1) + u16(16) + u64(UInt64(m.uncompressedSize)) + u64(UInt64(m.data.count)) }
            directory += u32(0x0201_4B50) + u16(45) + u16(big ? 45 : 20) + u16(0) + u16(m.method) + u16(0) + u16(0x21)
            directory += u32(m.crc) + u32(big ? 0xFFFF_FFFF : UInt32(m.data.count)) + u32(big ? 0xFFFF_FFFF : UInt32(m.uncompressedSize))
            directory += u16(UInt16(name.count)) + u16(UInt16(extra.count)) + u16(0) + u16(0) + u16(0) + u32(0) + u32(UInt32(offset))
            directory += name + extra
        }
        let directoryOffset = out.count
        out += directory
        out += u32(0x0605_4B50) + u16(0) + u16(0) + u16(UInt16(members.count)) + u16(UInt16(members.count))
        out += u32(UInt32(directory.count)) + u32(UInt32(directoryOffset)) + u16(0)
        return out
    }

    static func crc(_ bytes: [UInt8]) -> UInt32 {
        UInt32(bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) })
    }

    /// Raw deflate of `bytes`: finished, or ended with a sync flush so more blocks may follow.
    static func compress(_ bytes: [UInt8], finish: Bool) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit2_(&stream, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var input = bytes
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            repeat {
                buffer.withUnsafeMutableBufferPointer { b in
                    stream.next_out = b.baseAddress
                    stream.avail_out = UInt32(b.count)
                    _ = deflate(&stream, finish ? Z_FINISH : Z_SYNC_FLUSH)
                    out += b[0..<(b.count - Int(stream.avail_out))]
                }
            } while stream.avail_out == 0
        }
        return out
    }

    private static func u16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private static func u32(_ v: UInt32) -> [UInt8] { u16(UInt16(v & 0xFFFF)) + u16(UInt16(v >> 16)) }
    private static func u64(_ v: UInt64) -> [UInt8] { u32(UInt32(v & 0xFFFF_FFFF)) + u32(UInt32(v >> 32)) }
}
