import Foundation

/// Reading a float `.npy` file straight into a matrix's rows, a block at a
/// time, so a shard costs at most one block beside the matrix it fills
/// (clip-retrieval's shards are a million float16 rows each: read whole, one
/// would add half the matrix again for a moment).
extension NumpyArray {
    /// Bytes of the file read per block when the elements must be converted.
    static let streamBlockBytes = 4 << 20

    /// Writes every element of the float array (float16, float32 or float64,
    /// 2-D when Fortran-ordered) in `file`, whose parsed `header` the caller
    /// checked, converted to Float in C order at `destination`. A float32
    /// C-order array is read into `destination` directly; any other goes
    /// through one buffer of `blockBytes`.
    static func streamFloats(from file: RawFile, header: NumpyHeader, into destination: UnsafeMutablePointer<Float>,
                             blockBytes: Int = streamBlockBytes) throws {
        try checkDataLength(file.size - header.dataOffset, header: header, location: file.path)
        let dtype = header.dtype, size = dtype.itemSize, count = header.elementCount
        guard dtype.isFloat, count > 0 else { return }
        #if _endian(little)
        if dtype == .float32 && !header.isFortranOrder {
            try file.read(into: destination, count: count * 4, at: header.dataOffset, what: "the array data")
            return
        }
        #endif
        let perBlock = max(1, blockBytes / size)
        let buffer = try ByteBlock(count: min(count, perBlock) * size, for: "a block of the array data", location: file.path)
        guard header.isFortranOrder, header.shape.count >= 2 else {
            // C order (and 1-D arrays, laid out alike in both orders): blocks in file order.
            var done = 0
            while done < count {
                let n = min(perBlock, count - done)
                try file.read(into: buffer.base, count: n * size, at: header.dataOffset + done * size, what: "the array data")
                convertFloats(buffer.base, dtype: dtype, count: n, into: destination + done)
                done += n
            }
            return
        }
        guard header.shape.count == 2 else {
            throw EmbeddingFileError(.unsupported, file.path, "Fortran-order arrays of \(header.shape.count) dimensions are not supported; save it in C order with np.ascontiguousarray(arr)")
        }
        // Fortran order: the file holds column after column; each block of a
        // column is converted and scattered down the rows.
        let rows = header.shape[0], columns = header.shape[1]
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
    }
}
