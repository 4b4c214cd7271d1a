import Foundation
import XCTest
@testable import CuratorCore

final class EmbeddingStoreTests: XCTestCase {
    private func write(_ album: Album, _ vectors: [Int64: [Float]], embedder: String = "test") throws {
        let store = album.embeddingStore
        let dimension = vectors.first!.value.count
        try store.register(embedder: embedder, modelID: "m", dimension: dimension, source: "test")
        let ids = Array(vectors.keys)
        let matrix = EmbeddingMatrix(rows: ids.count, dimension: dimension, values: ids.flatMap { vectors[$0]! })
        try store.write(embedder: embedder, imageIDs: ids, matrix: matrix)
    }

    func testMatrixHoldsEveryVectorAndIsSavedUntilVectorsChange() throws {
        let folder = TemporaryFolder()
        for i in 0..<3 { folder.writePNG("img\(i).png", seed: i) }
        var album = try Album.open(folder.path, options: .init(embed: false))
        let ids = album.images.map(\.id)
        try write(album, [ids[0]: [1, 0], ids[1]: [0, 1], ids[2]: [0.6, 0.8]])
        try album.activate(embedder: "test")

        var matrix = try album.matrix()
        XCTAssertEqual(matrix.matrix.rows, 3)
        XCTAssertEqual(matrix.matrix.vector(matrix.rowOf[ids[2]]!), [0.6, 0.8])
        let saved = folder.path + "/.curator/matrix-test.bin"
        XCTAssertTrue(FileManager.default.fileExists(atPath: saved))

        // A reopened album reads the saved file, with the same contents.
        album = try Album.open(folder.path, options: .init(embed: false))
        matrix = try album.matrix()
        XCTAssertEqual(matrix.imageIDs.sorted(), ids.sorted())
        XCTAssertEqual(matrix.matrix.vector(matrix.rowOf[ids[1]]!), [0, 1])

        // A changed file loses its vector (the scan drops it), so the saved file is stale.
        folder.writePNG("img1.png", size: 10, seed: 9)
        album = try Album.open(folder.path, options: .init(embed: false))
        matrix = try album.matrix()
        XCTAssertEqual(matrix.matrix.rows, 2)
        XCTAssertNil(matrix.rowOf[ids[1]])

        // New vectors show up at once.
        try write(album, [ids[1]: [0.8, 0.6]])
        album = try Album.open(folder.path, options: .init(embed: false))
        matrix = try album.matrix()
        XCTAssertEqual(matrix.matrix.vector(matrix.rowOf[ids[1]]!), [0.8, 0.6])
    }

    func testMixingDimensionsOrModelsIsRefused() throws {
        let folder = TemporaryFolder()
        folder.writePNG("a.png")
        let album = try Album.open(folder.path, options: .init(embed: false))
        try write(album, [album.images[0].id: [1, 0, 0]])
        XCTAssertThrowsError(try album.embeddingStore.register(embedder: "test", modelID: "m", dimension: 4, source: "other.npz")) {
            XCTAssertEqual("\($0)", "other.npz: vectors are 4-d but the album's are 3-d")
        }
        XCTAssertThrowsError(try album.embeddingStore.register(embedder: "test", modelID: "other", dimension: 3, source: "x")) {
            XCTAssertTrue("\($0)".contains("cannot be mixed"))
        }
    }

    func testAnAlbumWithoutEmbeddingsSaysHowToMakeThem() throws {
        let folder = TemporaryFolder()
        folder.writePNG("a.png")
        let album = try Album.open(folder.path, options: .init(embed: false))
        XCTAssertThrowsError(try album.matrix()) { XCTAssertTrue("\($0)".contains("a:embed()"), "\($0)") }
    }
}
