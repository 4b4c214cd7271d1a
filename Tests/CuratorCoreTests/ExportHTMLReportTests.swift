import Foundation
import XCTest
@testable import CuratorCore

final class ExportHTMLReportTests: XCTestCase {
    /// A made-up curation: `selected` images with spread frequencies,
    /// `excluded` excluded ones, in an album of `albumSize` images laid out
    /// in a few clusters; thumbnails are coloured PNGs with a pattern.
    static func madeUp(selected: Int, excluded: Int, albumSize: Int) -> (HTMLReport, [CurationEntry]) {
        let iterations = 20
        var entries: [CurationEntry] = []
        for i in 0..<(selected + excluded) {
            let isExcluded = i >= selected
            let votes = isExcluded ? 0 : max(1, iterations - (i * iterations) / max(selected, 1) + (i % 3))
            let folder = ["beach", "city", "forest", "portraits", "night"][i % 5]
            let path = RelativePath("\(folder)/IMG_\(String(1000 + i)).jpg")
            entries.append(CurationEntry(path: path, albumRoot: FileSystemPath("/photos"), votes: min(votes, iterations),
                                         frequency: Double(min(votes, iterations)) / Double(iterations),
                                         index: (i * 7919) % albumSize, excluded: isExcluded))
        }
        var points: [SIMD2<Float>] = []
        var state: UInt64 = 42
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        let centres: [SIMD2<Float>] = [[2, 3], [-4, 1], [0, -5], [5, -2], [-2, -1]]
        for i in 0..<albumSize {
            let c = centres[i % centres.count]
            let angle = next() * 6.283, radius = next() * 2.2
            points.append(c + SIMD2(cos(angle), sin(angle)) * radius)
        }
        let summary = CurationSummary(method: "fps", count: selected, iterations: iterations, seed: 1234,
                                      created: Date(timeIntervalSince1970: 1_790_000_000), album: "Holidays",
                                      parameters: ["include": "0 images"])
        let report = HTMLReport(summary: summary, entries: entries, mapPoints: points, mapSource: "PCA") { entry in
            let hue = Double(entry.index % 360) / 360
            let (r, g, b) = Self.rgb(hue: hue)
            return ExportTestPNG.encode(width: 48, height: 36) { x, y in
                let shade = 0.55 + 0.45 * Double((x / 8 + y / 8) % 2)
                return (UInt8(Double(r) * shade), UInt8(Double(g) * shade), UInt8(Double(b) * shade))
            }
        }
        return (report, entries)
    }

    static func rgb(hue: Double) -> (UInt8, UInt8, UInt8) {
        let h = hue * 6, x = 1 - abs(h.truncatingRemainder(dividingBy: 2) - 1)
        let (r, g, b): (Double, Double, Double)
        switch Int(h) {
        case 0: (r, g, b) = (1, x, 0)
        case 1: (r, g, b) = (x, 1, 0)
        case 2: (r, g, b) = (0, 1, x)
        case 3: (r, g, b) = (0, x, 1)
        case 4: (r, g, b) = (x, 0, 1)
        default: (r, g, b) = (1, 0, x)
        }
        return (UInt8(r * 255), UInt8(g * 255), UInt8(b * 255))
    }

