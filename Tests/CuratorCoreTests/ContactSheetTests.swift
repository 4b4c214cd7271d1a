import CChafaAPICheck
import Foundation
import XCTest
@testable import CuratorCore

/// Contact sheets drawn through libchafa: layout by the terminal's width,
/// numbers and marks under the tiles, every format, the same bytes every time.
final class ContactSheetTests: XCTestCase {
    func testDeclarationsMatchTheInstalledHeadersAndTheLibraryLoads() {
        XCTAssertEqual(curator_chafa_api_checked(), 1)
        XCTAssertTrue(Libchafa.start(), Libchafa.unavailableReason ?? "")
        XCTAssertNil(Libchafa.unavailableReason)
    }

    /// Five images in two folders, the third excluded, then a missing file.
    private func tiles(in folder: TemporaryFolder) -> [ContactSheet.Tile] {
        var tiles: [ContactSheet.Tile] = []
        for i in 0..<5 {
            let relative = "\(i < 3 ? "beach" : "forest")/img\(i).png"
            let file = folder.writePNG(relative, size: 64, seed: i)
            tiles.append(ContactSheet.Tile(number: i + 1, path: relative, file: FileSystemPath(file),
                                           tier: [.core, .stable, .variable, .core, nil][i], excluded: i == 2,
                                           detail: "\(100 - i * 10) %"))
        }
        tiles.append(ContactSheet.Tile(number: 6, path: "gone/missing.jpg", file: FileSystemPath(folder.path + "/gone/missing.jpg")))
        return tiles
    }

