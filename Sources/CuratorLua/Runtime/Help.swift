import CuratorCore
import Foundation

/// The text of `help()`, built from the binding catalog.
struct Help {
    let catalog: BindingCatalog
    /// The columns to wrap at (a terminal's width), words kept whole and
    /// continuation lines indented under their column; nil: no wrapping
    /// (`help_text`, pipes, the README's reference).
    var width: Int? = nil

    /// `help()`: every function, then the types.
    func overview() -> String {
        var out = "curator \(CuratorVersion.string) — Lua 5.4 with curator's API.\n\nFunctions:\n"
        let functions = catalog.functions.filter { !$0.name.contains(".") } +
            catalog.functions.filter { $0.name.contains(".") }.sorted { $0.name < $1.name }
        out += table(functions.map { ($0.signature, $0.summary) })
        if !catalog.types.isEmpty {
            out += "\nTypes (help(\"Name\") lists their properties and methods):\n"
            out += table(catalog.types.map { ($0.name, $0.summary) })
        }
        out += "\nhelp(x) explains an object, a function or a name such as help(\"album:select\").\n"
        out += "Errors: a wrong argument raises (\"album:get: bad argument #1 (...)\"); an expected failure, such as\n"
        out += "a missing file, returns nil and a message: local a, err = curator.open(path).\n"
        return out
    }

    /// `help(obj)` or `help("Album")`.
    func type(_ type: TypeDoc) -> String {
        var out = wrapped("\(type.name) — \(type.summary)", indent: 0, hanging: 2)
        if !type.operators.isEmpty {
            out += "\nOperators:\n"
            out += table(type.operators.map { note in
                let parts = note.components(separatedBy: " — ")
                return (parts[0], parts.dropFirst().joined(separator: " — "))
            })
        }
        if !type.properties.isEmpty {
            out += "\nProperties:\n"
            out += table(type.properties.map { p in
                var summary = p.summary
                if case .property(writable: true) = p.kind { summary += " (writable)" }
                return (p.signature, summary)
            })
        }
        if !type.methods.isEmpty {
            out += "\nMethods:\n"
            out += table(type.methods.map { ($0.signature, $0.summary) })
        }
        return out
    }

    /// `help("album:get")` or `help(curator.open)`.
    func binding(_ doc: BindingDoc) -> String {
        var out = wrapped(doc.signature, indent: 0, hanging: 4) + wrapped(doc.summary, indent: 2, hanging: 2)
        if case .property(let writable) = doc.kind {
            out += writable ? "  (read/write property of \(doc.owner ?? "?"))\n" : "  (read-only property of \(doc.owner ?? "?"))\n"
        }
        return out
    }

    /// `help("name")`: a function, a type or a member; otherwise a suggestion.
    func named(_ name: String) -> String {
        if let doc = catalog.binding(named: name) { return binding(doc) }
        if let type = catalog.type(named: name) { return self.type(type) }
        let prefix = name.hasSuffix(".") ? name : name + "."
        let members = catalog.functions.filter { $0.name.hasPrefix(prefix) }
        if !members.isEmpty { return table(members.map { ($0.signature, $0.summary) }) }
        var out = "no help for '\(name)'"
        if let guess = DidYouMean.suggestion(for: name, among: catalog.allNames) { out += " (did you mean '\(guess)'?)" }
        return out + "\n"
    }

    /// Two aligned columns; after a long first column the second goes on
    /// the next line, indented. With `width`, each column wraps within it.
    private func table(_ rows: [(String, String)]) -> String {
        let column = min(30, rows.map(\.0.count).max() ?? 0)
        var out = ""
        for (left, right) in rows {
            if left.count > column {
                out += wrapped(left, indent: 2, hanging: 8) + wrapped(right, indent: 6, hanging: 6)
            } else {
                let padded = "\(left)\(String(repeating: " ", count: column - left.count))  \(right)"
                out += wrapped(padded, indent: 2, hanging: 4 + column)
            }
        }
        return out
    }

    /// `text` after `indent` spaces, broken between words before `width`
    /// with `hanging` spaces before each further line; a word longer than
    /// a line stays whole. One line when there is no width.
    private func wrapped(_ text: String, indent: Int, hanging: Int) -> String {
        guard let width, indent + text.count > width, width - hanging >= 20 else {
            return String(repeating: " ", count: indent) + text + "\n"
        }
        var out = String(repeating: " ", count: indent)
        var used = indent
        var atLineStart = true, lineHasWord = false
        // Runs of spaces inside a line (the padding between columns) are kept.
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if lineHasWord && used + 1 + word.count > width {
                out += "\n" + String(repeating: " ", count: hanging)
                used = hanging
                atLineStart = true
                lineHasWord = false
            }
            if atLineStart && word.isEmpty && used == hanging { continue }
            if !atLineStart { out += " "; used += 1 }
            out += word
            used += word.count
            atLineStart = false
            lineHasWord = lineHasWord || !word.isEmpty
        }
        return out + "\n"
    }
}
