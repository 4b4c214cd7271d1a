import Foundation
import XCTest
@testable import CuratorCore

/// Albums whose vectors come from files other tools wrote: PhotoMapAI's
/// index inside an album, and embeddings files opened as index-only albums.
final class AlbumEmbeddingSourcesTests: XCTestCase {
    private var numpy: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("numpy")
    }

    private struct Expected: Decodable {
        struct PhotoMap: Decodable {
            let filenames: [String]
            let dim: Int
            let normalised_f32: [Float]
        }
        let photomap: PhotoMap
    }

    private func expected() throws -> Expected.PhotoMap {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: numpy.appendingPathComponent("expected.json"))).photomap
    }

    func testPhotoMapIndexInsideAnAlbumIsUsedAsItIsAndMatchedByPath() throws {
        let folder = TemporaryFolder()
        // PhotoMapAI indexed these files under /photos; the album now lives elsewhere.
        folder.writePNG("a.jpg", seed: 1)
        folder.writePNG("sub dir/b.png", seed: 2)
        folder.writePNG("café/naïve 日本.jpg", seed: 3)
        folder.writePNG("extra.png", seed: 4)
        try FileManager.default.createDirectory(atPath: folder.path + "/photomap_index", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: numpy.appendingPathComponent("npz/photomap_f32.npz").path,
                                         toPath: folder.path + "/photomap_index/embeddings.npz")

        let album = try Album.open(folder.path)
        XCTAssertEqual(album.embedder, "photomap")
        XCTAssertEqual(album.modelID, "open-clip:ViT-L-14/dfn2b_s39b")
        let report = try XCTUnwrap(album.lastEmbed)
        XCTAssertEqual(report.embedded, 3)
        XCTAssertEqual(report.failed.map(\.path.string), ["extra.png"])
        XCTAssertTrue(report.notes.contains { $0.hasPrefix("2 of PhotoMapAI's 5 rows name no image") }, "\(report.notes)")

        let expected = try expected()
        let matrix = try album.matrix()
        XCTAssertEqual(matrix.matrix.rows, 3)
        XCTAssertEqual(matrix.matrix.dimension, expected.dim)
        for (row, filename) in expected.filenames.enumerated() {
            let relative = String(filename.dropFirst("/photos/".count))
            guard let image = album.image(path: relative) else { continue }
            let vector = matrix.matrix.vector(try XCTUnwrap(matrix.rowOf[image.id]))
            let want = Array(expected.normalised_f32[row * expected.dim..<(row + 1) * expected.dim])
            XCTAssertEqual(vector, want, accuracy: 1e-6)
        }

        // Reopening does not read the file again: nothing changed.
        let again = try Album.open(folder.path)
        XCTAssertEqual(again.lastEmbed?.embedded, 0)
        XCTAssertEqual(again.lastEmbed?.alreadyEmbedded, 3)
    }

    func testAnEmbeddingsFileOpensAsAnIndexOnlyAlbum() throws {
        let folder = TemporaryFolder()
        let file = folder.path + "/embeddings.npz"
        try FileManager.default.copyItem(atPath: numpy.appendingPathComponent("npz/photomap_f16.npz").path, toPath: file)

        let album = try Album.open(file)
        let expected = try expected()
        XCTAssertTrue(album.isIndexOnly)
        XCTAssertEqual(album.embedder, "photomap")
        XCTAssertEqual(album.images.count, 5)
        XCTAssertEqual(album.rootPath, "/photos")
        XCTAssertEqual(Set(album.images.map(\.path.string)), Set(expected.filenames.map { String($0.dropFirst(8)) }))
        let matrix = try album.matrix()
        XCTAssertEqual(matrix.matrix.rows, 5)
        let first = try XCTUnwrap(album.image(path: "a.jpg"))
        XCTAssertEqual(matrix.matrix.vector(matrix.rowOf[first.id]!), Array(expected.normalised_f32[expected.dim..<2 * expected.dim]), accuracy: 2e-3)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.path + "/.curator/embeddings.npz.sqlite"))

        // Decisions persist in the index beside the file.
        try album.exclusions.add([first.id])
        let reopened = try Album.open(file)
        XCTAssertEqual(reopened.exclusions.ids, [first.id])
        XCTAssertEqual(reopened.image(path: "a.jpg")?.id, first.id)
    }

    func testABrokenEmbeddingsFileNamesTheFileAndTheProblemAndLeavesNothingBehind() throws {
        let folder = TemporaryFolder()
        let file = folder.path + "/broken.npz"
        try FileManager.default.copyItem(atPath: numpy.appendingPathComponent("npz/bad_missing_key.npz").path, toPath: file)
        XCTAssertThrowsError(try Album.open(file)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("broken.npz"), text)
            XCTAssertTrue(text.contains("filenames"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path + "/.curator/broken.npz.sqlite"))
    }
}

