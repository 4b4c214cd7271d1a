import CuratorCore

/// How the REPL shows a result longer than the terminal: its first and last
/// lines around one line saying how many were left out (README: A tour of
/// the REPL), as Julia's REPL shows a long array or string.
///
/// A table such as `r:export(...)`'s lists one entry per image, and
/// `f:read("a")` is one line as long as the file, so without this one call
/// scrolls the command and the counts that matter off the screen. Head and
/// tail rather than the head alone, because the pretty printer sorts keys:
/// an export's `unchanged` and `renamed` come after its `items`. Only the
/// REPL on a terminal does this; piped input, `print` and `curator.pretty`
/// give the whole text.
struct ScreenfulResult {
    /// The most terminal rows a result may take, the marker included (at least 3).
    let rows: Int
    /// The terminal's width: a line wider than this wraps onto more rows.
    let columns: Int

    /// Rows one line of a cut result may take at most; a longer one keeps
    /// its start and end around `⋯ N characters left out ⋯`.
    var longestLineRows: Int { max(1, min(4, (rows - 1) / 2)) }

    /// A limit that leaves a terminal of `terminalRows` rows room for the
    /// command above the result and the prompt below it.
    init(terminalRows: Int, columns: Int) {
        rows = max(10, terminalRows - 3)
        self.columns = max(20, columns)
    }

    /// A limit of exactly `rows` rows of `columns` (at least 3 and 20).
    init(rows: Int, columns: Int = 80) {
        self.rows = max(3, rows)
        self.columns = max(20, columns)
    }

    /// `text` whole when it fits, else its first and last lines around
    /// `⋮ N lines left out` and, when given, `hint` (how to see them); a
    /// line too long to show whole is cut in its middle first.
    func fitted(_ text: String, hint: String? = nil) -> String {
        var all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var lineRows = all.map(rowCount)
        guard lineRows.reduce(0, +) > rows else { return text }
        // Only the lines over `longestLineRows` change, and only they are measured again.
        for i in all.indices where lineRows[i] > longestLineRows {
            all[i] = shortened(all[i])
            lineRows[i] = rowCount(all[i])
        }
        // Lines cut in their middle and nothing else: the hint still says how to see them.
        let note = hint.map { "⋯ \($0)" }
        if lineRows.reduce(0, +) + (note.map(rowCount) ?? 0) <= rows {
            return (all + (note.map { [$0] } ?? [])).joined(separator: "\n")
        }
        func marker(_ omitted: Int) -> String {
            "⋮ \(omitted) lines left out" + (hint.map { "; \($0)" } ?? "")
        }
        // Whole lines from each end while they fit half the rows the marker
        // leaves (measured at its widest count).
        let budget = rows - rowCount(marker(all.count))
        var head = 0, headRows = 0
        while head < all.count, headRows + lineRows[head] <= (budget + 1) / 2 {
            headRows += lineRows[head]
            head += 1
        }
        var tail = 0, tailRows = 0
        while tail < all.count - head, tailRows + lineRows[all.count - 1 - tail] <= budget - headRows {
            tailRows += lineRows[all.count - 1 - tail]
            tail += 1
        }
        return (all.prefix(head) + [marker(all.count - head - tail)] + all.suffix(tail)).joined(separator: "\n")
    }

    /// Terminal rows `line` takes, by its cells (wide characters two).
    func rowCount(_ line: String) -> Int {
        max(1, (TerminalCells.count(line) + columns - 1) / columns)
    }

    /// `line` itself when it takes at most `longestLineRows` rows, else its
    /// start and end around a count of the characters left out.
    func shortened(_ line: String) -> String {
        let room = longestLineRows * columns
        guard TerminalCells.count(line) > room else { return line }
        func marker(_ omitted: Int) -> String { " ⋯ \(omitted) characters left out ⋯ " }
        // Room for the marker at its widest: the count it holds is below line.count.
        let characters = line.count
        let keep = max(2, room - TerminalCells.count(marker(characters)))
        let start = TerminalCells.prefix(of: line, fitting: keep / 2)
        let end = TerminalCells.suffix(of: line, fitting: keep - keep / 2)
        return start + marker(characters - start.count - end.count) + end
    }
}
