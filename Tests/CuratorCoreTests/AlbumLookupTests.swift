import Foundation
import XCTest
@testable import CuratorCore

/// What a user's words name in an album: a path, or a bare file name that
/// only one image has; a name several images have is ambiguous.
final class AlbumLookupTests: XCTestCase {
    func testPathsAndUniqueBareNamesFindTheirImageAmbiguousNamesListEveryCandidate() throws {
        let folder = TemporaryFolder()
        for path in ["beach/001.png", "city/001.png", "city/night/001.png", "city/note_025_b.png", "top.png"] {
            folder.writePNG(path, size: 16, seed: path.count)
        }
        let album = try Album.open(folder.path)
        func found(_ words: String) -> String? {
            if case let .found(record) = album.lookup(Array(words.utf8)) { return record.path.string }
            return nil
        }
        XCTAssertEqual(found("city/001.png"), "city/001.png", "a path finds its image")
        XCTAssertEqual(found(folder.path + "/beach/001.png"), "beach/001.png", "an absolute path under the album too")
        XCTAssertEqual(found("note_025_b.png"), "city/note_025_b.png", "a bare name no other image has")
        XCTAssertEqual(found("top.png"), "top.png")
        XCTAssertEqual(album.lookup(Array("nope.png".utf8)), .missing)
        XCTAssertEqual(album.lookup(Array("night/001.png".utf8)), .missing, "a partial path is not a name")
        let lookup = album.lookup(Array("001.png".utf8))
        guard case let .ambiguous(records) = lookup else { return XCTFail("001.png names three images: \(lookup)") }
        XCTAssertEqual(records.map(\.path.string), ["beach/001.png", "city/001.png", "city/night/001.png"])
        XCTAssertEqual(lookup.ambiguity(of: "'001.png'"),
                       "3 images have the name '001.png': beach/001.png, city/001.png, city/night/001.png; give one's path")
        XCTAssertEqual(lookup.ambiguity(of: "x", listing: 2), "3 images have the name x: beach/001.png, city/001.png, … (and 1 more); give one's path")
        XCTAssertNil(album.lookup(Array("top.png".utf8)).ambiguity(of: "top.png"))

        // A rescan that adds a second note_025_b.png makes the name ambiguous.
        folder.writePNG("beach/note_025_b.png", size: 16, seed: 99)
        try album.scan()
        guard case .ambiguous = album.lookup(Array("note_025_b.png".utf8)) else { return XCTFail("stale name index") }
    }
}
