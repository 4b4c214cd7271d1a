/// A page's header (parquet.thrift's `PageHeader`), which precedes its bytes
/// inside a column chunk.
struct ParquetPageHeader {
    var type = -1
    var uncompressedSize = -1
    var compressedSize = -1
    /// How many values (nulls included) a data or dictionary page holds.
    var valueCount = 0
    /// The values' encoding.
    var encoding = 0
    /// Data page v1: how definition levels are encoded (RLE or the old BIT_PACKED).
    var definitionLevelEncoding = ParquetEncoding.rle
    /// Data page v2: the byte lengths of the levels, stored before the values, never compressed.
    var definitionLevelsLength = 0
    var repetitionLevelsLength = 0
    /// Data page v2: whether the values are compressed with the chunk's codec.
    var isCompressed = true
    var hasTypeHeader = false

    /// Decodes a header starting at `reader`'s position, leaving it after the header.
    init(_ reader: inout ThriftCompactReader) throws(ThriftCompactReader.Malformed) {
        try reader.structure { r, id, type throws(ThriftCompactReader.Malformed) in
            switch id {
            case 1: self.type = try r.integer(type)
            case 2: uncompressedSize = try r.integer(type)
            case 3: compressedSize = try r.integer(type)
            case 5, 7, 8:  // DataPageHeader, DictionaryPageHeader, DataPageHeaderV2
                guard type == ThriftCompactReader.FieldType.structure else { return false }
                hasTypeHeader = true
                try r.structure { r, field, type throws(ThriftCompactReader.Malformed) in
                    switch (id, field) {
                    case (_, 1): valueCount = try r.integer(type)
                    case (5, 2), (7, 2), (8, 4): encoding = try r.integer(type)
                    case (5, 3): definitionLevelEncoding = try r.integer(type)
                    case (8, 5): definitionLevelsLength = try r.integer(type)
                    case (8, 6): repetitionLevelsLength = try r.integer(type)
                    case (8, 7): isCompressed = try r.boolean(type)
                    default: return false
                    }
                    return true
                }
            default: return false
            }
            return true
        }
        guard uncompressedSize >= 0, compressedSize >= 0, valueCount >= 0,
              definitionLevelsLength >= 0, repetitionLevelsLength >= 0 else {
            throw ThriftCompactReader.Malformed(problem: "a page header has a negative or missing size or count")
        }
    }
}
