import Foundation

/// SigLIP's tokenizers, reading the model folder's SentencePiece model with
/// libsentencepiece and framing the pieces as transformers does:
///
/// - **SigLIP** (`spiece.model`, transformers' `SiglipTokenizer`): the
///   special tokens (`</s>`, `<unk>`) are cut out of the raw text; each
///   other piece is canonicalised as big_vision does (Python's `str.lower`,
///   ASCII punctuation removed, white space runs to one space, stripped) and
///   encoded behind `<unk>` whose pieces are then dropped, so that a word
///   keeps its leading `▁`; `</s>` is appended unless the text ends with it.
/// - **SigLIP 2** (`tokenizer.model`, Gemma's vocabulary, transformers'
///   `GemmaTokenizer` from `tokenizer.json`): the added tokens are cut out
///   of the raw text, the rest is encoded as it is (lower-cased first only
///   when the tokenizer says so: `Siglip2Tokenizer` or a `Lowercase`
///   normaliser); `<bos>` and `<eos>` as the tokenizer's post-processor (or
///   `add_bos_token`/`add_eos_token`) adds them: no `<bos>`, one `<eos>`
///   for SigLIP 2's checkpoints.
///
/// Texts are cut to the context (the end token kept) and padded to it with
/// the padding token, as SigLIP was trained (`padding="max_length"`).
public struct SentencePieceTokenizer: TextTokenizer {
    /// Which transformers tokenizer the framing follows.
    public enum Style: Sendable, Equatable {
        /// `SiglipTokenizer`: big_vision's canonicalisation, the `<unk>` prefix trick, `</s>` appended.
        case siglip(lowercase: Bool)
        /// `GemmaTokenizer` (a `tokenizers` pipeline): added tokens, the text as it is, the template's start and end.
        case gemma(lowercase: Bool)
    }

    /// A token matched verbatim in the raw text before the model sees it.
    struct AddedToken: Sendable {
        let text: [Unicode.Scalar]
        let id: Int
        let special: Bool
        let stripLeft: Bool
        let stripRight: Bool
    }

    let model: SentencePieceModel
    /// The framing.
    public let style: Style
    let addStart: Bool, addEnd: Bool
    /// The start, end and padding ids.
    public let startID: Int?, endID: Int, paddingID: Int
    /// Whether the model is given an attention mask that hides the padding
    /// (when the tokenizer's `model_input_names` lists `attention_mask`).
    public let masksPadding: Bool
    let added: [AddedToken]
    /// SigLIP: the unknown token's text and how many pieces it encodes to.
    let unknownText: String
    let unknownPieces: Int
    /// The id of the piece `▁`, when the vocabulary has it (SigLIP's first-token rule).
    let spaceID: Int?

    /// The model file, for messages.
    public var source: String { model.source }
    /// The largest id: the model's last piece or an added token's.
    public var largestID: Int { max(model.count - 1, added.map(\.id).max() ?? 0) }

