/// How many cells of a terminal text takes: East Asian wide characters and
/// emoji two, combining marks none, everything else one. What fits a
/// contact sheet's captions and a REPL result to the window.
public enum TerminalCells {
    /// The cells `text` takes.
    public static func count(_ text: some StringProtocol) -> Int {
        var cells = 0
        for scalar in text.unicodeScalars { cells += count(scalar) }
        return cells
    }

    /// The cells one character takes (its scalars' together).
    public static func count(_ character: Character) -> Int {
        character.unicodeScalars.reduce(0) { $0 + count($1) }
    }

    /// The longest start of `text` that takes at most `cells`.
    public static func prefix(of text: String, fitting cells: Int) -> Substring {
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let width = count(text[index])
            guard used + width <= cells else { break }
            used += width
            end = text.index(after: index)
        }
        return text[..<end]
    }

    /// The longest end of `text` that takes at most `cells`.
    public static func suffix(of text: String, fitting cells: Int) -> Substring {
        var used = 0
        var start = text.endIndex
        while start > text.startIndex {
            let index = text.index(before: start)
            let width = count(text[index])
            guard used + width <= cells else { break }
            used += width
            start = index
        }
        return text[start...]
    }

    private static func count(_ scalar: Unicode.Scalar) -> Int {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        let v = scalar.value
        let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v) || (0x1F900...0x1F9FF).contains(v)
            || (0x20000...0x3FFFD).contains(v)
        return wide ? 2 : 1
    }
}
