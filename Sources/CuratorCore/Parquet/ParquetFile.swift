import Foundation

/// A Parquet file, read for its flat string columns: what clip-retrieval
/// writes as `metadata/metadata_N.parquet` (through pyarrow) and what pyarrow
/// and Spark write generally.
///
/// Read: the Thrift compact footer; top-level BYTE_ARRAY columns, required
/// or optional (nulls); PLAIN and dictionary (PLAIN_DICTIONARY,
/// RLE_DICTIONARY) values; RLE/bit-packed definition levels; data pages v1
/// and v2; UNCOMPRESSED, SNAPPY and ZSTD pages (zstd from the system's
/// libzstd); any number of row groups. Anything else (another codec or
/// encoding, nested or repeated columns, encrypted files, values kept in
/// other files) is an error naming it.
///
/// The file is someone else's: every offset and size it states is checked
/// against the file before a byte is read, decompressed pages are held to
/// `ArrayMemory`'s cap and zip-bomb ratio, a column's decoded bytes to
/// `decodedBytesLimit`, and its rows to what the caller expects, so a
/// damaged or hostile file gives an error, never a crash or a huge
/// allocation.
public final class ParquetFile {
    /// The file.
    public let url: URL
    /// How many rows the footer says the file holds.
    public let rowCount: Int
    /// The top-level columns that hold values (not groups), in file order.
    public let columnNames: [String]
    /// The program that wrote the file, when the footer says (e.g. `parquet-cpp-arrow version 17.0.0`).
    public let createdBy: String?

    /// A leaf of the schema: one column chunk per row group.
    struct Leaf {
        let path: [String]
        let element: ParquetFileMetadata.SchemaElement
        let maxDefinitionLevel: Int
        let maxRepetitionLevel: Int
    }

    let file: RawFile
    let metadata: ParquetFileMetadata
    let leaves: [Leaf]
    /// Where the column data ends and the footer begins.
    let dataEnd: Int

    /// A column's decoded bytes past this are refused: the file's size times
    /// the zip-bomb ratio `ArrayMemory` allows (at least 64 MB), within its cap.
    /// Real metadata decodes to a few times its size; a page of a billion
    /// repeats of one long dictionary entry does not.
    let decodedBytesLimit: Int

    /// Thrown by `ParquetStrings` when a column outgrows `decodedBytesLimit`.
    struct Overflow: Error {
        let limit: Int
    }

    /// Opens `url` and reads its footer.
    public init(contentsOf url: URL) throws {
        self.url = url
        file = try RawFile(url)
        let path = url.path
        let size = file.size
        guard size >= 12 else {
            throw EmbeddingFileError(.notRecognized, path, "is \(size) bytes, too short for a Parquet file (which starts and ends with PAR1)")
        }
        let head = try file.bytes(count: 4, at: 0, what: "the Parquet magic")
        let tail = try file.bytes(count: 8, at: size - 8, what: "the Parquet footer length")
        guard head == Array("PAR1".utf8) else {
            throw EmbeddingFileError(.notRecognized, path, "is not a Parquet file (it does not start with PAR1)")
        }
        if tail[4..<8].elementsEqual("PARE".utf8) {
            throw EmbeddingFileError(.unsupported, path, "is an encrypted Parquet file; curator reads unencrypted ones")
        }
        guard tail[4..<8].elementsEqual("PAR1".utf8) else {
            throw EmbeddingFileError(.corrupt, path, "does not end with PAR1: the file is truncated or damaged")
        }
        let footerLength = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard footerLength <= size - 12 else {
            throw EmbeddingFileError(.corrupt, path, "its footer claims \(footerLength) bytes but the file has only \(size - 12) between its magic numbers: the file is truncated or damaged")
        }
        dataEnd = size - 8 - footerLength
        let footer = try file.bytes(count: footerLength, at: dataEnd, what: "the Parquet footer")
        do throws(ThriftCompactReader.Malformed) { metadata = try ParquetFileMetadata(thrift: footer) } catch {
            throw EmbeddingFileError(.corrupt, path, "its footer (the file metadata) is damaged: \(error.problem)")
        }
        createdBy = metadata.createdBy
        leaves = try Self.leaves(of: metadata.schema, location: path)
        columnNames = leaves.filter { $0.path.count == 1 }.map { $0.path[0] }
        guard metadata.rowCount >= 0, metadata.rowGroups.allSatisfy({ $0.rowCount >= 0 }),
              metadata.rowGroups.reduce(0, { $0 &+ $1.rowCount }) == metadata.rowCount else {
            throw EmbeddingFileError(.corrupt, path, "its footer says \(metadata.rowCount) rows but its row groups hold \(metadata.rowGroups.map { String($0.rowCount) }.joined(separator: " + "))")
        }
        for (g, group) in metadata.rowGroups.enumerated() where group.columns.count != leaves.count {
            throw EmbeddingFileError(.corrupt, path, "row group \(g) has \(group.columns.count) column chunks but the schema has \(leaves.count) columns")
        }
        rowCount = metadata.rowCount
        let ratioLimit = size.multipliedReportingOverflow(by: ArrayMemory.maximumDeflateRatio)
        decodedBytesLimit = min(ArrayMemory.maximumBytes, max(ArrayMemory.ratioCheckedAbove, ratioLimit.overflow ? Int.max : ratioLimit.partialValue))
    }

