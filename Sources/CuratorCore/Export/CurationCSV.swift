/// The curation table as CSV (RFC 4180): PhotoMapAI's columns
/// `Filename,Subfolder,Count,Frequency(%),Index,Status`, then `Path,Tier`.
/// Included images come first in selection order, then excluded ones.
///
/// - `Filename`: the image's file name; `Subfolder`: the name of the folder
///   holding it (only the last component, as PhotoMapAI writes it).
/// - `Count`: the votes (runs that picked the image); `Frequency(%)`: votes
///   per run as a percentage with one decimal, e.g. `95.0`.
/// - `Index`: the image's position in the album's embedding index.
/// - `Status`: `Included` or `Excluded`; `Path`: the path inside the album;
///   `Tier`: `core`, `stable`, `variable`, or `excluded`.
///
/// With `escapeFormulas` (the default), a field starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'`, as OWASP's rule
/// against CSV injection asks: a spreadsheet would otherwise run a file
/// named `=HYPERLINK(…).jpg` as a formula. Without it, names are written as
/// they are (for tools that read the names back, such as PhotoMapAI).
///
/// Lines end in CRLF, as RFC 4180 asks and Python's `csv` writer does by
/// default (PhotoMapAI's browser export uses LF; both read back the same).
/// Fields are quoted only when they hold a comma, quote, CR or LF, with
/// quotes doubled. Names that are not UTF-8 appear with U+FFFD, since a CSV
/// is text; `Index` and `Path` identify the image.
public enum CurationCSV {
    /// The column names, in order.
    public static let header = ["Filename", "Subfolder", "Count", "Frequency(%)", "Index", "Status", "Path", "Tier"]

    /// The CSV text for `entries` (their order is the selection order).
    public static func render(_ entries: [CurationEntry], lineEnding: String = "\r\n", escapeFormulas: Bool = true) -> String {
        let field = { (text: String) in Self.field(escapeFormulas ? Self.formulaEscaped(text) : text) }
        var lines = [header.map(field).joined(separator: ",")]
        let ordered = entries.filter { !$0.excluded } + entries.filter(\.excluded)
        for entry in ordered {
            let row = [
                PathBytes.display(entry.fileName),
                PathBytes.display(entry.parentFolderName),
                String(entry.votes),
                percentage(entry.frequency),
                String(entry.index),
                entry.excluded ? "Excluded" : "Included",
                entry.path.string,
                entry.excluded ? "excluded" : (entry.tier?.rawValue ?? ""),
            ]
            lines.append(row.map(field).joined(separator: ","))
        }
        return lines.joined(separator: lineEnding) + lineEnding
    }

    /// Writes the CSV for `entries` to `path` atomically, creating its missing
    /// folders. An existing file is replaced only with `overwrite`; otherwise
    /// `ExportError.fileExists`.
    public static func write(_ entries: [CurationEntry], to path: FileSystemPath, overwrite: Bool = false, escapeFormulas: Bool = true,
                             fileSystem: any ExportFileSystem = POSIXFileSystem()) throws {
        try AtomicFile.write(Array(render(entries, escapeFormulas: escapeFormulas).utf8), to: path, overwrite: overwrite, creatingFolders: true, fileSystem: fileSystem)
    }

    /// The characters that make a spreadsheet read a cell as a formula (OWASP).
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// `text` with a leading `'` when a spreadsheet would take it for a formula.
    static func formulaEscaped(_ text: String) -> String {
        guard let first = text.first, formulaStarts.contains(first) else { return text }
        return "'" + text
    }

    /// `fraction` (0…1) as a percentage with one decimal, independent of
    /// locale: 0.95 → "95.0" (as the CSV, the report and contact sheets show it).
    public static func percentage(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "0.0" }
        let tenths = Int((fraction * 1000).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    /// One field, quoted when it must be.
    static func field(_ text: String) -> String {
        let needsQuotes = text.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 13 || $0 == 10 }
        guard needsQuotes else { return text }
        var quoted = "\""
        for character in text {
            if character == "\"" { quoted.append("\"") }
            quoted.append(character)
        }
        return quoted + "\""
    }
}
