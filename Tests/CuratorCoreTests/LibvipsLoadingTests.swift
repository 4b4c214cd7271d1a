import CVipsAPICheck
import CuratorCore
import XCTest

/// libvips is opened with dlopen on first use (CVipsShims/VipsAPI.h); these
/// check the declarations that replaced its headers and that it does load.
final class LibvipsLoadingTests: XCTestCase {
    func testDeclarationsMatchTheInstalledHeaders() {
        // Prototypes and enum values are checked when CVipsAPICheck compiles;
        // the metadata names only at run time.
        XCTAssertEqual(curator_vips_api_checked(), 1)
    }

    func testLoadsOnFirstUse() throws {
        XCTAssertTrue(Libvips.start(), Libvips.unavailableReason ?? "")
        XCTAssertNil(Libvips.unavailableReason)
        XCTAssertNoThrow(try Libvips.require())
    }

    func testVectorPathsAreOffWhereOrcIsNotThreadSafe() throws {
        let version = try XCTUnwrap(Libvips.version, Libvips.unavailableReason ?? "")
        XCTAssertEqual(version.major, 8)
        if version.minor < 15 {
            // Orc's code allocator races when pipelines are built and freed
            // on several threads at once, which every batch embedder does.
            XCTAssertFalse(Libvips.isVectorised, "libvips \(version) compiles Orc code per pipeline")
        }
    }
}
