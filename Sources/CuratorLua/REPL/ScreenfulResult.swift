/// How the REPL shows a result longer than the terminal: its first and last
/// lines around one line saying how many were left out (README: A tour of
/// the REPL), as Julia's REPL shows a long array.
///
/// A table such as `r:export(...)`'s lists one entry per image, so without
/// this one call scrolls the command and the counts that matter off the
/// screen. Head and tail rather than the head alone, because the pretty
/// printer sorts keys: an export's `unchanged` and `renamed` come after its
/// `items`. Only the REPL on a terminal does this; piped input, `print` and
/// `curator.pretty` give the whole text.
struct ScreenfulResult {
    /// The most lines a result may take, the marker included (at least 3).
    let lines: Int

    /// A limit that leaves a terminal of `rows` lines room for the command
    /// above the result and the prompt below it.
    init(terminalRows rows: Int) {
        lines = max(10, rows - 3)
    }

    /// A limit of exactly `lines` (at least 3).
    init(lines: Int) {
        self.lines = max(3, lines)
    }

    /// `text` whole when it fits, else its first and last lines around
    /// `⋮ N lines left out` and, when given, `hint` (how to see them).
    func fitted(_ text: String, hint: String? = nil) -> String {
        let all = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard all.count > lines else { return text }
        let head = (lines - 1) / 2
        let tail = lines - 1 - head
        let omitted = all.count - head - tail
        let marker = "⋮ \(omitted) lines left out" + (hint.map { "; \($0)" } ?? "")
        return (all.prefix(head) + [Substring(marker)] + all.suffix(tail)).joined(separator: "\n")
    }
}
