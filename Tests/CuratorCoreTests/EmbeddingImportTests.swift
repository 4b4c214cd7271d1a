import Foundation
import XCTest
@testable import CuratorCore

final class EmbeddingImportTests: XCTestCase {
    private func load(_ name: String, pathList: String? = nil) throws -> ImportedEmbeddings {
        try EmbeddingImport.load(NumpyFixtures.url("import/\(name)"), pathList: pathList.map { NumpyFixtures.url("import/\($0)") })
    }

    private func assertImport3(_ e: ImportedEmbeddings, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(e.paths, NumpyFixtures.strings("import3", "paths"), file: file, line: line)
        XCTAssertEqual(e.matrix.rows, 3, file: file, line: line)
        XCTAssertEqual(e.matrix.dimension, 4, file: file, line: line)
        XCTAssertEqual((0..<3).flatMap { e.matrix.vector($0) }, NumpyFixtures.floats("import3", "normalised"), accuracy: 1e-6, file: file, line: line)
    }

    func testNpzWithConventionalKeys() throws {
        let e = try load("emb_paths.npz")
        assertImport3(e)
        XCTAssertEqual(e.modelID, "my-model")
        XCTAssertTrue(e.source.contains("key 'emb'") && e.source.contains("key 'paths'"), e.source)
    }

    func testNpzWithItsOnlyFloatMatrix() throws {
        let e = try load("single_matrix.npz")
        assertImport3(e)
        XCTAssertNil(e.modelID)
        XCTAssertTrue(e.source.contains("key 'vectors'"), e.source)
    }

    func testNpzWithTwoCandidateMatricesAsksForAName() {
        XCTAssertFileError(.mismatch, ["two_matrices.npz", "several 2-D float arrays (a, b)"]) { try load("two_matrices.npz") }
    }

    func testNpzPathsFromAListBesideIt() throws {
        let e = try load("nopaths.npz")
        assertImport3(e)
        XCTAssertTrue(e.source.contains("nopaths.txt"), e.source)
    }

    func testPhotoMapIndexThroughImport() throws {
        let e = try EmbeddingImport.load(NumpyFixtures.url("npz/photomap_f16.npz"))
        XCTAssertEqual(e.paths, NumpyFixtures.strings("photomap", "filenames"))
        XCTAssertEqual(e.modelID, "openai-clip:ViT-B/32")
        XCTAssertTrue(e.source.hasPrefix("PhotoMapAI index"), e.source)
        XCTAssertEqual(e.notes.count, 1)
    }

    func testNpyWithEachKindOfPathList() throws {
        assertImport3(try load("matrix.npy"))  // matrix.txt, CRLF
        assertImport3(try load("other.npy"))  // other.paths.txt, no final newline
        assertImport3(try load("folder/vecs.npy"))  // paths.txt
        assertImport3(try load("orphan/lonely.npy", pathList: "lists/list.csv"))
        assertImport3(try load("orphan/lonely.npy", pathList: "lists/list.json"))
        assertImport3(try load("orphan/lonely.npy", pathList: "lists/plain.json"))
        assertImport3(try load("nopaths.npz", pathList: "lists/list.csv"))
    }

    func testPathsThatAreNotUTF8KeepTheirBytes() throws {
        let expected = (NumpyFixtures.section("nonutf8")["bytes"] as! [[Int]]).map { $0.map(UInt8.init) }
        XCTAssertEqual(try load("nonutf8/m.npy").fileSystemPaths.map(\.bytes), expected)
        XCTAssertEqual(try EmbeddingImport.load(NumpyFixtures.url("npz/photomap_nonutf8.npz")).fileSystemPaths.map(\.bytes), expected)
        XCTAssertEqual(try load("emb_paths.npz").fileSystemPaths.map(\.bytes), NumpyFixtures.strings("import3", "paths").map { Array($0.utf8) })
    }

    func testNpyWithoutAPathList() {
        XCTAssertFileError(.missing, ["lonely.npy", "no path list", "lonely.txt, lonely.paths.txt, paths.txt"]) { try load("orphan/lonely.npy") }
    }

    func testPathCountMustMatchRows() {
        XCTAssertFileError(.mismatch, ["short.txt", "has 2 paths but", "short.npy has 3 rows"]) { try load("short/short.npy") }
    }

    func testClipRetrievalShardsWithPathsTxt() throws {
        for folder in ["clip", "clip/img_emb"] {
            let e = try load(folder)
            XCTAssertEqual(e.paths, NumpyFixtures.strings("clip", "paths"))
            XCTAssertEqual(e.matrix.rows, 5)
            XCTAssertEqual((0..<5).flatMap { e.matrix.vector($0) }, NumpyFixtures.floats("clip", "normalised"), accuracy: 1e-6)
            XCTAssertTrue(e.source.contains("2 shards") && e.source.contains("paths.txt"), e.source)
        }
    }

    func testClipRetrievalShardsInNumericOrderWithPerShardMetadata() throws {
        let e = try load("clip_many")
        XCTAssertEqual(e.paths, NumpyFixtures.strings("clip_many", "paths"))
        XCTAssertEqual((0..<11).flatMap { e.matrix.vector($0) }, NumpyFixtures.floats("clip_many", "normalised"), accuracy: 1e-6)
    }

    func testClipRetrievalMismatches() {
        XCTAssertFileError(.mismatch, ["clip_mismatch/paths.txt", "has 4 paths but", "has 5 rows"]) { try load("clip_mismatch") }
        XCTAssertFileError(.mismatch, ["img_emb_1.npy", "rows have 6 values but img_emb_0.npy has 4"]) { try load("clip_dims") }
        XCTAssertFileError(.missing, ["no embeddings found", "img_emb_0.npy"]) { try load("lists") }
    }

    func testMissingInputs() {
        XCTAssertFileError(.unreadable, ["nothing.npz", "no such file"]) { try load("nothing.npz") }
        XCTAssertFileError(.unreadable, ["nothing.txt", "cannot read the path list"]) { try load("matrix.npy", pathList: "nothing.txt") }
    }

    func testPathListFormats() throws {
        XCTAssertEqual(try PathList.csvRows("a,\"b, c\"\r\n\"say \"\"hi\"\"\",d\n", location: "x"), [["a", "b, c"], ["say \"hi\"", "d"]])
        XCTAssertEqual(PathList.lines(Data("a\r\n\nb\rc\n".utf8)).map(\.bytes), [Array("a".utf8), Array("b".utf8), Array("c".utf8)])
        XCTAssertEqual(try PathList.csvPaths("one.jpg\ntwo.jpg\n", location: "x"), ["one.jpg", "two.jpg"])
        XCTAssertFileError(.missing, ["x", "no path column", "columns: a, b"]) { try PathList.csvPaths("a,b\n1,2\n", location: "x") }
        XCTAssertFileError(.corrupt, ["x", "not closed"]) { try PathList.csvRows("\"open", location: "x") }
        XCTAssertEqual(try PathList.jsonPaths(Data(#"{"paths": ["a", "b"]}"#.utf8), location: "x"), ["a", "b"])
        XCTAssertFileError(.wrongType, ["x", "item 1"]) { try PathList.jsonPaths(Data(#"["a", 3]"#.utf8), location: "x") }
    }
}
