import XCTest
@testable import CuratorLua

/// Names of samplers, scores and exporters, checked without a regular
/// expression (which would start ICU at launch).
final class ExtensionNameTests: XCTestCase {
    func testAcceptsWordsOfLettersDigitsUnderscoresDotsAndDashes() {
        for name in ["dedup", "_private", "a", "kohya.v2", "near-dup_3", "Z9"] {
            XCTAssertTrue(Extensions.isExtensionName(name), name)
        }
    }

    func testRejectsEverythingElse() {
        for name in ["", "2words", "2 words", "a b", "-x", ".x", "é", "caf\u{E9}", "abc\n", "a/b", "a\u{0}"] {
            XCTAssertFalse(Extensions.isExtensionName(name), name.debugDescription)
        }
    }
}
