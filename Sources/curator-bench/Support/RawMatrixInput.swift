import ArgumentParser
import CuratorCore
import Foundation

/// The input of the matrix benchmarks (`select`, `coverage`, `hdbscan`,
/// `gemm`, `umap-*`): `MATRIX ROWS DIM`, a file of exactly ROWS × DIM
/// little-endian float32 values, row after row, with no header (what
/// scripts/bench/make_synthetic_index.py and umap_make_data.py write). Not
/// CuratorCore's `MatrixFile` (the album index's stored matrix): hence its name.
struct RawMatrixInput: ParsableArguments {
    @Argument(help: "Raw little-endian float32 values, ROWS × DIM of them, no header.") var path: String
    @Argument(help: "Rows in the file.") var rows: Int
    @Argument(help: "Values per row.") var dimension: Int

    /// Reads the file straight into a matrix (no mapped or intermediate
    /// copy, so the peak memory measured is the benchmark's, not the
    /// loader's), scaling each row to unit length when `normalized`.
    func read(normalized: Bool) throws -> EmbeddingMatrix {
        try Self.read(path, rows: rows, dimension: dimension, normalized: normalized)
    }

    /// `read(normalized:)` of a file whose shape the subcommand knows otherwise.
    static func read(_ path: String, rows: Int, dimension: Int, normalized: Bool) throws -> EmbeddingMatrix {
        guard rows > 0, dimension > 0 else { throw BenchError("ROWS and DIM must be positive") }
        guard let file = fopen(path, "rb") else { throw BenchError("\(path): cannot open") }
        defer { fclose(file) }
        let matrix = EmbeddingMatrix(uninitializedRows: rows, dimension: dimension)
        let count = rows * dimension
        let read = fread(matrix.storage.baseAddress!, MemoryLayout<Float>.stride, count, file)
        guard read == count, fgetc(file) == EOF else {
            throw BenchError("\(path): expected exactly \(rows)×\(dimension) float32 values")
        }
        if normalized { matrix.normalizeRows() }
        return matrix
    }
}
