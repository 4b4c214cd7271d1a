import XCTest
@testable import CuratorCore

final class VersionTests: XCTestCase {
    func testVersionIsSemantic() {
        XCTAssertEqual(CuratorVersion.string.split(separator: ".").count, 3)
    }
}
