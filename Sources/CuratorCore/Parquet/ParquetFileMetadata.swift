/// The parts of a Parquet footer (parquet.thrift's `FileMetaData`) that
/// reading a flat column needs; every other field is skipped unread.
struct ParquetFileMetadata {
    /// One node of the schema tree, in the file's depth-first order.
    struct SchemaElement {
        var type: Int?
        var repetition: Int?
        var name = ""
        var childCount = 0
    }

    /// Where one column's values lie within a row group (`ColumnChunk` with its `ColumnMetaData`).
    struct ColumnChunk {
        /// Set when the values live in another file, which curator does not follow.
        var filePath: String?
        var hasMetadata = false
        var type = -1
        var encodings: [Int] = []
        var pathInSchema: [String] = []
        var codec = 0
        var valueCount = 0
        var totalCompressedSize = 0
        var dataPageOffset = 0
        var dictionaryPageOffset: Int?
    }

    /// A horizontal slice of the rows, with one chunk per leaf column.
    struct RowGroup {
        var columns: [ColumnChunk] = []
        var rowCount = 0
    }

    var schema: [SchemaElement] = []
    var rowCount = 0
    var rowGroups: [RowGroup] = []
    /// The writer, e.g. `parquet-cpp-arrow version 17.0.0`.
    var createdBy: String?

    /// Decodes the footer's Thrift bytes.
    init(thrift bytes: [UInt8]) throws(ThriftCompactReader.Malformed) {
        var reader = ThriftCompactReader(bytes)
        var sawSchema = false, sawRows = false, sawGroups = false
        try reader.structure { r, id, type throws(ThriftCompactReader.Malformed) in
            switch id {
            case 2: schema = try r.list(type) { r, t throws(ThriftCompactReader.Malformed) in try Self.schemaElement(&r, t) }; sawSchema = true
            case 3: rowCount = try r.integer(type); sawRows = true
            case 4: rowGroups = try r.list(type) { r, t throws(ThriftCompactReader.Malformed) in try Self.rowGroup(&r, t) }; sawGroups = true
            case 6: createdBy = try r.string(type)
            default: return false
            }
            return true
        }
        guard sawSchema, sawRows, sawGroups else {
            throw ThriftCompactReader.Malformed(problem: "it lacks the \(!sawSchema ? "schema" : !sawRows ? "row count" : "row groups")")
        }
    }

    private static func requireStructure(_ type: UInt8) throws(ThriftCompactReader.Malformed) {
        guard type == ThriftCompactReader.FieldType.structure else {
            throw ThriftCompactReader.Malformed(problem: "a list holds type \(type) where structures belong")
        }
    }

    private static func schemaElement(_ r: inout ThriftCompactReader, _ type: UInt8) throws(ThriftCompactReader.Malformed) -> SchemaElement {
        try requireStructure(type)
        var element = SchemaElement()
        try r.structure { r, id, type throws(ThriftCompactReader.Malformed) in
            switch id {
            case 1: element.type = try r.integer(type)
            case 3: element.repetition = try r.integer(type)
            case 4: element.name = try r.string(type)
            case 5: element.childCount = try r.integer(type)
            default: return false
            }
            return true
        }
        return element
    }

    private static func rowGroup(_ r: inout ThriftCompactReader, _ type: UInt8) throws(ThriftCompactReader.Malformed) -> RowGroup {
        try requireStructure(type)
        var group = RowGroup()
        try r.structure { r, id, type throws(ThriftCompactReader.Malformed) in
            switch id {
            case 1: group.columns = try r.list(type) { r, t throws(ThriftCompactReader.Malformed) in try columnChunk(&r, t) }
            case 3: group.rowCount = try r.integer(type)
            default: return false
            }
            return true
        }
        return group
    }

    private static func columnChunk(_ r: inout ThriftCompactReader, _ type: UInt8) throws(ThriftCompactReader.Malformed) -> ColumnChunk {
        try requireStructure(type)
        var chunk = ColumnChunk()
        try r.structure { r, id, type throws(ThriftCompactReader.Malformed) in
            switch id {
            case 1: chunk.filePath = try r.string(type)
            case 3:
                guard type == ThriftCompactReader.FieldType.structure else { return false }
                chunk.hasMetadata = true
                try r.structure { r, id, type throws(ThriftCompactReader.Malformed) in
                    switch id {
                    case 1: chunk.type = try r.integer(type)
                    case 2: chunk.encodings = try r.list(type) { r, t throws(ThriftCompactReader.Malformed) in try r.integer(t) }
                    case 3: chunk.pathInSchema = try r.list(type) { r, t throws(ThriftCompactReader.Malformed) in try r.string(t) }
                    case 4: chunk.codec = try r.integer(type)
                    case 5: chunk.valueCount = try r.integer(type)
                    case 7: chunk.totalCompressedSize = try r.integer(type)
                    case 9: chunk.dataPageOffset = try r.integer(type)
                    case 11: chunk.dictionaryPageOffset = try r.integer(type)
                    default: return false
                    }
                    return true
                }
            default: return false
            }
            return true
        }
        return chunk
    }
}
