import Foundation
import GRDB
import XCTest
@testable import CuratorCore

/// An album's image list as the index gives it back: every path's bytes in one
/// shared buffer (a million-image reopen then makes one allocation for its
/// paths, not a million), each path behaving exactly as one with its own bytes.
final class ImageListReaderTests: XCTestCase {
    private let folder = TemporaryFolder()

    /// An index whose image rows are `paths`, inserted in this order.
    private func index(_ paths: [[UInt8]]) throws -> IndexDatabase {
        let database = try IndexDatabase(path: folder.path + "/album.sqlite")
        try database.pool.write { db in
            for (i, path) in paths.enumerated() {
                try db.execute(sql: "INSERT INTO image(path, size, mtime, width, height) VALUES (?, ?, ?, ?, ?)",
                               arguments: [Data(path), 100 + i, Double(i) + 0.5, 640 + i, 480 - i])
            }
        }
        return database
    }

    func testPathsShareOneBufferAndBehaveAsTheirOwnBytes() throws {
        let paths: [[UInt8]] = [
            Array("b/deep/x.JPG".utf8), Array("a.png".utf8), [0x63, 0xFF, 0x2F, 0x6E, 0x2E, 0x6A, 0x70, 0x67],  // c\xFF/n.jpg
            Array("b/.hidden".utf8), Array("b/deep/x.JPG.tar.gz".utf8), Array("a".utf8),
        ]
        let database = try index(paths)
        // Inserted out of byte order: the rowid scan gives up, the path index's order is read.
        XCTAssertNil(try database.pool.read { try ImageListReader.read($0, orderedByPath: false) })
        let records = try XCTUnwrap(try database.pool.read { try ImageListReader.read($0, orderedByPath: true) })
        let own = paths.map { RelativePath(bytes: $0) }
        XCTAssertEqual(records.map(\.path.bytes), own.sorted().map(\.bytes))
        XCTAssertEqual(records.map(\.path), own.sorted())

        // One buffer: each path's bytes start where the previous one's end.
        for (a, b) in zip(records, records.dropFirst()) {
            let end = a.path.storage.withUnsafeBytes { $0.baseAddress! + $0.count }
            XCTAssertEqual(b.path.storage.withUnsafeBytes { $0.baseAddress! }, end)
        }

        for (position, record) in records.enumerated() {
            let row = try XCTUnwrap(paths.firstIndex(of: record.path.bytes))
            XCTAssertEqual(record.id, Int64(row + 1))
            XCTAssertEqual(record.size, Int64(100 + row))
            XCTAssertEqual(record.mtime, Double(row) + 0.5)
            XCTAssertEqual([record.width, record.height], [640 + row, 480 - row])
            // Every view of a shared path (a slice not starting at 0) matches the same path's own bytes.
            let mine = RelativePath(bytes: paths[row])
            if position > 0 { XCTAssertGreaterThan(record.path.storage.startIndex, 0, "a slice inside the buffer") }
            XCTAssertEqual(record.path, mine)
            XCTAssertEqual(record.path.hashValue, mine.hashValue)
            XCTAssertFalse(record.path < mine || mine < record.path)
            XCTAssertEqual(record.path.byteCount, paths[row].count)
            XCTAssertEqual(record.path.string, mine.string)
            XCTAssertEqual(record.path.name, mine.name)
            XCTAssertEqual(Array(record.path.nameBytes), Array(mine.nameBytes))
            XCTAssertEqual(record.path.folder, mine.folder)
            XCTAssertEqual(record.path.stem, mine.stem)
            XCTAssertEqual(record.path.pathExtension, mine.pathExtension)
            XCTAssertEqual(record.path.leavesRoot, mine.leavesRoot)
            XCTAssertEqual(record.path.isValidUTF8, mine.isValidUTF8)
            XCTAssertEqual(record.path.absolute(under: FileSystemPath("/root")).bytes, Array("/root/".utf8) + paths[row])
            XCTAssertEqual(record.path.absolute(under: FileSystemPath("/root/")).bytes, Array("/root/".utf8) + paths[row])
            XCTAssertEqual(record.path.absolute(under: FileSystemPath(bytes: [])).bytes, paths[row])
        }
        let names = records.map(\.path.name)
        XCTAssertEqual(names, ["a", "a.png", ".hidden", "x.JPG", "x.JPG.tar.gz", "n.jpg"])
        XCTAssertEqual(records.map(\.path.pathExtension), ["", "png", "", "jpg", "gz", "jpg"])
        XCTAssertEqual(records.map(\.path.stem), ["a", "a", ".hidden", "x", "x.JPG.tar", "n"])
        XCTAssertEqual(records.map(\.path.folder.string), ["", "", "b", "b/deep", "b/deep", "c\u{FFFD}"])
        XCTAssertEqual(records.map(\.path.isValidUTF8), [true, true, true, true, true, false])

        // A shared path finds its own-bytes twin in a dictionary, and the other way round.
        let byPath = Dictionary(uniqueKeysWithValues: records.map { ($0.path, $0.id) })
        for (row, path) in paths.enumerated() { XCTAssertEqual(byPath[RelativePath(bytes: path)], Int64(row + 1)) }
        let byOwn = Dictionary(uniqueKeysWithValues: own.enumerated().map { ($0.element, $0.offset) })
        for record in records { XCTAssertEqual(byOwn[record.path], Int(record.id) - 1) }
    }

