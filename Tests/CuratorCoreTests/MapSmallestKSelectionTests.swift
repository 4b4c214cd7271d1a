import XCTest
@testable import CuratorCore

final class MapSmallestKSelectionTests: XCTestCase {
    func testKeepsWhatAFreshSmallestKKeepsRowAfterRow() {
        var random = Xoshiro256StarStar(seed: 11)
        for k in [1, 3, 32] {
            // One selection reused for every row, as the neighbour search reuses it.
            var selection = SmallestKSelection(k: k)
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
                var fresh = SmallestK(k: k)
                for (index, distance) in candidates where distance <= fresh.bound { fresh.offer(index, distance) }
                for (index, distance) in candidates { selection.offer(index, distance) }
                XCTAssertEqual(selection.bound, fresh.bound, "k \(k), row \(row): the k-th distance kept")
                var got = [Int32](repeating: 7, count: k), gotDistances = [Float](repeating: 7, count: k)
                got.withUnsafeMutableBufferPointer { i in
                    gotDistances.withUnsafeMutableBufferPointer { d in selection.take(indices: i.baseAddress!, distances: d.baseAddress!) }
                }
                XCTAssertEqual(got, fresh.indices, "k \(k), row \(row): \(count) candidates")
                XCTAssertEqual(gotDistances, fresh.distances, "k \(k), row \(row)")
                XCTAssertEqual(selection.count, 0, "take starts over")
            }
        }
    }
}
