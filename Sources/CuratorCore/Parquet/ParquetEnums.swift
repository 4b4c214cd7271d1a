/// The numbered names of Parquet's format (parquet.thrift), with the words
/// that error messages use for them.
enum ParquetPhysicalType {
    static let byteArray = 6

    /// The type's name as parquet.thrift spells it.
    static func name(_ value: Int) -> String {
        parquetName(value, ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"],
                    unknown: "type")
    }
}

/// `names[value]`, as parquet.thrift numbers them, or "`unknown` N (unknown)"
/// for a number it has no name for (nil: a number the format retired).
private func parquetName(_ value: Int, _ names: [String?], unknown: String) -> String {
    (names.indices.contains(value) ? names[value] : nil) ?? "\(unknown) \(value) (unknown)"
}

/// How a column's values or levels are encoded.
enum ParquetEncoding {
    static let plain = 0
    static let plainDictionary = 2
    static let rle = 3
    static let bitPacked = 4
    static let rleDictionary = 8

    /// The encoding's name as parquet.thrift spells it.
    static func name(_ value: Int) -> String {
        parquetName(value, ["PLAIN", nil, "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
                            "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"],
                    unknown: "encoding")
    }
}

/// How a column chunk's pages are compressed.
enum ParquetCodec {
    static let uncompressed = 0
    static let snappy = 1
    static let zstd = 6

    /// The codecs curator decompresses, for messages.
    static let supported = "UNCOMPRESSED, SNAPPY and ZSTD"

    /// The codec's name as parquet.thrift spells it.
    static func name(_ value: Int) -> String {
        parquetName(value, ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"], unknown: "codec")
    }
}

/// The kinds of page in a column chunk.
enum ParquetPageType {
    static let dataPage = 0
    static let indexPage = 1
    static let dictionaryPage = 2
    static let dataPageV2 = 3
}

/// Whether a schema field must, may or may repeatedly hold a value.
enum ParquetRepetition {
    static let required = 0
    static let optional = 1
    static let repeated = 2
}
