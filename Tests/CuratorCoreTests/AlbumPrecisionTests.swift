import Foundation
import XCTest
@testable import CuratorCore

/// Albums kept as float16 (`curator.open(path, {precision="f16"})`): half the
/// file and memory, the same FPS picks and K-Means inertia within 0.1 % of
/// float32's, every operation working, and switching back giving the exact
/// float32 vectors again.
final class AlbumPrecisionTests: XCTestCase {
    private let folder = TemporaryFolder()

    /// Twelve clusters of 100 noisy 48-d vectors, as an embeddings file at `name`.
    private func fixture(_ name: String) -> (path: String, vectors: EmbeddingMatrix) {
        let m = SelectionTestData.blobs(12, perBlob: 100, dimension: 48, noise: 0.6, seed: 7)
        let path = folder.write(name, ZipFixture.archive([
            ZipFixture.stored("embeddings.npy", ZipFixture.npy(rows: (0..<m.rows).map { m.vector($0) })),
            ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: (0..<m.rows).map { String(format: "/data/img%04d.jpg", $0) })),
        ]))
        return (path, m)
    }

    private func size(_ path: String) throws -> Int {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    private func vectorsByID(_ album: Album) throws -> [Int64: [Float]] {
        let m = try album.matrix()
        return Dictionary(uniqueKeysWithValues: m.imageIDs.enumerated().map { ($0.element, m.matrix.vector($0.offset)) })
    }

    func testFloat16HalvesTheFileAndKeepsFPSPicksAndKMeansInertia() throws {
        let (file, _) = fixture("a/e.npz")
        let f32 = try Album.open(file)
        XCTAssertEqual(f32.precision, .float32)
        let exact = try vectorsByID(f32)
        let fps32 = try f32.select(SelectOptions(method: "fps", count: 25, iterations: 4, seed: 3))
        let kmeans32 = try f32.select(SelectOptions(method: "kmeans", count: 12, iterations: 4, seed: 3))
        let matrixFile = folder.path + "/a/.curator/e.npz.matrix-photomap.bin"
        let bytes32 = try size(matrixFile)

        let f16 = try Album.open(file, options: .init(precision: .float16))
        XCTAssertEqual(f16.precision, .float16)
        let matrix = try f16.matrix()
        XCTAssertEqual(matrix.matrix.precision, .float16)
        XCTAssertTrue(matrix.matrix.isMapped)
        let values = 1200 * 48
        let bytes16 = try size(matrixFile)
        XCTAssertEqual(bytes32 - bytes16, values * 2, "the values take half the bytes")
        for (id, vector) in try vectorsByID(f16) {
            // float16 keeps 11 significant bits.
            XCTAssertEqual(vector, exact[id]!, accuracy: 1.0 / 2048)
        }

        let fps16 = try f16.select(SelectOptions(method: "fps", count: 25, iterations: 4, seed: 3))
        XCTAssertEqual(fps16.picks, fps32.picks, "FPS picks the same images in the same order")
        let kmeans16 = try f16.select(SelectOptions(method: "kmeans", count: 12, iterations: 4, seed: 3))
        let ratio = try XCTUnwrap(kmeans16.inertia) / XCTUnwrap(kmeans32.inertia)
        XCTAssertEqual(ratio, 1, accuracy: 0.001, "K-Means inertia within 0.1 %")

        // Reopened without saying: still float16, mapped, nothing imported.
        let again = try Album.open(file)
        XCTAssertNil(again.lastEmbed)
        XCTAssertEqual(again.precision, .float16)
        XCTAssertEqual(try again.matrix().matrix.precision, .float16)
        XCTAssertEqual(try again.select(SelectOptions(method: "fps", count: 25, iterations: 4, seed: 3)).picks, fps32.picks)
    }

    func testSwitchingBackToFloat32GivesTheExactVectorsAgain() throws {
        // An index-only album's float16 file is its only copy: float32 comes back from the embeddings file.
        let (file, _) = fixture("b/e.npz")
        let exact = try vectorsByID(try Album.open(file))
        _ = try Album.open(file, options: .init(precision: .float16))
        let back = try Album.open(file, options: .init(precision: .float32))
        XCTAssertEqual(back.precision, .float32)
        XCTAssertEqual(try back.matrix().matrix.precision, .float32)
        XCTAssertEqual(try vectorsByID(back), exact, "bit for bit")
        XCTAssertEqual(back.exclusions.ids, [])

        // An album already open switches too (what curator.open does for an open album).
        try back.setPrecision(.float16)
        XCTAssertEqual(try back.matrix().matrix.precision, .float16)
        try back.setPrecision(.float32)
        XCTAssertEqual(try vectorsByID(back), exact)

        // A folder album's vectors are in its index: float32 is read from there again.
        let third: [Float] = [0.1, 0.2, (1 - 0.05 as Float).squareRoot()]
        let made = try folder.folderAlbum(vectors: [1, 0, 0, 0, 1, 0] + third, dimension: 3)
        let album = made.path
        var opened = made.album
        let ids = opened.images.map(\.id)
        opened = try Album.open(album, options: .init(embed: false, precision: .float16))
        XCTAssertEqual(try opened.matrix().matrix.precision, .float16)
        XCTAssertNotEqual(try vectorsByID(opened)[ids[2]], third, "0.1 is not a float16 value")
        opened = try Album.open(album, options: .init(embed: false, precision: .float32))
        XCTAssertEqual(try vectorsByID(opened)[ids[2]], third)
    }

    func testABadPrecisionIsAClearError() {
        XCTAssertEqual(try MatrixPrecision(parsing: "F16"), .float16)
        XCTAssertEqual(try MatrixPrecision(parsing: "float32"), .float32)
        XCTAssertThrowsError(try MatrixPrecision(parsing: "f8")) { error in
            XCTAssertEqual("\(error)", "precision must be \"f32\" (float32, the default) or \"f16\" (float16, half the memory), not \"f8\"")
        }
    }

    func testEveryOperationWorksOnAFloat16AlbumAsOnFloat32() throws {
        let (file, _) = fixture("c/e.npz")
        let f32 = try Album.open(file)
        let f16copy = folder.path + "/d/e.npz"
        try FileManager.default.createDirectory(atPath: folder.path + "/d", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: file, toPath: f16copy)
        let f16 = try Album.open(f16copy, options: .init(precision: .float16))
        XCTAssertEqual(try f16.matrix().matrix.precision, .float16)

        func paths(_ album: Album, _ ids: [Int64]) -> [String] { ids.map { album.image(id: $0)!.path.string } }
        // Near-duplicates, brute force and through the index.
        for method in [DuplicateMethod.exact, .index] {
            let a = try f32.duplicateSearch(threshold: 0.9, method: method).groups.map { paths(f32, $0.ids).sorted() }
            let b = try f16.duplicateSearch(threshold: 0.9, method: method).groups.map { paths(f16, $0.ids).sorted() }
            XCTAssertEqual(a, b, "\(method)")
            XCTAssertFalse(a.isEmpty)
        }
        // Search by image: the same best matches.
        let query32 = SearchQuery(positives: [.image(f32.images[5].id)])
        let query16 = SearchQuery(positives: [.image(f16.images[5].id)])
        XCTAssertEqual(paths(f32, try f32.search(query32, k: 10).map(\.imageID)), paths(f16, try f16.search(query16, k: 10).map(\.imageID)))
        // Coverage of a run, facility location, clusters, uniqueness.
        let run32 = try f32.select(SelectOptions(method: "fps", count: 20, iterations: 2, seed: 1))
        let run16 = try f16.select(SelectOptions(method: "fps", count: 20, iterations: 2, seed: 1))
        XCTAssertEqual(try f32.coverage(of: run32).mean, try f16.coverage(of: run16).mean, accuracy: 1e-3)
        let facility32 = try f32.select(SelectOptions(method: "facility", count: 12, iterations: 2, seed: 1))
        let facility16 = try f16.select(SelectOptions(method: "facility", count: 12, iterations: 2, seed: 1))
        XCTAssertEqual(paths(f32, facility32.picks[0]), paths(f16, facility16.picks[0]))
        let clusters = try f16.clusters(ClusterOptions(method: .kmeans, k: 12))
        XCTAssertEqual(clusters.clusters.count, 12)
        let u32 = try f32.neighborScores(), u16 = try f16.neighborScores()
        XCTAssertEqual(u32.uniqueness.count, u16.uniqueness.count)
        for (a, b) in zip(u32.uniqueness, u16.uniqueness) { XCTAssertEqual(a, b, accuracy: 1e-2) }
        // The map reads rows in place: a float32 copy, said in the note.
        XCTAssertNil(f16.precisionNote)
        let map = try f16.map(AlbumMapOptions(source: .pca))
        XCTAssertEqual(map.layout.points.count, 1200)
        XCTAssertTrue(try XCTUnwrap(f16.precisionNote).contains("the PCA map"))
        XCTAssertNil(f32.precisionNote)
    }

    func testAConversionThatCannotBeWrittenLeavesTheOldFileInUse() throws {
        let (file, _) = fixture("e/e.npz")
        let album = try Album.open(file)
        let exact = try vectorsByID(album)
        let matrixFile = folder.path + "/e/.curator/e.npz.matrix-photomap.bin"
        let before = try size(matrixFile)
        // The temporary file cannot be made (a folder has its name).
        let blocker = matrixFile + ".tmp-\(getpid())"
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: blocker) }
        XCTAssertThrowsError(try album.setPrecision(.float16)) { error in
            XCTAssertTrue("\(error)".contains("float16 vectors file could not be written"), "\(error)")
            XCTAssertTrue("\(error)".contains("the old one is unchanged"), "\(error)")
        }
        XCTAssertEqual(album.precision, .float32)
        XCTAssertEqual(try size(matrixFile), before)
        XCTAssertEqual(try vectorsByID(album), exact)
        XCTAssertNil(try Album.open(file).lastEmbed, "the old file is still current")
    }

    func testAlbumsSharingAnIndexFolderKeepMatrixFilesOfTheirOwn() throws {
        // Read-only album folders keep their indexes side by side in the cache folder.
        guard access("/proc/1", W_OK) != 0 else { throw XCTSkip("needs a folder this user cannot write") }
        let cache = folder.path + "/cache"
        setenv("XDG_CACHE_HOME", cache, 1)
        defer { unsetenv("XDG_CACHE_HOME") }
        var expected: [String: [Float]] = [:]
        for (n, name) in ["one", "two"].enumerated() {
            folder.writePNG("\(name)/img.png", seed: n)
            try FileManager.default.createSymbolicLink(atPath: folder.path + "/\(name)/.curator", withDestinationPath: "/proc/1")
            let album = try Album.open(folder.path + "/" + name, options: .init(embed: false))
            XCTAssertTrue(album.database.path.hasPrefix(cache), album.database.path)
            let vector: [Float] = n == 0 ? [1, 0] : [0, 1]
            try album.embeddingStore.register(embedder: "test", modelID: "m", dimension: 2, source: "test")
            try album.embeddingStore.write(embedder: "test", imageIDs: [album.images[0].id], matrix: EmbeddingMatrix(rows: 1, dimension: 2, values: vector))
            try album.activate(embedder: "test")
            XCTAssertEqual(try album.matrix().matrix.vector(0), vector)
            expected[name] = vector
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: cache + "/curator/albums").filter { $0.hasSuffix(".bin") }.sorted()
        XCTAssertEqual(files.count, 2, "\(files)")
        XCTAssertTrue(files.allSatisfy { $0.hasSuffix("-album.matrix-test.bin") }, "\(files)")
        let stamps = try files.map { try FileManager.default.attributesOfItem(atPath: cache + "/curator/albums/" + $0)[.modificationDate] as? Date }
        // Opened in turn, each maps its own file: nothing is read from the index or written again.
        for _ in 0..<2 {
            for name in ["one", "two"] {
                let album = try Album.open(folder.path + "/" + name, options: .init(embed: false))
                let matrix = try album.matrix()
                XCTAssertTrue(matrix.matrix.isMapped)
                XCTAssertEqual(matrix.matrix.vector(0), expected[name])
            }
        }
        XCTAssertEqual(try files.map { try FileManager.default.attributesOfItem(atPath: cache + "/curator/albums/" + $0)[.modificationDate] as? Date }, stamps)
    }

    func testAnOlderReleasesSharedMatrixFileIsMovedToTheIndexsName() throws {
        let (file, _) = fixture("f/e.npz")
        let exact = try vectorsByID(try Album.open(file))
        let named = folder.path + "/f/.curator/e.npz.matrix-photomap.bin"
        let shared = folder.path + "/f/.curator/matrix-photomap.bin"
        try FileManager.default.moveItem(atPath: named, toPath: shared)
        let album = try Album.open(file)
        XCTAssertNil(album.lastEmbed, "the file is this index's (its token matches): moved, not imported again")
        XCTAssertTrue(FileManager.default.fileExists(atPath: named))
        XCTAssertFalse(FileManager.default.fileExists(atPath: shared))
        XCTAssertEqual(try vectorsByID(album), exact)

        // Another index's file under the shared name is never taken.
        let (other, _) = fixture("f/other.npz")
        _ = try Album.open(other)
        try FileManager.default.moveItem(atPath: folder.path + "/f/.curator/other.npz.matrix-photomap.bin", toPath: shared)
        try FileManager.default.removeItem(atPath: named)
        XCTAssertEqual(try Album.open(file).lastEmbed?.embedded, 1200, "imported again, not taken from the other index's file")
        XCTAssertTrue(FileManager.default.fileExists(atPath: shared), "left where it was")
    }

    func testAMatrixFileCutShortWhileMappedIsAnErrorNotACrash() throws {
        // An index-only album: its file is the only copy.
        let (file, _) = fixture("g/e.npz")
        let album = try Album.open(file, options: .init(precision: .float16))
        let mapped = try album.matrix().matrix
        XCTAssertTrue(mapped.isMapped)
        _ = try album.select(SelectOptions(method: "fps", count: 5, iterations: 1, seed: 1))
        let matrixFile = folder.path + "/g/.curator/e.npz.matrix-photomap.bin"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: matrixFile))
        try handle.truncate(atOffset: 20_000)
        try handle.close()
        XCTAssertThrowsError(try mapped.checkFile()) { error in
            XCTAssertTrue("\(error)".contains("changed while it was open"), "\(error)")
        }
        XCTAssertThrowsError(try album.select(SelectOptions(method: "fps", count: 5, iterations: 1, seed: 1))) { error in
            XCTAssertTrue("\(error)".contains("open the embeddings file again"), "\(error)")
        }
        XCTAssertEqual(try Album.open(file).lastEmbed?.embedded, 1200, "opening it again imports it again")

        // A folder album's file is a cache: its vectors are read from the index again.
        for i in 0..<2 { folder.writePNG("h/img\(i).png", seed: i) }
        let photos = try Album.open(folder.path + "/h", options: .init(embed: false))
        try photos.embeddingStore.register(embedder: "test", modelID: "m", dimension: 2, source: "test")
        try photos.embeddingStore.write(embedder: "test", imageIDs: photos.images.map(\.id), matrix: EmbeddingMatrix(rows: 2, dimension: 2, values: [1, 0, 0, 1]))
        try photos.activate(embedder: "test")
        let before = try vectorsByID(photos)
        let reopened = try Album.open(folder.path + "/h", options: .init(embed: false))
        XCTAssertTrue(try reopened.matrix().matrix.isMapped)
        let cacheFile = folder.path + "/h/.curator/matrix-test.bin"
        XCTAssertTrue(FileManager.default.fileExists(atPath: cacheFile))
        let cut = try FileHandle(forWritingTo: URL(fileURLWithPath: cacheFile))
        try cut.truncate(atOffset: 10)
        try cut.close()
        XCTAssertEqual(try vectorsByID(reopened), before)
        XCTAssertFalse(try reopened.matrix().matrix.isMapped, "read from the index, saved for next time")
        XCTAssertTrue(try Album.open(folder.path + "/h", options: .init(embed: false)).matrix().matrix.isMapped)
    }
}
