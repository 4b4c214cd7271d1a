import Foundation
import XCTest
@testable import CuratorCore

/// Two open albums on one index stand for two processes (the REPL and a
/// script beside it): neither works from the other's outdated decisions.
final class AlbumSharedDecisionsTests: XCTestCase {
    func testExclusionsMadeElsewhereAreSeenAndMergedNotLost() throws {
        let folder = TemporaryFolder()
        for i in 0..<6 { folder.writePNG("img\(i).png", seed: i) }
        let repl = try Album.open(folder.path, options: .init(embedder: "pixels", embed: false))
        let script = try Album.open(folder.path, options: .init(embedder: "pixels", embed: false))
        let ids = repl.images.map(\.id)

        try repl.exclusions.add([ids[0]])
        try script.exclusions.add([ids[1]])  // catches up with ids[0] before adding
        XCTAssertEqual(script.exclusions.ids, [ids[0], ids[1]])

        try repl.exclusions.refresh()
        XCTAssertEqual(repl.exclusions.ids, [ids[0], ids[1]], "an explicit refresh reads the other's change")

        try script.exclusions.remove([ids[0]])
        try script.favorites.add([ids[5]])
        Thread.sleep(forTimeInterval: Double(ImageIDSet.staleness) / 1e9 + 0.05)
        XCTAssertFalse(repl.exclusions.contains(ids[0]), "reads catch up within the staleness window")
        XCTAssertEqual(repl.favorites.ids, [ids[5]])

        // A change made here starts from the index's state, so nothing the other did is lost.
        try script.exclusions.add([ids[2]])
        try repl.exclusions.add([ids[3]])
        XCTAssertEqual(try Album.open(folder.path, options: .init(embedder: "pixels", embed: false)).exclusions.ids,
                       [ids[1], ids[2], ids[3]])
        XCTAssertEqual(try repl.exclusions.remove([ids[2]]), 1, "removing what the other added counts it")
    }
}