    func testReportShowsEverySelectedImageAndIsSelfContained() throws {
        let (report, entries) = Self.madeUp(selected: 60, excluded: 4, albumSize: 2_000)
        let html = try report.render()

        func values(after marker: String, until end: Character) -> [String] {
            html.components(separatedBy: marker).dropFirst().map { String($0.prefix { $0 != end }) }
        }
        XCTAssertEqual(values(after: "<span class=\"name\">", until: "<"), entries.map(\.path.name))
        XCTAssertEqual(values(after: "<figure class=\"card\"", until: ">").map { $0.components(separatedBy: "title=\"").last ?? "" },
                       entries.map { $0.path.string + "\"" })
        XCTAssertEqual(html.components(separatedBy: "<img ").count - 1, 64)
        XCTAssertEqual(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1, 64)
        XCTAssertEqual(html.components(separatedBy: "loading=\"lazy\"").count - 1, 64)
        XCTAssertFalse(html.contains("http://"))
        XCTAssertFalse(html.contains("https://"))
        XCTAssertFalse(html.contains("src=\"/"), "no file references")
        XCTAssertFalse(html.contains("url("), "no external CSS resources")

        // Tier colours on cards, excluded in red in their own section.
        let excludedSection = try XCTUnwrap(html.range(of: "<section class=\"excluded\">"))
        let afterExcluded = String(html[excludedSection.upperBound...])
        XCTAssertEqual(afterExcluded.components(separatedBy: "--c:\(SelectionTier.excludedColour)").count - 1, 4)
        XCTAssertTrue(html.contains("--c:\(SelectionTier.core.colour)"))
        XCTAssertTrue(html.contains("--c:\(SelectionTier.stable.colour)"))
        XCTAssertTrue(html.contains("--c:\(SelectionTier.variable.colour)"))
        XCTAssertTrue(html.contains("100.0 % · 20 votes"))

        // Parameters and legend.
        for text in ["fps", "Iterations</th><td>20", "Seed</th><td>1234", "2026-09-21T", "Holidays", "include",
                     SelectionTier.core.legend, SelectionTier.stable.legend, "variable: picked in &lt; 70 % of runs"] {
            XCTAssertTrue(html.contains(text), "\(text) missing")
        }

        // The map: every listed image as a circle, the rest of the album as one path.
        XCTAssertEqual(html.components(separatedBy: "<circle ").count - 1, 64)
        let listed = Set(entries.map(\.index)).count
        let path = try XCTUnwrap(html.range(of: "<path d=\""))
        let pathData = html[path.upperBound...].prefix { $0 != "\"" }
        XCTAssertEqual(pathData.components(separatedBy: "M").count - 1, 2_000 - listed)
    }

    func testClustersColourTheMapAndListEachClusterWithItsPicks() throws {
        // 60 picks over an album of 2,000 in five clusters by index % 5, except
        // every tenth image, which is in none; cluster 0 is labelled.
        var (report, entries) = Self.madeUp(selected: 60, excluded: 4, albumSize: 2_000)
        let of = (0..<2_000).map { $0 % 10 == 9 ? Int32(-1) : Int32($0 % 5) }
        let medoids = (0..<5).map { c in
            CurationEntry(path: RelativePath("medoids/<m\(c)>.jpg"), albumRoot: FileSystemPath("/photos"), index: c)
        }
        let clusters = (0..<5).map { c in
            ReportClusters.Cluster(id: c + 1, label: c == 0 ? "beach & sea" : nil, score: c == 0 ? 0.41 : nil,
                                   alternates: c == 0 ? ["coast", "sand"] : [],
                                   size: of.filter { $0 == Int32(c) }.count, medoid: medoids[c])
        }
        report.clusters = ReportClusters(clusters: clusters, of: of, noise: 200, description: "HDBSCAN (min_size 5) on a map")
        report.uniqueness = [entries[0].index: 0.25]
        report.typicality = [entries[0].index: .infinity]
        let progress = ExportRecordingProgress()
        let html = try report.render(progress: progress)

        // The table: a row per cluster with its medoid's thumbnail and path, its
        // size, and the picks in it (those not excluded) beside its share of the album.
        let picks = entries.filter { !$0.excluded }
        for c in 0..<5 {
            let inside = picks.filter { of[$0.index] == Int32(c) }.count
            let size = clusters[c].size
            let row = "</td><td>\(size)</td><td>\(inside)</td><td>"
            XCTAssertTrue(html.contains(row), "cluster \(c + 1): \(row)")
            XCTAssertTrue(html.contains(String(format: "%.1f %% / %.1f %%", 100 * Double(inside) / 60, 100 * Double(size) / 2_000)))
            XCTAssertTrue(html.contains("<span class=\"medoid\">medoids/&lt;m\(c)&gt;.jpg</span>"))
        }
        let none = picks.filter { of[$0.index] < 0 }.count
        XCTAssertTrue(html.contains("<td><span class=\"muted\">in no cluster</span></td><td>200</td><td>\(none)</td>"))
        XCTAssertTrue(html.contains("<b>beach &amp; sea</b> <span class=\"muted\">0.41</span><br><span class=\"muted\">coast, sand</span>"))
        XCTAssertEqual(html.components(separatedBy: "<span class=\"muted\">no label</span>").count - 1, 4)
        XCTAssertTrue(html.contains("HDBSCAN (min_size 5) on a map"))
        // Medoid thumbnails count as progress steps.
        XCTAssertEqual(progress.updates.last?.1, entries.count + 5)
        XCTAssertEqual(progress.updates.last?.2, entries.count + 5)

        // The map: the album's other points in the five cluster colours and grey.
        var colours = Set<String>()
        for part in html.components(separatedBy: "<path d=\"").dropFirst() {
            if let stroke = part.components(separatedBy: "stroke=\"").dropFirst().first { colours.insert(String(stroke.prefix(7))) }
        }
        XCTAssertEqual(colours, Set((0..<5).map(HTMLReport.clusterColour) + [HTMLReport.albumColour]))
        XCTAssertTrue(html.contains("class=\"cluster-name\">1 beach &amp; sea</text>"))
        for c in 2...5 { XCTAssertTrue(html.contains("class=\"cluster-name\">\(c)</text>")) }

        // Every tile names its image's cluster (or none); the first shows its scores.
        XCTAssertEqual(html.components(separatedBy: "<span class=\"cluster\" style=").count
                       + html.components(separatedBy: "<span class=\"cluster none\">no cluster</span>").count - 2, entries.count)
        XCTAssertTrue(html.contains("title=\"uniqueness 0.25 · typicality ∞\">uniq 0.25 · typ ∞</span>"))
        XCTAssertEqual(html.components(separatedBy: "class=\"scores\"").count - 1, 1)

        // Without clusters, none of it.
        report.clusters = nil
        let plain = try report.render()
        XCTAssertFalse(plain.contains("<table class=\"cluster-table\""))
        XCTAssertFalse(plain.contains("class=\"cluster"))
    }