    /// `text` without escape sequences (CSI ... final byte).
    private func visible(_ text: Substring) -> String {
        var out = "", escape = false, csi = false
        for scalar in text.unicodeScalars {
            if escape {
                if csi { if (0x40...0x7E).contains(scalar.value) { escape = false; csi = false } }
                else if scalar == "[" { csi = true } else { escape = false }
                continue
            }
            if scalar == "\u{1B}" { escape = true; continue }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    func testLayoutFollowsTheWidthSizeAndColumns() {
        func geometry(_ width: Int, size: Int? = nil, columns: Int? = nil) -> ContactSheet.Geometry {
            ContactSheet(tiles: [], display: TerminalDisplay(isTerminal: true, columns: width, format: .symbols, colors: .truecolor),
                         size: size, columns: columns).geometry
        }
        XCTAssertEqual(geometry(80).tileCells, 16)
        XCTAssertEqual(geometry(80).perRow, 4, "four 16-cell tiles and their gaps fit 80 cells")
        XCTAssertEqual(geometry(200).perRow, 11)
        XCTAssertEqual(geometry(80, size: 10).perRow, 7)
        XCTAssertEqual(geometry(80, columns: 5).tileCells, 15)
        XCTAssertEqual(geometry(80, columns: 5).perRow, 5)
        XCTAssertEqual(geometry(10).tileCells, 10, "a tile never exceeds a narrow terminal")
        XCTAssertEqual(geometry(80).boxHeight, 16 * 8, "square on screen: 16 cells wide, 8 high")
        let kitty = ContactSheet(tiles: [], display: TerminalDisplay(isTerminal: true, columns: 80, format: .kitty, colors: .truecolor,
                                                                       cellWidth: 9, cellHeight: 18)).geometry
        XCTAssertEqual(kitty.boxWidth, 16 * 9)
        XCTAssertEqual(kitty.boxHeight, 8 * 18)
    }

    func testSymbolsFitTheWidthNumberEveryTileAndListPathsInALog() throws {
        let folder = TemporaryFolder()
        let display = TerminalDisplay(isTerminal: false, columns: 40, format: .symbols, colors: .truecolor)
        let sheet = ContactSheet(tiles: tiles(in: folder), display: display, size: 12, title: "run 3")
        let text = try sheet.render()
        XCTAssertEqual(try sheet.render(), text, "the same sheet gives the same bytes")

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "run 3")
        let listStart = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("1  beach/") })
        // 12-cell tiles: three a row in 40 cells, square on screen (12 × 6
        // cells) with a label line under each row: two rows of six images.
        XCTAssertEqual(listStart, 1 + 2 * (6 + 1), "\(lines.map { visible($0) })")
        for line in lines[..<listStart] {
            XCTAssertLessThanOrEqual(TerminalCells.count(visible(line)), 40, "\(visible(line))")
        }
        // Labels are paths cut by their folders first: "…/img0.png".
        XCTAssertEqual(visible(lines[7]), "1 …/img0.png 2 …/img1.png 3 ✗ img2.png")
        XCTAssertEqual(visible(lines[14]), "4 …/img3.png 5 …/img4.png 6 ? miss…jpg")
        XCTAssertTrue(text.contains("\u{1B}[38;2;255;59;48m\u{1B}[9m3 ✗ img2.png\u{1B}[0m"), "the excluded label is red and struck through")
        XCTAssertTrue(text.contains("\u{1B}[38;2;255;0;255m1 …/img0.png\u{1B}[0m"), "a core label is magenta")
        XCTAssertTrue(text.contains("▀") || text.contains("▄") || text.contains("█"), "a mosaic of block symbols")
        // Not a terminal: the numbers with their paths follow the sheet.
        XCTAssertTrue(text.contains("\n1  beach/img0.png  100 %\n"), text)
        XCTAssertTrue(text.contains("\n3  beach/img2.png  80 %  excluded\n"))
        XCTAssertTrue(text.contains("\n6  gone/missing.jpg  (unreadable: no such file)\n"))
    }

    func testWithoutColourOnlyPlainText() throws {
        let folder = TemporaryFolder()
        let display = TerminalDisplay(isTerminal: true, columns: 60, format: .symbols, colors: .none)
        let text = try ContactSheet(tiles: tiles(in: folder), display: display).render()
        XCTAssertFalse(text.contains("\u{1B}"), "no escape sequence at all")
        XCTAssertTrue(text.contains("1 beach/img0.png"), "16-cell tiles: the whole path")
        XCTAssertTrue(text.contains("3 ✗ …/img2.png"))
        XCTAssertFalse(text.contains("1  beach/img0.png"), "a terminal gets no path list unless asked")
    }

    func testGraphicsFormatsDrawOnePictureARowOfTheTerminalsCellSize() throws {
        let folder = TemporaryFolder()
        let tiles = Array(self.tiles(in: folder).prefix(5))
        for (format, start) in [(TerminalImageFormat.kitty, "\u{1B}_G"), (.iterm, "\u{1B}]1337;File="), (.sixel, "\u{1B}P")] {
            let display = TerminalDisplay(isTerminal: true, columns: 50, format: format, colors: .truecolor, cellWidth: 8, cellHeight: 16)
            let text = try ContactSheet(tiles: tiles, display: display, size: 16).render()
            // Three 16-cell tiles a row in 50 cells: two rows, two pictures.
            let pictures = text.components(separatedBy: start).count - 1
            if format == .kitty {
                XCTAssertEqual(text.components(separatedBy: "\u{1B}_Ga=T").count - 1, 2, "\(format)")
                XCTAssertTrue(text.hasPrefix("\u{1B}_Ga=T,f=32,s=400,v=128,c=50,r=8,"), "50 cells of 8 pixels, 8 of 16: \(text.prefix(60))")
            } else {
                XCTAssertEqual(pictures, 2, "\(format)")
            }
            XCTAssertTrue(text.contains("1 beach/img0.png"))
            XCTAssertEqual(try ContactSheet(tiles: tiles, display: display, size: 16).render(), text, "\(format) is deterministic")
        }
    }

    func testLabelsAreCutInTheMiddleByDisplayWidth() {
        XCTAssertEqual(ContactSheet.fitPath("ocean/deep/003.jpg", width: 14), "…/deep/003.jpg")
        XCTAssertEqual(ContactSheet.fitPath("ocean/deep/003.jpg", width: 10), "…/003.jpg")
        XCTAssertEqual(ContactSheet.fitPath("ocean/deep/003.jpg", width: 20), "ocean/deep/003.jpg")
        XCTAssertEqual(ContactSheet.fitPath("a/sunset-over-the-sea.jpg", width: 10), "sunse….jpg")
        XCTAssertEqual(ContactSheet.fit("12 sunset-over-the-sea.jpg", width: 12), "12 sun…a.jpg")
        XCTAssertEqual(ContactSheet.fit("short.jpg", width: 12), "short.jpg")
        XCTAssertEqual(TerminalCells.count("写真.jpg"), 8)
        XCTAssertLessThanOrEqual(TerminalCells.count(ContactSheet.fit("1 写真写真写真写真.jpg", width: 9)), 9)
    }
}
