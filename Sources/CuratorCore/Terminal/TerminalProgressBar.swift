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
    /// The counts are bytes: shown as sizes (`120.5 MB / 605.1 MB`) with the
    /// step's rate, and a total of 0 means the size is not known.
    public var countsBytes = false
    /// The step the rate is measured over: its label, when it started, and the count then.
    private var step: (label: String, started: UInt64, done: Int)?

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
        if step?.label != label { step = (label, now, done) }
        guard done >= total || now - lastDraw > 66_000_000 else { return }
        lastDraw = now
        let width = 30
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let seconds = Double(now - started) / 1e9
        if countsBytes {
            var text = "\(title ?? label)  "
            text += total > 0 ? "[\(bar)]  \(ByteCount.describe(done)) / \(ByteCount.describe(total))" : ByteCount.describe(done)
            if let step, now - step.started > 500_000_000 {
                let rate = Double(done - step.done) / (Double(now - step.started) / 1e9)
                text += "  \(ByteCount.describe(Int(rate)))/s"
            }
            write("\r\u{1B}[K" + text)
        } else {
            write("\r\u{1B}[K\(title ?? label)  [\(bar)] \(done)/\(total)  \(String(format: "%.1f", seconds)) s")
        }
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
