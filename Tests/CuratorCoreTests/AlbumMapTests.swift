import Foundation
import XCTest
@testable import CuratorCore

/// An album's map end to end: computed once and cached in the index,
/// updated when images arrive, PhotoMapAI's own map when asked, drawn and
/// used by the report.
final class AlbumMapTests: XCTestCase {
    private var fixtures: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    private func makeAlbum(_ count: Int = 30) throws -> (TemporaryFolder, Album) {
        let folder = TemporaryFolder()
        for i in 0..<count { folder.writePNG("set\(i % 3)/img\(i).png", size: 32, seed: i) }
        return (folder, try Album.open(folder.path, options: .init(embedder: "pixels")))
    }

    func testTheMapIsSeededCachedAndPlacesEveryEmbeddedImage() throws {
        let (folder, album) = try makeAlbum()
        let first = try album.map()
        XCTAssertFalse(first.cached)
        XCTAssertEqual(first.count, album.images.count)
        for image in album.images {
            let p = try XCTUnwrap(first.point(of: image.id))
            XCTAssertTrue(p.x.isFinite && p.y.isFinite)
        }
        XCTAssertTrue(first.description.hasPrefix("UMAP of the pixels embeddings"), first.description)

        let reopened = try Album.open(folder.path)
        let second = try reopened.map()
        XCTAssertTrue(second.cached, "the same images and vectors reuse the stored layout")
        XCTAssertEqual(second.layout.points, first.layout.points)

        // Seeded: computing again without the cache gives the same map.
        let fresh = try reopened.map(AlbumMapOptions(useCache: false))
        XCTAssertEqual(fresh.layout.points, first.layout.points)

        // Other settings are another map, cached beside the first.
        var other = UMAPParameters()
        other.seed = 9
        let seeded = try reopened.map(AlbumMapOptions(parameters: other))
        XCTAssertFalse(seeded.cached)
        XCTAssertNotEqual(seeded.layout.points, first.layout.points)
        XCTAssertTrue(try reopened.map().cached)
    }

