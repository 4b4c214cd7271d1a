import XCTest
@testable import CuratorCore

final class ExportEntryTests: XCTestCase {
    func testTiersAreInclusiveAtTheirThresholds() {
        XCTAssertEqual(SelectionTier(frequency: 27.0 / 30), .core)
        XCTAssertEqual(SelectionTier(frequency: 18.0 / 20), .core)
        XCTAssertEqual(SelectionTier(frequency: 0.8999), .stable)
        XCTAssertEqual(SelectionTier(frequency: 14.0 / 20), .stable)
        XCTAssertEqual(SelectionTier(frequency: 21.0 / 30), .stable)
        XCTAssertEqual(SelectionTier(frequency: 0.6999), .variable)
        XCTAssertEqual(SelectionTier(frequency: 0), .variable)
    }

    func testEntriesTakeTheirTierFromFrequencyUnlessExcludedOrGivenOne() {
        let root = FileSystemPath("/album")
        XCTAssertEqual(CurationEntry(path: RelativePath("a.jpg"), albumRoot: root, votes: 19, frequency: 0.95, index: 0).tier, .core)
        XCTAssertNil(CurationEntry(path: RelativePath("a.jpg"), albumRoot: root, frequency: 0.95, index: 0, excluded: true).tier)
        XCTAssertEqual(CurationEntry(path: RelativePath("a.jpg"), albumRoot: root, frequency: 0.95, index: 0, tier: .variable).tier, .variable)
        let nested = CurationEntry(path: RelativePath("trips/2024/a.jpg"), albumRoot: root, index: 0)
        XCTAssertEqual(nested.absolutePath, FileSystemPath("/album/trips/2024/a.jpg"))
        XCTAssertEqual(nested.parentFolderName, Array("2024".utf8))
        XCTAssertEqual(CurationEntry(path: RelativePath("a.jpg"), albumRoot: root, index: 0).parentFolderName, Array("album".utf8))
    }

    func testSidecarsAreFoundBesideTheImageIncludingBrokenOnes() throws {
        let s = try ExportScratchFolder()
        let image = s.write("album/cat.v2.jpg", "CAT")
        s.write("album/cat.v2.txt", "caption")
        s.symlink("nowhere", at: "album/cat.v2.json")   // dangling, still reported so the export can say why
        s.write("album/cat.txt", "belongs to another stem")
        let found = Sidecar.discover(besideImageAt: image)
        XCTAssertEqual(found.map(\.fileExtension), [".txt", ".json"])
        XCTAssertEqual(found.first?.absolutePath, s.path("album/cat.v2.txt"))
        XCTAssertEqual(Sidecar.discover(besideImageAt: image, extensions: [".caption"]), [])
    }

    func testADanglingSymlinkInTheDestinationCountsAsTaken() throws {
        let s = try ExportScratchFolder()
        s.write("album/pets/cat.jpg", "CAT")
        s.symlink("/nonexistent/target", at: "out/cat.jpg")
        let out = s.path("out")
        let report = try FolderExporter(destination: out).export([exportEntry(s, "pets/cat.jpg", index: 0)])
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(folderNames(out), ["cat.jpg", "pets_cat.jpg"])
        XCTAssertEqual(exportEntryKind(out.appending("cat.jpg")), .symbolicLink)
        XCTAssertNil(fileBytes(FileSystemPath("/nonexistent/target")))
    }

    func testCallerProvidedSidecarsAreUsedAsGiven() throws {
        let s = try ExportScratchFolder()
        s.write("album/cat.jpg", "CAT")
        s.write("album/cat.txt", "on disk, but not listed")
        let elsewhere = s.write("captions/cat-caption.txt", "listed")
        var image = exportEntry(s, "cat.jpg", index: 0)
        image.sidecars = [Sidecar(fileExtension: ".txt", absolutePath: elsewhere)]
        let out = s.path("out")
        _ = try FolderExporter(destination: out).export([image])
        XCTAssertEqual(fileText(out.appending("cat.txt")), "listed")
    }
}
