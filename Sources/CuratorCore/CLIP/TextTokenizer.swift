/// What turns a prompt into a text tower's token ids: CLIP's byte-level BPE
/// (`CLIPTokenizer`) or SigLIP's SentencePiece models (`SentencePieceTokenizer`).
public protocol TextTokenizer: Sendable {
    /// The ids of `text` as the model reads them, cut (and for SigLIP padded)
    /// to `contextLength`.
    func encode(_ text: String, contextLength: Int) -> TokenEncoding
    /// The largest id the tokenizer can give, checked against the text tower's vocabulary.
    var largestID: Int { get }
    /// The file the vocabulary came from, for messages.
    var source: String { get }
}

/// The result of tokenizing one text.
public struct TokenEncoding: Sendable, Equatable {
    /// The ids the text tower reads: start and end tokens included, at most
    /// the context length (padding included, for models that pad).
    public var ids: [Int]
    /// How many ids the text had before the cut (start and end included, padding not).
    public var fullLength: Int
    /// How many of `ids` are the text's (the rest is padding).
    public var length: Int

    /// Creates an encoding; `length` nil means every id is the text's.
    public init(ids: [Int], fullLength: Int, length: Int? = nil) {
        self.ids = ids
        self.fullLength = fullLength
        self.length = length ?? ids.count
    }

    /// Whether the text was longer than the context and was cut.
    public var truncated: Bool { fullLength > length }
}

/// A stretch of raw text as a tokenizer cuts it before its model sees it:
/// plain text, or a token matched verbatim (CLIP's start and end tokens,
/// SentencePiece's added tokens), as `tokenizers` cuts tokens marked
/// `normalized=false` out of the text first.
enum VerbatimPiece<Token> {
    /// Text between verbatim tokens.
    case text([Unicode.Scalar])
    /// A token found in the text.
    case token(Token)
}

/// `scalars` cut around every verbatim occurrence of a token's text, left to
/// right; where several tokens start at one place the first in `tokens` wins
/// (both tokenizers sort them longest first). Tokens with an empty text never match.
func cutVerbatim<Token>(_ scalars: [Unicode.Scalar], tokens: [Token],
                        text: (Token) -> [Unicode.Scalar]) -> [VerbatimPiece<Token>] {
    var pieces: [VerbatimPiece<Token>] = []
    var start = 0, i = 0
    outer: while i < scalars.count {
        for token in tokens {
            let t = text(token)
            guard !t.isEmpty, i + t.count <= scalars.count, scalars[i] == t[0],
                  scalars[i..<(i + t.count)].elementsEqual(t) else { continue }
            if start < i { pieces.append(.text(Array(scalars[start..<i]))) }
            pieces.append(.token(token))
            i += t.count
            start = i
            continue outer
        }
        i += 1
    }
    if start < scalars.count { pieces.append(.text(Array(scalars[start...]))) }
    return pieces
}
