import CuratorLua
import Foundation

/// curator's own options (those `curator --help` lists) and where they may
/// stand. Before a script they are curator's, as in `lua`; after a script's
/// file they are the script's arguments, untouched. A *command* — `review`
/// or a workflow run by its name — takes them before or after its name, as
/// git's users expect: `curator --no-plugins review ALBUM` and
/// `curator clean ALBUM --no-plugins` both mean what they say.
enum GlobalOptions {
    /// The options that are flags.
    static let flags: Set<String> = ["-i", "--safe", "--no-plugins"]

    /// The options whose value is the next word (or follows `=`): those of
    /// the command line's split but `-e`, whose value is code, not a setting
    /// a command can take.
    static let valued: Set<String> = Curator.optionsTakingValues.subtracting(["-e"])

    /// The command's name, when the words after the options name one: the
    /// `review` command, or a workflow (not a file of that name in the
    /// current folder, which runs as a script), or `models`. Nil after `--`, after `-e`
    /// (the words are then the code's arguments), or for a script.
    /// `hasGlobalsAfter` avoids looking for workflows on disk at every start.
    static func command(in words: [String]) -> String? {
        let (options, rest) = Curator.split(words)
        guard options.count + rest.count == words.count, // no `--` before the name
              let name = rest.first, !options.contains("-e") else { return nil }
        if name == "review" || name == "models" { return name }
        guard hasGlobalsAfter(Array(rest.dropFirst())),
              !FileManager.default.fileExists(atPath: name),
              Installation.workflow(named: name) != nil else { return nil }
        return name
    }

    /// The positions of `words` in the order curator reads them: a
    /// command's global options that stand after its name are moved before
    /// it (with their values), the rest keeps its order. A `--` after the
    /// name ends the moving; it and what follows stay the command's.
    static func arranged(_ words: [String]) -> [Int] {
        guard command(in: words) != nil else { return Array(words.indices) }
        let name = words.count - Curator.split(words).rest.count
        var moved: [Int] = [], kept: [Int] = []
        var i = name + 1
        while i < words.count {
            let word = words[i]
            if word == "--" {
                kept += Array(i..<words.count)
                break
            }
            if flags.contains(word) || isValuedWithEquals(word) {
                moved.append(i)
            } else if valued.contains(word) {
                moved += Array(i..<min(i + 2, words.count))
                i += 1
            } else {
                kept.append(i)
            }
            i += 1
        }
        return Array(0..<name) + moved + [name] + kept
    }

    /// Whether any of a command's words (up to a `--`) is a global option.
    static func hasGlobalsAfter(_ words: [String]) -> Bool {
        for word in words {
            if word == "--" { return false }
            if flags.contains(word) || valued.contains(word) || isValuedWithEquals(word) { return true }
        }
        return false
    }

    /// `--timeout=5`, `--max-memory=2G`.
    static func isValuedWithEquals(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "=") else { return false }
        return valued.contains(String(word[..<equals]))
    }
}
