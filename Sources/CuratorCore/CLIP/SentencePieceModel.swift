import CSentencePieceShims
import Foundation

/// A SentencePiece model file (`spiece.model`, `tokenizer.model`) loaded with
/// libsentencepiece, which encodes text into piece ids exactly as the
/// `sentencepiece` package the models were made with: its normaliser, its
/// unigram or BPE segmentation, byte fallback, user-defined symbols.
/// Encoding only reads the model, so one instance may be shared by threads.
/// `@unchecked Sendable`: encoding only reads the loaded model (see above); it is freed in `deinit`, when no thread holds it.
final class SentencePieceModel: @unchecked Sendable {
    private let handle: OpaquePointer
    /// The file the model came from, for messages.
    let source: String
    /// The number of pieces.
    let count: Int
    /// The unknown piece's id (every model has one).
    let unknownID: Int

    /// Loads the model file at `url`.
    init(url: URL) throws {
        source = url.path
        let bytes: [UInt8]
        do throws(RegularFile.Failure) {
            bytes = try RegularFile.read(url.path, limit: 256 << 20)
        } catch {
            throw CLIPError(error.isMissing ? .modelMissing : .unreadable, url.path,
                            error.isMissing ? "file is missing" : "cannot be read: it \(error.reason)")
        }
        var message: UnsafeMutablePointer<CChar>?
        let loaded = bytes.withUnsafeBytes { curator_spm_load($0.baseAddress, $0.count, &message) }
        guard let loaded else {
            let detail = message.map { pointer -> String in
                defer { free(pointer) }
                return String(String(cString: pointer).prefix(300))
            } ?? "unknown error"
            throw CLIPError(.corrupt, url.path, "is not a SentencePiece model (libsentencepiece: \(detail))")
        }
        handle = loaded
        count = Int(curator_spm_piece_count(loaded))
        unknownID = Int(curator_spm_unknown_id(loaded))
        guard count > 0, unknownID >= 0, unknownID < count else {
            curator_spm_free(loaded)
            throw CLIPError(.corrupt, url.path, "the SentencePiece model has no pieces or no unknown piece")
        }
    }

    deinit { curator_spm_free(handle) }

    /// The piece ids of `text` (no start or end ids added).
    func encode(_ text: String) -> [Int] {
        var utf8 = Array(text.utf8)
        if utf8.isEmpty { return [] }
        var capacity = max(16, utf8.count + 8)
        while true {
            var ids = [Int32](repeating: 0, count: capacity)
            var message: UnsafeMutablePointer<CChar>?
            let n = utf8.withUnsafeMutableBufferPointer { text in
                ids.withUnsafeMutableBufferPointer { out in
                    text.baseAddress!.withMemoryRebound(to: CChar.self, capacity: text.count) {
                        curator_spm_encode(handle, $0, text.count, out.baseAddress, out.count, &message)
                    }
                }
            }
            if n < 0 {
                // Only an unloaded model fails; this one loaded, so the text is unknown to it.
                free(message)
                return [unknownID]
            }
            if n <= capacity { return ids.prefix(n).map(Int.init) }
            capacity = n
        }
    }

    /// The id of `piece`, or the unknown id when the vocabulary lacks it.
    func id(of piece: String) -> Int {
        var bytes = Array(piece.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { Int(curator_spm_piece_id(handle, $0, buffer.count)) }
            } ?? unknownID
        }
    }

    /// The text of piece `id`.
    func piece(_ id: Int) -> String {
        guard id >= 0, id < count, let text = curator_spm_piece(handle, Int32(id)) else { return "" }
        return String(cString: text)
    }

    /// Whether `id` is a control piece (`<pad>`, `</s>`, `<bos>`…): never produced by encoding.
    func isControl(_ id: Int) -> Bool { id >= 0 && id < count && curator_spm_is_control(handle, Int32(id)) != 0 }

    /// The model's own start, end and padding ids (nil when it has none).
    var startID: Int? { Self.optional(curator_spm_start_id(handle)) }
    var endID: Int? { Self.optional(curator_spm_end_id(handle)) }
    var paddingID: Int? { Self.optional(curator_spm_padding_id(handle)) }

    private static func optional(_ id: Int32) -> Int? { id >= 0 ? Int(id) : nil }
}
