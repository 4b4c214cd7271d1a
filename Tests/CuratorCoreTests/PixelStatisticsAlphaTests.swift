import Foundation
import GRDB
import XCTest
@testable import CuratorCore

/// Issue 14: clip art on a transparent background measured as a white page
/// with a drawing on it, so the quality plugin called white-on-transparent
/// drawings overexposed and flat ones low-information. The statistics of an
/// image with transparency weigh each pixel by its opacity; the vector (what
/// similarity and selection use) is still that of the picture shown on white.
final class PixelStatisticsAlphaTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try SyntheticImages.makeDirectory() }
    override func tearDown() { SyntheticImages.remove(directory) }

    func path(_ name: String) -> FileSystemPath { directory.appendingPathComponent(name).imagingPath }

    /// A `drawing` (opaque) in the middle of a `size × size` transparent
    /// canvas whose hidden colour is `hidden` (black and white both occur in
    /// real clip art), as RGBA samples.
    func canvas(_ drawing: RGBImage, size: Int, hidden: UInt8, opacity: UInt8 = 255) -> [UInt8] {
        var rgba = [UInt8](repeating: 0, count: size * size * 4)
        let x0 = (size - drawing.width) / 2, y0 = (size - drawing.height) / 2
        for y in 0..<size {
            for x in 0..<size {
                let o = 4 * (y * size + x)
                if x >= x0, x < x0 + drawing.width, y >= y0, y < y0 + drawing.height {
                    let i = 3 * ((y - y0) * drawing.width + (x - x0))
                    rgba[o] = drawing.pixels[i]; rgba[o + 1] = drawing.pixels[i + 1]; rgba[o + 2] = drawing.pixels[i + 2]
                    rgba[o + 3] = opacity
                } else {
                    rgba[o] = hidden; rgba[o + 1] = hidden; rgba[o + 2] = hidden; rgba[o + 3] = 0
                }
            }
        }
        return rgba
    }

    /// The RGB samples of `rgba` (straight alpha, 0 or 255 only) shown on a `page` grey.
    func shown(_ rgba: [UInt8], on page: UInt8) -> [UInt8] {
        var rgb = [UInt8]()
        for i in stride(from: 0, to: rgba.count, by: 4) { rgb += rgba[i + 3] == 0 ? [page, page, page] : Array(rgba[i..<(i + 3)]) }
        return rgb
    }

    func testATransparentBackgroundIsNeitherWhiteNorBlack() throws {
        let embedder = PixelEmbedder()
        // A mid-toned drawing covering a sixteenth of the canvas.
        let drawing = SyntheticImages.scaled(SyntheticImages.scene(7, width: 64, height: 64), by: 0.8)
        SyntheticImages.write(path("drawing.png"), width: 64, height: 64, pixels: drawing.pixels)
        let alone = try embedder.embed(path: path("drawing.png")).statistics
        XCTAssertLessThan(alone.brightness, 0.5, "the drawing is dark-ish, so its page is white")

        for hidden: UInt8 in [0, 255] {
            let name = "on-transparent-\(hidden).png"
            let rgba = canvas(drawing, size: 256, hidden: hidden)
            SyntheticImages.write(path(name), width: 256, height: 256, bands: 4, pixels: rgba, interpretation: "srgb")
            let stats = try embedder.embed(path: path(name)).statistics
            // Flattened on white this canvas measured brightness 0.96:
            // "overexposed". Its tone is the drawing's.
            XCTAssertEqual(stats.brightness, alone.brightness, accuracy: 1e-9, "hidden colour \(hidden)")
            XCTAssertEqual(stats.colourfulness, alone.colourfulness, accuracy: 1e-9)
            // Its structure is the drawing's on a contrasting page, whatever
            // colour the transparent pixels hide.
            SyntheticImages.write(path("page.png"), width: 256, height: 256, pixels: shown(rgba, on: 255))
            let page = try embedder.embed(path: path("page.png")).statistics
            XCTAssertEqual(stats.contrast, page.contrast, accuracy: 1e-9)
            XCTAssertEqual(stats.entropy, page.entropy, accuracy: 1e-9)
            XCTAssertEqual(stats.sharpness, page.sharpness, accuracy: 1e-9)
        }
    }

    func testALightDrawingIsShownOnBlackAndASilhouetteKeepsItsShape() throws {
        let embedder = PixelEmbedder()
        // A snowy owl: a light drawing on nothing. Not overexposed-looking
        // white-on-white, and its outline counts against a black page.
        let scene = SyntheticImages.scene(11, width: 60, height: 60)
        let owl = RGBImage(width: 60, height: 60, pixels: scene.pixels.map { 150 + UInt8(Int($0) * 100 / 255) })
        let owlCanvas = canvas(owl, size: 128, hidden: 255)
        SyntheticImages.write(path("owl.png"), width: 128, height: 128, bands: 4, pixels: owlCanvas, interpretation: "srgb")
        SyntheticImages.write(path("owl-on-black.png"), width: 128, height: 128, pixels: shown(owlCanvas, on: 0))
        let stats = try embedder.embed(path: path("owl.png")).statistics
        let onBlack = try embedder.embed(path: path("owl-on-black.png")).statistics
        XCTAssertGreaterThan(stats.brightness, 0.5)
        XCTAssertEqual(stats.entropy, onBlack.entropy, accuracy: 1e-9)
        XCTAssertEqual(stats.sharpness, onBlack.sharpness, accuracy: 1e-9)

        // A one-tone black line drawing: its tone is black, its information
        // the shape (as on white), not "flat".
        let lines = SyntheticImages.flat(0, 0, 0, width: 40, height: 40)
        var lineCanvas = canvas(lines, size: 64, hidden: 0)
        for y in 0..<64 { for x in 0..<64 where (x + y) % 9 > 1 { lineCanvas[4 * (y * 64 + x) + 3] = 0 } }
        SyntheticImages.write(path("lines.png"), width: 64, height: 64, bands: 4, pixels: lineCanvas, interpretation: "srgb")
        SyntheticImages.write(path("lines-on-white.png"), width: 64, height: 64, pixels: shown(lineCanvas, on: 255))
        let line = try embedder.embed(path: path("lines.png")).statistics
        let onWhite = try embedder.embed(path: path("lines-on-white.png")).statistics
        XCTAssertEqual(line.brightness, 0, accuracy: 1e-9)
        XCTAssertEqual(line.contrast, onWhite.contrast, accuracy: 1e-9)
        XCTAssertEqual(line.entropy, onWhite.entropy, accuracy: 1e-9)
        XCTAssertGreaterThan(line.entropy, 0.3)
        XCTAssertEqual(line.sharpness, onWhite.sharpness, accuracy: 1e-9)
    }

    func testTheVectorIsStillThePictureShownOnWhite() throws {
        let embedder = PixelEmbedder()
        let drawing = SyntheticImages.scene(3, width: 80, height: 80)
        let rgba = canvas(drawing, size: 200, hidden: 0, opacity: 180)
        SyntheticImages.write(path("see-through.png"), width: 200, height: 200, bands: 4, pixels: rgba, interpretation: "srgb")
        let flattened = try ImageDecoder().decode(path: path("see-through.png"))
        XCTAssertNotNil(flattened.alpha)
        SyntheticImages.write(path("on-white.png"), width: 200, height: 200, pixels: flattened.pixels)
        XCTAssertEqual(try embedder.embed(path: path("see-through.png")).vector,
                       try embedder.embed(path: path("on-white.png")).vector)
    }

    func testHalfTransparentPixelsCountInTheirOwnColour() throws {
        // A dark grey square at half opacity: shown on white it is light
        // grey, but the drawing itself is dark.
        let square = SyntheticImages.flat(40, 40, 40, width: 32, height: 32)
        SyntheticImages.write(path("ghost.png"), width: 96, height: 96, bands: 4,
                              pixels: canvas(square, size: 96, hidden: 255, opacity: 128), interpretation: "srgb")
        let stats = try PixelEmbedder().embed(path: path("ghost.png")).statistics
        XCTAssertEqual(stats.brightness, 40.0 / 255, accuracy: 2.0 / 255)
    }

    func testOpaqueAlphaAndFullyTransparentImagesMeasureAsBefore() throws {
        let embedder = PixelEmbedder()
        let scene = SyntheticImages.scene(5, width: 120, height: 90)
        SyntheticImages.write(path("rgb.png"), width: 120, height: 90, pixels: scene.pixels)
        var rgba = [UInt8]()
        for i in 0..<(120 * 90) { rgba += scene.pixels[(3 * i)..<(3 * i + 3)]; rgba.append(255) }
        SyntheticImages.write(path("rgba.png"), width: 120, height: 90, bands: 4, pixels: rgba, interpretation: "srgb")
        let plain = try embedder.embed(path: path("rgb.png")), opaque = try embedder.embed(path: path("rgba.png"))
        XCTAssertEqual(opaque.statistics, plain.statistics, "an alpha band that is opaque everywhere changes nothing")
        XCTAssertEqual(opaque.vector, plain.vector)

        // Nothing visible: what is shown is the white page, flat.
        SyntheticImages.write(path("empty.png"), width: 50, height: 50, bands: 4,
                              pixels: [UInt8](repeating: 0, count: 50 * 50 * 4), interpretation: "srgb")
        let empty = try embedder.embed(path: path("empty.png")).statistics
        XCTAssertEqual(empty.brightness, 1)
        XCTAssertEqual(empty.contrast, 0)
        XCTAssertEqual(empty.entropy, 0)
    }

    func testGreyWithAlphaIsWeighedToo() throws {
        // Grey + alpha PNGs (many openclipart stamps): black drawing, transparent rest.
        var ga = [UInt8]()
        for y in 0..<64 { for x in 0..<64 { ga += (x / 8 + y / 8) % 2 == 0 && x < 32 ? [0, 255] : [255, 0] } }
        SyntheticImages.write(path("stamp.png"), width: 64, height: 64, bands: 2, pixels: ga, interpretation: "b-w")
        let stats = try PixelEmbedder().embed(path: path("stamp.png")).statistics
        XCTAssertEqual(stats.brightness, 0, accuracy: 1e-9, "only the black drawing is seen")
        XCTAssertGreaterThan(stats.contrast, 0.3, "its shape, against white, is its structure")
    }

    func testAnIndexFromBeforeMeasuresImagesThatMayHaveAlphaAgain() throws {
        let folder = TemporaryFolder()
        folder.writePNG("stamp.png", size: 32, seed: 1)
        folder.writePNG("photo.jpg", size: 32, seed: 2)
        let measured = try Album.open(folder.path, options: .init(embedder: "pixels"))
        // As an index written before opacity-weighted statistics: its
        // statistics are stale (marked here) and the migration has not run.
        try measured.database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "UPDATE stats SET brightness = 0.987")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v7-opacity-weighted-statistics'")
        }
        let reopened = try Album.open(folder.path, options: .init(embedder: "pixels"))
        let brightness = try Dictionary(uniqueKeysWithValues: reopened.images.map {
            ($0.path.string, try XCTUnwrap(reopened.statistics(of: $0)).brightness)
        })
        XCTAssertNotEqual(brightness["stamp.png"], 0.987, "a PNG may have transparency: measured again")
        XCTAssertEqual(brightness["photo.jpg"], 0.987, "a JPEG cannot: kept")
        XCTAssertEqual(try reopened.matrix().matrix.rows, 2)
    }
}
