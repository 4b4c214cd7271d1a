import XCTest
@testable import CuratorCore

final class SelectionBalanceTests: XCTestCase {
    func testEqualQuotasAreWithinOneAndSmallStrataGiveAll() {
        var random = Xoshiro256StarStar(seed: 5)
        for _ in 0..<500 {
            let n = 1 + random.nextInt(below: 8)
            let sizes = (0..<n).map { _ in random.nextInt(below: 40) }
            let total = sizes.reduce(0, +)
            let count = 1 + random.nextInt(below: 80)
            let names = (0..<n).map { "s\($0)" }
            let (quotas, notes) = SelectionBalance.quotas(names: names, sizes: sizes, count: count, mode: .equal)
            XCTAssertEqual(quotas.reduce(0, +), min(count, total), "sizes \(sizes), count \(count)")
            for s in 0..<n { XCTAssertLessThanOrEqual(quotas[s], sizes[s]) }
            // Every stratum not given all it has is within one of every other such stratum, and of no less than a full one.
            let open = (0..<n).filter { quotas[$0] < sizes[$0] }
            if let low = open.map({ quotas[$0] }).min(), let high = open.map({ quotas[$0] }).max() {
                XCTAssertLessThanOrEqual(high - low, 1, "sizes \(sizes), count \(count): \(quotas)")
                for s in 0..<n where quotas[s] == sizes[s] && sizes[s] > 0 {
                    XCTAssertLessThanOrEqual(quotas[s], high, "a full stratum never gets more than an open one")
                    if quotas[s] < low { XCTAssertNotNil(notes[s]) }
                }
            }
        }
    }

    func testProportionalQuotasFollowTheSizes() {
        let (quotas, _) = SelectionBalance.quotas(names: ["a", "b", "c"], sizes: [50, 30, 20], count: 10, mode: .proportional)
        XCTAssertEqual(quotas, [5, 3, 2])
        let (rounded, _) = SelectionBalance.quotas(names: ["a", "b", "c"], sizes: [1, 8, 3], count: 6, mode: .proportional)
        XCTAssertEqual(rounded, [1, 4, 1], "largest remainders, ties to the first")
        let (all, _) = SelectionBalance.quotas(names: ["a", "b"], sizes: [2, 3], count: 9, mode: .proportional)
        XCTAssertEqual(all, [2, 3])
    }

    func testQuotasCapAtTheStratumWithANote() {
        let (quotas, notes) = SelectionBalance.quotas(names: ["a", "b", "c"], sizes: [4, 2, 9], count: 0,
                                                      mode: .quotas(["a": 3, "b": 5]))
        XCTAssertEqual(quotas, [3, 2, 0])
        XCTAssertNil(notes[0])
        XCTAssertEqual(notes[1], "quota 5 is more than its 2 candidates: all of them")
    }

    func testBalancedSelectionTakesEachStratumsBestByVotes() {
        let strata = [SelectionStratum(name: "x", candidates: 5, quota: 1, voted: [1, 2, 3]),
                      SelectionStratum(name: "y", candidates: 5, quota: 2, voted: [4, 5, 6])]
        XCTAssertEqual(SelectionBalance.selection(ranking: [1, 2, 3, 4, 5, 6], strata: strata), [1, 4, 5])
    }

    func testCaptionWordsMatchWholeWordsInAnyCase() {
        XCTAssertTrue(CaptionWords.contains("A red Sunset, over water", phrase: "sunset"))
        XCTAssertFalse(CaptionWords.contains("no sunsets here", phrase: "sunset"))
        XCTAssertTrue(CaptionWords.contains("the Golden  hour light", phrase: "golden hour"))
        XCTAssertFalse(CaptionWords.contains("sea", phrase: "season"))
    }
}