    /// The SentencePiece model file of `folder`: SigLIP's `spiece.model` or SigLIP 2's `tokenizer.model`.
    static func modelFile(in folder: URL) -> URL? {
        for name in ["spiece.model", "tokenizer.model"] {
            let url = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }

    /// Loads the tokenizer of a SigLIP model folder: the SentencePiece model
    /// and what `tokenizer_config.json` (and, for what that leaves out,
    /// `tokenizer.json`) say about special tokens and framing.
    public static func load(folder: URL) throws -> SentencePieceTokenizer {
        guard let url = modelFile(in: folder) else {
            throw CLIPError(.modelMissing, folder.path, "no tokenizer: a SigLIP text tower needs its SentencePiece model, spiece.model (SigLIP) or tokenizer.model (SigLIP 2), with tokenizer_config.json, from the model's Hugging Face page, in this folder")
        }
        let model = try SentencePieceModel(url: url)
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        let config = FileManager.default.fileExists(atPath: configURL.path) ? try JSONFile.object(at: configURL) : [:]
        let fields = JSONFields(config, file: configURL.path, prefix: "")
        let jsonURL = folder.appendingPathComponent("tokenizer.json")
        // tokenizer.json can be tens of MB (Gemma's); read it only for what the config leaves out.
        var pipeline: [String: Any]?
        func tokenizerJSON() throws -> [String: Any]? {
            if pipeline == nil, FileManager.default.fileExists(atPath: jsonURL.path) {
                pipeline = try JSONFile.object(at: jsonURL, limit: 128 << 20)
            }
            return pipeline
        }

        let className = try fields.string("tokenizer_class") ?? (url.lastPathComponent == "spiece.model" ? "SiglipTokenizer" : "GemmaTokenizer")
        let style: Style
        switch className {
        case "SiglipTokenizer":
            style = .siglip(lowercase: try fields.bool("do_lower_case") ?? true)
        case "GemmaTokenizer", "GemmaTokenizerFast", "Siglip2Tokenizer":
            var lowercase = className == "Siglip2Tokenizer"
            if !lowercase, let json = try tokenizerJSON(), let normalizer = json["normalizer"] {
                lowercase = mentionsLowercase(normalizer)
            }
            style = .gemma(lowercase: lowercase)
        default:
            throw CLIPError(.unsupported, configURL.path, "field 'tokenizer_class' is '\(className)'; SigLIP's text towers use SiglipTokenizer (SigLIP) or GemmaTokenizer (SigLIP 2)")
        }

        func tokenText(_ key: String, _ fallback: String) throws -> String {
            if let object = config[key] as? [String: Any], let content = object["content"] as? String { return content }
            return try fields.string(key) ?? fallback
        }
        let isSiglip: Bool
        if case .siglip = style { isSiglip = true } else { isSiglip = false }
        let unknownText = try tokenText("unk_token", "<unk>")
        let endText = try tokenText("eos_token", isSiglip ? "</s>" : "<eos>")
        let padText = try tokenText("pad_token", isSiglip ? "</s>" : "<pad>")
        let startText = try tokenText("bos_token", "<bos>")

        // The added tokens: the config's added_tokens_decoder, else tokenizer.json's added_tokens,
        // else the model's control pieces and the special tokens named above.
        var added: [AddedToken] = []
        if let decoder = config["added_tokens_decoder"] as? [String: Any] {
            for (key, value) in decoder {
                guard let id = Int(key), let token = value as? [String: Any] else {
                    throw CLIPError(.corrupt, configURL.path, "field 'added_tokens_decoder.\(key)' is not an id with a token")
                }
                added.append(try addedToken(token, id: id, file: configURL.path))
            }
        } else if let json = try tokenizerJSON(), let list = json["added_tokens"] as? [Any] {
            for case let token as [String: Any] in list {
                guard let id = token["id"] as? Int else {
                    throw CLIPError(.corrupt, jsonURL.path, "an entry of 'added_tokens' has no integer id")
                }
                added.append(try addedToken(token, id: id, file: jsonURL.path))
            }
        } else {
            for id in 0..<model.count where model.isControl(id) {
                added.append(AddedToken(text: Array(model.piece(id).unicodeScalars), id: id, special: true, stripLeft: false, stripRight: false))
            }
            let unknown = model.unknownID
            added.append(AddedToken(text: Array(model.piece(unknown).unicodeScalars), id: unknown, special: true, stripLeft: false, stripRight: false))
        }
        added.removeAll { $0.text.isEmpty }
        added.sort { $0.text.count != $1.text.count ? $0.text.count > $1.text.count : $0.id < $1.id }

        func id(_ text: String, what: String) throws -> Int {
            if let token = added.first(where: { $0.text.elementsEqual(text.unicodeScalars) }) { return token.id }
            let found = model.id(of: text)
            guard found != model.unknownID || text == unknownText else {
                throw CLIPError(.corrupt, model.source, "the SentencePiece model has no \(what) token '\(text)': the tokenizer files belong to different models")
            }
            return found
        }
        let endID = try id(endText, what: "end")
        let paddingID = try id(padText, what: "padding")

        var addStart = false, addEnd = true
        if case .gemma = style {
            if let bos = try fields.bool("add_bos_token"), let eos = try fields.bool("add_eos_token") {
                addStart = bos
                addEnd = eos
            } else if let json = try tokenizerJSON(), let post = json["post_processor"] as? [String: Any] {
                (addStart, addEnd) = try template(post, start: startText, end: endText, file: jsonURL.path)
            } else {
                addStart = try fields.bool("add_bos_token") ?? true
                addEnd = try fields.bool("add_eos_token") ?? false
            }
        }
        let startID = addStart ? try id(startText, what: "start") : nil
        var masksPadding = true
        if let names = config["model_input_names"] as? [String] { masksPadding = names.contains("attention_mask") }
        let space = model.id(of: "\u{2581}")
        return SentencePieceTokenizer(
            model: model, style: style, addStart: addStart, addEnd: addEnd, startID: startID, endID: endID,
            paddingID: paddingID, masksPadding: masksPadding, added: added, unknownText: unknownText,
            unknownPieces: model.encode(unknownText).count, spaceID: space == model.unknownID ? nil : space)
    }

    private static func addedToken(_ token: [String: Any], id: Int, file: String) throws -> AddedToken {
        guard let content = token["content"] as? String else {
            throw CLIPError(.corrupt, file, "added token \(id) has no content")
        }
        return AddedToken(text: Array(content.unicodeScalars), id: id, special: token["special"] as? Bool ?? false,
                          stripLeft: token["lstrip"] as? Bool ?? false, stripRight: token["rstrip"] as? Bool ?? false)
    }

    /// Whether a `tokenizers` normaliser (or a sequence of them) lower-cases.
    private static func mentionsLowercase(_ value: Any) -> Bool {
        if let object = value as? [String: Any] {
            if object["type"] as? String == "Lowercase" { return true }
            return object.values.contains { mentionsLowercase($0) }
        }
        if let list = value as? [Any] { return list.contains { mentionsLowercase($0) } }
        return false
    }

    /// Whether a `TemplateProcessing` post-processor puts the start token
    /// before a single text and the end token after it.
    private static func template(_ post: [String: Any], start: String, end: String, file: String) throws -> (Bool, Bool) {
        guard post["type"] as? String == "TemplateProcessing", let single = post["single"] as? [Any] else {
            throw CLIPError(.unsupported, file, "field 'post_processor' is not a TemplateProcessing; curator frames SigLIP texts with the template's start and end tokens only")
        }
        var before: [String] = [], after: [String] = [], seenText = false
        for case let item as [String: Any] in single {
            if item["Sequence"] != nil { seenText = true; continue }
            guard let special = item["SpecialToken"] as? [String: Any], let name = special["id"] as? String else { continue }
            if seenText { after.append(name) } else { before.append(name) }
        }
        guard before.allSatisfy({ $0 == start }), after.allSatisfy({ $0 == end }), before.count <= 1, after.count <= 1 else {
            throw CLIPError(.unsupported, file, "field 'post_processor.single' adds \(before + after); curator supports only '\(start)' before and '\(end)' after the text")
        }
        return (before.count == 1, after.count == 1)
    }

    // MARK: Encoding

    /// The ids of `text`: its pieces and the end token (and the start token
    /// where the tokenizer adds one), cut to `contextLength` with the end
    /// token kept, then padded to `contextLength`.
    public func encode(_ text: String, contextLength: Int) -> TokenEncoding {
        var ids: [Int]
        let specials: Int
        switch style {
        case .siglip(let lowercase):
            ids = siglipPieces(text, lowercase: lowercase)
            // transformers keeps context − 1 pieces, then appends </s> unless the text already ends with it.
            let endsWithEnd = ids.last == endID
            specials = endsWithEnd ? 0 : 1
            let full = ids.count + specials
            if ids.count + 1 > contextLength { ids.removeSubrange(max(0, contextLength - 1)...) }
            if ids.last != endID { ids.append(endID) }
            return padded(ids, fullLength: full, contextLength: contextLength)
        case .gemma(let lowercase):
            ids = gemmaPieces(text, lowercase: lowercase)
            specials = (addStart ? 1 : 0) + (addEnd ? 1 : 0)
            let full = ids.count + specials
            if ids.count + specials > contextLength { ids.removeSubrange(max(0, contextLength - specials)...) }
            if addStart, let startID { ids.insert(startID, at: 0) }
            if addEnd { ids.append(endID) }
            return padded(ids, fullLength: full, contextLength: contextLength)
        }
    }

    private func padded(_ ids: [Int], fullLength: Int, contextLength: Int) -> TokenEncoding {
        var out = ids
        if out.count < contextLength { out += [Int](repeating: paddingID, count: contextLength - out.count) }
        return TokenEncoding(ids: out, fullLength: fullLength, length: ids.count)
    }

    /// Cuts the added tokens out of the raw text (the leftmost, then the
    /// longest match), applying their strip flags to the neighbouring text.
    private func split(_ scalars: [Unicode.Scalar]) -> [VerbatimPiece<AddedToken>] {
        var parts = cutVerbatim(scalars, tokens: added, text: { $0.text })
        for (k, part) in parts.enumerated() {
            guard case .token(let token) = part else { continue }
            if token.stripRight, k + 1 < parts.count, case .text(let right) = parts[k + 1] {
                parts[k + 1] = .text(Array(right.drop(while: Self.isPythonSpace)))
            }
            if token.stripLeft, k > 0, case .text(let left) = parts[k - 1] {
                parts[k - 1] = .text(Array(left.reversed().drop(while: Self.isPythonSpace).reversed()))
            }
        }
        return parts
    }

    /// `SiglipTokenizer.tokenize`: `▁` before the text (and any `▁` in it
    /// made a space), added tokens cut out, each other part canonicalised and
    /// encoded behind the unknown token, a lone leading `▁` dropped when a
    /// special token follows it.
    private func siglipPieces(_ text: String, lowercase: Bool) -> [Int] {
        let prefixed = "\u{2581}" + text.replacingOccurrences(of: "\u{2581}", with: " ")
        var ids: [Int] = []
        var specialAt: Set<Int> = []
        for part in split(Array(prefixed.unicodeScalars)) {
            switch part {
            case .token(let token):
                if token.special { specialAt.insert(ids.count) }
                ids.append(token.id)
            case .text(let scalars):
                guard !scalars.isEmpty else { continue }
                let canonical = Self.canonicalize(scalars, lowercase: lowercase)
                let pieces = model.encode(unknownText + canonical)
                ids += pieces.count >= unknownPieces ? pieces.dropFirst(unknownPieces) : pieces[...]
            }
        }
        if ids.count > 1, let spaceID, ids[0] == spaceID, specialAt.contains(1) { ids.removeFirst() }
        return ids
    }

    /// The `tokenizers` pipeline: added tokens cut out, the other parts
    /// (lower-cased one character at a time when asked) through the model.
    private func gemmaPieces(_ text: String, lowercase: Bool) -> [Int] {
        var ids: [Int] = []
        for part in split(Array(text.unicodeScalars)) {
            switch part {
            case .token(let token):
                ids.append(token.id)
            case .text(let scalars):
                var string = String(String.UnicodeScalarView(scalars))
                if lowercase {
                    var out = String.UnicodeScalarView()
                    for s in scalars { out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars) }
                    string = String(out)
                }
                ids += model.encode(string)
            }
        }
        return ids
    }

