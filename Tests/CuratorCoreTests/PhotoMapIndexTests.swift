import Foundation
import XCTest
@testable import CuratorCore

final class PhotoMapIndexTests: XCTestCase {
    private func read(_ name: String) throws -> PhotoMapEmbeddings {
        try PhotoMapIndex.read(NumpyFixtures.url("npz/\(name)"))
    }

    private func assertRows(_ m: EmbeddingMatrix, _ expectedKey: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual((0..<m.rows).flatMap { m.vector($0) }, NumpyFixtures.floats("photomap", expectedKey), accuracy: 1e-6, file: file, line: line)
        for i in 0..<m.rows {
            let v = m.vector(i)
            XCTAssertEqual(zip(v, v).map(*).reduce(0, +), 1, accuracy: 1e-5, file: file, line: line)
        }
    }

    func testFloat32IndexAsPhotoMapAIWritesIt() throws {
        let index = try read("photomap_f32.npz")
        XCTAssertEqual(index.filenames, NumpyFixtures.strings("photomap", "filenames"))
        XCTAssertEqual(index.filenames[0], "/photos/café/naïve 日本.jpg")
        XCTAssertEqual(index.modificationTimes, NumpyFixtures.doubles("photomap", "modification_times"))
        XCTAssertEqual(index.modelID, "open-clip:ViT-L-14/dfn2b_s39b")
        XCTAssertEqual(index.dimension, 8)
        XCTAssertEqual(index.matrix.rows, 5)
        assertRows(index.matrix, "normalised_f32")
        XCTAssertEqual(index.notes.count, 1)
        XCTAssertTrue(index.notes[0].contains("key 'metadata'") && index.notes[0].contains("never unpickles"), index.notes[0])
    }

    func testOlderFloat16Index() throws {
        let index = try read("photomap_f16.npz")
        XCTAssertEqual(index.modelID, "openai-clip:ViT-B/32")
        XCTAssertEqual(index.filenames, NumpyFixtures.strings("photomap", "filenames"))
        assertRows(index.matrix, "normalised_f16")
    }

    func testCompressedIndexAndOptionalKeys() throws {
        let deflated = try read("photomap_deflated.npz")
        assertRows(deflated.matrix, "normalised_f32")
        XCTAssertEqual(deflated.modelID, "open-clip:ViT-L-14/dfn2b_s39b")
        let minimal = try read("photomap_minimal.npz")
        XCTAssertNil(minimal.modificationTimes)
        XCTAssertNil(minimal.modelID)
        XCTAssertEqual(minimal.notes, [])
        assertRows(minimal.matrix, "normalised_f32")
    }

    func testFileNamesThatAreNotUTF8KeepTheirBytes() throws {
        let index = try read("photomap_nonutf8.npz")
        let expected = (NumpyFixtures.section("nonutf8")["bytes"] as! [[Int]]).map { $0.map(UInt8.init) }
        XCTAssertEqual(index.filenamePaths.map(\.bytes), expected)
        XCTAssertEqual(index.filenames, ["/photos/caf\u{FFFD}.jpg", "/photos/ok ü.jpg"])
        let utf8 = try read("photomap_f32.npz")
        XCTAssertEqual(utf8.filenamePaths.map(\.bytes), utf8.filenames.map { Array($0.utf8) })
    }

    func testNonFiniteRowsAreFoundAcrossParallelBlocks() {
        let m = EmbeddingMatrix(rows: 25, dimension: 100_003)  // 10 rows per block, 3 values past the last SIMD8
        XCTAssertNil(firstNonFiniteRow(m))
        m.row(23)[100_002] = .infinity
        XCTAssertEqual(firstNonFiniteRow(m), 23)
        m.row(17)[5] = .nan
        XCTAssertEqual(firstNonFiniteRow(m), 17)
        m.row(3)[100_001] = -.infinity
        XCTAssertEqual(firstNonFiniteRow(m), 3)
    }

    func testIndexLocationInAnAlbum() {
        let album = URL(fileURLWithPath: "/albums/trip")
        XCTAssertEqual(PhotoMapIndex.url(inAlbum: album).path, "/albums/trip/photomap_index/embeddings.npz")
        XCTAssertFalse(PhotoMapIndex.exists(inAlbum: album))
    }

    func testBadIndexesNameFileKeyAndProblem() {
        XCTAssertFileError(.missing, ["bad_missing_key.npz", "key 'filenames' is missing"]) { try read("bad_missing_key.npz") }
        XCTAssertFileError(.wrongType, ["bad_wrong_dtype.npz: key 'embeddings'", "dtype <U7", "expected an N×D float32"]) { try read("bad_wrong_dtype.npz") }
        XCTAssertFileError(.wrongType, ["bad_1d_embeddings.npz: key 'embeddings'", "shape (8,)"]) { try read("bad_1d_embeddings.npz") }
        XCTAssertFileError(.mismatch, ["bad_dim.npz", "key 'embedding_dim' says 16", "have 8 values"]) { try read("bad_dim.npz") }
        XCTAssertFileError(.mismatch, ["bad_rows.npz", "key 'filenames' has 4 entries but key 'embeddings' has 5 rows"]) { try read("bad_rows.npz") }
        XCTAssertFileError(.mismatch, ["bad_mtimes.npz", "key 'modification_times' has 3 entries"]) { try read("bad_mtimes.npz") }
        XCTAssertFileError(.corrupt, ["bad_nan.npz: key 'embeddings'", "row 2 (/photos/sub dir/b.png)", "NaN"]) { try read("bad_nan.npz") }
        XCTAssertFileError(.corrupt, ["bad_shape_mismatch.npz: key 'embeddings'", "needs 192 bytes"]) { try read("bad_shape_mismatch.npz") }
        XCTAssertFileError(.corrupt, ["bad_truncated.npz", "truncated"]) { try read("bad_truncated.npz") }
        XCTAssertFileError(.corrupt, ["bad_corrupt_member.npz: key 'embeddings'", "CRC-32"]) { try read("bad_corrupt_member.npz") }
        XCTAssertFileError(.notRecognized, ["not_zip.npz"]) { try read("not_zip.npz") }
    }

    /// Times reading a full-size index when CURATOR_NPZ_BENCH names one (see
    /// scripts/bench/npz_read.sh): best wall-clock and best CPU time of 3 reads.
    func testReadTimeOfALargeIndex() throws {
        guard let path = ProcessInfo.processInfo.environment["CURATOR_NPZ_BENCH"] else {
            throw XCTSkip("set CURATOR_NPZ_BENCH to an embeddings.npz to time it")
        }
        func cpuSeconds() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
        }
        var wall = Double.infinity, cpu = Double.infinity
        var shape = ""
        for _ in 0..<3 {
            let (start, startCPU) = (Date(), cpuSeconds())
            let index = try PhotoMapIndex.read(URL(fileURLWithPath: path))
            wall = min(wall, Date().timeIntervalSince(start))
            cpu = min(cpu, cpuSeconds() - startCPU)
            shape = "\(index.matrix.rows)×\(index.dimension)"
        }
        print("read \(shape) wall \(wall) cpu \(cpu)")
    }
}