/// The built-in pixels embedder run through an album.
final class AlbumPixelsTests: XCTestCase {
    func testOpeningAFolderEmbedsEveryImageWithPixelsAndRecordsFailuresOnce() throws {
        let folder = TemporaryFolder()
        for i in 0..<5 { folder.writePNG("img\(i).jpg", size: 64, seed: i) }
        // A JPEG cut in half: its header reads, its pixels do not.
        let whole = try Data(contentsOf: URL(fileURLWithPath: folder.writePNG("broken.jpg", size: 512, seed: 9)))
        folder.write("broken.jpg", Array(whole.prefix(whole.count / 2)))

        let album = try Album.open(folder.path)
        XCTAssertEqual(album.embedder, "pixels")
        XCTAssertEqual(album.dimension, 384)
        let report = try XCTUnwrap(album.lastEmbed)
        XCTAssertEqual(report.embedded, 5)
        let skipped = try album.skipped()
        XCTAssertEqual(report.failed.map(\.path.string), ["broken.jpg"], "skipped: \(skipped)")
        XCTAssertTrue(report.failed.first?.reason.contains("corrupt") ?? false, "\(report.failed)")
        let matrix = try album.matrix()
        XCTAssertEqual(matrix.matrix.rows, 5)
        var norm: Float = 0
        for j in 0..<384 { norm += matrix.matrix.row(0)[j] * matrix.matrix.row(0)[j] }
        XCTAssertEqual(norm, 1, accuracy: 1e-4)
        let stats = try XCTUnwrap(album.statistics(of: album.image(path: "img0.jpg")!))
        XCTAssertGreaterThan(stats.entropy, 0)
        XCTAssertNil(try album.statistics(of: XCTUnwrap(album.image(path: "broken.jpg"))))

        let again = try Album.open(folder.path)
        XCTAssertEqual(try again.skipped().map(\.path.string), ["broken.jpg"], "listed in every later session too")
        XCTAssertEqual(try again.skippedCount(), 1, "the count includes what the embedder could not read")
        XCTAssertEqual(again.lastEmbed?.embedded, 0, "failures are not retried while the file is unchanged")
        XCTAssertEqual(again.lastEmbed?.alreadyEmbedded, 5)
    }
}

/// Vectors from another tool's file imported into a folder album.
final class AlbumImportTests: XCTestCase {
    func testImportedVectorsAreMatchedByPathAndBecomeTheActiveEmbedder() throws {
        let folder = TemporaryFolder()
        folder.writePNG("one.jpg", seed: 1)
        folder.writePNG("twó.png", seed: 2)
        folder.writePNG("extra.png", seed: 3)
        let album = try Album.open(folder.path, options: .init(embed: false))
        let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("numpy/import")
        let report = try album.importEmbeddings(from: fixtures.appendingPathComponent("emb_paths.npz").path, as: "mine")
        XCTAssertEqual(report.embedded, 2, "\(report)")
        XCTAssertEqual(report.failed.map(\.path.string), ["extra.png"])
        XCTAssertEqual(album.embedder, "mine")
        XCTAssertEqual(album.modelID, "my-model")
        XCTAssertEqual(try album.matrix().matrix.rows, 2)
        XCTAssertEqual(try Album.open(folder.path, options: .init(embed: false)).embedder, "mine", "the choice persists")
        XCTAssertThrowsError(try album.importEmbeddings(from: fixtures.appendingPathComponent("emb_paths.npz").path, as: "pixels"))
    }

    /// A foreign file's names reach the album as the file system's bytes
    /// (`FileSystemPath`): a PhotoMapAI index recording `/photos/caf\xE9.jpg`
    /// (Latin-1, written by Python as a surrogate escape) gives its vector to
    /// this album's `caf\xE9.jpg`, not to a name decoded with U+FFFD.
    func testImportedNamesThatAreNotUTF8MatchTheAlbumsFilesByTheirBytes() throws {
        let folder = TemporaryFolder()
        let latin1: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".jpg".utf8)
        let pixels = SyntheticImages.flat(10, 20, 30, width: 4, height: 4).pixels
        SyntheticImages.write(FileSystemPath(folder.path).appending(latin1), width: 4, height: 4, pixels: pixels)
        SyntheticImages.write(FileSystemPath(folder.path).appending("caf\u{FFFD}.jpg"), width: 4, height: 4, pixels: pixels)
        let album = try Album.open(folder.path, options: .init(embed: false))
        let file = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("numpy/npz/photomap_nonutf8.npz")
        let imported = try EmbeddingImport.load(file)
        XCTAssertEqual(imported.fileSystemPaths.first, FileSystemPath("/photos").appending(latin1))
        let report = try album.importEmbeddings(from: file.path, as: "theirs")
        XCTAssertEqual(report.embedded, 1, "\(report)")
        XCTAssertEqual(report.failed.map(\.path.bytes), [Array("caf\u{FFFD}.jpg".utf8)], "the look-alike name gets no vector")
        let embedded = try XCTUnwrap(album.image(path: latin1))
        XCTAssertEqual(try album.matrix().imageIDs, [embedded.id], "the Latin-1 file has the index's vector")
    }
}

