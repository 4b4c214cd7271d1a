import Foundation
import XCTest
@testable import CuratorCore

final class AlbumScanTests: XCTestCase {
    private func open(_ folder: TemporaryFolder, progress: (any ProgressSink)? = nil) throws -> Album {
        try Album.open(folder.path, options: .init(embed: false), progress: progress)
    }

    func testScanFindsImagesRecursivelyAndSkipsSpecialFolders() throws {
        let folder = TemporaryFolder()
        folder.writePNG("a.png", seed: 1)
        folder.writePNG("sub/b.png", seed: 2)
        folder.writePNG("sub/deeper/c.PNG", seed: 3)
        folder.writePNG(".hidden/d.png", seed: 4)
        folder.writePNG("photomap_index/e.png", seed: 5)
        folder.writePNG("@eaDir/f.png", seed: 6)
        folder.writePNG("__MACOSX/g.png", seed: 7)
        folder.writePNG(".dot.png", seed: 8)
        folder.write("notes.txt", Array("hello".utf8))

        let album = try open(folder)
        XCTAssertEqual(album.images.map(\.path.string), ["a.png", "sub/b.png", "sub/deeper/c.PNG"])
        XCTAssertEqual(album.images[0].width, 8)
        XCTAssertEqual(album.images[0].height, 8)
        XCTAssertEqual(album.lastScan?.added, 3)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.path + "/.curator/album.sqlite"))
    }

    func testBadFilesAreSkippedWithReasonsAndNeverAbortTheScan() throws {
        let folder = TemporaryFolder()
        folder.writePNG("good.png")
        folder.write("empty.jpg", [])
        folder.write("text.png", Array("this is not an image\n".utf8))
        folder.write("huge.png", SyntheticImages.pngClaiming(width: 100_000, height: 100_000))
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/loop", withDestinationPath: folder.path)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/self.jpg", withDestinationPath: folder.path + "/self.jpg")

        let start = Date()
        let album = try open(folder)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "a huge header must not be decoded")
        XCTAssertEqual(album.images.map(\.path.string), ["good.png"])
        let skipped = Dictionary(uniqueKeysWithValues: try album.skipped().map { ($0.path.string, $0.reason) })
        XCTAssertEqual(skipped["empty.jpg"], "empty file")
        XCTAssertTrue(skipped["text.png"]?.hasPrefix("not an image") ?? false, "\(skipped)")
        XCTAssertTrue(skipped["huge.png"]?.contains("100000×100000") ?? false, "\(skipped)")
        XCTAssertTrue(skipped["loop"]?.contains("loop") ?? false, "\(skipped)")
        XCTAssertTrue(skipped["self.jpg"]?.contains("loop") ?? false, "\(skipped)")
    }

    func testImagesInFormatsNotIndexedAreListedAsSkippedAndOtherFilesIgnored() throws {
        let folder = TemporaryFolder()
        folder.writePNG("photo.png")
        folder.write("art/logo.svg", Array("<svg xmlns='http://www.w3.org/2000/svg'/>".utf8))
        folder.write("raw/IMG_0001.CR2", [0x49, 0x49, 0x2A, 0x00])
        folder.write("raw/IMG_0002.CR2", [0x49, 0x49, 0x2A, 0x00])
        folder.writePNG("raw/img_0002.png")   // the camera's own JPEG (here a PNG) of that raw: the raw is not news
        folder.write("photo.txt", Array("a caption".utf8))
        folder.write("clip.mp4", [0, 0, 0, 0x18])

        let album = try open(folder)
        XCTAssertEqual(album.images.map(\.path.string), ["photo.png", "raw/img_0002.png"])
        let skipped = Dictionary(uniqueKeysWithValues: try album.skipped().map { ($0.path.string, $0.reason) })
        XCTAssertEqual(Set(skipped.keys), ["art/logo.svg", "raw/IMG_0001.CR2"], "captions and videos are not images")
        XCTAssertEqual(try album.skippedCount(), 2)
        XCTAssertEqual(skipped["art/logo.svg"], FolderWalker.notIndexedReason(extension: "svg"))
        XCTAssertTrue(skipped["raw/IMG_0001.CR2"]?.hasSuffix("not .CR2") ?? false, "\(skipped)")
        XCTAssertTrue(skipped["art/logo.svg"]?.contains("jpg") ?? false, "the reason says what is read: \(skipped)")

        // A fact of each scan: gone once the file is.
        try FileManager.default.removeItem(atPath: folder.path + "/art/logo.svg")
        let reopened = try open(folder)
        XCTAssertEqual(try reopened.skipped().map(\.path.string), ["raw/IMG_0001.CR2"])

        // Kept while nothing changes; new ones come, and a raw whose image arrives goes.
        XCTAssertEqual(try open(folder).skipped().map(\.path.string), ["raw/IMG_0001.CR2"])
        folder.writePNG("raw/IMG_0001.png")
        folder.write("art/layers.psd", Array("8BPS".utf8))
        let changed = try open(folder)
        XCTAssertEqual(try changed.skipped().map(\.path.string), ["art/layers.psd"])
        XCTAssertEqual(try changed.skipped().first?.reason, FolderWalker.notIndexedReason(extension: "psd"))
    }

    func testNonUTF8FileNamesAreIndexedByTheirBytes() throws {
        let folder = TemporaryFolder()
        let name: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".png".utf8)  // Latin-1 é
        let full = FileSystemPath(folder.path).appending(name)
        SyntheticImages.write(full, width: 4, height: 4, pixels: SyntheticImages.flat(10, 20, 30, width: 4, height: 4).pixels)

        let album = try open(folder)
        XCTAssertEqual(album.images.count, 1)
        XCTAssertEqual(album.images[0].path.bytes, name)
        XCTAssertFalse(album.images[0].path.isValidUTF8)
        XCTAssertEqual(album.image(path: name)?.id, album.images[0].id)
        XCTAssertEqual(album.images[0].width, 4)
    }

    func testRescanIsIncrementalAndKeepsDecisions() throws {
        let folder = TemporaryFolder()
        folder.writePNG("keep.png", seed: 1)
        folder.writePNG("change.png", seed: 2)
        folder.writePNG("remove.png", seed: 3)
        var album = try open(folder)
        let keep = try XCTUnwrap(album.image(path: "keep.png"))
        let change = try XCTUnwrap(album.image(path: "change.png"))
        let remove = try XCTUnwrap(album.image(path: "remove.png"))
        try album.exclusions.add([keep.id, remove.id])
        try album.favorites.add([change.id])

        folder.writePNG("change.png", size: 12, seed: 2)
        try FileManager.default.removeItem(atPath: folder.path + "/remove.png")
        folder.writePNG("new/added.png", seed: 4)

        album = try open(folder)
        let report = try XCTUnwrap(album.lastScan)
        XCTAssertEqual(report.added, 1)
        XCTAssertEqual(report.changed, 1)
        XCTAssertEqual(report.removed, 1)
        XCTAssertEqual(report.unchanged, 1)
        XCTAssertEqual(album.images.map(\.path.string), ["change.png", "keep.png", "new/added.png"])
        XCTAssertEqual(album.image(path: "keep.png")?.id, keep.id, "unchanged images keep their id")
        XCTAssertEqual(album.image(path: "change.png")?.id, change.id, "changed images keep their id")
        XCTAssertEqual(album.image(path: "change.png")?.width, 12)
        XCTAssertEqual(album.exclusions.ids, [keep.id], "exclusions survive reopening; removed files leave them")
        XCTAssertEqual(album.favorites.ids, [change.id])

        let again = try open(folder)
        XCTAssertEqual(again.lastScan?.unchanged, 3)
        XCTAssertEqual(again.lastScan?.added, 0)
    }

    func testInterruptedScanResumesWhereItStopped() throws {
        let folder = TemporaryFolder()
        for i in 0..<600 { folder.writePNG(String(format: "img%04d.png", i), size: 4, seed: i) }
        let stopper = RecordingProgress(cancelAfter: 2)  // the first batch commits, then the scan stops
        XCTAssertThrowsError(try open(folder, progress: stopper)) { error in
            XCTAssertTrue(error is CancelledError, "\(error)")
        }
        let partial = try Album.open(folder.path, options: .init(scan: false, embed: false))
        XCTAssertEqual(partial.images.count, 256)

        let resumed = try open(folder)
        XCTAssertEqual(resumed.images.count, 600)
        XCTAssertEqual(resumed.lastScan?.added, 600 - 256)
        XCTAssertEqual(resumed.lastScan?.unchanged, 256)
    }

    func testMissingFolderGivesAnErrorNamingIt() {
        XCTAssertThrowsError(try Album.open("/no/such/album")) { error in
            XCTAssertEqual("\(error)", "/no/such/album: no such folder or embeddings file")
        }
    }

    func testCaptionsComeFromSidecars() throws {
        let folder = TemporaryFolder()
        folder.writePNG("a.png")
        folder.write("a.txt", Array("  a red car \n".utf8))
        folder.writePNG("b.png")
        folder.write("b.json", Array(#"{"caption": "a blue boat"}"#.utf8))
        folder.writePNG("c.png")
        let album = try open(folder)
        XCTAssertEqual(album.caption(of: album.image(path: "a.png")!), "a red car")
        XCTAssertEqual(album.caption(of: album.image(path: "b.png")!), "a blue boat")
        XCTAssertNil(album.caption(of: album.image(path: "c.png")!))
        XCTAssertEqual(album.captionFiles(of: album.image(path: "a.png")!).map(\.string), ["a.txt"])
    }
}
