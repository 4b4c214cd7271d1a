import Foundation
import XCTest
@testable import CuratorCore

/// SigLIP's SentencePiece tokenizers against transformers' own ids, on the
/// exactness corpus make_fixture.py wrote (1,160 strings: unicode, emoji,
/// accents, punctuation, numbers, special tokens inside the text, strings
/// longer than the context) for both kinds of model folder.
final class SigLIPTokenizerTests: XCTestCase {
    private struct Row {
        let text: String
        let ids: [String: [Int]]
    }

    private func corpus() throws -> [Row] {
        let url = SigLIPFixture.root.appendingPathComponent("corpus.json")
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
        return rows.map { row in
            Row(text: row["text"] as! String,
                ids: row.filter { $0.key != "text" }.mapValues { $0 as! [Int] })
        }
    }

    /// Every corpus string gives transformers' ids: unpadded (no cut) and at the context of 16 (cut and padded).
    private func check(_ name: String, _ folder: URL) throws {
        let tokenizer = try SentencePieceTokenizer.load(folder: folder)
        let rows = try corpus()
        XCTAssertGreaterThanOrEqual(rows.count, 1000)
        var failures: [String] = []
        for row in rows {
            let full = tokenizer.encode(row.text, contextLength: 100_000)
            let expected = row.ids[name]!
            if Array(full.ids.prefix(full.length)) != expected {
                failures.append("\(row.text.debugDescription): \(Array(full.ids.prefix(full.length))) != \(expected)")
            }
            let cut = tokenizer.encode(row.text, contextLength: 16)
            if cut.ids != row.ids[name + "16"]! {
                failures.append("\(row.text.debugDescription) at 16: \(cut.ids) != \(row.ids[name + "16"]!)")
            }
            XCTAssertEqual(cut.truncated, expected.count > 16, row.text)
        }
        XCTAssert(failures.isEmpty, "\(failures.count) of \(rows.count * 2) differ:\n" + failures.prefix(30).joined(separator: "\n"))
    }

    func testSigLIPMatchesTransformersOnTheCorpus() throws {
        try check("siglip", SigLIPFixture.siglipModel)
    }

    func testSigLIP2MatchesTransformersOnTheCorpus() throws {
        try check("siglip2", SigLIPFixture.siglip2Model)
    }

    func testFramingFollowsTheTokenizerFiles() throws {
        let siglip = try SentencePieceTokenizer.load(folder: SigLIPFixture.siglipModel)
        XCTAssertEqual(siglip.style, .siglip(lowercase: true))
        XCTAssertEqual(siglip.paddingID, siglip.endID, "SigLIP pads with </s>")
        XCTAssertFalse(siglip.masksPadding)
        let siglip2 = try SentencePieceTokenizer.load(folder: SigLIPFixture.siglip2Model)
        XCTAssertEqual(siglip2.style, .gemma(lowercase: false))
        XCTAssertNil(siglip2.startID, "SigLIP 2 adds no <bos>")
        XCTAssertEqual(siglip2.endID, 1)
        XCTAssertEqual(siglip2.paddingID, 0)
        let encoding = siglip2.encode("a dog", contextLength: 16)
        XCTAssertEqual(encoding.ids.count, 16)
        XCTAssertEqual(encoding.ids[encoding.length - 1], 1)
        XCTAssertEqual(Array(encoding.ids[encoding.length...]), [Int](repeating: 0, count: 16 - encoding.length))
    }

    func testPythonLowerHandlesFinalSigma() {
        func lower(_ s: String) -> String { String(String.UnicodeScalarView(SentencePieceTokenizer.pythonLower(Array(s.unicodeScalars)))) }
        XCTAssertEqual(lower("ΟΔΟΣ"), "οδος")
        XCTAssertEqual(lower("ΟΔΟΣ ΟΔΟΣ"), "οδος οδος")
        XCTAssertEqual(lower("Σ"), "σ")
        XCTAssertEqual(lower("İ"), "i\u{307}")
    }

    func testBadTokenizerFilesAreNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertThrowsError(try SentencePieceTokenizer.load(folder: folder)) { error in
            XCTAssert("\(error)".contains("spiece.model"), "\(error)")
        }
        try Data("not a model".utf8).write(to: folder.appendingPathComponent("spiece.model"))
        XCTAssertThrowsError(try SentencePieceTokenizer.load(folder: folder)) { error in
            XCTAssert("\(error)".contains("spiece.model: is not a SentencePiece model"), "\(error)")
        }
    }
}
