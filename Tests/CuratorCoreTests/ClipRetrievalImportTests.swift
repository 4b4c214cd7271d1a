import Foundation
import XCTest
@testable import CuratorCore

/// clip-retrieval output folders as clip-retrieval writes them (embedding
/// shards with pyarrow-written metadata_N.parquet), from Fixtures/parquet.
final class ClipRetrievalImportTests: XCTestCase {
    private func load(_ name: String) throws -> ImportedEmbeddings {
        try EmbeddingImport.load(ParquetFixtures.url(name))
    }

    private func assertAsWritten(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let e = try load(name)
        let expected = ParquetFixtures.clip(name)
        XCTAssertEqual(e.paths, expected["paths"] as? [String], file: file, line: line)
        let captions = (expected["captions"] as! [Any]).map { $0 as? String }
        XCTAssertEqual(e.captions, captions.contains { $0 != nil } ? captions : nil, file: file, line: line)
        let rows = (expected["normalised"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
        XCTAssertEqual(e.matrix.rows, rows.count, file: file, line: line)
        XCTAssertEqual((0..<e.matrix.rows).flatMap { e.matrix.vector($0) }, rows.flatMap { $0 }, accuracy: 1e-6, file: file, line: line)
    }

    func testOneShardWithPathsAndCaptions() throws {
        try assertAsWritten("clip_one_shard")
        let e = try load("clip_one_shard")
        XCTAssertNil(e.captions?[1], "a null caption stays absent")
        XCTAssertEqual(e.captions?[0], "caption 0.0")
        XCTAssertTrue(e.source.contains("metadata_N.parquet (column 'image_path', with captions)"), e.source)
    }

    func testShardsInOrderEachWithItsOwnCodec() throws {
        try assertAsWritten("clip_three_shards")  // snappy, zstd, uncompressed
        XCTAssertTrue(try load("clip_three_shards").source.contains("3 shards"))
        // The img_emb folder itself also names the output.
        XCTAssertEqual(try EmbeddingImport.load(ParquetFixtures.url("clip_three_shards/img_emb")).paths.count, 13)
    }

    func testMetadataWithoutCaptions() throws {
        try assertAsWritten("clip_no_captions")
        XCTAssertNil(try load("clip_no_captions").captions)
    }

    func testShardAndMetadataThatDisagreeNameTheShard() {
        XCTAssertFileError(.mismatch, ["clip_count_mismatch/metadata/metadata_1.parquet", "has 5 rows but its shard",
                                       "clip_count_mismatch/img_emb/img_emb_1.npy has 3", "row for row"]) {
            try load("clip_count_mismatch")
        }
        XCTAssertFileError(.missing, ["clip_missing_metadata/img_emb/img_emb_1.npy", "has no metadata", "metadata_1.parquet"]) {
            try load("clip_missing_metadata")
        }
    }

    func testAnUnsupportedCodecIsNamed() {
        XCTAssertFileError(.unsupported, ["clip_gzip/metadata/metadata_1.parquet: column 'image_path'", "GZIP", "UNCOMPRESSED, SNAPPY and ZSTD"]) {
            try load("clip_gzip")
        }
    }

    /// What a user does: `curator.open(folder)` on the output folder.
    func testTheOutputFolderOpensAsAnIndexOnlyAlbumWithItsCaptions() throws {
        let folder = TemporaryFolder()
        let output = folder.path + "/laion-subset"
        try FileManager.default.copyItem(atPath: ParquetFixtures.url("clip_three_shards").path, toPath: output)
        XCTAssertTrue(EmbeddingImport.isClipRetrievalOutput(output))
        XCTAssertFalse(EmbeddingImport.isClipRetrievalOutput(folder.path))

        let album = try Album.open(output)
        XCTAssertTrue(album.isIndexOnly)
        XCTAssertEqual(album.images.count, 13)
        XCTAssertEqual(album.embedder, "imported")
        XCTAssertEqual(album.rootPath, "/data/laion")
        XCTAssertEqual(try album.matrix().matrix.rows, 13)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.path + "/.curator/laion-subset.sqlite"))
        XCTAssertTrue(album.lastEmbedReport?.notes.contains { $0.contains("clip-retrieval shards") } ?? false)
        let image = try XCTUnwrap(album.image(path: "00001/000010000.jpg"))
        XCTAssertEqual(album.caption(of: image), "caption 1.0")
        XCTAssertNil(album.caption(of: try XCTUnwrap(album.image(path: "00001/000010001.jpg"))), "its caption is null")

        // Reopened unchanged: read from the index, not imported again.
        let again = try Album.open(output)
        XCTAssertNil(again.lastEmbedReport)
        XCTAssertEqual(again.caption(of: try XCTUnwrap(again.image(path: "00002/000020005.jpg"))), "caption 2.5")

        // A shard's metadata replaced: imported again, with the new captions.
        try FileManager.default.removeItem(atPath: output + "/metadata/metadata_0.parquet")
        try FileManager.default.removeItem(atPath: output + "/metadata/metadata_1.parquet")
        try FileManager.default.removeItem(atPath: output + "/metadata/metadata_2.parquet")
        let paths = (ParquetFixtures.clip("clip_three_shards")["paths"] as! [String])
        try (paths.joined(separator: "\n") + "\n").write(toFile: output + "/paths.txt", atomically: true, encoding: .utf8)
        let plain = try Album.open(output)
        XCTAssertNotNil(plain.lastEmbedReport, "changed files are imported again")
        XCTAssertNil(plain.caption(of: try XCTUnwrap(plain.image(path: "00001/000010000.jpg"))), "paths.txt has no captions")
    }

    func testABrokenOutputFolderLeavesNothingBehind() throws {
        let folder = TemporaryFolder()
        let output = folder.path + "/out"
        try FileManager.default.copyItem(atPath: ParquetFixtures.url("clip_count_mismatch").path, toPath: output)
        XCTAssertThrowsError(try Album.open(output)) { error in
            XCTAssertTrue("\(error)".contains("metadata_1.parquet"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path + "/.curator"))
    }
}
