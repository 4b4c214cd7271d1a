import Dispatch
import Foundation

/// The one-line progress bar long operations draw on stderr when it is a
/// terminal (`label  [████····] done/total  1.2 s`, at most ~15 times a
/// second, erased when the step finishes): the REPL's (through
/// `LuaProgress`) and the command line's (`curator review --embed`).
/// Draws nothing when stderr is not a terminal.
public final class TerminalProgressBar: ProgressSink {
    private let drawsBar: Bool
    private var lastDraw: UInt64 = 0
    private var drawn = false
    private let started = DispatchTime.now().uptimeNanoseconds
    private let cancelled: () -> Bool
    /// Shown on the bar instead of the step's label, e.g. `FPS  count 20 × 20 iterations`.
    public var title: String?
    /// Leave the finished bar on the terminal (with the elapsed time) instead of erasing it.
    public var keepsFinalLine = false

    /// A bar on stderr when `terminal` (default: whether stderr is one);
    /// `cancelled` answers `isCancelled` (e.g. from Ctrl-C).
    public init(terminal: Bool = isatty(2) != 0, cancelled: @escaping () -> Bool = { false }) {
        drawsBar = terminal
        self.cancelled = cancelled
    }

    public var isCancelled: Bool { cancelled() }

    public func update(label: String, done: Int, total: Int) {
        guard drawsBar else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard done >= total || now - lastDraw > 66_000_000 else { return }
        lastDraw = now
        let width = 30
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let seconds = Double(now - started) / 1e9
        write("\r\u{1B}[K\(title ?? label)  [\(bar)] \(done)/\(total)  \(String(format: "%.1f", seconds)) s")
        drawn = true
    }

    public func finish(label: String) {
        if drawn {
            write(keepsFinalLine ? "\n" : "\r\u{1B}[K")
            drawn = false
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
