import Foundation
import XCTest
@testable import CuratorCore

/// The tokenizer against transformers' CLIPTokenizer (the tokenizers-backed
/// pipeline saved as tokenizer.json) and open_clip's SimpleTokenizer, with the
/// real vocabulary, on the corpus make_fixture.py wrote (1,160 strings).
final class CLIPTokenizerTests: XCTestCase {
    private struct Row {
        let text: String
        let hf: [Int]
        let openCLIP: [Int]
        let hf77: [Int]?
    }

    private static let rows: [Row] = {
        let url = CLIPFixture.tokenizer.appendingPathComponent("corpus.json")
        let list = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
        return list.map { Row(text: $0["text"] as! String, hf: $0["hf"] as! [Int], openCLIP: $0["open_clip"] as! [Int], hf77: $0["hf77"] as? [Int]) }
    }()

    private static let real: CLIPTokenizer = try! CLIPTokenizer.load(
        openCLIPVocabulary: CLIPFixture.tokenizer.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz"))

    func testCorpusIsLargeAndVaried() {
        XCTAssertGreaterThanOrEqual(Self.rows.count, 1000)
        XCTAssertGreaterThanOrEqual(Self.rows.filter { $0.hf.count > 77 }.count, 50, "strings over 77 tokens")
        XCTAssertTrue(Self.rows.contains { $0.text.unicodeScalars.contains { $0.properties.isEmojiPresentation } })
    }

    func testIdsEqualTransformersOnEveryString() {
        let tokenizer = Self.real
        XCTAssertEqual(tokenizer.startID, 49406)
        XCTAssertEqual(tokenizer.endID, 49407)
        var failures = 0
        for row in Self.rows {
            let full = tokenizer.encode(row.text, contextLength: 100_000)
            if full.ids != row.hf {
                failures += 1
                if failures <= 10 {
                    XCTFail("\(row.text.debugDescription): \(full.ids) != transformers \(row.hf) (\(tokenizer.tokens(full.ids)) vs \(tokenizer.tokens(row.hf)))")
                }
            }
            let cut = tokenizer.encode(row.text)
            XCTAssertEqual(cut.ids, row.hf77 ?? row.hf, "truncated: \(row.text.debugDescription)")
            XCTAssertEqual(cut.truncated, row.hf77 != nil)
            XCTAssertLessThanOrEqual(cut.ids.count, 77)
        }
        XCTAssertEqual(failures, 0, "strings whose ids differ from transformers'")
    }

    func testIdsEqualOpenCLIPWhereItAgreesWithTransformers() {
        // Where the two references disagree, their text cleaning differs
        // (ftfy, HTML entities, final sigma); curator follows tokenizer.json.
        let agreeing = Self.rows.filter { $0.hf == $0.openCLIP }
        XCTAssertGreaterThan(agreeing.count, 950)
        for row in agreeing {
            XCTAssertEqual(Self.real.encode(row.text, contextLength: 100_000).ids, row.openCLIP, row.text.debugDescription)
        }
        let differing = Self.rows.filter { $0.hf != $0.openCLIP }.map(\.text)
        for expected in ["ﬁne ﬂower", "&amp;", "“curly” ‘quotes’", "ΟΔΟΣ", "cafÃ©"] {
            XCTAssertTrue(differing.contains(expected), "\(expected) is a known difference")
        }
    }

    func testTinyVocabularyFilesAgreeWithTransformers() throws {
        // The tiny model's tokenizer.json (saved by transformers), its
        // vocab.json + merges.txt, and the same merges in open_clip's format.
        let folder = CLIPFixture.huggingFaceModel
        let fromJSON = try CLIPTokenizer.load(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
        let fromPair = try CLIPTokenizer.load(vocabJSON: folder.appendingPathComponent("vocab.json"), merges: folder.appendingPathComponent("merges.txt"))
        let fromGzip = try CLIPTokenizer.load(openCLIPVocabulary: CLIPFixture.dfn2bModel.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz"))
        let expected = try CLIPFixture.expectedTexts("tiny-hf")
        for (text, ids) in zip(expected.texts, expected.ids) {
            XCTAssertEqual(fromJSON.encode(text).ids, ids, text)
            XCTAssertEqual(fromPair.encode(text).ids, ids, text)
            XCTAssertEqual(fromGzip.encode(text).ids, ids, text)
        }
        for row in Self.rows.prefix(300) {
            XCTAssertEqual(fromJSON.encode(row.text).ids, fromGzip.encode(row.text).ids, row.text.debugDescription)
        }
    }

    func testTruncationKeepsTheEndToken() {
        let text = Array(repeating: "dog", count: 100).joined(separator: " ")
        let encoding = Self.real.encode(text)
        XCTAssertEqual(encoding.ids.count, 77)
        XCTAssertEqual(encoding.ids.first, 49406)
        XCTAssertEqual(encoding.ids.last, 49407)
        XCTAssertEqual(encoding.fullLength, 102)
        XCTAssertTrue(encoding.truncated)
        XCTAssertFalse(Self.real.encode("a dog").truncated)
    }

    func testMissingAndCorruptFilesAreNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("curator-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertThrowsError(try CLIPTokenizer.load(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("no tokenizer"), "\(error)")
            XCTAssertTrue("\(error)".contains("tokenizer.json"), "\(error)")
        }
        let json = folder.appendingPathComponent("tokenizer.json")
        try Data("{\"model\": {\"type\": \"BPE\", \"vocab\": ".utf8).write(to: json)
        XCTAssertThrowsError(try CLIPTokenizer.load(folder: folder)) { error in
            XCTAssertEqual((error as? CLIPError)?.kind, .corrupt)
            XCTAssertTrue("\(error)".contains("tokenizer.json: is not valid JSON"), "\(error)")
        }
        try Data(#"{"model": {"type": "Unigram", "vocab": []}}"#.utf8).write(to: json)
        XCTAssertThrowsError(try CLIPTokenizer.load(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("'model.type' is 'Unigram'"), "\(error)")
        }
        try FileManager.default.removeItem(at: json)
        let gz = folder.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz")
        let real = try Data(contentsOf: CLIPFixture.tokenizer.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz"))
        try real.prefix(5000).write(to: gz)
        XCTAssertThrowsError(try CLIPTokenizer.load(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        try Data("not gzip at all, just text.".utf8).write(to: gz)
        XCTAssertThrowsError(try CLIPTokenizer.load(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("is not a gzip file"), "\(error)")
        }
        try FileManager.default.removeItem(at: gz)
        try Data(#"{"a": 0}"#.utf8).write(to: folder.appendingPathComponent("vocab.json"))
        XCTAssertThrowsError(try CLIPTokenizer.load(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("merges.txt: file is missing"), "\(error)")
        }
        try Data("#version: 0.2\na b\n".utf8).write(to: folder.appendingPathComponent("merges.txt"))
        XCTAssertThrowsError(try CLIPTokenizer.load(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("lacks the start and end tokens"), "\(error)")
        }
    }

    func testANormaliserOtherThanCLIPsIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("curator-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try JSONSerialization.jsonObject(with: Data(contentsOf: CLIPFixture.huggingFaceModel.appendingPathComponent("tokenizer.json"))) as! [String: Any]
        XCTAssertNoThrow(try CLIPTokenizer.load(tokenizerJSON: CLIPFixture.huggingFaceModel.appendingPathComponent("tokenizer.json")))
        let json = folder.appendingPathComponent("tokenizer.json")
        // Without lower-casing (a cased CLIP variant would need it), and with none at all.
        var edited = original
        edited["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFC"], ["type": "Replace", "pattern": ["Regex": "\\s+"], "content": " "]]]
        try JSONSerialization.data(withJSONObject: edited).write(to: json)
        XCTAssertThrowsError(try CLIPTokenizer.load(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("field 'normalizer' is NFC, Replace;"), "\(error)")
        }
        edited["normalizer"] = NSNull()
        try JSONSerialization.data(withJSONObject: edited).write(to: json)
        XCTAssertThrowsError(try CLIPTokenizer.load(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("field 'normalizer' is none"), "\(error)")
        }
    }
}
