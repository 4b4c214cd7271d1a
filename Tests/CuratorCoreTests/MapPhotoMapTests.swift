import XCTest
@testable import CuratorCore

final class MapPhotoMapTests: XCTestCase {
    func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("map/\(name)")
    }

    func testReadsPhotoMapsUmapArchive() throws {
        XCTAssertEqual(try PhotoMapUMAP.read(url("umap.npz")),
                       [SIMD2(1.5, -2), SIMD2(0.25, 3), SIMD2(-4, 0.5)])
        XCTAssertEqual(try PhotoMapUMAP.read(url("umap_f64.npz"), expectedRows: 2), [SIMD2(1.5, -2), SIMD2(0.25, 3)])
    }

    func testRefusesArchivesThatAreNotAMapOfThisIndex() {
        func message(_ name: String, rows: Int? = nil) -> String {
            do {
                _ = try PhotoMapUMAP.read(url(name), expectedRows: rows)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message("umap.npz", rows: 4).contains("3 rows but the embeddings have 4"))
        XCTAssertTrue(message("umap_wrong_shape.npz").contains("expected an N×2 float array"))
        XCTAssertTrue(message("umap_missing_key.npz").contains("key 'umap' is missing"))
        XCTAssertTrue(message("umap_nan.npz").contains("row 1 holds NaN"))
        XCTAssertTrue(message("umap_missing_key.npz").contains("umap_missing_key.npz"))
    }

    func testFindsTheMapInsideAnAlbum() {
        let album = URL(fileURLWithPath: "/photos/album")
        XCTAssertEqual(PhotoMapUMAP.url(inAlbum: album).path, "/photos/album/photomap_index/umap.npz")
        XCTAssertFalse(PhotoMapUMAP.exists(inAlbum: URL(fileURLWithPath: "/nonexistent-curator-album")))
    }
}
