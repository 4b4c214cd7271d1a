#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a terminal can show a picture.
public enum TerminalImageFormat: String, CaseIterable, Sendable {
    /// Unicode block and border symbols in colour: every terminal, and logs.
    case symbols
    /// DEC sixel graphics (foot, mlterm, xterm started with `-ti vt340`).
    case sixel
    /// kitty's graphics protocol (kitty, Ghostty).
    case kitty
    /// iTerm2's inline images (iTerm2, WezTerm).
    case iterm
}

/// Which colours a terminal shows.
public enum TerminalColors: String, CaseIterable, Sendable {
    /// 24-bit colour.
    case truecolor
    /// The xterm 256-colour palette.
    case indexed256 = "256"
    /// The 16 ANSI colours.
    case indexed16 = "16"
    /// No colour at all (`NO_COLOR`, `TERM=dumb`): shapes only.
    case none
}

/// What the process's output can show: whether it is a terminal, how wide,
/// with which colours and picture format, and the size of a character cell
/// in pixels (for graphics).
///
/// Detection is conservative: a graphics format is chosen only where the
/// environment names a terminal known to support it, never inside tmux or
/// screen (they drop graphics unless configured to pass them through), and
/// never when the output is not a terminal; everything else gets symbols.
public struct TerminalDisplay: Sendable, Equatable {
    /// Whether the output is a terminal (not a file or a pipe).
    public var isTerminal: Bool
    /// The width in character cells.
    public var columns: Int
    /// The height in character cells (`LINES`, else 24, when the output is
    /// not a terminal that says).
    public var rows: Int
    /// How pictures are drawn.
    public var format: TerminalImageFormat
    /// Which colours symbols and labels use.
    public var colors: TerminalColors
    /// A character cell's width in pixels (graphics formats draw this many per cell).
    public var cellWidth: Int
    /// A character cell's height in pixels.
    public var cellHeight: Int

    /// The cell size assumed when the terminal does not report one.
    public static let defaultCell = (width: 10, height: 20)

    /// Creates a description; the cell size defaults to `defaultCell`.
    public init(isTerminal: Bool, columns: Int, rows: Int = 24, format: TerminalImageFormat, colors: TerminalColors,
                cellWidth: Int = TerminalDisplay.defaultCell.width, cellHeight: Int = TerminalDisplay.defaultCell.height) {
        self.isTerminal = isTerminal
        self.columns = max(1, columns)
        self.rows = max(1, rows)
        self.format = format
        self.colors = colors
        self.cellWidth = max(1, cellWidth)
        self.cellHeight = max(1, cellHeight)
    }

    /// Describes the terminal on file descriptor `fd` (standard output by
    /// default) as `environment` presents it.
    public static func detect(fd: Int32 = 1, environment: [String: String]) -> TerminalDisplay {
        let terminal = isatty(fd) != 0
        var size = winsize()
        let measured = terminal && ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0
        var columns = measured ? Int(size.ws_col) : (environment["COLUMNS"].flatMap { Int($0) } ?? 80)
        if columns <= 0 { columns = 80 }
        var rows = measured && size.ws_row > 0 ? Int(size.ws_row) : (environment["LINES"].flatMap { Int($0) } ?? 24)
        if rows <= 0 { rows = 24 }
        var cell = defaultCell
        if measured, size.ws_xpixel > 0, size.ws_ypixel > 0, size.ws_row > 0 {
            cell = (Int(size.ws_xpixel) / Int(size.ws_col), Int(size.ws_ypixel) / Int(size.ws_row))
        }
        return TerminalDisplay(isTerminal: terminal, columns: columns, rows: rows,
                               format: terminal ? format(environment: environment) : .symbols,
                               colors: colors(environment: environment, isTerminal: terminal),
                               cellWidth: cell.width, cellHeight: cell.height)
    }

    /// The picture format the terminal `environment` describes supports,
    /// judged from `TERM`, `TERM_PROGRAM`, `LC_TERMINAL`, `KITTY_WINDOW_ID`
    /// and `TMUX`; symbols unless it is known to show graphics.
    public static func format(environment: [String: String]) -> TerminalImageFormat {
        let term = environment["TERM"] ?? ""
        let program = environment["TERM_PROGRAM"] ?? ""
        // A multiplexer sits between curator and the terminal and drops
        // graphics it was not configured to pass through.
        if !(environment["TMUX"] ?? "").isEmpty || term.hasPrefix("screen") || term.hasPrefix("tmux") { return .symbols }
        if term == "xterm-kitty" || !(environment["KITTY_WINDOW_ID"] ?? "").isEmpty { return .kitty }
        if term == "xterm-ghostty" || program == "ghostty" { return .kitty }
        if program == "iTerm.app" || environment["LC_TERMINAL"] == "iTerm2" || program == "WezTerm" { return .iterm }
        if term == "foot" || term.hasPrefix("foot-") || term == "mlterm" { return .sixel }
        return .symbols
    }

    /// The colours `environment` allows: none with `NO_COLOR` or `TERM=dumb`;
    /// 24-bit with `COLORTERM=truecolor|24bit` or a terminal known for it;
    /// else 256 for a `*256color` terminal, 16 for others. Output that is
    /// not a terminal (a log) gets 24-bit colour unless `NO_COLOR` is set:
    /// `less -R` shows it.
    public static func colors(environment: [String: String], isTerminal: Bool) -> TerminalColors {
        let term = environment["TERM"] ?? ""
        if !(environment["NO_COLOR"] ?? "").isEmpty || term == "dumb" { return .none }
        if !isTerminal { return .truecolor }
        let colorterm = environment["COLORTERM"] ?? ""
        if colorterm == "truecolor" || colorterm == "24bit" { return .truecolor }
        if format(environment: environment) != .symbols || term.hasSuffix("-direct") { return .truecolor }
        if term.contains("256color") { return .indexed256 }
        return .indexed16
    }
}
