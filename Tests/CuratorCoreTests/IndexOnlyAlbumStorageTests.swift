import Foundation
import GRDB
import XCTest
@testable import CuratorCore

/// How an index-only album (an embeddings file opened as an album) keeps its
/// vectors: once, in a matrix file beside the index that later opens map
/// rather than copy, with the index's write-ahead log folded in.
final class IndexOnlyAlbumStorageTests: XCTestCase {
    private let folder = TemporaryFolder()

    private func npz(_ name: String, rows: [[Float]], paths: [String]) -> String {
        folder.write(name, ZipFixture.archive([
            ZipFixture.stored("embeddings.npy", ZipFixture.npy(rows: rows)),
            ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: paths)),
        ]))
    }

    private func rows(_ count: Int, dimension: Int) -> [[Float]] {
        (0..<count).map { i in (0..<dimension).map { j in Float((i * 7 + j * 3) % 11) - 5 + (j == i % dimension ? 9 : 0) } }
    }

    private func normalised(_ v: [Float]) -> [Float] {
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }

    func testVectorsAreKeptOnceAndTheLogIsCheckpointed() throws {
        let vectors = rows(300, dimension: 16)
        let file = npz("set/index.npz", rows: vectors, paths: (0..<300).map { "/data/img\($0).jpg" })
        let album = try Album.open(file)
        XCTAssertEqual(album.images.count, 300)

        let index = folder.path + "/set/.curator/index.npz.sqlite"
        // None of the vectors is in the index; each image counts as embedded.
        let stored = try album.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM embedding") }
        XCTAssertEqual(stored, 0)
        XCTAssertEqual(try album.embeddingStore.counts(embedder: "photomap").embedded, 300)
        XCTAssertEqual(try album.embeddingStore.missing(embedder: "photomap"), [])
        let matrixFile = folder.path + "/set/.curator/index.npz.matrix-photomap.bin"
        let matrixBytes = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: matrixFile)[.size] as? Int)
        XCTAssertGreaterThanOrEqual(matrixBytes, 300 * 16 * 4)
        // The log was folded into the database and emptied.
        let log = (try? FileManager.default.attributesOfItem(atPath: index + "-wal")[.size] as? Int) ?? 0
        XCTAssertEqual(log, 0)

        let matrix = try album.matrix()
        XCTAssertTrue(matrix.matrix.isMapped)
        for i in [0, 151, 299] {
            let id = try XCTUnwrap(album.image(path: "img\(i).jpg")).id
            XCTAssertEqual(matrix.matrix.vector(matrix.rowOf[id]!), normalised(vectors[i]), accuracy: 1e-6)
        }
    }

    func testReopeningMapsTheMatrixAndKeepsDecisions() throws {
        let vectors = rows(50, dimension: 8)
        let file = npz("r/index.npz", rows: vectors, paths: (0..<50).map { "/p/\($0).jpg" })
        let first = try Album.open(file)
        let excluded = try XCTUnwrap(first.image(path: "7.jpg")).id
        try first.exclusions.add([excluded])

        let again = try Album.open(file)
        XCTAssertNil(again.lastEmbed, "a current index is opened as it is, not imported again")
        XCTAssertEqual(again.exclusions.ids, [excluded])
        let matrix = try again.matrix()
        XCTAssertTrue(matrix.matrix.isMapped)
        XCTAssertEqual(matrix.matrix.vector(matrix.rowOf[excluded]!), normalised(vectors[7]), accuracy: 1e-6)
    }

    func testAMissingOrForeignMatrixFileIsNeverTrustedAndTheFileIsImportedAgain() throws {
        let vectors = rows(40, dimension: 8)
        let file = npz("m/index.npz", rows: vectors, paths: (0..<40).map { "/q/\($0).jpg" })
        let other = npz("o/index.npz", rows: rows(40, dimension: 8).map { $0.reversed() }, paths: (0..<40).map { "/q/\($0).jpg" })
        let mine = try Album.open(file)
        XCTAssertEqual(try Album.open(other).embeddingStore.generation(), try mine.embeddingStore.generation())
        let matrixFile = folder.path + "/m/.curator/index.npz.matrix-photomap.bin"

        // Replaced by another album's matrix of the same shape and generation: imported again.
        try FileManager.default.removeItem(atPath: matrixFile)
        try FileManager.default.copyItem(atPath: folder.path + "/o/.curator/index.npz.matrix-photomap.bin", toPath: matrixFile)
        var album = try Album.open(file)
        XCTAssertEqual(album.lastEmbed?.embedded, 40, "another index's matrix is imported over")
        let id = try XCTUnwrap(album.image(path: "3.jpg")).id
        var matrix = try album.matrix()
        XCTAssertEqual(matrix.matrix.vector(matrix.rowOf[id]!), normalised(vectors[3]), accuracy: 1e-6)

        // Deleted: imported again too.
        try FileManager.default.removeItem(atPath: matrixFile)
        album = try Album.open(file)
        XCTAssertEqual(album.lastEmbed?.embedded, 40)
        matrix = try album.matrix()
        XCTAssertEqual(matrix.matrix.vector(matrix.rowOf[id]!), normalised(vectors[3]), accuracy: 1e-6)

        // Truncated while the album is open: a clear error, never garbage rows.
        let fresh = try Album.open(file)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: matrixFile))
        try handle.truncate(atOffset: 100)
        try handle.close()
        XCTAssertThrowsError(try fresh.matrix()) { error in
            XCTAssertTrue("\(error)".contains("open the embeddings file again"), "\(error)")
        }
    }

    func testAMatrixFileOfTheWrongSizeIsImportedAgainAtOpen() throws {
        let vectors = rows(64, dimension: 8)
        let file = npz("t/index.npz", rows: vectors, paths: (0..<64).map { "/t/\($0).jpg" })
        let first = try Album.open(file)
        XCTAssertEqual(first.lastEmbed?.embedded, 64)
        let matrixFile = folder.path + "/t/.curator/index.npz.matrix-photomap.bin"
        let whole = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: matrixFile)[.size] as? Int)
        // Cut inside the header, by one row, and grown by a row: never mapped, imported again.
        for length in [100, whole - 8 * 4, whole + 8 * 4] {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: matrixFile))
            try handle.truncate(atOffset: UInt64(length))
            try handle.close()
            let album = try Album.open(file)
            XCTAssertEqual(album.lastEmbed?.embedded, 64, "a matrix file of \(length) bytes is imported over")
            XCTAssertEqual(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: matrixFile)[.size] as? Int), whole)
            let matrix = try album.matrix()
            let id = try XCTUnwrap(album.image(path: "63.jpg")).id
            XCTAssertEqual(matrix.matrix.vector(matrix.rowOf[id]!), normalised(vectors[63]), accuracy: 1e-6)
        }
        // Nothing of the import is left beside the index.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path + "/t/.curator").filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    func testImagePositionsAnswerEveryIDDenseOrSparse() {
        let dense = IDPositions(ids: [3, 1, 2, 5])
        XCTAssertEqual([1, 2, 3, 4, 5].map { dense[$0] }, [1, 2, 0, nil, 3])
        let sparse = IDPositions(ids: [10, 1_000_000, 7])
        XCTAssertEqual([7, 10, 1_000_000, 8].map { sparse[$0] }, [2, 0, 1, nil])
        for positions in [dense, sparse, IDPositions(ids: [])] {
            for id in [Int64.min, -1, 0, Int64.max] { XCTAssertNil(positions[id]) }
        }
        XCTAssertEqual(dense.maximum, 5)
        XCTAssertEqual(sparse.maximum, 1_000_000)
        XCTAssertNil(IDPositions(ids: []).maximum)
    }

    func testTheFirstOpenListsTheImagesAsAReopenReadsThem() throws {
        // Rows out of byte order ("9.jpg" before "10.jpg" in the file), under one folder.
        let paths = (0..<30).map { "/lib/photos/\(29 - $0).jpg" }
        let file = npz("order/index.npz", rows: rows(30, dimension: 8), paths: paths)
        let first = try Album.open(file)
        let again = try Album.open(file)
        XCTAssertNil(again.lastEmbed, "a current index is opened as it is")
        XCTAssertEqual(first.rootPath, "/lib/photos")
        XCTAssertEqual(first.images, again.images)
        let names = paths.map { RelativePath(String($0.dropFirst("/lib/photos/".count))) }
        XCTAssertEqual(first.images.map(\.path), names.sorted())
        // Each image keeps its row's vector.
        let matrix = try first.matrix()
        for (row, name) in names.enumerated() {
            XCTAssertEqual(matrix.imageIDs[row], try XCTUnwrap(first.image(path: name.string)).id)
        }
    }

    func testTheCommonFolderOfPathsIsFoundOnTheirBytes() {
        func folder(_ paths: [String]) -> String? {
            Album.commonFolder(of: paths.map(FileSystemPath.init)).map(\.string)
        }
        XCTAssertEqual(folder(["/a/b/x.jpg", "/a/bc/y.jpg"]), "/a")
        XCTAssertEqual(folder(["/a/b/x.jpg", "/a/b/c/y.jpg"]), "/a/b")
        XCTAssertEqual(folder(["/a/b/x.jpg"]), "/a/b")
        XCTAssertNil(folder(["/a/x.jpg", "/b/y.jpg"]), "only / in common")
        XCTAssertNil(folder(["a/x.jpg", "a/y.jpg"]), "relative paths")
        XCTAssertNil(folder([]))
        // A folder whose name is not UTF-8 could not be recorded as the index's root.
        XCTAssertNil(Album.commonFolder(of: [FileSystemPath(bytes: [0x2F, 0xFF, 0x2F, 0x78]), FileSystemPath(bytes: [0x2F, 0xFF, 0x2F, 0x79])]))
    }
}
