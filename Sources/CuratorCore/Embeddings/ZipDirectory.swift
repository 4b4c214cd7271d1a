import Foundation
#if canImport(CZlib)
import CZlib  // zlib, as ZIPFoundation's Linux build exposes it
#elseif canImport(zlib)
import zlib  // zlib from the Apple SDKs
#endif

/// One file inside a zip archive, as its central-directory entry describes it.
struct ZipMember: Sendable {
    /// The member's path inside the archive.
    let name: String
    /// 0 = stored, 8 = deflated.
    let method: UInt16
    /// General-purpose flags (bit 0: encrypted).
    let flags: UInt16
    /// CRC-32 of the uncompressed bytes.
    let crc32: UInt32
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int
}

/// The reading side of a zip archive, as `np.savez` and `np.savez_compressed`
/// write them (stored or deflated members, ZIP64 sizes and offsets).
///
/// ZIPFoundation's `Archive` was the first choice, but its Linux inflate path
/// reads past the end of a member and, on a truncated deflate stream, loops
/// forever at end of file (seen with 0.9.20); an index file cut short must give
/// an error, not a hang. Reading the directory here also lets each member go
/// from disk straight into the buffer the array keeps: one copy, no chunks.
/// `@unchecked Sendable`: immutable after reading the directory, and reads are positioned (`pread`).
final class ZipDirectory: @unchecked Sendable {
    /// The archive file.
    let file: RawFile
    /// The members in central-directory order.
    let members: [ZipMember]

    /// Reads the central directory of the zip archive at `url`.
    init(_ url: URL) throws {
        file = try RawFile(url)
        members = try Self.readDirectory(file)
    }

    // MARK: Central directory

