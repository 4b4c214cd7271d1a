import Foundation
#if canImport(CZlib)
import CZlib  // zlib, as ZIPFoundation's Linux build exposes it
#elseif canImport(zlib)
import zlib  // zlib from the Apple SDKs
#endif

/// Reads CLIP's vocabulary from a model folder, in the first of these forms
/// present: transformers' `tokenizer.json`, its older `vocab.json` +
/// `merges.txt`, or open_clip's `bpe_simple_vocab_16e6.txt.gz`.
extension CLIPTokenizer {
    /// open_clip's vocabulary file, which its models' folders may hold instead of a `tokenizer.json`.
    public static let openCLIPVocabularyName = "bpe_simple_vocab_16e6.txt.gz"

    /// The vocabulary files a model folder may hold, in the order they are tried.
    public static let fileNames = ["tokenizer.json", "vocab.json + merges.txt", openCLIPVocabularyName]

    /// Whether `folder` holds any form of the vocabulary.
    public static func isPresent(in folder: URL) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: folder.appendingPathComponent("tokenizer.json").path)
            || (fm.fileExists(atPath: folder.appendingPathComponent("vocab.json").path)
                && fm.fileExists(atPath: folder.appendingPathComponent("merges.txt").path))
            || fm.fileExists(atPath: folder.appendingPathComponent(openCLIPVocabularyName).path)
    }

    /// Loads the tokenizer of the model in `folder`.
    public static func load(folder: URL) throws -> CLIPTokenizer {
        let fm = FileManager.default
        let json = folder.appendingPathComponent("tokenizer.json")
        if fm.fileExists(atPath: json.path) { return try load(tokenizerJSON: json) }
        let vocab = folder.appendingPathComponent("vocab.json"), merges = folder.appendingPathComponent("merges.txt")
        if fm.fileExists(atPath: vocab.path) || fm.fileExists(atPath: merges.path) {
            return try load(vocabJSON: vocab, merges: merges)
        }
        let gz = folder.appendingPathComponent(openCLIPVocabularyName)
        if fm.fileExists(atPath: gz.path) { return try load(openCLIPVocabulary: gz) }
        throw CLIPError(.modelMissing, folder.path,
                        "no tokenizer: the text tower needs tokenizer.json (or vocab.json and merges.txt) from the model's Hugging Face page, or open_clip's bpe_simple_vocab_16e6.txt.gz (in the open_clip_torch package), in this folder")
    }

    /// Loads the tokenizer at `url`: a model folder (see `load(folder:)`), a
    /// `tokenizer.json`, a `vocab.json` with `merges.txt` beside it, or
    /// open_clip's `bpe_simple_vocab_16e6.txt.gz`.
    public static func load(path url: URL) throws -> CLIPTokenizer {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw CLIPError(.modelMissing, url.path, "no such file or folder")
        }
        if isFolder.boolValue { return try load(folder: url) }
        let name = url.lastPathComponent
        if name.hasSuffix(".gz") { return try load(openCLIPVocabulary: url) }
        if name == "vocab.json" { return try load(vocabJSON: url, merges: url.deletingLastPathComponent().appendingPathComponent("merges.txt")) }
        if name.hasSuffix(".json") { return try load(tokenizerJSON: url) }
        throw CLIPError(.unsupported, url.path, "not a CLIP vocabulary: expected a model folder, tokenizer.json, vocab.json (with merges.txt) or bpe_simple_vocab_16e6.txt.gz")
    }

    /// transformers' `tokenizer.json`: a byte-level BPE model with CLIP's
    /// normaliser and pre-tokenizer (anything else is refused, not guessed).
    public static func load(tokenizerJSON url: URL) throws -> CLIPTokenizer {
        let root = try JSONFile.object(at: url)
        let file = url.path
        guard let model = root["model"] as? [String: Any] else {
            throw CLIPError(.corrupt, file, "field 'model' is missing: not a tokenizers file")
        }
        if let type = model["type"] as? String, type != "BPE" {
            throw CLIPError(.unsupported, file, "field 'model.type' is '\(type)'; CLIP's text tower needs a BPE tokenizer")
        }
        if let suffix = model["end_of_word_suffix"] as? String, suffix != "</w>" {
            throw CLIPError(.unsupported, file, "field 'model.end_of_word_suffix' is '\(suffix)'; CLIP's BPE marks word ends with '</w>'")
        }
        guard let pre = root["pre_tokenizer"], mentions(pre, splitPattern) else {
            throw CLIPError(.unsupported, file, "field 'pre_tokenizer' does not split by CLIP's pattern; this tokenizer belongs to another kind of model")
        }
        try checkNormalizer(root["normalizer"], file: file)
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw CLIPError(.corrupt, file, "field 'model.vocab' is missing or not an object")
        }
        let vocabulary = try integers(vocab, file: file, field: "model.vocab")
        guard let list = model["merges"] as? [Any] else {
            throw CLIPError(.corrupt, file, "field 'model.merges' is missing or not a list")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            if let text = item as? String, let pair = pair(text) {
                merges.append(pair)
            } else if let parts = item as? [String], parts.count == 2 {
                merges.append((parts[0], parts[1]))
            } else {
                throw CLIPError(.corrupt, file, "field 'model.merges[\(i)]' is not a pair of symbols")
            }
        }
        var start = "<|startoftext|>", end = "<|endoftext|>"
        if let post = root["post_processor"] as? [String: Any],
           let cls = post["cls"] as? [Any], let sep = post["sep"] as? [Any],
           let clsToken = cls.first as? String, let sepToken = sep.first as? String {
            start = clsToken
            end = sepToken
        }
        var vocabularyWithSpecials = vocabulary
        if let added = root["added_tokens"] as? [[String: Any]] {
            for token in added {
                if let content = token["content"] as? String, let id = token["id"] as? Int { vocabularyWithSpecials[content] = id }
            }
        }
        return try CLIPTokenizer(vocabulary: vocabularyWithSpecials, merges: merges, startToken: start, endToken: end, source: file)
    }

    /// transformers' older pair: `vocab.json` (token → id) and `merges.txt`
    /// (a `#version` line, then one merge per line).
    public static func load(vocabJSON: URL, merges mergesURL: URL) throws -> CLIPTokenizer {
        let fm = FileManager.default
        for url in [vocabJSON, mergesURL] where !fm.fileExists(atPath: url.path) {
            throw CLIPError(.modelMissing, url.path, "file is missing; vocab.json and merges.txt come as a pair from the model's Hugging Face page")
        }
        let vocabulary = try integers(try JSONFile.object(at: vocabJSON), file: vocabJSON.path, field: "vocab.json")
        let text = try readText(mergesURL)
        var merges: [(String, String)] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || (n == 0 && line.hasPrefix("#version")) { continue }
            guard let pair = pair(String(line)) else {
                throw CLIPError(.corrupt, mergesURL.path, "line \(n + 1) is not a pair of symbols")
            }
            merges.append(pair)
        }
        return try CLIPTokenizer(vocabulary: vocabulary, merges: merges, startToken: "<|startoftext|>", endToken: "<|endoftext|>",
                                 source: mergesURL.path)
    }

    /// open_clip's gzipped merges list; the vocabulary is built from it as
    /// open_clip builds it: the 256 byte symbols, the same with `</w>`, each
    /// merge's result, then the start and end tokens.
    public static func load(openCLIPVocabulary url: URL) throws -> CLIPTokenizer {
        let data = try gunzip(url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIPError(.corrupt, url.path, "is not UTF-8 text once decompressed")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // open_clip reads lines 1 ..< 48,895: 49,152 ids less the 256 + 256 byte symbols and the two specials.
        let body = lines.dropFirst().prefix(49152 - 256 - 2)
        var merges: [(String, String)] = []
        for (n, line) in body.enumerated() where !line.isEmpty {
            guard let pair = pair(String(line)) else {
                throw CLIPError(.corrupt, url.path, "line \(n + 2) is not a pair of symbols")
            }
            merges.append(pair)
        }
        var vocabulary: [String: Int] = [:]
        var next = 0
        func add(_ token: String) { if vocabulary[token] == nil { vocabulary[token] = next }; next += 1 }
        // In GPT-2's order: the printable bytes first, then the others.
        let symbols = byteOrder.map { String(byteAlphabet[$0]) }
        for symbol in symbols { add(symbol) }
        for symbol in symbols { add(symbol + "</w>") }
        for merge in merges { add(merge.0 + merge.1) }
        add("<|startoftext|>")
        add("<|endoftext|>")
        return try CLIPTokenizer(vocabulary: vocabulary, merges: merges, startToken: "<|startoftext|>", endToken: "<|endoftext|>",
                                 source: url.path)
    }

    // MARK: Helpers

    /// Refuses a `normalizer` other than CLIPTokenizerFast's (NFC, every run
    /// of white space to one space, lower case, in that order): the one
    /// `CLIPTokenizer.normalize` implements. Another would tokenize
    /// differently without a word of warning.
    static func checkNormalizer(_ value: Any?, file: String) throws {
        let object = value as? [String: Any]
        let steps = object?["type"] as? String == "Sequence" ? (object?["normalizers"] as? [Any] ?? []) : [value as Any]
        let types = steps.map { ($0 as? [String: Any])?["type"] as? String ?? "none" }
        let replace = steps.count == 3 ? steps[1] as? [String: Any] : nil
        let pattern = (replace?["pattern"] as? [String: Any])?["Regex"] as? String
        guard types == ["NFC", "Replace", "Lowercase"], pattern == #"\s+"#, replace?["content"] as? String == " " else {
            throw CLIPError(.unsupported, file, "field 'normalizer' is \(types.joined(separator: ", ")); curator tokenizes with CLIP's (NFC, white space runs to one space, Lowercase), so this tokenizer.json is not CLIP's")
        }
    }

    /// CLIP's pre-split pattern, as `tokenizer.json` spells it (after the special tokens).
    static let splitPattern = #"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"#

    /// Whether any string inside a parsed JSON value ends with `pattern`.
    private static func mentions(_ value: Any, _ pattern: String) -> Bool {
        if let s = value as? String { return s.hasSuffix(pattern) }
        if let d = value as? [String: Any] { return d.values.contains { mentions($0, pattern) } }
        if let a = value as? [Any] { return a.contains { mentions($0, pattern) } }
        return false
    }

    private static func pair(_ line: String) -> (String, String)? {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    private static func integers(_ object: [String: Any], file: String, field: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        out.reserveCapacity(object.count)
        for (token, value) in object {
            guard !JSONFields.isBoolean(value), let id = value as? Int, id >= 0 else {
                throw CLIPError(.corrupt, file, "field '\(field)' maps '\(token)' to \(value), not a token id")
            }
            out[token] = id
        }
        return out
    }

    private static func readText(_ url: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CLIPError(.unreadable, url.path, "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIPError(.corrupt, url.path, "is not UTF-8 text") }
        return text
    }

    /// The decompressed bytes of a gzip file (at most 64 MB: the real file is 1.6 MB).
    static func gunzip(_ url: URL) throws -> Data {
        guard let compressed = FileManager.default.contents(atPath: url.path) else {
            throw CLIPError(.unreadable, url.path, "cannot be read")
        }
        guard compressed.count >= 18, compressed[compressed.startIndex] == 0x1f, compressed[compressed.startIndex + 1] == 0x8b else {
            throw CLIPError(.corrupt, url.path, "is not a gzip file")
        }
        var stream = z_stream()
        // 16 + MAX_WBITS: a gzip wrapper around the deflate stream.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CLIPError(.unreadable, url.path, "cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        let limit = 64 << 20
        var output = Data()
        let chunk = 1 << 20
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { buffer.deallocate() }
        return try compressed.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Data in
            stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: UInt8.self).baseAddress!)
            stream.avail_in = UInt32(raw.count)
            while true {
                stream.next_out = buffer
                stream.avail_out = UInt32(chunk)
                let status = inflate(&stream, Z_NO_FLUSH)
                output.append(buffer, count: chunk - Int(stream.avail_out))
                if output.count > limit { throw CLIPError(.corrupt, url.path, "decompresses to more than 64 MB: not a vocabulary file") }
                switch status {
                case Z_STREAM_END: return output
                case Z_OK: continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw CLIPError(.corrupt, url.path, "is truncated (the gzip stream ends early)")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw CLIPError(.corrupt, url.path, "is damaged (zlib: \(message))")
                }
            }
        }
    }
}
