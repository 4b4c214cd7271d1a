import XCTest
@testable import CuratorLua

/// help() on a terminal: lines broken between words at its width, each
/// continuation under its column, nothing lost; elsewhere one line each.
final class HelpTests: XCTestCase {
    /// The words of `text`, whatever the spaces and line breaks between them.
    private func words(_ text: String) -> [Substring] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" })
    }

    func testATerminalsWidthWrapsBetweenWordsAndKeepsEveryWord() throws {
        let host = try CuratorHost()
        let whole = Help(catalog: host.state.catalog).named("Album")
        for width in [60, 80, 100] {
            let text = Help(catalog: host.state.catalog, width: width).named("Album")
            XCTAssertEqual(words(text), words(whole), "width \(width)")
            for line in text.split(separator: "\n") {
                // A single word longer than the line is the only excuse.
                XCTAssertTrue(line.count <= width || !line.trimmingCharacters(in: .whitespaces).contains(" "),
                              "width \(width): \(line.count) columns: \(line)")
            }
        }
    }

    func testContinuationLinesSitUnderTheirColumn() throws {
        let host = try CuratorHost()
        let text = Help(catalog: host.state.catalog, width: 80).named("Album")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // a.precision's summary takes three lines, the second and third under the first's column.
        let first = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  a.precision -> string") })
        let column = try XCTUnwrap(lines[first].range(of: "How the album")).lowerBound.utf16Offset(in: lines[first])
        XCTAssertEqual(lines[first + 1].prefix(while: { $0 == " " }).count, column)
        XCTAssertFalse(lines[first + 1].trimmingCharacters(in: .whitespaces).isEmpty)
        // A signature too long for the first column: its own lines (continued deeper), then the summary at 6.
        let select = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  a:select{") })
        XCTAssertEqual(lines[select + 1].prefix(while: { $0 == " " }).count, 8)
        let summary = try XCTUnwrap(lines[select...].firstIndex { $0.hasPrefix("      Selects count diverse") })
        XCTAssertGreaterThan(summary, select + 1)
    }

    func testWithoutAWidthEachEntryIsOneLine() throws {
        let host = try CuratorHost()
        let text = Help(catalog: host.state.catalog).named("album:select")
        XCTAssertEqual(text.split(separator: "\n").count, 2, text)
    }
}
