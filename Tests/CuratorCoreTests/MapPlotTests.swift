import XCTest
@testable import CuratorCore

final class MapPlotTests: XCTestCase {
    /// A grey album with one image of each kind in separate places.
    func samplePlot(highlight: Int? = nil) -> MapPlot {
        var points: [SIMD2<Float>] = []
        var random = Xoshiro256StarStar(seed: 1, stream: 0)
        for _ in 0..<300 { points.append(SIMD2(Float(random.nextDouble()) * 10, Float(random.nextDouble()) * 10)) }
        // Marks far from each other and from the grey cloud's corners.
        points += [SIMD2(12, 12), SIMD2(12, -2), SIMD2(-2, 12), SIMD2(-2, -2)]
        var categories = [MapPlot.Category](repeating: .album, count: 300)
        categories += [.excluded, .core, .stable, .variable]
        return MapPlot(points: points, categories: categories, highlight: highlight, size: 400, caption: "test map")
    }

    func colour(_ raster: MapRaster, at p: SIMD2<Double>) -> SIMD3<UInt8> {
        let pixel = raster.pixel(x: Int(p.x), y: Int(p.y))
        return SIMD3(pixel.x, pixel.y, pixel.z)
    }

    func testPNGShowsEachCategoryInItsColour() throws {
        let plot = samplePlot()
        let raster = try MapRaster.decode(try plot.png())
        XCTAssertEqual(raster.width, 400)
        XCTAssertEqual(raster.height, plot.height)
        let positions = plot.pixelPositions()
        XCTAssertEqual(colour(raster, at: positions[300]!), MapPlot.Category.excluded.rgb, "excluded not red")
        XCTAssertEqual(colour(raster, at: positions[301]!), MapPlot.Category.core.rgb, "core not magenta")
        XCTAssertEqual(colour(raster, at: positions[302]!), MapPlot.Category.stable.rgb, "stable not cyan")
        XCTAssertEqual(colour(raster, at: positions[303]!), MapPlot.Category.variable.rgb, "variable not green")
        // A grey point is a blend of grey over the background: grey-ish, not coloured.
        let grey = colour(raster, at: positions[0]!)
        XCTAssertEqual(grey.x, grey.y, "grey point tinted: \(grey)")
        XCTAssertGreaterThan(grey.x, MapPlot.background.x + 30)
        // y points up: the point at y = -2 is low in the picture.
        XCTAssertGreaterThan(positions[301]!.y, positions[300]!.y)
    }

    func testExcludedIsDrawnOverTheSelectionAndHighlightOnTop() throws {
        var plot = samplePlot(highlight: 301)
        // Put an excluded and a core image at the same place: red wins.
        plot.points[302] = plot.points[300]
        plot.categories[302] = .core
        let raster = plot.rasterize()
        let positions = plot.pixelPositions()
        XCTAssertEqual(colour(raster, at: positions[300]!), MapPlot.Category.excluded.rgb)
        // The highlight ring surrounds its point in yellow.
        let ringRadius = plot.markRadius * 2.2 + 4 - max(2, plot.markRadius * 0.6) / 2
        let onRing = positions[301]! + SIMD2(ringRadius, 0)
        XCTAssertEqual(colour(raster, at: onRing), MapPlot.highlightColour)
        XCTAssertEqual(colour(raster, at: positions[301]!), MapPlot.Category.core.rgb)
    }

    func testClusterColoursStayDistinctForHundredsOfClusters() {
        // The first twelve are the fixed palette; past it no colour comes back (it used to repeat every 12).
        let colours = (0..<600).map { MapPlot.Clusters.rgb($0) }
        XCTAssertEqual(colours[0], SIMD3(0x4E, 0x79, 0xA7))
        XCTAssertEqual(Set(colours.map { [$0.x, $0.y, $0.z] }).count, 600)
        // Each differs clearly from the album's grey and the background.
        for c in colours {
            let spread = Int(max(c.x, c.y, c.z)) - Int(min(c.x, c.y, c.z))
            XCTAssertGreaterThan(spread, 30, "\(c) is nearly grey")
        }
        XCTAssertEqual(MapPlot.Clusters.hex(12), MapPlot.hex(MapPlot.Clusters.rgb(12)))
    }

    func testLegendCountsAndOrder() {
        let plot = samplePlot()
        XCTAssertEqual(plot.legendEntries().map(\.0), [.excluded, .core, .stable, .variable, .album])
        XCTAssertEqual(plot.legendEntries().map(\.1), [1, 1, 1, 1, 300])
        XCTAssertEqual(plot.drawingOrder().suffix(4), [303, 302, 301, 300])
        // Legend text is drawn below the map (some light pixels in the strip).
        let raster = plot.rasterize()
        var light = 0
        for y in plot.size..<plot.height { for x in 0..<plot.size where raster.pixel(x: x, y: y).x > 200 { light += 1 } }
        XCTAssertGreaterThan(light, 50)
        // Every label renders, "<" and "≥" included (libvips reads Pango markup).
        for category in MapPlot.Category.allCases {
            XCTAssertNotNil(MapText.mask("\(category.legend) 12", pixelSize: 14), category.legend)
        }
        XCTAssertNotNil(MapText.mask("a & b <c>", pixelSize: 14))
    }

    func testPointsShrinkAsTheAlbumGrows() {
        let small = MapPlot(points: Array(repeating: .zero, count: 500))
        let large = MapPlot(points: Array(repeating: .zero, count: 85_000))
        XCTAssertGreaterThan(small.albumRadius, large.albumRadius)
        XCTAssertGreaterThanOrEqual(large.albumRadius, 1)
        XCTAssertLessThan(large.albumRadius, 1.5)
    }

    func testSVGHasTheSameMarks() {
        let svg = samplePlot(highlight: 0).svg()
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.contains("fill=\"#ff3b30\""))
        XCTAssertTrue(svg.contains("fill=\"#ff00ff\""))
        XCTAssertTrue(svg.contains("class=\"highlight\""))
        XCTAssertTrue(svg.contains(">excluded 1</text>"))
        XCTAssertTrue(svg.contains(">test map</text>"))
        // Drawing order: variable before core before excluded.
        let variable = svg.range(of: "data-index=\"303\"")!.lowerBound
        let core = svg.range(of: "data-index=\"301\"")!.lowerBound
        let excluded = svg.range(of: "data-index=\"300\"")!.lowerBound
        XCTAssertTrue(variable < core && core < excluded)
    }

    func testCategoriesFromACuration() {
        XCTAssertEqual(MapPlot.Category(tier: .core), .core)
        XCTAssertEqual(MapPlot.Category.core.colour, SelectionTier.core.colour)
        XCTAssertEqual(MapPlot.Category.stable.colour, SelectionTier.stable.colour)
        XCTAssertEqual(MapPlot.Category.variable.colour, SelectionTier.variable.colour)
        XCTAssertEqual(MapPlot.Category.excluded.colour, SelectionTier.excludedColour)
    }

    func testWritesFilesByExtension() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("curator-map-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plot = samplePlot()
        try plot.write(to: folder.appendingPathComponent("m.png").path)
        try plot.write(to: folder.appendingPathComponent("m.svg").path)
        let png = try Data(contentsOf: folder.appendingPathComponent("m.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let svg = try String(contentsOf: folder.appendingPathComponent("m.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertThrowsError(try plot.write(to: "/nonexistent-curator-dir/m.png")) {
            XCTAssertTrue("\($0)".contains("/nonexistent-curator-dir/m.png"))
        }
    }
}
