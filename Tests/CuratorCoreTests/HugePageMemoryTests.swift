import XCTest
@testable import CuratorCore

final class HugePageMemoryTests: XCTestCase {
    /// Inside `reusingPages` a huge region given back is handed out again
    /// (the smallest that fits), a larger request gets a fresh one, and
    /// nothing is kept once the scope ends.
    func testRegionsAreReusedInsideTheScopeAndFreedAfterIt() {
        HugePageMemory.reusingPages {
            let first = HugePageMemory.allocate(Float.self, count: 3 << 18)   // 3 MiB
            first[0] = 1; first[(3 << 18) - 1] = 2
            HugePageMemory.deallocate(first)
            XCTAssertEqual(HugePageMemory.keptRegionCount, 1)
            let again = HugePageMemory.allocate(Float.self, count: 5 << 17)   // 2.5 MiB: fits the 4 MiB region
            XCTAssertEqual(UnsafeMutableRawPointer(again), UnsafeMutableRawPointer(first))
            XCTAssertEqual(HugePageMemory.keptRegionCount, 0)
            let larger = HugePageMemory.allocate(Float.self, count: 3 << 19)  // 6 MiB: a fresh region
            XCTAssertNotEqual(UnsafeMutableRawPointer(larger), UnsafeMutableRawPointer(again))
            larger[(3 << 19) - 1] = 3
            HugePageMemory.deallocate(again)
            HugePageMemory.deallocate(larger)
            XCTAssertEqual(HugePageMemory.keptRegionCount, 2)
            // Small buffers are never kept.
            let small = HugePageMemory.allocate(Float.self, count: 1000)
            HugePageMemory.deallocate(small)
            XCTAssertEqual(HugePageMemory.keptRegionCount, 2)
        }
        XCTAssertEqual(HugePageMemory.keptRegionCount, 0)
    }

    /// A prefault thread's regions are kept for `allocate` until finished;
    /// memory handed out meanwhile is whole and writable, and nothing is
    /// kept after the scope, finished or not.
    func testPrefaultedRegionsServeAllocationsAndEndWithTheScope() {
        HugePageMemory.reusingPages {
            let prefaulting = HugePageMemory.prefault([3 << 20, 1000, 5 << 20])
            let values = 5 << 18
            let block = HugePageMemory.allocate(Float.self, count: values)
            for i in stride(from: 0, to: values, by: 1024) { block[i] = Float(i) }
            XCTAssertEqual(block[values - 1024], Float(values - 1024))
            prefaulting.finish()
            HugePageMemory.deallocate(block)
            XCTAssertLessThanOrEqual(HugePageMemory.keptRegionCount, 3)
            XCTAssertGreaterThanOrEqual(HugePageMemory.keptRegionCount, 1)
        }
        XCTAssertEqual(HugePageMemory.keptRegionCount, 0)
        // Outside a scope nothing is kept, and a prefault keeps nothing either.
        let lone = HugePageMemory.allocate(Float.self, count: 1 << 20)
        HugePageMemory.deallocate(lone)
        HugePageMemory.prefault([2 << 20]).finish()
        XCTAssertEqual(HugePageMemory.keptRegionCount, 0)
    }
}