    /// Writes image `i` of scene `group`, slightly shifted so the group is a cluster.
    private func writeScene(_ folder: TemporaryFolder, _ relative: String, group: Int, shift: Int) {
        let full = FileSystemPath(folder.path + "/" + relative)
        try! FileManager.default.createDirectory(atPath: (folder.path + "/" + relative as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        SyntheticImages.write(full, width: 48, height: 48,
                              pixels: SyntheticImages.scene(group, width: 48, height: 48, shift: (shift % 4, shift / 4)).pixels)
    }

    func testANewImageIsPlacedByItsNeighboursAndTheRestStayPut() throws {
        let folder = TemporaryFolder()
        for group in 0..<4 { for i in 0..<10 { writeScene(folder, "g\(group)/\(i).png", group: group, shift: i) } }
        let album = try Album.open(folder.path, options: .init(embedder: "pixels"))
        let before = try album.map()
        writeScene(folder, "g1/late.png", group: 1, shift: 11)
        let album2 = try Album.open(folder.path)
        XCTAssertEqual(album2.images.count, 41)
        let after = try album2.map()
        XCTAssertFalse(after.cached)
        XCTAssertEqual(after.layout.method, .incremental)
        XCTAssertTrue(after.description.hasSuffix(", updated"), after.description)
        for image in album.images {
            XCTAssertEqual(after.point(of: image.id), before.point(of: image.id), "known images keep their points")
        }
        func centre(_ group: Int) throws -> SIMD2<Float> {
            MapTestData.centroid(try (0..<10).map { try XCTUnwrap(after.point(of: try XCTUnwrap(album2.image(path: "g\(group)/\($0).png")).id)) })
        }
        let late = try XCTUnwrap(after.point(of: try XCTUnwrap(album2.image(path: "g1/late.png")).id))
        let own = distance(late, try centre(1))
        for other in [0, 2, 3] {
            XCTAssertLessThan(own, distance(late, try centre(other)), "a new image of scene 1 lands among scene 1, not scene \(other)")
        }
        XCTAssertTrue(try Album.open(folder.path).map().cached, "the updated layout is stored")
    }

    func testAChangedVectorIsNotTrustedFromTheCache() throws {
        let (folder, album) = try makeAlbum(24)
        _ = try album.map()
        let path = folder.path + "/set0/img0.png"
        try FileManager.default.removeItem(atPath: path)
        folder.writePNG("set0/img0.png", size: 40, seed: 99)
        let changed = try Album.open(folder.path)
        XCTAssertFalse(try changed.map().cached, "a re-embedded image changes the map's key")
    }

    func testPhotoMapsOwnMapIsUsedWhenAskedAndForReports() throws {
        let folder = TemporaryFolder()
        folder.writePNG("a.jpg", seed: 1)
        folder.writePNG("sub dir/b.png", seed: 2)
        folder.writePNG("café/naïve 日本.jpg", seed: 3)
        let index = folder.path + "/photomap_index"
        try FileManager.default.createDirectory(atPath: index, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("numpy/npz/photomap_f32.npz").path,
                                         toPath: index + "/embeddings.npz")
        let album = try Album.open(folder.path)
        XCTAssertThrowsError(try album.map(AlbumMapOptions(source: .photoMap))) {
            XCTAssertTrue("\($0)".contains("umap.npz: does not exist"), "\($0)")
        }
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("map/umap_photomap5.npz").path,
                                         toPath: index + "/umap.npz")
        let map = try album.map(AlbumMapOptions(source: .photoMap))
        XCTAssertEqual(map.source, .photoMap)
        XCTAssertEqual(map.count, 3, "rows naming no image of the album are left out")
        // Rows 0–2 of PhotoMapAI's index are café/naïve 日本.jpg, a.jpg, sub dir/b.png.
        XCTAssertEqual(map.point(of: try XCTUnwrap(album.image(path: "café/naïve 日本.jpg")).id), SIMD2(0, 0))
        XCTAssertEqual(map.point(of: try XCTUnwrap(album.image(path: "a.jpg")).id), SIMD2(1, 0))
        XCTAssertEqual(map.point(of: try XCTUnwrap(album.image(path: "sub dir/b.png")).id), SIMD2(0, 1))
        XCTAssertEqual(try album.map(AlbumMapOptions(source: .auto)).source, .photoMap)
        XCTAssertEqual(try album.map().source, .umap, "curator's own map unless PhotoMapAI's is asked for")

        // A map of another index size is out of date: auto falls back to UMAP, photomap says why.
        try FileManager.default.removeItem(atPath: index + "/umap.npz")
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("map/umap.npz").path, toPath: index + "/umap.npz")
        XCTAssertEqual(try album.map(AlbumMapOptions(source: .auto)).source, .umap)
        XCTAssertThrowsError(try album.map(AlbumMapOptions(source: .photoMap))) {
            XCTAssertTrue("\($0)".contains("out of date"), "\($0)")
        }
    }

    func testPlotDrawsTheRunAndNeverOverwrites() throws {
        let (folder, album) = try makeAlbum(24)
        try album.exclusions.add([album.images[0].id])
        let run = try album.select(SelectOptions(method: "fps", count: 4, iterations: 4, seed: 2))
        let map = try album.map()
        let file = folder.path + "/out-map.png"
        try album.plot(map, to: file, run: run, highlight: run.selection[0], size: 400)
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: file))
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertThrowsError(try album.plot(map, to: file)) { XCTAssertTrue("\($0)".contains("exists"), "\($0)") }
        try album.plot(map, to: file, overwrite: true)

        let svg = folder.path + "/out-map.svg"
        try album.plot(map, to: svg, run: run)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(text.contains(MapPlot.Category.core.colour) || text.contains(MapPlot.Category.stable.colour)
                      || text.contains(MapPlot.Category.variable.colour))
        XCTAssertTrue(text.contains(MapPlot.Category.excluded.colour))
    }

    func testTheReportDrawsTheCachedUMAP() throws {
        let (folder, album) = try makeAlbum(24)
        let run = try album.select(SelectOptions(method: "fps", count: 4, iterations: 3, seed: 1))
        let html = folder.path + "/report.html"
        try album.writeReport(run, to: html)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("UMAP of the pixels embeddings"))
        XCTAssertTrue(try album.map().cached, "the report's map is the album's cached one")
        XCTAssertThrowsError(try album.writeReport(run, to: html), "an existing report is never overwritten")
        try album.writeReport(run, to: folder.path + "/plain.html", map: nil)
        XCTAssertFalse(try String(contentsOfFile: folder.path + "/plain.html", encoding: .utf8).contains("<svg class=\"map\""))
    }
}
