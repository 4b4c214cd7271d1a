import Foundation
import XCTest
@testable import CuratorCore

/// An album opened read-only (what `--safe` does) reads its index as it is
/// and never writes: not the index, not beside it, not a new one.
final class AlbumReadOnlyTests: XCTestCase {
    let reason = "which the test does not allow"

    private func files(under path: String) -> [String] {
        ((FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []).sorted()
    }

    func testAFolderWithoutAnIndexIsRefusedAndNothingIsCreated() throws {
        let folder = TemporaryFolder()
        folder.writePNG("a.png")
        let before = files(under: folder.path)
        XCTAssertThrowsError(try Album.open(folder.path, options: .init(readOnlyReason: reason))) { error in
            guard case IndexError.noIndex(let path, let why) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, folder.path)
            XCTAssertEqual(why, reason)
        }
        XCTAssertEqual(files(under: folder.path), before)
    }

    func testEveryChangeIsRefusedRunsStayInMemoryAndTheIndexIsUnchanged() throws {
        let folder = TemporaryFolder()
        for i in 0..<6 { folder.writePNG("img\(i).png", seed: i) }
        let writable = try Album.open(folder.path, options: .init(embedder: "pixels"))
        let ids = writable.images.map(\.id)
        try writable.exclusions.add([ids[0]])
        _ = try writable.select(SelectOptions(count: 2, iterations: 2, seed: 1))
        let index = writable.database.path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: index))
        let wal = try? Data(contentsOf: URL(fileURLWithPath: index + "-wal"))
        let listing = files(under: folder.path).filter { !$0.hasSuffix("-shm") && !$0.hasSuffix("-wal") }

        let album = try Album.open(folder.path, options: .init(readOnlyReason: reason))
        XCTAssertTrue(album.isReadOnly)
        XCTAssertEqual(album.images.map(\.id), ids)
        XCTAssertEqual(album.exclusions.ids, [ids[0]])
        XCTAssertEqual(album.embedder, "pixels")

        func assertRefused(_ change: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body(), change) { error in
                XCTAssertEqual("\(error)", "\(change) would write to the album's index, \(reason)")
            }
        }
        assertRefused("changing the exclusions") { try album.exclusions.add([ids[1]]) }
        assertRefused("changing the exclusions") { try album.exclusions.remove([ids[0]]) }
        assertRefused("changing the exclusions") { try album.exclusions.clear() }
        assertRefused("changing the favorites") { try album.favorites.add([ids[1]]) }
        assertRefused("rescanning the folder") { try album.scan() }
        assertRefused("computing embeddings") { try album.embed() }
        assertRefused("importing embeddings") { try album.importEmbeddings(from: index) }
        assertRefused("caching the map") {
            try MapCache(database: album.database).store(MapLayout(points: []),
                                                         fingerprints: [], key: "k", embedder: "pixels")
        }

        let run = try album.select(SelectOptions(count: 2, iterations: 2, seed: 2))
        XCTAssertEqual(run.id, 2, "numbered after the saved run")
        XCTAssertEqual(try album.runIDs(), [1, 2])
        XCTAssertEqual(try album.run(id: 2)?.selection, run.selection)

        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: index)), bytes)
        XCTAssertEqual(try? Data(contentsOf: URL(fileURLWithPath: index + "-wal")), wal)
        XCTAssertEqual(files(under: folder.path).filter { !$0.hasSuffix("-shm") && !$0.hasSuffix("-wal") }, listing)
        XCTAssertEqual(try writable.runIDs(), [1], "the run was not saved")
    }
}