    // MARK: big_vision's canonicalisation, as transformers writes it in Python

    /// Python's `str.isspace`: Unicode white space plus the ASCII information separators.
    static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }

    /// `string.punctuation`: the ASCII punctuation characters.
    static func isASCIIPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: return false
        }
    }

    /// `SiglipTokenizer.canonicalize_text`: Python's `str.lower` (when
    /// asked), ASCII punctuation removed, every run of white space one
    /// space, white space stripped from both ends.
    static func canonicalize(_ scalars: [Unicode.Scalar], lowercase: Bool) -> String {
        let lowered = lowercase ? pythonLower(scalars) : scalars
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for s in lowered where !isASCIIPunctuation(s) {
            if isPythonSpace(s) {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(" ") }
            pendingSpace = false
            out.append(s)
        }
        return String(out)
    }

    /// Python's `str.lower`: each character's full lower-case mapping, and
    /// capital sigma as final sigma (ς) after a cased letter that no cased
    /// letter follows (case-ignorable characters skipped both ways).
    static func pythonLower(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        for (i, s) in scalars.enumerated() {
            if s.value == 0x3A3 {
                var j = i - 1
                while j >= 0, scalars[j].properties.isCaseIgnorable { j -= 1 }
                var final = j >= 0 && scalars[j].properties.isCased
                if final {
                    var k = i + 1
                    while k < scalars.count, scalars[k].properties.isCaseIgnorable { k += 1 }
                    final = k == scalars.count || !scalars[k].properties.isCased
                }
                out.append(final ? "\u{3C2}" : "\u{3C3}")
                continue
            }
            out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
        }
        return out
    }
}