    func testRowsInPathOrderAreReadByRowidAndAnEmptyIndexGivesNoImages() throws {
        let database = try index([Array("a/1.jpg".utf8), Array("a/2.jpg".utf8), Array("b.jpg".utf8), []])
        // The empty path sorts first, so rowid order is not path order here …
        XCTAssertNil(try database.pool.read { try ImageListReader.read($0, orderedByPath: false) })
        try database.pool.write { db in try db.execute(sql: "DELETE FROM image WHERE path = x''") }
        // … and without it, it is: the plain scan answers.
        let records = try XCTUnwrap(try database.pool.read { try ImageListReader.read($0, orderedByPath: false) })
        XCTAssertEqual(records.map(\.path.string), ["a/1.jpg", "a/2.jpg", "b.jpg"])
        XCTAssertEqual(records.map(\.id), [1, 2, 3])
        try database.pool.write { db in try db.execute(sql: "DELETE FROM image") }
        XCTAssertEqual(try database.pool.read { try ImageListReader.read($0, orderedByPath: false) }?.count, 0)
    }

    func testReopeningAnUpToDateAlbumReadsItsImageListOnce() throws {
        let paths = (0..<40).map { "/lib/\($0 / 10)/img\($0).jpg" }
        let rows: [[Float]] = (0..<40).map { i in
            (0..<8).map { j -> Float in
                let base = Float((i * 5 + j * 3) % 7) - 3
                return j == i % 8 ? base + 4 : base
            }
        }
        let file = folder.write("set/index.npz", ZipFixture.archive([
            ZipFixture.stored("embeddings.npy", ZipFixture.npy(rows: rows)),
            ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: paths)),
        ]))
        _ = try Album.open(file)
        let again = try Album.open(file)
        let before = again.images
        let buffer = before[0].path.storage.withUnsafeBytes { $0.baseAddress! }
        // What `curator.open` does next: embed, which has nothing to compute here.
        let report = try again.embed()
        XCTAssertEqual(report.embedded, 0)
        XCTAssertEqual(report.alreadyEmbedded, 40)
        XCTAssertEqual(again.images, before)
        XCTAssertEqual(again.images[0].path.storage.withUnsafeBytes { $0.baseAddress! }, buffer,
                       "nothing computed: the list read at open is kept, not read again")
        let expected: [String] = paths.map { String($0.dropFirst("/lib/".count)) }.sorted { RelativePath($0) < RelativePath($1) }
        XCTAssertEqual(again.images.map { $0.path.string }, expected)
        XCTAssertEqual(again.image(path: "3/img31.jpg")?.path.string, "3/img31.jpg")
        let seven = try XCTUnwrap(again.image(path: "0/img7.jpg"))
        XCTAssertEqual(again.lookup(Array("img7.jpg".utf8)), ImageLookup.found(seven))
    }
}
