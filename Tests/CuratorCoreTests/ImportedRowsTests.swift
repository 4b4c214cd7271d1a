import CKernels
import Foundation
import XCTest
@testable import CuratorCore

/// A first open writes the imported rows straight into the album's matrix
/// file a block at a time (`ImportedRows`, `MatrixFile.Writer(streaming:)`):
/// the file holds exactly the rows an import into memory reads, at the
/// album's precision from the start, and a file refused halfway leaves
/// nothing behind.
final class ImportedRowsTests: XCTestCase {
    private let folder = TemporaryFolder()
    /// 256-d rows: 1,024 to a block, so 2,600 rows are three blocks, the last one partial.
    private let rows = 2600, dimension = 256

    /// A PhotoMapAI-style index at `name` with random rows (not unit length);
    /// `change` edits the float32 rows before they are written.
    private func index(_ name: String, deflated: Bool = false, change: (inout [[Float]]) -> Void = { _ in }) -> String {
        var generator = SplitMix64(seed: 5)
        var vectors = (0..<rows).map { _ in (0..<dimension).map { _ in Float(generator.nextUnit() * 4 - 2) } }
        change(&vectors)
        return folder.write(name, ZipFixture.archive([
            (deflated ? ZipFixture.deflated : ZipFixture.stored)("embeddings.npy", ZipFixture.npy(rows: vectors)),
            ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: (0..<rows).map { String(format: "/data/img%05d.jpg", $0) })),
        ]))
    }

    /// Each row's values by its image's path.
    private func rowsByPath(_ album: Album) throws -> [String: [Float]] {
        let m = try album.matrix()
        return Dictionary(uniqueKeysWithValues: m.imageIDs.enumerated().map { (album.image(id: $0.element)!.path.string, m.matrix.vector($0.offset)) })
    }

    /// The rows an import into memory reads (normalised float32), by path.
    private func importedInMemory(_ path: String) throws -> [String: [Float]] {
        let imported = try EmbeddingImport.load(URL(fileURLWithPath: path))
        return Dictionary(uniqueKeysWithValues: imported.paths.enumerated().map {
            (String($0.element.dropFirst("/data/".count)), imported.matrix.vector($0.offset))
        })
    }

    private func indexFiles(_ subfolder: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder.path + "/\(subfolder)/.curator").sorted()) ?? []
    }

    func testAFirstOpenWritesTheRowsAnImportIntoMemoryReads() throws {
        let file = index("a/e.npz")
        let album = try Album.open(file)
        let matrix = try album.matrix().matrix
        XCTAssertTrue(matrix.isMapped)
        XCTAssertEqual(matrix.precision, .float32)
        XCTAssertEqual(try rowsByPath(album), try importedInMemory(file), "bit for bit")
        let matrixFile = folder.path + "/a/.curator/e.npz.matrix-photomap.bin"
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: matrixFile)[.size] as? Int)
        XCTAssertEqual(size, MatrixFile.valuesOffset(rows: rows) + rows * dimension * 4)
        XCTAssertFalse(indexFiles("a").contains { $0.contains(".tmp-") }, "\(indexFiles("a"))")
        // Reopened: the file is current, nothing is imported again.
        let again = try Album.open(file)
        XCTAssertNil(again.lastEmbed)
        XCTAssertEqual(try rowsByPath(again), try importedInMemory(file))
    }

    func testAFloat16FirstOpenWritesFloat16RowsStraightAway() throws {
        let file = index("b/e.npz")
        let album = try Album.open(file, options: .init(precision: .float16))
        XCTAssertEqual(album.precision, .float16)
        let matrix = try album.matrix().matrix
        XCTAssertEqual(matrix.precision, .float16)
        XCTAssertTrue(matrix.isMapped)
        // The float32 rows rounded once to float16 (nearest, ties to even), as converting them would.
        let exact = try importedInMemory(file)
        for (path, vector) in try rowsByPath(album) {
            let expected = exact[path]!.map { Float(Float16($0)) }
            XCTAssertEqual(vector, expected, path)
        }
        // No float32 file was written and converted: the file is float16 from the first open.
        let matrixFile = folder.path + "/b/.curator/e.npz.matrix-photomap.bin"
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: matrixFile)[.size] as? Int)
        XCTAssertEqual(size, MatrixFile.valuesOffset(rows: rows) + rows * dimension * 2)
        XCTAssertEqual(try album.embeddingStore.currentMatrixPrecision(embedder: PhotoMapEmbedder.name), .float16)
        // Reopened without saying: float16, nothing imported again.
        let again = try Album.open(file)
        XCTAssertNil(again.lastEmbed)
        XCTAssertEqual(again.precision, .float16)
    }

    func testRowsKeptInMemoryAtFloat16AreTheRoundedFloat32Rows() throws {
        let values: [Float] = [3, 4, 0, 0, 1, 1, 1, 1, 0.1, 0.2, 0.3, 0.4]
        let half = try ImportedRows(rows: 3, dimension: 4, precision: .float16, normalizing: true, location: "test")
        var scratch = values
        // Stored out of order, as parallel readers do.
        try scratch.withUnsafeMutableBufferPointer { buffer in
            try half.store(2..<3, buffer.baseAddress! + 8)
            try half.store(0..<2, buffer.baseAddress!)
        }
        let expected = EmbeddingMatrix(rows: 3, dimension: 4, values: values)
        expected.normalizeRows()
        XCTAssertEqual(try half.matrix().precision, .float16)
        for i in 0..<3 {
            XCTAssertEqual(try half.matrix().vector(i), expected.vector(i).map { Float(Float16($0)) })
        }
    }

    func testADeflatedMatrixIsInflatedBlockByBlockIntoTheSameRows() throws {
        // np.savez_compressed's members: inflated a block at a time into the matrix file, never whole.
        let stored = try Album.open(index("f/e.npz"))
        for precision in [MatrixPrecision.float32, .float16] {
            let file = index("g\(precision.rawValue)/e.npz", deflated: true)
            let album = try Album.open(file, options: .init(precision: precision))
            XCTAssertEqual(try album.matrix().matrix.precision, precision)
            let expected = try rowsByPath(stored).mapValues { precision == .float16 ? $0.map { Float(Float16($0)) } : $0 }
            XCTAssertEqual(try rowsByPath(album), expected, "bit for bit, \(precision)")
        }
        // A deflated member cut short is refused and leaves nothing behind.
        let file = index("h/e.npz", deflated: true)
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: file)).map { $0 }
        let start = 30 + "embeddings.npy".utf8.count
        bytes[start + (bytes.count - start) / 3] ^= 0xFF
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
        XCTAssertThrowsError(try Album.open(file)) { XCTAssertTrue($0 is EmbeddingFileError, "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path + "/h/.curator"), "\(indexFiles("h"))")
    }

    func testADamagedMatrixIsRefusedAndLeavesNothingBehind() throws {
        let file = index("c/e.npz")
        // One byte of the last block's rows changed: the CRC-32 is known only after every block was written.
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: file)).map { $0 }
        let headerBytes = ZipFixture.npyHeader(descr: "<f4", shape: [rows, dimension]).count
        bytes[30 + "embeddings.npy".utf8.count + headerBytes + (rows - 3) * dimension * 4 + 1] ^= 0x40
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
        XCTAssertFileError(.corrupt, ["e.npz: key 'embeddings'", "CRC-32 mismatch"]) { try Album.open(file) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path + "/c/.curator"), "\(indexFiles("c"))")
    }

    func testAZeroRowInALaterBlockIsNamedAndLeavesNothingBehind() throws {
        let file = index("d/e.npz") { $0[2500] = Array(repeating: 0, count: self.dimension) }
        XCTAssertFileError(.corrupt, ["1 of the 2600 rows are all zeros", "row 2500", "/data/img02500.jpg"]) {
            try Album.open(file, options: .init(precision: .float16))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path + "/d/.curator"), "\(indexFiles("d"))")
    }
}