/// The native CLIP encoder run through an album.
final class AlbumCLIPTests: XCTestCase {
    /// Installs the tiny CLIP fixture as the session's model until the test ends.
    private func installTinyModel() {
        let models = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("clip").path
        setenv("CURATOR_MODELS", models, 1)
        setenv("CURATOR_CLIP_MODEL", "tiny-hf", 1)
        addTeardownBlock { unsetenv("CURATOR_MODELS"); unsetenv("CURATOR_CLIP_MODEL") }
    }

    func testClipEmbedsAnAlbumWithTheInstalledModelAndStoresItsID() throws {
        installTinyModel()
        let folder = TemporaryFolder()
        for i in 0..<4 { folder.writePNG("img\(i).jpg", size: 40, seed: i) }
        folder.write("bad.png", Array("text".utf8))

        let album = try Album.open(folder.path)
        XCTAssertEqual(album.embedder, "clip", "auto takes CLIP when a model is installed")
        XCTAssertEqual(album.lastEmbed?.embedded, 4)
        let matrix = try album.matrix()
        XCTAssertEqual(matrix.matrix.rows, 4)
        XCTAssertEqual(matrix.matrix.dimension, album.dimension)
        XCTAssertNotNil(album.modelID)
        let run = try album.select(SelectOptions(method: "fps", count: 2, iterations: 3, seed: 1))
        XCTAssertEqual(run.selection.count, 2)
    }

    func testAClipAlbumGetsThePixelStatisticsTheQualityChecksRead() throws {
        installTinyModel()
        let folder = TemporaryFolder()
        for i in 0..<3 { folder.writePNG("img\(i).jpg", size: 40, seed: i) }
        folder.write("bad.png", Array("text".utf8))
        let album = try Album.open(folder.path)
        XCTAssertEqual(album.embedder, "clip")
        // The same numbers the pixels embedder records.
        let pixels = PixelEmbedder()
        for image in album.images {
            let statistics = try XCTUnwrap(try album.statistics(of: image), image.path.string)
            XCTAssertEqual(statistics, try pixels.embed(path: album.absolutePath(of: image)).statistics)
        }
        XCTAssertTrue(album.lastEmbed?.notes.contains { $0.contains("statistics") && $0.contains("of 3 images") } == true,
                      "\(album.lastEmbed?.notes ?? [])")
        // Measured once: a file that changes is measured again, the others are not.
        folder.writePNG("img1.jpg", size: 48, seed: 9)
        _ = try album.scan()
        let report = try album.embed()
        XCTAssertTrue(report.notes.contains { $0.contains("of 1 images") }, "\(report.notes)")
        let changed = try XCTUnwrap(album.images.first { $0.path.string == "img1.jpg" })
        XCTAssertEqual(try album.statistics(of: changed), try pixels.embed(path: album.absolutePath(of: changed)).statistics)
        XCTAssertFalse(try album.embed().notes.contains { $0.contains("statistics") }, "nothing left to measure")
    }

    func testClipWithoutAModelSaysWhatToDownloadAndWhere() throws {
        let home = ProcessInfo.processInfo.environment["HOME"]
        setenv("CURATOR_MODELS", "/nonexistent-models", 1)
        setenv("HOME", "/nonexistent-home", 1)
        defer {
            unsetenv("CURATOR_MODELS")
            if let home { setenv("HOME", home, 1) } else { unsetenv("HOME") }
        }
        let folder = TemporaryFolder()
        folder.writePNG("a.jpg", size: 16)
        let album = try Album.open(folder.path, options: .init(embed: false))
        XCTAssertThrowsError(try album.embed("clip")) { error in
            XCTAssertTrue("\(error)".contains("clip-vit-base-patch32"), "\(error)")
        }
    }
}
