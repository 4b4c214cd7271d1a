import Foundation
import XCTest
@testable import CuratorCore

/// Selection, persistence and export through an album, end to end.
final class AlbumCurationTests: XCTestCase {
    private func makeAlbum(_ count: Int = 24) throws -> (TemporaryFolder, Album) {
        let folder = TemporaryFolder()
        for i in 0..<count { folder.writePNG("set\(i % 3)/img\(i).jpg", size: 48, seed: i) }
        folder.write("set0/img0.txt", Array("a caption".utf8))
        return (folder, try Album.open(folder.path))
    }

    func testSelectionIsReproducibleSavedAndHonoursExclusions() throws {
        let (folder, album) = try makeAlbum()
        let excluded = album.images[0].id
        try album.exclusions.add([excluded])

        let run = try album.select(SelectOptions(method: "fps", count: 5, iterations: 8, seed: 7))
        XCTAssertEqual(run.selection.count, 5)
        XCTAssertEqual(Set(run.selection).count, 5)
        XCTAssertFalse(run.selection.contains(excluded))
        XCTAssertEqual(run.iterations, 8)
        for k in 0..<8 { XCTAssertEqual(run.picks(iteration: k)?.count, 5) }
        let again = try album.select(SelectOptions(method: "fps", count: 5, iterations: 8, seed: 7))
        XCTAssertEqual(again.selection, run.selection, "the same seed gives the same run")
        XCTAssertEqual(again.id, run.id + 1)

        let reopened = try Album.open(folder.path)
        XCTAssertEqual(try reopened.runIDs(), [run.id, again.id])
        let restored = try XCTUnwrap(reopened.run(id: run.id))
        XCTAssertEqual(restored.selection, run.selection)
        XCTAssertEqual(restored.seed, 7)
        for id in run.selection { XCTAssertEqual(restored.frequency(of: id), run.frequency(of: id)) }

        let kmeans = try album.select(SelectOptions(method: "kmeans", count: 4, iterations: 3, seed: 1))
        XCTAssertEqual(kmeans.selection.count, 4)
        XCTAssertNotNil(kmeans.inertia)
    }

    func testBadSelectionsSayWhatIsWrong() throws {
        let (_, album) = try makeAlbum(6)
        XCTAssertThrowsError(try album.select(SelectOptions(count: -3))) { XCTAssertTrue("\($0)".contains("count must be a positive integer (got -3)"), "\($0)") }
        XCTAssertThrowsError(try album.select(SelectOptions(method: "nope", count: 2))) { XCTAssertTrue("\($0)".contains("unknown method 'nope'"), "\($0)") }
        try album.exclusions.add(album.images.map(\.id))
        XCTAssertThrowsError(try album.select(SelectOptions(count: 2))) { XCTAssertTrue("\($0)".contains("every image is excluded"), "\($0)") }
    }

    func testExportCSVFavoritesAndReport() throws {
        let (folder, album) = try makeAlbum()
        let excluded = album.images[1].id
        try album.exclusions.add([excluded])
        let run = try album.select(SelectOptions(method: "fps", count: 6, iterations: 5, seed: 3))

        // Into the album only when asked: the copies would join it at its next scan.
        let out = folder.path + "/out/train"
        XCTAssertThrowsError(try album.export(run, to: out)) { XCTAssertTrue("\($0)".contains("inside the album"), "\($0)") }
        let report = try album.export(run, to: out, options: ExportOptions(intoAlbum: true))
        XCTAssertEqual(report.exported, 6)
        XCTAssertEqual(report.errors.count, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".jpg") }.count, 6)
        // Exporting again never overwrites, and never copies an image that
        // is there already with the same bytes.
        let again = try album.export(run, to: out, options: ExportOptions(intoAlbum: true))
        XCTAssertEqual(again.exported, 0)
        XCTAssertEqual(again.unchanged, 6)
        XCTAssertEqual(again.items.map(\.destination), report.items.map(\.destination))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".jpg") }.count, 6)

        let csv = folder.path + "/out/run.csv"
        try album.writeCSV(run, to: csv)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\r\n")
        XCTAssertEqual(lines.first, "Filename,Subfolder,Count,Frequency(%),Index,Status,Path,Tier")
        XCTAssertEqual(lines.count, 1 + 6 + 1)
        XCTAssertTrue(lines.last!.contains(",Excluded,"))
        XCTAssertThrowsError(try album.writeCSV(run, to: csv), "an existing file is never overwritten")

        try album.favorite(run)
        XCTAssertEqual(try Album.open(folder.path).favorites.ids, run.selection)

        let html = folder.path + "/out/report.html"
        try album.writeReport(run, to: html)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertEqual(page.components(separatedBy: "data:image/jpeg;base64,").count - 1, 7, "six selected and one excluded thumbnail")
        XCTAssertFalse(page.contains("http://") || page.contains("https://"))
    }

    /// The report's tile #k is `r.selection[k]` also after exclusions made
    /// since the run: an excluded pick keeps its place and its number
    /// (struck through in red), so `a.exclusions:add(r.selection[12])` for
    /// the tile shown as #12 excludes the image on that tile.
    func testReportNumbersTilesAsTheSelectionDoesAfterAnExclusion() throws {
        let (folder, album) = try makeAlbum()
        let excludedBefore = album.images[1].id
        try album.exclusions.add([excludedBefore])
        let run = try album.select(SelectOptions(method: "fps", count: 6, iterations: 5, seed: 3))
        let struck = run.selection[1]
        try album.exclusions.add([struck])

        let html = folder.path + "/report.html"
        try album.writeReport(run, to: html, map: nil)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        let selection = try XCTUnwrap(page.range(of: "<h2>Selection"))
        let excludedSection = try XCTUnwrap(page.range(of: "<section class=\"excluded\">"))
        let grid = String(page[selection.upperBound..<excludedSection.lowerBound])
        let cards = grid.components(separatedBy: "<figure ").dropFirst()
        XCTAssertEqual(cards.count, 6, "every pick of the run, the excluded one in place")
        for (k, card) in cards.enumerated() {
            let id = run.selection[k]
            let path = try XCTUnwrap(album.image(id: id)).path.string
            XCTAssertTrue(card.contains("title=\"\(path)\""), "tile \(k + 1) shows \(path): \(card.prefix(200))")
            XCTAssertTrue(card.contains("<span class=\"rank\">\(k + 1)</span>"), "tile \(k + 1) is numbered \(k + 1)")
            XCTAssertEqual(card.contains("class=\"card out\""), id == struck, "only the excluded pick is struck through")
        }
        // The exclusion made before the run is listed after the selection, unnumbered.
        let rest = String(page[excludedSection.upperBound...])
        let before = try XCTUnwrap(album.image(id: excludedBefore)).path.string
        XCTAssertTrue(rest.contains("title=\"\(before)\""))
        XCTAssertFalse(rest.contains("class=\"rank\""))
        XCTAssertFalse(rest.contains("title=\"\(try XCTUnwrap(album.image(id: struck)).path.string)\""),
                       "an excluded pick is shown once, in its place")
    }
}
