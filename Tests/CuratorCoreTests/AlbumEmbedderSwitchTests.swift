import Foundation
import XCTest
@testable import CuratorCore

/// Switching embedders must not stick when it fails: the album keeps the
/// embedder it had (in the index too), so it still opens and selects.
final class AlbumEmbedderSwitchTests: XCTestCase {
    private func album() throws -> (TemporaryFolder, Album) {
        let folder = TemporaryFolder()
        for i in 0..<4 { folder.writePNG("img\(i).png", size: 16, seed: i) }
        return (folder, try Album.open(folder.path, options: .init(embedder: "pixels")))
    }

    func testFailedSwitchToCLIPKeepsTheEmbedder() throws {
        let (folder, a) = try album()
        XCTAssertEqual(a.embedder, "pixels")
        setenv("CURATOR_CLIP_MODEL", "no-such-model", 1)
        defer { unsetenv("CURATOR_CLIP_MODEL") }
        XCTAssertThrowsError(try a.embed("clip"))
        XCTAssertEqual(a.embedder, "pixels")
        XCTAssertEqual(try a.matrix().matrix.rows, 4)
        XCTAssertThrowsError(try Album.open(folder.path, options: .init(embedder: "clip")))
        let reopened = try Album.open(folder.path)
        XCTAssertEqual(reopened.embedder, "pixels", "a failed switch is not stored in the index")
        XCTAssertEqual(try reopened.matrix().matrix.rows, 4)
    }

    func testImportMatchingNoImageChangesNothing() throws {
        let (folder, a) = try album()
        let npz = ZipFixture.archive([
            ZipFixture.stored("embeddings.npy", ZipFixture.npy(rows: [[1, 0, 0], [0, 1, 0]])),
            ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: ["/elsewhere/x.jpg", "/elsewhere/y.jpg"])),
        ])
        let file = folder.write("other.npz", npz)
        XCTAssertThrowsError(try a.importEmbeddings(from: file, as: "theirs")) { error in
            XCTAssertTrue("\(error)".contains("none of the 2 rows"), "\(error)")
            XCTAssertTrue("\(error)".contains("/elsewhere/x.jpg"), "\(error)")
        }
        XCTAssertEqual(a.embedder, "pixels")
        XCTAssertFalse(try a.embeddingStore.embedders().map(\.name).contains("theirs"))
        let reopened = try Album.open(folder.path)
        XCTAssertEqual(reopened.embedder, "pixels")
        XCTAssertEqual(try reopened.matrix().matrix.rows, 4)
    }

    func testEmbedWithNothingToDoSaysSo() throws {
        let (_, a) = try album()
        let report = try a.embed()
        XCTAssertEqual(report.alreadyEmbedded, 4)
        XCTAssertTrue(report.notes.contains { $0.contains("nothing to compute") && $0.contains("'pixels'") }, "\(report)")
    }
}
