import CuratorCore
import XCTest

/// Which picture format and colours curator assumes from the environment:
/// graphics only for terminals known to show them, never through tmux.
final class TerminalDisplayTests: XCTestCase {
    func testGraphicsOnlyWhereTheTerminalIsKnownToShowThem() {
        let cases: [([String: String], TerminalImageFormat)] = [
            (["TERM": "xterm-kitty"], .kitty),
            (["TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"], .kitty),
            (["TERM": "xterm-ghostty"], .kitty),
            (["TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"], .iterm),
            (["TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"], .iterm),
            (["TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"], .iterm),
            (["TERM": "foot"], .sixel),
            (["TERM": "foot-extra"], .sixel),
            (["TERM": "mlterm"], .sixel),
            // Unknown or plain terminals, and multiplexers, get symbols.
            (["TERM": "xterm-256color"], .symbols),
            (["TERM": "linux"], .symbols),
            ([:], .symbols),
            (["TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"], .symbols),
            (["TERM": "screen-256color", "KITTY_WINDOW_ID": "1"], .symbols),
            (["TERM": "tmux-256color", "TERM_PROGRAM": "iTerm.app"], .symbols),
        ]
        for (environment, format) in cases {
            XCTAssertEqual(TerminalDisplay.format(environment: environment), format, "\(environment)")
        }
    }

    func testColoursFollowTheEnvironment() {
        XCTAssertEqual(TerminalDisplay.colors(environment: ["TERM": "xterm-256color", "NO_COLOR": "1"], isTerminal: true), .none)
        XCTAssertEqual(TerminalDisplay.colors(environment: ["TERM": "dumb"], isTerminal: true), .none)
        XCTAssertEqual(TerminalDisplay.colors(environment: ["TERM": "xterm-256color", "COLORTERM": "truecolor"], isTerminal: true), .truecolor)
        XCTAssertEqual(TerminalDisplay.colors(environment: ["TERM": "xterm-256color"], isTerminal: true), .indexed256)
        XCTAssertEqual(TerminalDisplay.colors(environment: ["TERM": "linux"], isTerminal: true), .indexed16)
        XCTAssertEqual(TerminalDisplay.colors(environment: ["TERM": "xterm-kitty"], isTerminal: true), .truecolor)
        // A log gets colour unless NO_COLOR says otherwise.
        XCTAssertEqual(TerminalDisplay.colors(environment: [:], isTerminal: false), .truecolor)
        XCTAssertEqual(TerminalDisplay.colors(environment: ["NO_COLOR": "1"], isTerminal: false), .none)
    }

    func testOutputThatIsNotATerminalGetsSymbolsAndCOLUMNS() throws {
        let pipe = Pipe()
        let display = TerminalDisplay.detect(fd: pipe.fileHandleForWriting.fileDescriptor,
                                             environment: ["TERM": "xterm-kitty", "COLUMNS": "132"])
        XCTAssertFalse(display.isTerminal)
        XCTAssertEqual(display.format, .symbols, "never graphics into a pipe or a file")
        XCTAssertEqual(display.columns, 132)
        XCTAssertEqual(TerminalDisplay.detect(fd: pipe.fileHandleForWriting.fileDescriptor, environment: [:]).columns, 80)
    }
}
