import Foundation
import XCTest
@testable import CuratorCore
#if canImport(Glibc)
import Glibc
#endif

final class EmbeddingMatrixReleaseTests: XCTestCase {
    /// `values` written to a file and mapped privately (as the album maps its
    /// matrix file), the file removed at once (the mapping keeps it).
    private func mappedFile(_ values: [Float], rows: Int, dimension d: Int, name: String) throws -> EmbeddingMatrix {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid()).f32").path
        defer { unlink(path) }
        try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let length = rows * d * 4
        let base = try XCTUnwrap(mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0))
        close(fd)
        XCTAssertNotEqual(base, MAP_FAILED)
        return EmbeddingMatrix(mapping: base, length: length, offset: 0, rows: rows, dimension: d)
    }

    /// Giving a file-mapped matrix's pages back (as the map does while it
    /// searches a sorted copy) loses nothing: rows read afterwards equal the
    /// file, and a row this process changed keeps its change. A matrix in
    /// memory of its own is left alone.
    func testReleasingResidentPagesKeepsEveryValue() throws {
        let rows = 4096, d = 64
        let values = (0..<(rows * d)).map { Float($0 % 1009) * 0.25 }
        let mapped = try mappedFile(values, rows: rows, dimension: d, name: "release")
        var checksum: Float = 0
        for i in 0..<(rows * d) { checksum += mapped.storage[i] }  // every page resident
        mapped.row(7)[3] = -42  // a private (copy-on-write) change
        mapped.releaseResidentPages()
        XCTAssertEqual(Array(mapped.storage), values.enumerated().map { $0.offset == 7 * d + 3 ? -42 : $0.element })

        let owned = EmbeddingMatrix(rows: 2, dimension: 3, values: [1, 2, 3, 4, 5, 6])
        owned.releaseResidentPages()
        XCTAssertEqual(Array(owned.storage), [1, 2, 3, 4, 5, 6])
        XCTAssertGreaterThan(checksum, 0)
    }

    /// Converting a mapped matrix for storage (a float32 album made float16,
    /// `MatrixFile.saveConverted`) writes the converted blocks with `pwrite`
    /// and gives each source block's pages back as it goes, losing nothing:
    /// the file's rows are those of a copy converted in memory, and the
    /// source still reads as the file, with this process's change.
    func testConvertingWhileReleasingTheSourceKeepsEveryValue() throws {
        let rows = 20_011, d = 64  // over a million values: several blocks, the last one short
        let values = (0..<(rows * d)).map { Float($0 % 1013) * 0.001 - 0.5 }
        let mapped = try mappedFile(values, rows: rows, dimension: d, name: "convert")
        mapped.row(16_400)[5] = 0.75  // a private change in a later block
        var expected = values
        expected[16_400 * d + 5] = 0.75

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("converted-\(getpid()).bin").path
        defer { unlink(path) }
        let ids = (0..<rows).map { Int64($0 * 3 + 1) }
        let file = MatrixFile(path: path)
        XCTAssertTrue(file.saveConverted(AlbumMatrix(embedder: "e", matrix: mapped, imageIDs: ids), to: .float16,
                                         generation: 5, token: 9))
        let saved = try XCTUnwrap(file.load(embedder: "e", generation: 5, token: 9, dimension: d))
        XCTAssertEqual(saved.matrix.precision, .float16)
        XCTAssertEqual(saved.imageIDs, ids)
        let reference = EmbeddingMatrix(rows: rows, dimension: d, values: expected).converted(to: .float16)
        // The widened copies are held while their storage is read (it is memory they own).
        let (converted, wanted) = (saved.matrix.float32(), reference.float32())
        withExtendedLifetime((converted, wanted)) {
            XCTAssertEqual(Array(converted.storage), Array(wanted.storage))
        }
        XCTAssertEqual(Array(mapped.storage), expected)
        // And back: float16 to float32 by blocks gives the float16 values widened.
        XCTAssertTrue(file.saveConverted(saved, to: .float32, generation: 6, token: 9))
        let back = try XCTUnwrap(file.load(embedder: "e", generation: 6, token: 9, dimension: d))
        XCTAssertEqual(back.matrix.precision, .float32)
        withExtendedLifetime(wanted) { XCTAssertEqual(Array(back.matrix.storage), Array(wanted.storage)) }
    }

    /// A converted block the file does not take stops the conversion with
    /// that block's error, later blocks unwritten.
    func testAConversionStopsAtTheFirstRefusedBlock() throws {
        let matrix = EmbeddingMatrix(rows: 40_000, dimension: 64, values: [Float](repeating: 0.125, count: 40_000 * 64))
        struct Refused: Error {}
        let written = SharedBuffer(repeating: false, count: 3)
        XCTAssertThrowsError(try matrix.convert(to: .float16) { _, count, offset in
            XCTAssertEqual(offset % (1 << 21), 0)
            written[offset >> 21] = true
            if offset > 0 { throw Refused() }
        }) { XCTAssertTrue($0 is Refused) }
        XCTAssertTrue(written[0])
    }
}
