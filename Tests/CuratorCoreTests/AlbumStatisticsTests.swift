import XCTest
@testable import CuratorCore

/// `Album.measureMissingStatistics` (`a:measure()`) and the counter that tells
/// the quality checks' caches it ran.
final class AlbumStatisticsTests: XCTestCase {
    /// Measuring writes statistics without touching the vectors or the image
    /// list, so only the statistics counter says the checks are stale; the
    /// quality checks read afterwards see every image measured.
    func testMeasuringMovesTheStatisticsGenerationAndNothingElse() throws {
        let folder = TemporaryFolder()
        for seed in 1...3 { folder.writePNG("image\(seed).png", size: 32, seed: seed) }
        var options = Album.OpenOptions()
        options.embed = false
        let album = try Album.open(folder.path, options: options)
        let before = try album.database.generations()
        let ids = album.images.map(\.id)
        XCTAssertEqual(ids.count, 3)
        let unmeasured = try album.qualityChecks()
        XCTAssertTrue(ids.allSatisfy { unmeasured.statistics(of: $0) == nil }, "nothing measured yet")

        XCTAssertEqual(try album.measureMissingStatistics(), 3)
        let after = try album.database.generations()
        XCTAssertTrue(after.statisticsDiffer(from: before))
        XCTAssertFalse(after.imagesDiffer(from: before), "the image list and vectors are as they were")
        XCTAssertEqual(after.imageSets, before.imageSets)
        let measured = try album.qualityChecks()
        XCTAssertTrue(ids.allSatisfy { measured.statistics(of: $0) != nil && measured.issues(of: $0) != nil })

        XCTAssertEqual(try album.measureMissingStatistics(), 0)
        XCTAssertFalse(try album.database.generations().statisticsDiffer(from: after), "nothing measured: nothing stale")
    }
}
