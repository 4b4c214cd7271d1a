import Foundation
import XCTest
@testable import CuratorCore

final class RunStoreTests: XCTestCase {
    func testRunsSurviveReopeningWithTheirPicksInOrder() throws {
        let folder = TemporaryFolder()
        for i in 0..<4 { folder.writePNG("img\(i).png", seed: i) }
        let album = try Album.open(folder.path, options: .init(embed: false))
        let ids = album.images.map(\.id)
        let store = RunStore(database: album.database)
        let run = SelectionRun(method: "fps", count: 2, seed: UInt64.max - 7, embedder: "pixels", candidates: 4,
                               inertia: 1.25, parameters: ["include": "img0.png"], picks: [[ids[2], ids[0]], [ids[3], ids[2]]])
        let saved = try store.save(run)
        XCTAssertEqual(saved.id, 1)
        XCTAssertEqual(try store.save(run).id, 2)

        let reopened = try Album.open(folder.path, options: .init(embed: false))
        let loaded = try XCTUnwrap(RunStore(database: reopened.database).load(1))
        XCTAssertEqual(loaded.picks, run.picks)
        XCTAssertEqual(loaded.seed, UInt64.max - 7)
        XCTAssertEqual(loaded.parameters, ["include": "img0.png"])
        XCTAssertEqual(loaded.inertia, 1.25)
        XCTAssertEqual(loaded.created.timeIntervalSince1970, run.created.timeIntervalSince1970, accuracy: 1e-3)

        // A removed image leaves the runs that picked it, not the runs themselves.
        try FileManager.default.removeItem(atPath: folder.path + "/img2.png")
        let rescanned = try Album.open(folder.path, options: .init(embed: false))
        XCTAssertEqual(try RunStore(database: rescanned.database).load(1)?.picks, [[ids[0]], [ids[3]]])
        XCTAssertTrue(try RunStore(database: rescanned.database).delete(2))
        XCTAssertEqual(try RunStore(database: rescanned.database).ids(), [1])
    }
}
