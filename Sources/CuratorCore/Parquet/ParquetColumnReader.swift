/// Decodes one flat string column's chunks, page by page, into `ParquetStrings`.
struct ParquetColumnReader {
    let file: ParquetFile
    let leaf: ParquetFile.Leaf
    /// `<path>: column '<name>'`, for messages.
    let location: String

    private func corrupt(_ problem: String) -> EmbeddingFileError { EmbeddingFileError(.corrupt, location, problem) }
    private func unsupported(_ problem: String) -> EmbeddingFileError { EmbeddingFileError(.unsupported, location, problem) }

    /// Appends the `rows` values of row group `rowGroup`'s chunk to `out`.
    /// Errors are `EmbeddingFileError`s, except a column outgrowing its byte limit (`Overflow`).
    func read(_ chunk: ParquetFileMetadata.ColumnChunk, rowGroup g: Int, rows: Int, into out: inout ParquetStrings) throws {
        guard chunk.hasMetadata else { throw corrupt("row group \(g) has no metadata for the column") }
        if let other = chunk.filePath {
            throw unsupported("row group \(g) keeps its values in another file (\(other)); curator reads self-contained files")
        }
        guard chunk.type == ParquetPhysicalType.byteArray else {
            throw corrupt("row group \(g) stores \(ParquetPhysicalType.name(chunk.type)) values but the schema says BYTE_ARRAY")
        }
        guard [ParquetCodec.uncompressed, ParquetCodec.snappy, ParquetCodec.zstd].contains(chunk.codec) else {
            throw unsupported("is compressed with \(ParquetCodec.name(chunk.codec)); curator reads \(ParquetCodec.supported) (pyarrow: write_table(..., compression='zstd'))")
        }
        guard chunk.valueCount == rows else {
            throw corrupt("row group \(g) holds \(chunk.valueCount) values for its \(rows) rows")
        }
        guard rows > 0 else { return }
        var start = chunk.dataPageOffset
        // Some writers set the dictionary offset to 0 when there is none.
        if let dictionary = chunk.dictionaryPageOffset, dictionary > 0, dictionary < start { start = dictionary }
        let length = chunk.totalCompressedSize
        guard start >= 4, length > 0, start <= file.dataEnd, length <= file.dataEnd - start else {
            throw corrupt("row group \(g) claims \(length) bytes at offset \(start), outside the file's data (bytes 4 to \(file.dataEnd)): the file is truncated or damaged")
        }
        let bytes = try file.file.bytes(count: length, at: start, what: "row group \(g) of column '\(leaf.path.joined(separator: "."))'")

        var position = 0
        var dictionary: ParquetStrings?
        var done = 0
        while done < rows {
            guard position < length else {
                throw corrupt("row group \(g) ends after \(done) of its \(rows) values: the file is truncated or damaged")
            }
            let headerStart = start + position
            var reader = ThriftCompactReader(bytes, from: position)
            let header: ParquetPageHeader
            do throws(ThriftCompactReader.Malformed) { header = try ParquetPageHeader(&reader) } catch {
                throw corrupt("row group \(g): the page header at byte \(headerStart) is damaged: \(error.problem)")
            }
            position = reader.position
            guard header.compressedSize <= length - position else {
                throw corrupt("row group \(g): a page claims \(header.compressedSize) bytes but its chunk has \(length - position) left")
            }
            let body = position..<position + header.compressedSize
            position += header.compressedSize
            let page = "row group \(g), page at byte \(headerStart)"

            switch header.type {
            case ParquetPageType.dictionaryPage:
                guard dictionary == nil, done == 0 else { throw corrupt("\(page): a dictionary page after the first page") }
                guard header.encoding == ParquetEncoding.plain || header.encoding == ParquetEncoding.plainDictionary else {
                    throw unsupported("\(page): a dictionary encoded as \(ParquetEncoding.name(header.encoding)); curator reads PLAIN dictionaries")
                }
                let (values, range) = try decompress(bytes, body, to: header.uncompressedSize, codec: chunk.codec, page: page)
                // Each value takes at least its four-byte length.
                guard header.valueCount <= range.count / 4 else {
                    throw corrupt("\(page): the dictionary claims \(header.valueCount) values in \(range.count) bytes")
                }
                var entries = ParquetStrings(byteLimit: out.byteLimit)
                entries.reserve(rows: header.valueCount)
                try values.withUnsafeBytes {
                    try decodePlain(UnsafeRawBufferPointer(rebasing: $0[range]), count: header.valueCount, levels: nil, into: &entries, page: page)
                }
                dictionary = entries
            case ParquetPageType.dataPage, ParquetPageType.dataPageV2:
                guard header.hasTypeHeader else { throw corrupt("\(page): a data page without its data page header") }
                guard header.valueCount <= rows - done else {
                    throw corrupt("\(page): the pages hold more values than the row group's \(rows) rows")
                }
                try readDataPage(header, bytes: bytes, body: body, codec: chunk.codec, dictionary: dictionary, page: page, into: &out)
                done += header.valueCount
            case ParquetPageType.indexPage:
                continue
            default:
                throw unsupported("\(page): page type \(header.type), which curator does not know")
            }
        }
    }

