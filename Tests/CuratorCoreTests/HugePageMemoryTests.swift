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
            // releaseKept frees them; the scope stays open and keeps the next.
            HugePageMemory.releaseKept()
            XCTAssertEqual(HugePageMemory.keptRegionCount, 0)
            HugePageMemory.deallocate(HugePageMemory.allocate(Float.self, count: 1 << 20))
            XCTAssertEqual(HugePageMemory.keptRegionCount, 1)
        }
        XCTAssertEqual(HugePageMemory.keptRegionCount, 0)
        // Outside a scope nothing is kept.
        HugePageMemory.deallocate(HugePageMemory.allocate(Float.self, count: 1 << 20))
        XCTAssertEqual(HugePageMemory.keptRegionCount, 0)
    }
}