    private static func readDirectory(_ file: RawFile) throws -> [ZipMember] {
        let path = file.path
        let tailLength = min(file.size, 22 + 0xFFFF)
        let tail = try file.bytes(count: tailLength, at: file.size - tailLength, what: "the zip directory")
        guard let eocd = findEndRecord(tail) else {
            let head = try file.bytes(count: min(file.size, 6), at: 0, what: "the file start")
            if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
                throw EmbeddingFileError(.corrupt, path, "truncated: it starts like a zip archive but its end (the central directory) is missing")
            }
            if head.starts(with: NumpyHeader.magic) {
                throw EmbeddingFileError(.notRecognized, path, "is a single .npy array, not an .npz archive")
            }
            throw EmbeddingFileError(.notRecognized, path, file.size == 0 ? "is empty, not an .npz (zip) archive" : "is not an .npz (zip) archive")
        }
        let eocdOffset = file.size - tailLength + eocd
        var count = Int(tail.u16(eocd + 10))
        var directorySize = Int(tail.u32(eocd + 12))
        var directoryOffset = Int(tail.u32(eocd + 16))

        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the end record points at the ZIP64 end record.
            guard eocdOffset >= 20 else { throw corrupt(path, "its ZIP64 directory locator is missing") }
            let locator = try file.bytes(count: 20, at: eocdOffset - 20, what: "the ZIP64 locator")
            guard locator.u32(0) == 0x0706_4B50, let recordOffset = Int(exactly: locator.u64(8)),
                  recordOffset >= 0, recordOffset <= file.size - 56 else {
                throw corrupt(path, "its ZIP64 directory locator is missing or damaged")
            }
            let record = try file.bytes(count: 56, at: recordOffset, what: "the ZIP64 end record")
            guard record.u32(0) == 0x0606_4B50,
                  let c = Int(exactly: record.u64(32)), let s = Int(exactly: record.u64(40)), let o = Int(exactly: record.u64(48)) else {
                throw corrupt(path, "its ZIP64 end record is damaged")
            }
            (count, directorySize, directoryOffset) = (c, s, o)
        }
        guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= file.size,
              directorySize <= file.size - directoryOffset, count <= directorySize / 46 + 1 else {
            throw corrupt(path, "its central directory lies outside the file (truncated or damaged)")
        }

        let directory = try file.bytes(count: directorySize, at: directoryOffset, what: "the central directory")
        var members: [ZipMember] = []
        var p = 0
        for index in 0..<count {
            guard p + 46 <= directory.count, directory.u32(p) == 0x0201_4B50 else {
                throw corrupt(path, "central directory entry \(index + 1) of \(count) is damaged")
            }
            let flags = directory.u16(p + 8)
            let method = directory.u16(p + 10)
            let crc = directory.u32(p + 16)
            var compressed = UInt64(directory.u32(p + 20))
            var uncompressed = UInt64(directory.u32(p + 24))
            let nameLength = Int(directory.u16(p + 28))
            let extraLength = Int(directory.u16(p + 30))
            let commentLength = Int(directory.u16(p + 32))
            var localOffset = UInt64(directory.u32(p + 42))
            let nameStart = p + 46, extraStart = nameStart + nameLength
            let next = extraStart + extraLength + commentLength
            guard next <= directory.count else {
                throw corrupt(path, "central directory entry \(index + 1) of \(count) runs past the directory")
            }
            let nameBytes = directory[nameStart..<extraStart]
            let name = String(validating: nameBytes, as: UTF8.self)
                ?? String(String.UnicodeScalarView(nameBytes.map { Unicode.Scalar($0) }))

            // ZIP64 extra field: 64-bit values for the fields saturated at 0xFFFFFFFF, in this order.
            var e = extraStart
            while e + 4 <= extraStart + extraLength {
                let id = directory.u16(e), size = Int(directory.u16(e + 2))
                if id == 0x0001 {
                    var q = e + 4
                    func next64() -> UInt64? {
                        guard q + 8 <= e + 4 + size, q + 8 <= directory.count else { return nil }
                        defer { q += 8 }
                        return directory.u64(q)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = next64() ?? uncompressed }
                    if compressed == 0xFFFF_FFFF { compressed = next64() ?? compressed }
                    if localOffset == 0xFFFF_FFFF { localOffset = next64() ?? localOffset }
                }
                e += 4 + size
            }
            guard let c = Int(exactly: compressed), let u = Int(exactly: uncompressed), let o = Int(exactly: localOffset) else {
                throw corrupt(path, "member '\(name)' has impossible sizes in the central directory")
            }
            members.append(ZipMember(name: name, method: method, flags: flags, crc32: crc,
                                     compressedSize: c, uncompressedSize: u, localHeaderOffset: o))
            p = next
        }
        return members
    }

    /// The offset of the end-of-central-directory record in `tail`, searching
    /// backwards (a comment of up to 64 KiB may follow it).
    private static func findEndRecord(_ tail: [UInt8]) -> Int? {
        guard tail.count >= 22 else { return nil }
        var i = tail.count - 22
        while i >= 0 {
            if tail[i] == 0x50, tail[i + 1] == 0x4B, tail[i + 2] == 0x05, tail[i + 3] == 0x06,
               i + 22 + Int(tail.u16(i + 20)) <= tail.count {
                return i
            }
            i -= 1
        }
        return nil
    }

    private static func corrupt(_ path: String, _ problem: String) -> EmbeddingFileError {
        EmbeddingFileError(.corrupt, path, "damaged zip archive: \(problem)")
    }

    // MARK: Members

    /// Reads `member`'s uncompressed bytes into a new block, checking its CRC.
    /// With `prefix`, reads only (up to) that many leading bytes, unchecked:
    /// enough to see an `.npy` header without loading the data.
    func read(_ member: ZipMember, location: String, prefix: Int? = nil) throws -> ByteBlock {
        if prefix == nil { try checkClaim(member, location: location) }
        let block = try ByteBlock(count: min(prefix ?? member.uncompressedSize, member.uncompressedSize),
                                  for: prefix == nil ? "the member" : "the member's header", location: location)
        try read(member, location: location, into: [UnsafeMutableRawBufferPointer(start: block.base, count: block.count)],
                 wholeMember: prefix == nil)
        return block
    }

    /// Throws unless reading all of `member` is plausible: its claimed size
    /// within `ArrayMemory`'s cap and, when deflated, within what deflate
    /// produces from its compressed size and below the zip-bomb ratio. Call it
    /// before allocating anything of the member's claimed size.
    func checkClaim(_ member: ZipMember, location: String) throws {
        try ArrayMemory.check(member.uncompressedSize, for: "the member", location: location)
        guard member.method == 8 else { return }
        // Deflate expands at most ~1032:1; a bigger claim is a damaged directory, not a reason to allocate it.
        guard member.uncompressedSize / 1032 <= member.compressedSize + 1 else {
            throw EmbeddingFileError(.corrupt, location, "the member claims \(member.uncompressedSize) bytes from \(member.compressedSize) compressed, which deflate cannot produce")
        }
        try ArrayMemory.checkRatio(uncompressed: member.uncompressedSize, compressed: member.compressedSize, location: location)
    }

    /// Reads `member`'s uncompressed bytes into `segments`, filled in order:
    /// e.g. an `.npy` header into a small buffer and the data straight into the
    /// matrix that keeps it. With `wholeMember`, the segments must add up to the
    /// member's size and the CRC is checked; otherwise they take a prefix.
    /// `pieceSize` is how much each parallel task reads and checksums.
    func read(_ member: ZipMember, location: String, into segments: [UnsafeMutableRawBufferPointer], wholeMember: Bool,
              pieceSize: Int = defaultPieceSize) throws {
        func corrupt(_ problem: String) -> EmbeddingFileError { EmbeddingFileError(.corrupt, location, problem) }
        let dataOffset = try self.dataOffset(of: member, location: location)
        let wanted = segments.reduce(0) { $0 + $1.count }
        precondition(wholeMember ? wanted == member.uncompressedSize : wanted <= member.uncompressedSize,
                     "ZipDirectory.read: segments do not fit the member")  // a caller bug, never file data

        switch member.method {
        case 0:
            guard member.compressedSize == member.uncompressedSize else {
                throw corrupt("the stored member's sizes disagree (\(member.compressedSize) vs \(member.uncompressedSize) bytes)")
            }
            if wholeMember {
                // Read and checksum in parallel pieces: each core copies a piece
                // from the page cache and checksums it while it is still in cache.
                let actual = try Self.readChecksummed(file, segments: segments, at: dataOffset, pieceSize: pieceSize)
                guard actual == member.crc32 else { throw crcMismatch(member.crc32, actual, corrupt) }
                return
            }
            var offset = dataOffset
            for segment in segments where segment.count > 0 {
                try file.read(into: segment.baseAddress!, count: segment.count, at: offset, what: "the member's data")
                offset += segment.count
            }
        case 8:
            if wholeMember { try checkClaim(member, location: location) }
            var next = segments.makeIterator()
            try inflateMember(member, from: dataOffset, wholeMember: wholeMember, corrupt: corrupt) { next.next() }
        default:
            throw EmbeddingFileError(.unsupported, location, "the member uses zip compression method \(member.method); curator reads stored (0) and deflated (8) members")
        }
        if wholeMember {
            let actual = Self.checksum(segments, pieceSize: pieceSize)
            guard actual == member.crc32 else { throw crcMismatch(member.crc32, actual, corrupt) }
        }
    }

    /// Where `member`'s (compressed) data starts in the file, after its
    /// local header; throws when that header is damaged, the data runs past
    /// the end of the file, or the member is encrypted.
    func dataOffset(of member: ZipMember, location: String) throws -> Int {
        func corrupt(_ problem: String) -> EmbeddingFileError { EmbeddingFileError(.corrupt, location, problem) }
        if member.flags & 1 != 0 {
            throw EmbeddingFileError(.unsupported, location, "the member is encrypted")
        }
        let header = try file.bytes(count: 30, at: min(member.localHeaderOffset, max(file.size - 30, 0)), what: "the member's local header")
        guard member.localHeaderOffset <= file.size - 30, header.u32(0) == 0x0403_4B50 else {
            throw corrupt("the member's local header is missing or damaged (the archive is truncated or corrupt)")
        }
        let dataOffset = member.localHeaderOffset + 30 + Int(header.u16(26)) + Int(header.u16(28))
        guard dataOffset <= file.size, member.compressedSize <= file.size - dataOffset else {
            throw corrupt("truncated: the member's data needs \(member.compressedSize) bytes at offset \(dataOffset) but the file ends at \(file.size)")
        }
        return dataOffset
    }

    /// Reads all of a stored (uncompressed) `member` and checks its CRC-32:
    /// its first `head.count` bytes into `head`, the rest in pieces of
    /// `pieceSize` bytes (the last may be shorter), each read into a buffer
    /// of the reading worker's (`ScratchPool`), checksummed there and handed
    /// to `body(offset, piece)` (`offset` counted from the end of the head)
    /// while still in cache, on all cores. For data that is not kept as read
    /// (checked, scaled, converted or written elsewhere): no memory of the
    /// member's size is touched. The CRC is known only at the end: a caller
    /// must discard what `body` made when this throws.
    func readStoredPieces(_ member: ZipMember, location: String, head: UnsafeMutableRawBufferPointer, pieceSize: Int,
                          body: (Int, UnsafeMutableRawBufferPointer) throws -> Void) throws {
        precondition(member.method == 0 && head.count <= member.uncompressedSize && pieceSize > 0,
                     "ZipDirectory.readStoredPieces: not a stored member, or a head longer than it")  // a caller bug
        guard member.compressedSize == member.uncompressedSize else {
            throw EmbeddingFileError(.corrupt, location, "the stored member's sizes disagree (\(member.compressedSize) vs \(member.uncompressedSize) bytes)")
        }
        try checkClaim(member, location: location)
        let dataOffset = try self.dataOffset(of: member, location: location)
        if head.count > 0 { try file.read(into: head.baseAddress!, count: head.count, at: dataOffset, what: "the member's data") }
        let rest = member.uncompressedSize - head.count
        let pieces = (rest + pieceSize - 1) / pieceSize
        let results = PieceResults(count: pieces)
        let buffers = ScratchPool(bytes: pieceSize)
        try parallelForThrowing(pieces) { k in
            let offset = k * pieceSize, count = min(pieceSize, rest - offset)
            try buffers.withBuffer { buffer in
                try file.read(into: buffer, count: count, at: dataOffset + head.count + offset, what: "the member's data")
                results.set(k, crc: Self.crc(buffer, count))
                try body(offset, UnsafeMutableRawBufferPointer(start: buffer, count: count))
            }
        }
        let headCRC = head.count > 0 ? Self.crc(head.baseAddress!, head.count) : 0
        let piecesCRC = UInt(try results.combined(lengths: (0..<pieces).map { min(pieceSize, rest - $0 * pieceSize) }))
        let actual = UInt32(truncatingIfNeeded: pieces == 0 ? headCRC : crc32_combine(headCRC, piecesCRC, off_t(rest)))
        guard actual == member.crc32 else {
            throw crcMismatch(member.crc32, actual) { EmbeddingFileError(.corrupt, location, $0) }
        }
    }

    private func crcMismatch(_ stored: UInt32, _ actual: UInt32, _ corrupt: (String) -> EmbeddingFileError) -> EmbeddingFileError {
        corrupt("damaged: CRC-32 mismatch (the archive says \(hex(stored)), the data gives \(hex(actual)))")
    }

    /// Reads a deflated `member` whose first `head.count` bytes go to `head`
    /// and the rest, inflated a piece of `pieceSize` bytes at a time into one
    /// reused buffer, to `body` (the piece's offset after the head, and the
    /// piece) as each fills: a large deflated member is never held whole.
    /// The CRC is known only at the end: a caller must discard what `body`
    /// made when this throws.
    func readDeflatedPieces(_ member: ZipMember, location: String, head: UnsafeMutableRawBufferPointer, pieceSize: Int,
                            body: (Int, UnsafeMutableRawBufferPointer) throws -> Void) throws {
        precondition(member.method == 8 && head.count <= member.uncompressedSize && pieceSize > 0,
                     "ZipDirectory.readDeflatedPieces: not a deflated member, or a head longer than it")  // a caller bug
        func corrupt(_ problem: String) -> EmbeddingFileError { EmbeddingFileError(.corrupt, location, problem) }
        try checkClaim(member, location: location)
        let dataOffset = try self.dataOffset(of: member, location: location)
        let rest = member.uncompressedSize - head.count
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, min(pieceSize, rest)), alignment: 64)
        defer { buffer.deallocate() }
        var headGiven = false, headDone = false
        var offset = 0, handed = 0  // the next piece's offset; the size of the piece being filled (0: none)
        var crc: UInt = 0
        try inflateMember(member, from: dataOffset, wholeMember: true, corrupt: corrupt) {
            if !headGiven { headGiven = true; return head }
            if !headDone {
                headDone = true
                if head.count > 0 { crc = Self.crc(head.baseAddress!, head.count) }
            } else if handed > 0 {  // the piece handed out last is full
                crc = crc32(crc, buffer.assumingMemoryBound(to: UInt8.self), UInt32(handed))
                try body(offset, UnsafeMutableRawBufferPointer(start: buffer, count: handed))
                offset += handed
                handed = 0
            }
            guard offset < rest else { return nil }
            handed = min(pieceSize, rest - offset)
            return UnsafeMutableRawBufferPointer(start: buffer, count: handed)
        }
        let actual = UInt32(truncatingIfNeeded: crc)
        guard actual == member.crc32 else { throw crcMismatch(member.crc32, actual, corrupt) }
    }

    /// Inflates `member` into the buffers `nextSegment` hands out, each
    /// filled before the next is asked for (nil: no more room). With
    /// `wholeMember`, the stream must fill them exactly: more or fewer bytes
    /// than the member's size is an error; otherwise it stops when they are full.
    private func inflateMember(_ member: ZipMember, from dataOffset: Int, wholeMember: Bool,
                               corrupt: (String) -> EmbeddingFileError,
                               nextSegment: () throws -> UnsafeMutableRawBufferPointer?) throws {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw corrupt("cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        let chunk = 1 << 20
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { input.deallocate() }
        // Once every segment is full, zlib gets one spare byte: a sound stream
        // then reports its end without using it.
        let spare = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        defer { spare.deallocate() }
        var consumed = 0  // compressed bytes handed to zlib
        var current = try nextSegment(), filled = 0  // output position: bytes filled in `current`
        var produced = 0

        while true {
            while let segment = current, filled == segment.count { current = try nextSegment(); filled = 0 }
            let outputFull = current == nil
            if outputFull && !wholeMember { return }
            if stream.avail_in == 0 {
                let n = min(chunk, member.compressedSize - consumed)
                guard n > 0 else {
                    throw corrupt("truncated: the compressed data ends before the deflate stream does (the member is cut short or damaged)")
                }
                try file.read(into: input, count: n, at: dataOffset + consumed, what: "the member's compressed data")
                consumed += n
                stream.next_in = input
                stream.avail_in = UInt32(n)
            }
            let room = current.map { min($0.count - filled, 16 << 20) } ?? 1
            stream.next_out = current.map { ($0.baseAddress! + filled).assumingMemoryBound(to: UInt8.self) } ?? spare
            stream.avail_out = UInt32(room)
            let availableBefore = stream.avail_in
            let status = inflate(&stream, Z_NO_FLUSH)
            let written = room - Int(stream.avail_out)
            if outputFull && written > 0 {
                throw corrupt("damaged: the member inflates to more than the \(member.uncompressedSize) bytes its directory entry says")
            }
            if !outputFull { filled += written; produced += written }
            switch status {
            case Z_STREAM_END:
                while let segment = current, filled == segment.count { current = try nextSegment(); filled = 0 }
                guard current == nil || !wholeMember else {
                    throw corrupt("damaged: the member inflates to \(produced) bytes but its directory entry says \(member.uncompressedSize)")
                }
                return
            case Z_OK, Z_BUF_ERROR:
                if written == 0 && stream.avail_in == availableBefore && stream.avail_in > 0 {
                    throw corrupt("damaged compressed data (zlib makes no progress)")
                }
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw corrupt("damaged compressed data (zlib: \(message))")
            }
        }
    }

    /// A stretch of destination memory and where its bytes come from.
    /// `@unchecked Sendable`: each piece is written by exactly one worker.
    private struct Piece: @unchecked Sendable {
        let destination: UnsafeMutableRawPointer
        let count: Int
        let fileOffset: Int
    }

    /// The segments cut into pieces of at most `size` bytes, in order.
    private static func pieces(_ segments: [UnsafeMutableRawBufferPointer], from offset: Int, size: Int) -> [Piece] {
        var pieces: [Piece] = []
        var fileOffset = offset
        for segment in segments where segment.count > 0 {
            var done = 0
            while done < segment.count {
                let n = min(size, segment.count - done)
                pieces.append(Piece(destination: segment.baseAddress! + done, count: n, fileOffset: fileOffset))
                done += n
                fileOffset += n
            }
        }
        return pieces
    }

    /// Pieces big enough to amortise a task, small enough to stay in cache and share the cores.
    static let defaultPieceSize = 4 << 20

    /// Reads the stored bytes at `offset` into `segments` and returns their
    /// CRC-32, both done piece by piece on all cores.
    private static func readChecksummed(_ file: RawFile, segments: [UnsafeMutableRawBufferPointer], at offset: Int,
                                        pieceSize: Int) throws -> UInt32 {
        let pieces = pieces(segments, from: offset, size: pieceSize)
        let results = PieceResults(count: pieces.count)
        DispatchQueue.concurrentPerform(iterations: pieces.count) { k in
            let piece = pieces[k]
            do {
                try file.read(into: piece.destination, count: piece.count, at: piece.fileOffset, what: "the member's data")
                results.set(k, crc: crc(piece.destination, piece.count))
            } catch {
                results.fail(error)
            }
        }
        return try results.combined(lengths: pieces.map(\.count))
    }

    /// zlib's CRC-32 of the segments in order, computed piece by piece on all cores.
    static func checksum(_ segments: [UnsafeMutableRawBufferPointer], pieceSize: Int = defaultPieceSize) -> UInt32 {
        let pieces = pieces(segments, from: 0, size: pieceSize)
        let results = PieceResults(count: pieces.count)
        DispatchQueue.concurrentPerform(iterations: pieces.count) { k in
            results.set(k, crc: crc(pieces[k].destination, pieces[k].count))
        }
        return (try? results.combined(lengths: pieces.map(\.count))) ?? 0
    }

    private static func crc(_ bytes: UnsafeMutableRawPointer, _ count: Int) -> UInt {
        crc32(0, bytes.assumingMemoryBound(to: UInt8.self), UInt32(count))  // pieces are far below 4 GiB
    }

    /// The per-piece CRCs (and the first error) of a parallel pass.
    /// `@unchecked Sendable`: every field is read and written under `lock`.
    private final class PieceResults: @unchecked Sendable {
        private let lock = NSLock()
        private var crcs: [UInt]
        private var error: (any Error)?

        init(count: Int) { crcs = Array(repeating: 0, count: count) }

        func set(_ k: Int, crc: UInt) { lock.withLock { crcs[k] = crc } }
        func fail(_ e: any Error) { lock.withLock { if error == nil { error = e } } }

        /// The CRC of all pieces in order (zlib combines CRCs of consecutive runs).
        func combined(lengths: [Int]) throws -> UInt32 {
            try lock.withLock {
                if let error { throw error }
                var crc: UInt = 0
                for (k, length) in lengths.enumerated() {
                    crc = k == 0 ? crcs[0] : crc32_combine(crc, crcs[k], off_t(length))
                }
                return UInt32(truncatingIfNeeded: crc)
            }
        }
    }
}

private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16, uppercase: false) }

extension Array where Element == UInt8 {
    /// Little-endian integers at byte offset `i` (callers check the bounds).
    func u16(_ i: Int) -> UInt16 { UInt16(self[i]) | UInt16(self[i + 1]) << 8 }
    func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) | UInt32(u16(i + 2)) << 16 }
    func u64(_ i: Int) -> UInt64 { UInt64(u32(i)) | UInt64(u32(i + 4)) << 32 }
}
