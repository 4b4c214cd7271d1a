import CuratorCore
import Foundation
import XCTest

final class ThumbnailCacheTests: XCTestCase {
    var directory: URL!
    var cache: ThumbnailCache!

    override func setUpWithError() throws {
        directory = try SyntheticImages.makeDirectory()
        cache = ThumbnailCache(indexPath: directory.appendingPathComponent(".curator/album.sqlite").path, size: 128)
    }

    override func tearDown() { SyntheticImages.remove(directory) }

    /// A 320×240 JPEG at `name` and its record as the index would hold it.
    func image(_ id: Int64, _ name: String, seed: Int, size: Int64 = 1000, mtime: Double = 1) -> (ImageRecord, FileSystemPath) {
        let path = directory.appendingPathComponent(name).imagingPath
        SyntheticImages.write(path, width: 320, height: 240, pixels: SyntheticImages.scene(seed, width: 320, height: 240).pixels)
        return (ImageRecord(id: id, path: RelativePath(name), size: size, mtime: mtime, width: 320, height: 240), path)
    }

    func files() -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: cache.folder)) ?? [])
    }

    func testThumbnailsAreMadeOnceAndAMissingFileIsNotCached() throws {
        let (a, source) = image(1, "a.jpg", seed: 1)
        let first = try cache.thumbnail(of: a, source: source)
        XCTAssertEqual(Array(first.prefix(2)), [0xFF, 0xD8], "a JPEG")
        XCTAssertTrue(cache.contains(a))
        try FileManager.default.removeItem(atPath: source.string)
        XCTAssertEqual(try cache.thumbnail(of: a, source: source), first, "read from the cache, not the (gone) file")

        let gone = ImageRecord(id: 2, path: RelativePath("gone.jpg"), size: 5, mtime: 5, width: 1, height: 1)
        XCTAssertThrowsError(try cache.thumbnail(of: gone, source: directory.appendingPathComponent("gone.jpg").imagingPath)) {
            XCTAssertEqual(($0 as? ImageDecodeError)?.reason, .notFound)
        }
        XCTAssertFalse(cache.contains(gone), "nothing cached for a file that is not there")
    }

    func testStaleThumbnailsAreRemovedAndNothingElse() throws {
        let (a, sourceA) = image(1, "a.jpg", seed: 1)
        let (b, sourceB) = image(2, "b.jpg", seed: 2)
        let (c, sourceC) = image(3, "c.jpg", seed: 3)
        for (record, source) in [(a, sourceA), (b, sourceB), (c, sourceC)] { _ = try cache.thumbnail(of: record, source: source) }
        // b's file changed and was rescanned: the same id, another size and time, another thumbnail.
        let changed = ImageRecord(id: 2, path: b.path, size: 2000, mtime: 2, width: 320, height: 240)
        _ = try cache.thumbnail(of: changed, source: sourceB)
        XCTAssertEqual(files().count, 4)

        // What the cache did not write stays, and so does a write that may be under way.
        let folder = URL(fileURLWithPath: cache.folder)
        for name in ["notes.txt", "holiday.jpg", "7-x.jpg.backup"] { try Data("mine".utf8).write(to: folder.appendingPathComponent(name)) }
        let fresh = URL(fileURLWithPath: cache.file(for: a) + ".99.1.tmp"), old = URL(fileURLWithPath: cache.file(for: c) + ".98.2.tmp")
        try Data("partial".utf8).write(to: fresh)
        try Data("partial".utf8).write(to: old)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: old.path)

        // c left the album; b's old version is stale; the old temporary file was abandoned.
        XCTAssertEqual(cache.removeStale(keeping: [a, changed]), 3)
        let name = { (record: ImageRecord) in URL(fileURLWithPath: self.cache.file(for: record)).lastPathComponent }
        XCTAssertEqual(files(), [name(a), name(changed), "notes.txt", "holiday.jpg", "7-x.jpg.backup", fresh.lastPathComponent])
        XCTAssertTrue(cache.contains(changed))
        XCTAssertFalse(cache.contains(b))
        XCTAssertEqual(cache.removeStale(keeping: [a, changed]), 0, "nothing more to remove")
        XCTAssertEqual(ThumbnailCache(indexPath: directory.appendingPathComponent("none/album.sqlite").path).removeStale(keeping: []), 0,
                       "no folder yet: nothing to do")
    }
}
