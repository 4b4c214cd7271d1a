@testable import CuratorCore
import XCTest

final class FarthestPointLanesTests: XCTestCase {
    func testRunsLeftOverAreSplitBetweenTwoLanes() {
        let five = FarthestPointLanes(runs: 5, lanes: 2)
        XCTAssertEqual(five.whole, [0..<2, 2..<4])
        XCTAssertEqual(five.split, [.init(run: 4, headLane: 0, tailLane: 1)])
        let seven = FarthestPointLanes(runs: 7, lanes: 4)
        XCTAssertEqual(seven.whole, [0..<1, 1..<2, 2..<3, 3..<4])
        XCTAssertEqual(seven.split, [.init(run: 4, headLane: 0, tailLane: 1), .init(run: 5, headLane: 2, tailLane: 3),
                                     .init(run: 6, headLane: 0, tailLane: 1)])
    }

    func testRunsThatDivideOrAreTooFewAreNotSplit() {
        XCTAssertEqual(FarthestPointLanes(runs: 4, lanes: 2), FarthestPointLanes(runs: 4, lanes: 2, splits: false))
        XCTAssertEqual(FarthestPointLanes(runs: 4, lanes: 2).whole, [0..<2, 2..<4])
        // Fewer runs than lanes: a tail would wait for its head with nothing else to do.
        XCTAssertEqual(FarthestPointLanes(runs: 3, lanes: 4).split, [])
        XCTAssertEqual(FarthestPointLanes(runs: 3, lanes: 4).whole, [0..<0, 0..<1, 1..<2, 2..<3])
        XCTAssertEqual(FarthestPointLanes(runs: 5, lanes: 2, splits: false).whole, [0..<2, 2..<5])
        XCTAssertEqual(FarthestPointLanes(runs: 5, lanes: 1).whole, [0..<5])
    }

    func testAHeadTakesAboutTwoFifthsOfTheSteps() {
        XCTAssertEqual(FarthestPointLanes.headSteps(count: 200), 80)
        XCTAssertEqual(FarthestPointLanes.headSteps(count: 1), 1)
        XCTAssertEqual(FarthestPointLanes.headSteps(count: 2), 1)
    }
}
