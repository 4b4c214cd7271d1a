import XCTest
@testable import CuratorCore

final class SupportSmallestKTests: XCTestCase {
    /// The k smallest finite pairs by (distance, index), padded with −1 and +∞: what `SmallestK` must keep.
    private func reference(_ candidates: [(Int32, Float)], k: Int) -> (indices: [Int32], distances: [Float]) {
        let kept = candidates.filter { $0.1.isFinite }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(k)
        let padding = k - kept.count
        return (kept.map(\.0) + Array(repeating: -1, count: padding), kept.map(\.1) + Array(repeating: .infinity, count: padding))
    }

    func testKeepsTheKSmallestRowAfterRow() {
        var random = Xoshiro256StarStar(seed: 11)
        for k in [1, 3, 32] {
            // One selection reused for every row, as the neighbour searches reuse it.
            var selection = SmallestK(k: k)
            defer { selection.deallocate() }
            for row in 0..<300 {
                let count = Int(random.next() % 200)
                // Few distinct distances in some rows (many ties at the k-th), all distinct in others.
                let levels: UInt64 = row % 2 == 0 ? 5 : 1_000_000
                var indices = Array(Int32(0)..<Int32(count))
                indices.shuffle(using: &random)
                var candidates = indices.map { ($0, Float(random.next() % levels) / Float(levels)) }
                if row % 7 == 0, !candidates.isEmpty {
                    candidates[0].1 = .nan
                    candidates[candidates.count / 2].1 = .infinity
                }
                // The row itself, offered first with −1 as the search does.
                candidates.insert((-5, -1), at: 0)
                let want = reference(candidates, k: k)
                // Callers skip what the bound already rules out; offering everything must keep the same.
                if row % 3 == 0 {
                    for (index, distance) in candidates where distance <= selection.bound { selection.offer(index, distance) }
                } else {
                    for (index, distance) in candidates { selection.offer(index, distance) }
                }
                XCTAssertEqual(selection.bound, want.distances[k - 1], "k \(k), row \(row): the k-th distance kept")
                XCTAssertEqual(Array(selection.indices), Array(want.indices.prefix(selection.count)), "k \(k), row \(row)")
                var got = [Int32](repeating: 7, count: k), gotDistances = [Float](repeating: 7, count: k)
                got.withUnsafeMutableBufferPointer { i in
                    gotDistances.withUnsafeMutableBufferPointer { d in selection.take(indices: i.baseAddress!, distances: d.baseAddress!) }
                }
                XCTAssertEqual(got, want.indices, "k \(k), row \(row): \(count) candidates")
                XCTAssertEqual(gotDistances, want.distances, "k \(k), row \(row)")
                XCTAssertEqual(selection.count, 0, "take starts over")
            }
        }
    }

    func testResetForgetsWhatWasKept() {
        var selection = SmallestK(k: 2)
        defer { selection.deallocate() }
        selection.offer(4, 0.5)
        selection.offer(9, 0.25)
        XCTAssertEqual(Array(selection.indices), [9, 4])
        XCTAssertEqual(Array(selection.distances), [0.25, 0.5])
        selection.reset()
        XCTAssertEqual(selection.count, 0)
        XCTAssertEqual(selection.bound, .infinity)
        selection.offer(1, 0.75)
        XCTAssertEqual(Array(selection.indices), [1])
    }
}