    private func readDataPage(_ header: ParquetPageHeader, bytes: [UInt8], body: Range<Int>, codec: Int,
                              dictionary: ParquetStrings?, page: String, into out: inout ParquetStrings) throws {
        let count = header.valueCount
        let maxDefinition = leaf.maxDefinitionLevel
        let bitWidth = maxDefinition == 0 ? 0 : Int.bitWidth - maxDefinition.leadingZeroBitCount
        var levels: [UInt32]?
        // The values' bytes: the chunk itself when uncompressed, else a decompressed copy.
        let values: [UInt8]
        var valueRange: Range<Int>

        if header.type == ParquetPageType.dataPage {
            let (data, range) = try decompress(bytes, body, to: header.uncompressedSize, codec: codec, page: page)
            values = data
            valueRange = range
            if maxDefinition > 0 {
                guard header.definitionLevelEncoding == ParquetEncoding.rle else {
                    throw unsupported("\(page): definition levels encoded as \(ParquetEncoding.name(header.definitionLevelEncoding)); curator reads RLE levels")
                }
                let at = range.lowerBound
                guard range.count >= 4 else { throw corrupt("\(page): the definition levels are cut off") }
                let levelBytes = Int(UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3]) << 24)
                guard levelBytes <= range.count - 4 else { throw corrupt("\(page): the definition levels claim \(levelBytes) bytes of \(range.count - 4)") }
                levels = try decodeLevels(data, at + 4..<at + 4 + levelBytes, bitWidth: bitWidth, count: count, page: page)
                valueRange = at + 4 + levelBytes..<range.upperBound
            }
        } else {
            let levelBytes = header.definitionLevelsLength, repetitionBytes = header.repetitionLevelsLength
            guard repetitionBytes == 0 || leaf.maxRepetitionLevel > 0 else {
                throw corrupt("\(page): repetition levels in a column that does not repeat")
            }
            guard levelBytes <= body.count - repetitionBytes, levelBytes + repetitionBytes <= header.uncompressedSize else {
                throw corrupt("\(page): its levels claim \(repetitionBytes + levelBytes) bytes of \(body.count)")
            }
            let levelRange = body.lowerBound + repetitionBytes..<body.lowerBound + repetitionBytes + levelBytes
            if maxDefinition > 0 {
                levels = try decodeLevels(bytes, levelRange, bitWidth: bitWidth, count: count, page: page)
            }
            let size = header.uncompressedSize - levelBytes - repetitionBytes
            (values, valueRange) = try decompress(bytes, levelRange.upperBound..<body.upperBound, to: size,
                                                  codec: header.isCompressed ? codec : ParquetCodec.uncompressed, page: page)
        }

        var present = count
        if let levels {
            present = 0
            for level in levels {
                if level == UInt32(maxDefinition) { present += 1 } else if level > UInt32(maxDefinition) {
                    throw corrupt("\(page): a definition level of \(level) where at most \(maxDefinition) is possible")
                }
            }
        }
        try values.withUnsafeBytes { whole in
            let raw = UnsafeRawBufferPointer(rebasing: whole[valueRange])
            switch header.encoding {
            case ParquetEncoding.plain:
                try decodePlain(raw, count: present, levels: levels.map { ($0, UInt32(maxDefinition)) }, into: &out, page: page)
            case ParquetEncoding.rleDictionary, ParquetEncoding.plainDictionary:
                guard let dictionary else { throw corrupt("\(page): dictionary-encoded values but no dictionary page") }
                var indices: [UInt32] = []
                if present > 0 {
                    guard raw.count >= 1 else { throw corrupt("\(page): the dictionary indices are missing") }
                    do throws(RLEBitPackedHybrid.Malformed) {
                        try RLEBitPackedHybrid.decode(UnsafeRawBufferPointer(rebasing: raw[1...]), bitWidth: Int(raw[0]), count: present, into: &indices)
                    } catch {
                        throw corrupt("\(page): the dictionary indices are damaged: \(error.problem)")
                    }
                }
                var next = 0
                for slot in 0..<count {
                    if let levels, levels[slot] != UInt32(maxDefinition) { out.appendNull(); continue }
                    let index = Int(indices[next])
                    next += 1
                    guard index < dictionary.count else {
                        throw corrupt("\(page): dictionary index \(index) but the dictionary has \(dictionary.count) entries")
                    }
                    try out.append(row: index, of: dictionary)
                }
            default:
                throw unsupported("\(page): values encoded as \(ParquetEncoding.name(header.encoding)); curator reads PLAIN, PLAIN_DICTIONARY and RLE_DICTIONARY (pyarrow's defaults)")
            }
        }
    }

    /// PLAIN byte arrays: each a four-byte little-endian length and its bytes.
    /// With `levels`, rows whose level is below the maximum are nulls.
    private func decodePlain(_ raw: UnsafeRawBufferPointer, count: Int, levels: ([UInt32], UInt32)?,
                             into out: inout ParquetStrings, page: String) throws {
        var position = 0
        var read = 0
        // The values take at most the page's bytes.
        out.reserve(bytes: raw.count)
        func next() throws -> UnsafeRawBufferPointer {
            guard raw.count - position >= 4 else { throw corrupt("\(page): value \(read) of \(count) is cut off") }
            let length = Int(raw.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian)
            position += 4
            guard length <= raw.count - position else {
                throw corrupt("\(page): value \(read) claims \(length) bytes but the page has \(raw.count - position) left")
            }
            defer { position += length; read += 1 }
            return UnsafeRawBufferPointer(rebasing: raw[position..<position + length])
        }
        if let (levels, maxLevel) = levels {
            for level in levels {
                if level == maxLevel { try out.append(try next()) } else { out.appendNull() }
            }
        } else {
            for _ in 0..<count { try out.append(try next()) }
        }
    }

    private func decodeLevels(_ bytes: [UInt8], _ range: Range<Int>, bitWidth: Int, count: Int, page: String) throws -> [UInt32] {
        var levels: [UInt32] = []
        let failure = bytes.withUnsafeBytes { raw -> RLEBitPackedHybrid.Malformed? in
            do throws(RLEBitPackedHybrid.Malformed) {
                try RLEBitPackedHybrid.decode(UnsafeRawBufferPointer(rebasing: raw[range]), bitWidth: bitWidth, count: count, into: &levels)
                return nil
            } catch { return error }
        }
        if let failure { throw corrupt("\(page): the definition levels are damaged: \(failure.problem)") }
        return levels
    }

    /// The page's bytes in `range` decompressed to `size` bytes with `codec`,
    /// and the range they occupy (uncompressed: the chunk and `range` themselves, uncopied).
    private func decompress(_ bytes: [UInt8], _ range: Range<Int>, to size: Int, codec: Int, page: String) throws -> ([UInt8], Range<Int>) {
        if codec == ParquetCodec.uncompressed { return (bytes, range) }
        guard size >= 0 else { throw corrupt("\(page): a negative uncompressed size") }
        try ArrayMemory.check(size, for: "\(page) (decompressed)", location: location)
        try ArrayMemory.checkRatio(uncompressed: size, compressed: range.count, location: "\(location), \(page)")
        let output = try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            let output = UnsafeMutableRawBufferPointer(buffer)
            try bytes.withUnsafeBytes { raw in
                let input = UnsafeRawBufferPointer(rebasing: raw[range])
                if codec == ParquetCodec.snappy {
                    do throws(Snappy.Malformed) { try Snappy.decompress(input, into: output) } catch {
                        throw corrupt("\(page): the SNAPPY data is damaged: \(error.problem)")
                    }
                } else {
                    do throws(Zstd.Failure) { try Zstd.decompress(input, into: output) } catch {
                        switch error {
                        case .malformed(let problem): throw corrupt("\(page): the ZSTD data is damaged: \(problem)")
                        case .unavailable(let reason): throw reason
                        }
                    }
                }
            }
            initialized = size
        }
        return (output, 0..<size)
    }
}
