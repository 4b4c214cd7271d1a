import Foundation

/// CLIP's byte-level BPE tokenizer, as transformers' `CLIPTokenizerFast`
/// saves it in `tokenizer.json`: the special tokens are cut out of the raw
/// text, each remaining piece is normalised (NFC, every run of white space
/// to one space, lower case character by character), split by CLIP's
/// pattern (`'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`),
/// mapped to GPT-2's printable byte alphabet, and merged by rank with
/// `</w>` marking a word's end. The ids are framed by the start and end
/// tokens and cut at the context length (the end token kept last).
///
/// open_clip's `SimpleTokenizer` cleans text differently (ftfy, HTML
/// entities unescaped twice, Python's `str.lower` with its final sigma), so
/// on about one string in eight of the exactness corpus — curly quotes,
/// ligatures, full-width letters, entities, mojibake — the two disagree;
/// curator follows `tokenizer.json`, whichever vocabulary file it read.
public struct CLIPTokenizer: TextTokenizer {
    /// The vocabulary: token string (in the byte alphabet) to id.
    let vocabulary: [String: Int]
    /// Merge ranks by the pair's two symbols.
    let ranks: [Pair: Int]
    /// The id of the start-of-text token.
    public let startID: Int
    /// The id of the end-of-text token.
    public let endID: Int
    /// Special tokens matched verbatim in the raw text, longest first.
    let specials: [(text: [Unicode.Scalar], id: Int)]
    /// The file the vocabulary came from, for messages.
    public let source: String

    struct Pair: Hashable, Sendable {
        let first: String
        let second: String
    }

    /// The result of tokenizing one text.
    public typealias Encoding = TokenEncoding

    init(vocabulary: [String: Int], merges: [(String, String)], startToken: String, endToken: String, source: String) throws {
        self.vocabulary = vocabulary
        var ranks: [Pair: Int] = [:]
        ranks.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() where ranks[Pair(first: merge.0, second: merge.1)] == nil {
            ranks[Pair(first: merge.0, second: merge.1)] = rank
        }
        self.ranks = ranks
        self.source = source
        guard let start = vocabulary[startToken], let end = vocabulary[endToken] else {
            throw CLIPError(.corrupt, source, "the vocabulary lacks the start and end tokens '\(startToken)' and '\(endToken)'")
        }
        startID = start
        endID = end
        specials = [(Array(startToken.unicodeScalars), start), (Array(endToken.unicodeScalars), end)]
            .sorted { $0.0.count > $1.0.count }
        // Every byte must have a token, or some texts could not be encoded.
        for byte in 0..<256 {
            let symbol = String(Self.byteAlphabet[byte])
            guard vocabulary[symbol] != nil, vocabulary[symbol + "</w>"] != nil else {
                throw CLIPError(.corrupt, source, "the vocabulary lacks the byte token '\(symbol)' (not a CLIP byte-level BPE vocabulary)")
            }
        }
    }

    // MARK: Encoding

    /// Tokenizes `text`: start token, the text's tokens, end token, cut at
    /// `contextLength` (the last kept id replaced by the end token).
    public func encode(_ text: String, contextLength: Int = 77) -> Encoding {
        var ids = [startID]
        // The special tokens are matched exactly in the raw text (before
        // normalisation, as `tokenizers` does for tokens with `normalized=false`).
        for piece in cutVerbatim(Array(text.unicodeScalars), tokens: specials, text: { $0.text }) {
            switch piece {
            case .token(let special): ids.append(special.id)
            case .text(let scalars): appendTokens(of: scalars, to: &ids)
            }
        }
        ids.append(endID)
        let full = ids.count
        if ids.count > contextLength, contextLength >= 2 {
            ids.removeSubrange(contextLength...)
            ids[contextLength - 1] = endID
        }
        return Encoding(ids: ids, fullLength: full)
    }

    /// The largest id: the vocabulary's or a special token's.
    public var largestID: Int { max(vocabulary.values.max() ?? 0, startID, endID) }

    /// How many tokens `text` is, without the start and end tokens: what a
    /// trainer reading captions with this vocabulary counts against its
    /// limit (75 for Stable Diffusion's 77-token context).
    public func count(_ text: String) -> Int {
        encode(text, contextLength: Int.max).fullLength - 2
    }

