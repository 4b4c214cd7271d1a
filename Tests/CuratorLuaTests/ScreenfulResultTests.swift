import XCTest
@testable import CuratorLua
import CuratorCore

final class ScreenfulResultTests: XCTestCase {
    private func numbered(_ count: Int) -> String {
        (1...count).map { "line \($0)" }.joined(separator: "\n")
    }

    func testTextThatFitsIsShownWhole() {
        let screen = ScreenfulResult(rows: 9)
        XCTAssertEqual(screen.fitted(numbered(9), hint: "see all"), numbered(9))
        XCTAssertEqual(screen.fitted("42"), "42")
        XCTAssertEqual(screen.fitted(""), "")
        // Three rows of wrapped text among short lines still fit.
        let wrapped = String(repeating: "x", count: 200) + "\n" + numbered(6)
        XCTAssertEqual(screen.fitted(wrapped), wrapped)
    }

    func testLongTextKeepsItsFirstAndLastLinesAroundTheCount() {
        let shown = ScreenfulResult(rows: 9).fitted(numbered(100), hint: "print(curator.pretty(_)) shows them all")
        XCTAssertEqual(shown.split(separator: "\n", omittingEmptySubsequences: false), [
            "line 1", "line 2", "line 3", "line 4",
            "⋮ 92 lines left out; print(curator.pretty(_)) shows them all",
            "line 97", "line 98", "line 99", "line 100",
        ])
    }

    func testOneLineTooManyIsCutAndCounted() {
        let shown = ScreenfulResult(rows: 10).fitted(numbered(11))
        let lines = shown.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 10)
        XCTAssertEqual(lines[5], "⋮ 2 lines left out")
        XCTAssertEqual(lines.first, "line 1")
        XCTAssertEqual(lines.last, "line 11")
    }

    func testWrappedLinesCountAsTheRowsTheyTake() {
        // Each 100-character line takes two rows of 80: 20 rows in all, 9 allowed.
        let long = (1...10).map { String(format: "%03d", $0) + String(repeating: "-", count: 97) }
        let screen = ScreenfulResult(rows: 9, columns: 80)
        let shown = screen.fitted(long.joined(separator: "\n"))
        let lines = shown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertLessThanOrEqual(lines.reduce(0) { $0 + screen.rowCount($1) }, 9)
        XCTAssertEqual(lines.first, long[0])
        XCTAssertEqual(lines.last, long[9])
        XCTAssertTrue(lines.contains { $0.hasPrefix("⋮ ") && $0.hasSuffix(" lines left out") })
    }

    func testALineLongerThanTheScreenIsCutInItsMiddle() {
        // A file read as one string: a million characters on one line.
        let text = "\"" + String(repeating: "a", count: 500_000) + String(repeating: "z", count: 500_000) + "\""
        let screen = ScreenfulResult(rows: 40, columns: 80)
        let shown = screen.fitted(text, hint: "print(curator.pretty(_)) shows them all")
        let lines = shown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.count, 2)
        XCTAssertLessThanOrEqual(screen.rowCount(lines[0]), screen.longestLineRows)
        XCTAssertTrue(lines[0].hasPrefix("\"aaaa"))
        XCTAssertTrue(lines[0].hasSuffix("zzzz\""))
        // What is kept and the count left out add up to the line.
        let parts = lines[0].components(separatedBy: " ⋯ ")
        XCTAssertEqual(parts.count, 3)
        XCTAssertEqual(parts[1], "\(text.count - parts[0].count - parts[2].count) characters left out")
        XCTAssertEqual(lines[1], "⋯ print(curator.pretty(_)) shows them all")
    }

    func testWideCharactersCountTwoCellsWhenRowsAreCountedAndLinesCut() {
        // 60 kanji are 120 cells: two rows of 80, so ten such lines take 20 rows, not 10.
        let wide = String(repeating: "写", count: 60)
        let screen = ScreenfulResult(rows: 15, columns: 80)
        XCTAssertEqual(screen.rowCount(wide), 2)
        let ten = [String](repeating: wide, count: 10).joined(separator: "\n")
        XCTAssertTrue(screen.fitted(ten).contains("lines left out"), "20 rows do not fit 15")
        // A line of 1,000 kanji cut to its 4 rows of 80 cells, the count adding up.
        let line = String(repeating: "真", count: 1000)
        let cut = screen.shortened(line)
        XCTAssertLessThanOrEqual(TerminalCells.count(cut), 4 * 80)
        let omitted = try? XCTUnwrap(cut.firstMatch(of: /⋯ (\d+) characters left out ⋯/)).1
        let kept = cut.filter { $0 == "真" }.count
        XCTAssertEqual(kept + (omitted.flatMap { Int($0) } ?? -1), 1000)
    }

    func testTheTerminalKeepsRoomForTheCommandAndThePrompt() {
        XCTAssertEqual(ScreenfulResult(terminalRows: 50, columns: 120).rows, 47)
        XCTAssertEqual(ScreenfulResult(terminalRows: 50, columns: 120).columns, 120)
        // A tiny window still shows a useful amount.
        XCTAssertEqual(ScreenfulResult(terminalRows: 5, columns: 10).rows, 10)
        XCTAssertEqual(ScreenfulResult(terminalRows: 5, columns: 10).columns, 20)
    }
}
