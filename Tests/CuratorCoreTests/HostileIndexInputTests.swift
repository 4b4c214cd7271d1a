import Foundation
import GRDB
import XCTest
@testable import CuratorCore

/// Index-only albums and imports from files someone else made, and a disk
/// that fills up: each gives a message a user can act on and leaves nothing
/// half-made behind.
final class HostileIndexInputTests: XCTestCase {
    private let folder = TemporaryFolder()

    private func npz(_ name: String, rows: [[Float]], paths: [String]) -> String {
        folder.write(name, ZipFixture.archive([
            ZipFixture.stored("embeddings.npy", ZipFixture.npy(rows: rows)),
            ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: paths)),
        ]))
    }

    func testDuplicateFileNamesAreNamedAndNothingIsLeftBehind() throws {
        let file = npz("dup/index.npz", rows: [[1, 0], [0, 1], [1, 1], [2, 1]],
                       paths: ["/x/a.jpg", "/x/b.jpg", "/x/a.jpg", "/x/b.jpg"])
        XCTAssertThrowsError(try Album.open(file)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("2 file names are listed more than once"), message)
            XCTAssertTrue(message.contains("a.jpg (rows 0, 2)") && message.contains("b.jpg (rows 1, 3)"), message)
            XCTAssertFalse(message.contains("SQLite"), message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path + "/dup/.curator"), "no index (or its folder) is left behind")
    }

    func testVectorsThatCannotBeComparedAreRefusedOrNormalised() throws {
        // All-zero rows: refused with a count, naming the first.
        XCTAssertFileError(.corrupt, ["2 of the 3 rows are all zeros", "row 1", "/x/b.jpg"]) {
            try EmbeddingImport.load(URL(fileURLWithPath: npz("zero.npz", rows: [[1, 0], [0, 0], [0, 0]], paths: ["/x/a.jpg", "/x/b.jpg", "/x/c.jpg"])))
        }
        // No columns at all.
        XCTAssertFileError(.wrongType, ["no values", "(2, 0)"]) {
            try EmbeddingImport.load(URL(fileURLWithPath: npz("empty.npz", rows: [[], []], paths: ["/x/a.jpg", "/x/b.jpg"])))
        }
        // Values whose squares overflow (and ones whose squares underflow) still come out of unit length.
        let imported = try EmbeddingImport.load(URL(fileURLWithPath: npz("huge.npz", rows: [[3e38, 3e38, 0], [1e-30, 0, 1e-30], [1, 2, 2]],
                                                                        paths: ["/x/a.jpg", "/x/b.jpg", "/x/c.jpg"])))
        for i in 0..<3 {
            let v = imported.matrix.vector(i)
            XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5, "row \(i): \(v)")
        }
        XCTAssertEqual(imported.matrix.vector(0)[0], Float(0.5).squareRoot(), accuracy: 1e-6)
        // Through a PhotoMapAI index too.
        XCTAssertFileError(.corrupt, ["1 of the 2 rows are all zeros"]) {
            try PhotoMapIndex.read(URL(fileURLWithPath: npz("pm/photomap_index/embeddings.npz", rows: [[0, 0], [1, 1]], paths: ["/x/a.jpg", "/x/b.jpg"])))
        }
    }

    func testDiskFullWhileIndexingSaysDiskFull() throws {
        for i in 0..<40 { folder.writePNG("album/img\(i).png", size: 16, seed: i) }
        let album = try Album.open(folder.path + "/album", options: .init(embedder: "pixels", embed: false))
        // SQLite's page limit fills up exactly as a full disk does (SQLITE_FULL).
        try album.database.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 1
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        XCTAssertThrowsError(try album.embed()) { error in
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            XCTAssertTrue(message.hasPrefix("disk full"), message)
            XCTAssertFalse(message.contains("move it aside"), message)
            XCTAssertFalse(message.contains("SQLite error 13"), message)
        }
    }
}
