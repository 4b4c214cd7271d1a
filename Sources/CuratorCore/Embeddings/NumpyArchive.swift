import Foundation

/// An `.npz` file: a zip archive of `.npy` arrays, as `np.savez` (stored) and
/// `np.savez_compressed` (deflated) write them. Arrays are read on demand, one
/// key at a time; each goes from disk into the buffer it keeps (deflated ones
/// through zlib), and its CRC-32 is checked.
///
/// `@unchecked Sendable`: immutable after opening, and members are read with
/// positioned reads, so concurrent `array(_:)` calls do not interfere.
public final class NumpyArchive: @unchecked Sendable {
    /// The archive file.
    public let url: URL
    /// The array names, in archive order (member names without `.npy`).
    public let keys: [String]
    private let directory: ZipDirectory
    private let members: [String: ZipMember]

    /// Opens the archive and reads its directory (not the arrays).
    public init(contentsOf url: URL) throws {
        self.url = url
        directory = try ZipDirectory(url)
        var keys: [String] = []
        var members: [String: ZipMember] = [:]
        for member in directory.members where !member.name.hasSuffix("/") {
            let key = member.name.hasSuffix(".npy") ? String(member.name.dropLast(4)) : member.name
            if members[key] == nil { keys.append(key) }  // the first of duplicate names wins, as in numpy
            members[key] = members[key] ?? member
        }
        self.keys = keys
        self.members = members
    }

    /// Whether the archive has an array called `key`.
    public func contains(_ key: String) -> Bool { members[key] != nil }

    /// How errors name `key` of this archive: `path: key 'name'`.
    public func location(of key: String) -> String { "\(url.path): key '\(key)'" }

    /// The header of array `key`, reading only the start of its member.
    public func header(_ key: String) throws -> NumpyHeader {
        let member = try self.member(key)
        var prefixLength = 4096
        while true {
            let block = try directory.read(member, location: location(of: key), prefix: prefixLength)
            let bytes = Array(UnsafeRawBufferPointer(start: block.base, count: min(block.count, NumpyHeader.prefixLength)))
            let total = try NumpyHeader.totalLength(prefix: bytes, location: location(of: key))
            if total <= block.count || block.count < prefixLength {
                let header = try NumpyArray.header(in: block, location: location(of: key))
                // The shape must fit the member's size before it sizes anything.
                try NumpyArray.checkDataLength(member.uncompressedSize - header.dataOffset, header: header, location: location(of: key))
                return header
            }
            prefixLength = total
        }
    }

    /// Array `key`. Object arrays come back skipped (`isSkipped`, with a note):
    /// only their header is read, their pickled data never.
    public func array(_ key: String) throws -> NumpyArray {
        let member = try self.member(key)
        let header = try self.header(key)
        if header.dtype == .object {
            return NumpyArray(skipped: header, location: location(of: key))
        }
        let block = try directory.read(member, location: location(of: key))
        return try NumpyArray(block: block, location: location(of: key))
    }

    /// Array `key` as a float32 matrix, rows as stored (see `NumpyArray.floatMatrix()`).
    /// A float32 matrix in C order is read from the archive a block at a
    /// time into the matrix's memory, so no second copy of a large index is ever held.
    public func floatMatrix(_ key: String) throws -> EmbeddingMatrix {
        try readRows(key, into: ImportedRows.asStored).matrix()
    }

    /// Array `key` (a 2-D float matrix) into the rows `make` makes, a block
    /// at a time. A stored float32 matrix in C order (what `np.savez`
    /// writes) goes from the archive to the rows in blocks of about a
    /// megabyte, read, checksummed and stored on all cores; a deflated one
    /// (`np.savez_compressed`) is inflated a block at a time into the rows;
    /// any other is read whole (widened, reordered) first.
    func readRows(_ key: String, into make: ImportedRows.Maker) throws -> ImportedRows {
        let member = try self.member(key)
        let header = try self.header(key)
        #if _endian(little)
        let direct = header.dtype == .float32 && !header.isFortranOrder && header.shape.count == 2
        #else
        let direct = false
        #endif
        guard direct else { return try array(key).storeRows(into: make) }
        let location = location(of: key)
        try NumpyArray.checkDataLength(member.uncompressedSize - header.dataOffset, header: header, location: location)
        // Sizes first (the matrix's, then the member's claim), so nothing of
        // a size the file merely claims is allocated or read.
        try ArrayMemory.check(header.dataByteCount ?? 0, for: "a \(header.shape[0]) × \(header.shape[1]) float32 matrix", location: location)
        try directory.checkClaim(member, location: location)
        // Other compression methods get their error from the whole read.
        guard member.method == 0 || member.method == 8 else { return try array(key).storeRows(into: make) }
        let rows = try make(header.shape[0], header.shape[1], location)  // the read stores every row or throws
        let rowBytes = rows.dimension * 4
        let head = try ByteBlock(count: header.dataOffset, for: "the .npy header", location: location)
        let headBuffer = UnsafeMutableRawBufferPointer(start: head.base, count: head.count)
        let pieceSize = max(1, ImportedRows.blockRows(dimension: rows.dimension) * rowBytes)
        let store: (Int, UnsafeMutableRawBufferPointer) throws -> Void = { offset, piece in
            let first = offset / rowBytes
            try rows.store(first..<first + piece.count / rowBytes, piece.baseAddress!.assumingMemoryBound(to: Float.self))
        }
        if member.method == 0 {
            try directory.readStoredPieces(member, location: location, head: headBuffer, pieceSize: pieceSize, body: store)
        } else {
            // Inflated a block at a time (one thread: inflate is sequential), never whole.
            try directory.readDeflatedPieces(member, location: location, head: headBuffer, pieceSize: pieceSize, body: store)
        }
        // The CRC covered this second reading of the header too; it must be the one planned with.
        guard try NumpyArray.header(in: head, location: location) == header else {
            throw EmbeddingFileError(.corrupt, location, "the array header changed while it was being read")
        }
        return rows
    }

    /// Where the rows of array `key` start in the archive file when it is a
    /// stored (uncompressed) little-endian float32 matrix in C order, so
    /// single rows can be read in place (`ExactRows`); nil for any other array.
    func storedRows(_ key: String) throws -> (file: RawFile, offset: Int, rows: Int, dimension: Int, dtype: NumpyDType)? {
        let member = try self.member(key)
        let header = try self.header(key)
        guard header.dtype.isFloat, !header.isFortranOrder, header.shape.count == 2, member.method == 0 else { return nil }
        let offset = try directory.dataOffset(of: member, location: location(of: key)) + header.dataOffset
        return (directory.file, offset, header.shape[0], header.shape[1], header.dtype)
    }

    /// Throws unless array `key` has `rows` entries (its first dimension; a
    /// 0-d array has one), read from its header alone: the archive's arrays
    /// must agree before any of them is loaded, so a header claiming ten
    /// million rows beside three file names costs nothing.
    public func requireEntries(_ key: String, rows: Int, of matrixKey: String) throws {
        let entries = try header(key).shape.first ?? 1
        guard entries != rows else { return }
        throw EmbeddingFileError(.mismatch, url.path, "key '\(key)' has \(entries) entries but key '\(matrixKey)' has \(rows) rows")
    }

    private func member(_ key: String) throws -> ZipMember {
        guard let member = members[key] else {
            let list = keys.isEmpty ? "the archive is empty" : "keys: " + keys.joined(separator: ", ")
            throw EmbeddingFileError(.missing, url.path, "key '\(key)' is missing (\(list))")
        }
        return member
    }
}