    func testNamesAreEscapedAndMissingThumbnailsSaySo() throws {
        let odd = CurationEntry(path: RelativePath("a/<b>&\"c\".jpg"), albumRoot: FileSystemPath("/x"), votes: 1, frequency: 1, index: 0)
        let report = HTMLReport(summary: CurationSummary(method: "kmeans", count: 1, iterations: 1), entries: [odd]) { _ in
            Array("not an image".utf8)
        }
        let html = try report.render()
        XCTAssertTrue(html.contains("&lt;b&gt;&amp;&quot;c&quot;.jpg"))
        XCTAssertFalse(html.contains("<b>&"))
        XCTAssertTrue(html.contains("no preview"))
        XCTAssertFalse(html.contains("<svg"), "no map without coordinates")
    }

    func testRenderingCanBeCancelledAndWritingNeverOverwritesUnlessAsked() throws {
        let (report, _) = Self.madeUp(selected: 10, excluded: 0, albumSize: 50)
        let progress = ExportRecordingProgress()
        progress.cancelAfter = 3
        XCTAssertThrowsError(try report.render(progress: progress)) { XCTAssertTrue($0 is CancelledError) }

        let s = try ExportScratchFolder()
        let path = s.write("report.html", "mine")
        XCTAssertThrowsError(try report.write(to: path)) {
            XCTAssertEqual($0 as? ExportError, .fileExists(path))
        }
        XCTAssertEqual(fileText(path), "mine")
        try report.write(to: path, overwrite: true)
        XCTAssertTrue(fileText(path)?.hasPrefix("<!DOCTYPE html>") == true)
    }

    /// Writes previews for a person to look at (50 and 1,000 selected) when
    /// CURATOR_REPORT_PREVIEW names a folder: e.g.
    /// `CURATOR_REPORT_PREVIEW=/tmp swift test --filter ExportHTMLReportTests`,
    /// then open /tmp/report-50.html and /tmp/report-1000.html.
    func testWritePreviewsWhenAsked() throws {
        guard let folder = ProcessInfo.processInfo.environment["CURATOR_REPORT_PREVIEW"] else {
            throw XCTSkip("set CURATOR_REPORT_PREVIEW=<folder> to write preview reports")
        }
        for (selected, excluded, album) in [(50, 6, 3_000), (1_000, 40, 30_000)] {
            let (report, _) = Self.madeUp(selected: selected, excluded: excluded, albumSize: album)
            try report.write(to: FileSystemPath("\(folder)/report-\(selected).html"), overwrite: true)
        }
    }
}
