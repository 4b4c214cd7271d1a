import Foundation
import XCTest
@testable import CuratorCore
#if canImport(Glibc)
import Glibc
#endif

final class EmbeddingMatrixReleaseTests: XCTestCase {
    /// Giving a file-mapped matrix's pages back (as the map does while it
    /// searches a sorted copy) loses nothing: rows read afterwards equal the
    /// file, and a row this process changed keeps its change. A matrix in
    /// memory of its own is left alone.
    func testReleasingResidentPagesKeepsEveryValue() throws {
        let rows = 4096, d = 64
        let values = (0..<(rows * d)).map { Float($0 % 1009) * 0.25 }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("release-\(getpid()).f32").path
        defer { unlink(path) }
        try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let length = rows * d * 4
        let base = try XCTUnwrap(mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0))
        close(fd)
        XCTAssertNotEqual(base, MAP_FAILED)
        let mapped = EmbeddingMatrix(mapping: base, length: length, offset: 0, rows: rows, dimension: d)
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
}
