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
