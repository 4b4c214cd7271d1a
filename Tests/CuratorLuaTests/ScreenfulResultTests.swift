import XCTest
@testable import CuratorLua

final class ScreenfulResultTests: XCTestCase {
    private func numbered(_ count: Int) -> String {
        (1...count).map { "line \($0)" }.joined(separator: "\n")
    }

    func testTextThatFitsIsShownWhole() {
        let screen = ScreenfulResult(lines: 9)
        XCTAssertEqual(screen.fitted(numbered(9), hint: "see all"), numbered(9))
        XCTAssertEqual(screen.fitted("42"), "42")
        XCTAssertEqual(screen.fitted(""), "")
    }

    func testLongTextKeepsItsFirstAndLastLinesAroundTheCount() {
        let shown = ScreenfulResult(lines: 9).fitted(numbered(100), hint: "print(curator.pretty(_)) shows them all")
        XCTAssertEqual(shown.split(separator: "\n", omittingEmptySubsequences: false), [
            "line 1", "line 2", "line 3", "line 4",
            "⋮ 92 lines left out; print(curator.pretty(_)) shows them all",
            "line 97", "line 98", "line 99", "line 100",
        ])
    }

    func testOneLineTooManyIsCutAndCounted() {
        let shown = ScreenfulResult(lines: 10).fitted(numbered(11))
        let lines = shown.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 10)
        XCTAssertEqual(lines[4], "⋮ 2 lines left out")
        XCTAssertEqual(lines.first, "line 1")
        XCTAssertEqual(lines.last, "line 11")
    }

    func testTheTerminalKeepsRoomForTheCommandAndThePrompt() {
        XCTAssertEqual(ScreenfulResult(terminalRows: 50).lines, 47)
        // A tiny window still shows a useful amount.
        XCTAssertEqual(ScreenfulResult(terminalRows: 5).lines, 10)
    }
}
