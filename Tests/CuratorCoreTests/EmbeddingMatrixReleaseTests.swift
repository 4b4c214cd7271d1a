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

    /// Converting a mapped matrix for storage gives each converted block's
    /// pages back as it goes (float16 albums' conversion), losing nothing:
    /// the converted values are those of a copy in memory, and the source
    /// still reads as the file, with this process's change.
    func testConvertingWhileReleasingTheSourceKeepsEveryValue() throws {
        let rows = 20_011, d = 64  // over a million values: several blocks, the last one short
        let values = (0..<(rows * d)).map { Float($0 % 1013) * 0.001 - 0.5 }
        let mapped = try mappedFile(values, rows: rows, dimension: d, name: "convert")
        mapped.row(16_400)[5] = 0.75  // a private change in a later block
        var expected = values
        expected[16_400 * d + 5] = 0.75

        let target = EmbeddingMatrix(uninitializedRows: rows, dimension: d, precision: .float16)
        mapped.convert(into: target, releasingSource: true)
        let reference = EmbeddingMatrix(rows: rows, dimension: d, values: expected).converted(to: .float16)
        // The widened copies are held while their storage is read (it is memory they own).
        let (converted, wanted) = (target.float32(), reference.float32())
        withExtendedLifetime((converted, wanted)) {
            XCTAssertEqual(Array(converted.storage), Array(wanted.storage))
        }
        XCTAssertEqual(Array(mapped.storage), expected)
    }
}
