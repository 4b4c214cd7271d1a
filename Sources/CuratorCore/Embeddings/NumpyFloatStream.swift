import Foundation

/// Reading a float `.npy` file into imported rows a block at a time, so a
/// file costs at most a block per core beside the rows it fills
/// (clip-retrieval's shards are a million float16 rows each: read whole, one
/// would add half the matrix again for a moment).
extension NumpyArray {
    /// Writes every row of the 2-D float matrix (float16, float32 or
    /// float64, either order) in `file`, whose parsed `header` the caller
    /// checked, as float32 into `rows` from row `firstRow` on. A C-order
    /// matrix goes in blocks of about a megabyte, read (float32 straight
    /// into the block, others widened from a second buffer) and stored on
    /// all cores (`blockRows` rows per block: tests make it small); a
    /// Fortran-order one is gathered into rows first.
    static func streamFloats(from file: RawFile, header: NumpyHeader, into rows: ImportedRows, firstRow: Int,
                             blockRows: Int? = nil) throws {
        try checkDataLength(file.size - header.dataOffset, header: header, location: file.path)
        let dtype = header.dtype, size = dtype.itemSize
        guard dtype.isFloat, header.shape.count == 2, header.shape[1] == rows.dimension, firstRow + header.shape[0] <= rows.rows else {
            throw EmbeddingFileError(.wrongType, file.path, "has dtype \(dtype) and shape \(header.shapeText); expected a float matrix of \(rows.dimension) columns")
        }
        let count = header.shape[0], dimension = header.shape[1]
        guard count > 0, dimension > 0 else { return }
        guard !header.isFortranOrder else {
            try streamFortranOrder(from: file, header: header, into: rows, firstRow: firstRow)
            return
        }
        let blockRows = max(1, blockRows ?? ImportedRows.blockRows(dimension: dimension))
        let floats = ScratchPool(bytes: blockRows * dimension * 4)
        #if _endian(little)
        let raw: ScratchPool? = dtype == .float32 ? nil : ScratchPool(bytes: blockRows * dimension * size)
        #else
        let raw: ScratchPool? = ScratchPool(bytes: blockRows * dimension * size)
        #endif
        try parallelForThrowing((count + blockRows - 1) / blockRows) { b in
            let range = b * blockRows..<min(count, (b + 1) * blockRows)
            let n = range.count * dimension, at = header.dataOffset + range.lowerBound * dimension * size
            try floats.withBuffer { buffer in
                let values = buffer.assumingMemoryBound(to: Float.self)
                if let raw {
                    try raw.withBuffer { bytes in
                        try file.read(into: bytes, count: n * size, at: at, what: "the array data")
                        convertFloats(bytes, dtype: dtype, count: n, into: values)
                    }
                } else {
                    try file.read(into: buffer, count: n * 4, at: at, what: "the array data")
                }
                try rows.store(range.lowerBound + firstRow..<range.upperBound + firstRow, values)
            }
        }
    }

    /// `streamFloats` for a Fortran-order matrix: the file holds column
    /// after column, so each block of a column is widened and scattered down
    /// a float32 copy of the rows, which is then stored.
    private static func streamFortranOrder(from file: RawFile, header: NumpyHeader, into target: ImportedRows, firstRow: Int) throws {
        let dtype = header.dtype, size = dtype.itemSize
        let rows = header.shape[0], columns = header.shape[1]
        let gathered = try EmbeddingMatrix(uninitializedRows: rows, dimension: columns, location: file.path)
        let destination = gathered.row(0)
        let perBlock = max(1, streamBlockBytes / size)
        let buffer = try ByteBlock(count: min(rows, perBlock) * size, for: "a block of the array data", location: file.path)
        let converted = try ByteBlock(count: min(rows, perBlock) * 4, for: "a block of the array data", location: file.path)
        let floats = converted.base.bindMemory(to: Float.self, capacity: min(rows, perBlock))
        for j in 0..<columns {
            var i = 0
            while i < rows {
                let n = min(perBlock, rows - i)
                try file.read(into: buffer.base, count: n * size, at: header.dataOffset + (j * rows + i) * size, what: "the array data")
                convertFloats(buffer.base, dtype: dtype, count: n, into: floats)
                for k in 0..<n { destination[(i + k) * columns + j] = floats[k] }
                i += n
            }
        }
        try target.store(firstRow..<firstRow + rows, destination)
    }

    /// Bytes of the file read per block of a Fortran-order column.
    static let streamBlockBytes = 4 << 20
}