    /// The token strings of ids (in the byte alphabet, `</w>` included), for messages and tests.
    public func tokens(_ ids: [Int]) -> [String] {
        let inverse = Dictionary(vocabulary.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        return ids.map { inverse[$0] ?? "#\($0)" }
    }

    private func appendTokens(of raw: [Unicode.Scalar], to ids: inout [Int]) {
        let normalized = Self.normalize(raw)
        for word in Self.split(normalized) {
            var symbols: [String] = []
            for scalar in word {
                for byte in String(scalar).utf8 { symbols.append(String(Self.byteAlphabet[Int(byte)])) }
            }
            for token in bpe(symbols) {
                // Every symbol is in the vocabulary (checked at load); merged tokens are by construction.
                ids.append(vocabulary[token] ?? endID)
            }
        }
    }

    /// Merges the word's byte symbols by rank, lowest first (the leftmost
    /// pair on ties), the last symbol carrying `</w>`.
    func bpe(_ symbols: [String]) -> [String] {
        guard !symbols.isEmpty else { return [] }
        var word = symbols
        word[word.count - 1] += "</w>"
        while word.count > 1 {
            var best = Int.max, at = -1
            for i in 0..<(word.count - 1) {
                if let rank = ranks[Pair(first: word[i], second: word[i + 1])], rank < best { best = rank; at = i }
            }
            guard at >= 0 else { break }
            let first = word[at], second = word[at + 1]
            // Merge every occurrence of the pair, left to right.
            var merged: [String] = []
            merged.reserveCapacity(word.count)
            var i = 0
            while i < word.count {
                if i + 1 < word.count, word[i] == first, word[i + 1] == second {
                    merged.append(first + second)
                    i += 2
                } else {
                    merged.append(word[i])
                    i += 1
                }
            }
            word = merged
        }
        return word
    }

    // MARK: Normalisation and splitting

    /// NFC, every run of white space to one space, then lower case one
    /// character at a time (no final-sigma rule: `tokenizers` maps each
    /// character on its own).
    static func normalize(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var string = String(String.UnicodeScalarView(scalars))
        string = string.precomposedStringWithCanonicalMapping
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        var inSpace = false
        for scalar in string.unicodeScalars {
            if scalar.properties.isWhitespace {
                if !inSpace { out.append(" ") }
                inSpace = true
                continue
            }
            inSpace = false
            let lower = scalar.properties.lowercaseMapping
            if lower.unicodeScalars.count == 1, lower.unicodeScalars.first == scalar {
                out.append(scalar)
            } else {
                out.append(contentsOf: lower.unicodeScalars)
            }
        }
        return out
    }

    private enum Class { case space, letter, number, other }

    @inline(__always)
    private static func classify(_ s: Unicode.Scalar) -> Class {
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// CLIP's pre-split: contractions, runs of letters, single digits, runs
    /// of other non-space characters; white space separates and is dropped.
    static func split(_ text: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var i = 0
        let n = text.count
        while i < n {
            let c = text[i]
            if c == "'", let length = contraction(text, at: i) {
                words.append(text[i..<(i + length)])
                i += length
                continue
            }
            switch classify(c) {
            case .space:
                i += 1
            case .number:
                words.append(text[i..<(i + 1)])
                i += 1
            case let kind:
                // A run of letters, or of other non-space characters.
                var j = i + 1
                while j < n, classify(text[j]) == kind { j += 1 }
                words.append(text[i..<j])
                i = j
            }
        }
        return words
    }

    /// The length of the contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `i`, if one starts there.
    private static func contraction(_ text: [Unicode.Scalar], at i: Int) -> Int? {
        func at(_ k: Int) -> Unicode.Scalar? { i + k < text.count ? text[i + k] : nil }
        switch at(1) {
        case "s", "t", "m", "d": return 2
        case "r": return at(2) == "e" ? 3 : nil
        case "v": return at(2) == "e" ? 3 : nil
        case "l": return at(2) == "l" ? 3 : nil
        default: return nil
        }
    }

    /// The bytes in GPT-2's order: the printable Latin-1 bytes (`!`…`~`,
    /// `¡`…`¬`, `®`…`ÿ`), then the others; the vocabulary's first ids follow it.
    static let byteOrder: [Int] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        return printable + (0..<256).filter { !printable.contains($0) }
    }()

    /// GPT-2's map from bytes to printable characters: printable Latin-1
    /// bytes stand for themselves, the rest take the code points from 256 up.
    static let byteAlphabet: [Character] = {
        var table = [Character](repeating: " ", count: 256)
        for (position, byte) in byteOrder.enumerated() {
            let code = position < 188 ? byte : 256 + (position - 188)
            table[byte] = Character(Unicode.Scalar(UInt32(code))!)
        }
        return table
    }()
}
