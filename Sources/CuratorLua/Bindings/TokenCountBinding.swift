import CuratorCore
import Foundation

/// `curator.count_tokens`: how many CLIP tokens a text is, for caption limits
/// (trainers such as kohya's read a caption's first 75 tokens and drop the rest).
enum TokenCountBinding {
    /// Tokenizers by the path they were read from: a vocabulary is read once
    /// per process, not once per caption.
    private static let cache = TokenizerCache()

    static func install(host: CuratorHost) {
        host.state.defineFunction(
            "curator.count_tokens",
            signature: "curator.count_tokens(text [, {vocabulary=}]) -> integer",
            summary: "How many CLIP tokens text is (start and end tokens not counted), with the vocabulary of a CLIP model folder, tokenizer.json or bpe_simple_vocab_16e6.txt.gz (default: the installed default CLIP model)"
        ) { call in
            let text = try call.string(1)
            let options = try call.options(2, allowed: ["vocabulary"])
            let url: URL
            if let path = try options.string("vocabulary") {
                url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL
            } else {
                do {
                    url = try CLIPModelLocator().folder()
                } catch {
                    throw call.failure("no CLIP vocabulary to count tokens with: pass {vocabulary=PATH} (a CLIP model folder, tokenizer.json or bpe_simple_vocab_16e6.txt.gz) or install a CLIP model (`curator models get clip-vit-base-patch32`) — \(error)")
                }
            }
            let tokenizer: CLIPTokenizer
            do {
                tokenizer = try cache.tokenizer(at: url)
            } catch {
                throw call.failure("cannot read the vocabulary: \(error)")
            }
            call.lua.push(tokenizer.count(text))
            return 1
        }
    }
}

/// Loaded tokenizers by path. `@unchecked Sendable`: the dictionary is only
/// touched while `lock` is held.
private final class TokenizerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [String: CLIPTokenizer] = [:]

    func tokenizer(at url: URL) throws -> CLIPTokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let known = loaded[url.path] { return known }
        let tokenizer = try CLIPTokenizer.load(path: url)
        loaded[url.path] = tokenizer
        return tokenizer
    }
}
