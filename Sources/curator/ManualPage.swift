import ArgumentParser
import Foundation

/// A man page (roff, `man 7 man` macros) made from a command's
/// configuration and its `--help` text, so the page and the help never
/// disagree: `curator --generate-manual > curator.1` (scripts/install does it).
enum ManualPage {
    /// The page for `command`.
    static func render(_ command: ParsableCommand.Type) -> String {
        let configuration = command.configuration
        let name = configuration.commandName ?? "curator"
        var page = ".TH \(name.uppercased()) 1 \"\" \"\(escape(configuration.version))\" \"User Commands\"\n"
        page += ".SH NAME\n\(escape(name)) \\- \(escape(configuration.abstract))\n"
        page += ".SH SYNOPSIS\n.nf\n"
        for line in configuration.usage?.split(separator: "\n") ?? [] {
            page += escape(line.trimmingCharacters(in: .whitespaces)) + "\n"
        }
        page += ".fi\n.SH DESCRIPTION\n\(escape(configuration.abstract))\n"
        for paragraph in configuration.discussion.components(separatedBy: "\n\n") {
            page += ".PP\n\(escape(paragraph.replacingOccurrences(of: "\n", with: " ")))\n"
        }
        page += ".SH OPTIONS\n"
        for (label, text) in options(in: command.helpMessage(columns: 10_000)) {
            page += ".TP\n.B \(escape(label))\n\(escape(text))\n"
        }
        page += ".SH FILES\n"
        page += ".TP\n.I <prefix>/share/curator/plugins, <prefix>/share/curator/workflows\n"
        page += "the shipped plugins and workflows beside an installed <prefix>/bin/curator\n"
        page += ".TP\n.I ~/.config/curator/plugins, ~/.config/curator/workflows\n"
        page += "your own plugins and workflows\n"
        page += ".TP\n.I ALBUM/.curator/album.sqlite\nan album's index: vectors, exclusions, favorites and runs\n"
        page += ".SH EXAMPLES\n.nf\n"
        page += "curator clean ~/Pictures/album --rounds 3\n"
        page += "curator dedup ~/Pictures/album\n"
        page += "curator trainset ~/Pictures/album --count 150 --out ~/datasets/mychar --kohya 10_mychar\n"
        page += "curator -e 'print(curator.open(\"album\"))'\n.fi\n"
        return page
    }

    /// The (label, text) pairs of the help text's OPTIONS and ARGUMENTS
    /// sections: a label line starts with two spaces, its text follows after
    /// two or more spaces (one line, the help being rendered without wrapping).
    static func options(in help: String) -> [(String, String)] {
        var pairs: [(String, String)] = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix(":"), line.first?.isUppercase == true {
                inSection = line == "OPTIONS:" || line == "ARGUMENTS:"
                continue
            }
            guard inSection, line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            let body = line.dropFirst(2)
            if let gap = body.range(of: "  ") {
                pairs.append((String(body[..<gap.lowerBound]),
                              body[gap.upperBound...].trimmingCharacters(in: .whitespaces)))
            } else {
                pairs.append((String(body), ""))
            }
        }
        return pairs
    }

    /// Text safe in roff: backslashes doubled, a leading `.` or `'` guarded.
    static func escape<S: StringProtocol>(_ text: S) -> String {
        var out = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "-", with: "\\-")
        if out.hasPrefix(".") || out.hasPrefix("'") { out = "\\&" + out }
        return out
    }
}