    /// Whether the file has a top-level column named `name`.
    public func contains(_ name: String) -> Bool { columnNames.contains(name) }

    /// The values of the top-level string column `name`, one per row, read
    /// only when the file holds at most `maximumRows` rows (the rows the
    /// caller has a use for: more is an error, not an allocation).
    public func strings(_ name: String, maximumRows: Int) throws -> ParquetStrings {
        let location = "\(url.path): column '\(name)'"
        guard let index = leaves.firstIndex(where: { $0.path == [name] }) else {
            let nested = leaves.contains { $0.path.first == name }
            throw EmbeddingFileError(nested ? .unsupported : .missing, url.path, nested
                ? "column '\(name)' is nested (a list, map or struct); curator reads flat columns"
                : "has no column '\(name)' (columns: \(columnNames.joined(separator: ", ")))")
        }
        let leaf = leaves[index]
        guard leaf.element.type == ParquetPhysicalType.byteArray else {
            throw EmbeddingFileError(.wrongType, location, "holds \(ParquetPhysicalType.name(leaf.element.type ?? -1)) values; expected strings (BYTE_ARRAY)")
        }
        guard leaf.maxRepetitionLevel == 0 else {
            throw EmbeddingFileError(.unsupported, location, "is a repeated column (a list of values per row); curator reads one value per row")
        }
        guard rowCount <= maximumRows else {
            throw EmbeddingFileError(.tooLarge, url.path, "holds \(rowCount) rows, more than the \(maximumRows) expected")
        }
        // Eight bytes of end offset and one of null flag per row.
        let bookkeeping = rowCount.multipliedReportingOverflow(by: 9)
        try ArrayMemory.check(bookkeeping.overflow ? Int.max : bookkeeping.partialValue, for: "the row offsets of column '\(name)'", location: url.path)
        var out = ParquetStrings(byteLimit: decodedBytesLimit)
        out.reserve(rows: rowCount)
        let reader = ParquetColumnReader(file: self, leaf: leaf, location: location)
        do {
            for (g, group) in metadata.rowGroups.enumerated() {
                try reader.read(group.columns[index], rowGroup: g, rows: group.rowCount, into: &out)
            }
        } catch let error as Overflow {
            throw EmbeddingFileError(.tooLarge, location, "decodes to more than \(ArrayMemory.describe(error.limit)) from a \(ArrayMemory.describe(file.size)) file; a damaged file or one made to exhaust memory")
        }
        return out
    }

    /// The schema's leaves in depth-first order (the order of column chunks),
    /// with their definition and repetition levels.
    private static func leaves(of schema: [ParquetFileMetadata.SchemaElement], location: String) throws -> [Leaf] {
        guard let root = schema.first else {
            throw EmbeddingFileError(.corrupt, location, "its footer has an empty schema")
        }
        var leaves: [Leaf] = []
        var next = 1
        // (children left, path, definition level, repetition level) of each open group.
        var stack: [(left: Int, path: [String], definition: Int, repetition: Int)] = [(root.childCount, [], 0, 0)]
        while var top = stack.popLast() {
            guard top.left > 0 else { continue }
            top.left -= 1
            stack.append(top)
            guard next < schema.count else {
                throw EmbeddingFileError(.corrupt, location, "its schema is damaged: a group claims more fields than the schema has")
            }
            let element = schema[next]
            next += 1
            let repetition = element.repetition ?? ParquetRepetition.required
            let definition = top.definition + (repetition == ParquetRepetition.required ? 0 : 1)
            let repeats = top.repetition + (repetition == ParquetRepetition.repeated ? 1 : 0)
            let path = top.path + [element.name]
            if element.childCount > 0 {
                guard stack.count < ThriftCompactReader.maximumDepth else {
                    throw EmbeddingFileError(.corrupt, location, "its schema nests more than \(ThriftCompactReader.maximumDepth) deep")
                }
                stack.append((element.childCount, path, definition, repeats))
            } else {
                leaves.append(Leaf(path: path, element: element, maxDefinitionLevel: definition, maxRepetitionLevel: repeats))
            }
        }
        guard next == schema.count else {
            throw EmbeddingFileError(.corrupt, location, "its schema is damaged: \(schema.count - next) fields belong to no group")
        }
        return leaves
    }
}
