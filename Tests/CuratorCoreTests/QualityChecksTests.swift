import XCTest
@testable import CuratorCore

final class QualityChecksTests: XCTestCase {
    private func stats(brightness: Double = 0.45, contrast: Double = 0.2, sharpness: Double = 2000, entropy: Double = 6.5) -> ImageStatistics {
        ImageStatistics(sharpness: sharpness, brightness: brightness, contrast: contrast, colourfulness: 20, entropy: entropy)
    }

    /// Twenty ordinary images with a little spread, so the album's baselines are real.
    private func ordinary() -> [Int64: ImageStatistics] {
        var out: [Int64: ImageStatistics] = [:]
        for i in 0..<20 {
            let k = Double(i % 5)
            out[Int64(i + 1)] = stats(brightness: 0.4 + 0.02 * k, contrast: 0.18 + 0.01 * k, sharpness: 1800 + 100 * k, entropy: 6 + 0.2 * k)
        }
        return out
    }

    func testFlagsWhatStandsOutAndFailsTheRule() {
        var all = ordinary()
        all[100] = stats(brightness: 0.05, entropy: 6)            // dark
        all[101] = stats(brightness: 0.93)                       // overexposed
        all[102] = stats(contrast: 0.2, sharpness: 20)           // blurry: 20 / (51)^2 ≈ 0.0077... below the album's by far
        all[103] = stats(brightness: 0.5, contrast: 0.001, sharpness: 0, entropy: 0.1)  // blank frame
        let checks = QualityChecks(statistics: all)
        XCTAssertEqual(checks.issues(of: 100), ["dark"])
        XCTAssertEqual(checks.issues(of: 101), ["overexposed"])
        XCTAssertEqual(checks.issues(of: 102), ["blurry"])
        XCTAssertEqual(checks.issues(of: 103), ["low_information"])
        XCTAssertEqual(checks.issues(of: 1), [])
        XCTAssertNil(checks.issues(of: 999), "no statistics: not checked")
        XCTAssertEqual(Set(checks.flagged().keys), [100, 101, 102, 103])
        XCTAssertEqual(checks.checkedCount, 24)
    }

    func testAnAlbumThatIsDarkThroughoutIsNotAllFlagged() {
        // Night photos: every one under the absolute rule, none standing out from the album.
        var all: [Int64: ImageStatistics] = [:]
        for i in 0..<20 { all[Int64(i + 1)] = stats(brightness: 0.08 + 0.002 * Double(i)) }
        XCTAssertTrue(QualityChecks(statistics: all).flagged().isEmpty)
        var absolute = QualityChecks.Thresholds()
        absolute.robustZ = 0
        XCTAssertEqual(QualityChecks(statistics: all, thresholds: absolute).flagged().count, 20, "the absolute rule alone flags them all")
    }

    func testAnImageOfOneColourIsLowInformationEvenInAnAlbumOfFlatDrawings() {
        // Clip art: entropies from 0.3 to 4 bits, contrast 0.05 to 0.4, so a
        // drawing of few flat colours does not stand out...
        var all: [Int64: ImageStatistics] = [:]
        for i in 0..<40 {
            let k = Double(i % 8) / 7
            all[Int64(i + 1)] = stats(brightness: 0.35 + 0.6 * k, contrast: 0.05 + 0.35 * k, sharpness: 3000, entropy: 0.3 + 3.7 * k)
        }
        all[100] = stats(brightness: 0.7, contrast: 0.05, sharpness: 3000, entropy: 0.3)   // a flat drawing
        all[101] = stats(brightness: 1.0, contrast: 0, sharpness: 0, entropy: 0)            // nothing drawn
        all[102] = stats(brightness: 0.13, contrast: 0.001, sharpness: 0, entropy: 0)       // one colour
        let checks = QualityChecks(statistics: all)
        XCTAssertEqual(checks.issues(of: 100), [], "a flat drawing among flat drawings is fine")
        XCTAssertEqual(checks.issues(of: 101), ["low_information"])
        XCTAssertEqual(checks.issues(of: 102), ["low_information"])
        // ...which is the relative rule's doing: without the flat rule neither is flagged.
        var relativeOnly = QualityChecks.Thresholds()
        relativeOnly.flat = 0
        XCTAssertEqual(checks.with(relativeOnly).issues(of: 101), [])
        XCTAssertEqual(checks.with(relativeOnly).issues(of: 102), [])
    }

    func testBaselinesAndZ() {
        var all = ordinary()
        all[100] = stats(brightness: 0.05, entropy: 6)
        let checks = QualityChecks(statistics: all)
        let brightness = checks.baseline(.brightness)
        XCTAssertEqual(brightness?.count, 21)
        XCTAssertEqual(brightness?.median ?? 0, 0.44, accuracy: 1e-12)
        XCTAssertEqual(brightness?.spread ?? 0, 0.03, accuracy: 1e-12, "1.4826 × MAD 0.02 is below the floor 0.03")
        XCTAssertEqual(checks.z(of: 100, .brightness) ?? 0, (0.05 - 0.44) / 0.03, accuracy: 1e-9)
        XCTAssertNil(checks.z(of: 999, .brightness))
        // Other thresholds keep the baselines and change the verdicts.
        var lenient = QualityChecks.Thresholds()
        lenient.dark = 0.01
        XCTAssertEqual(checks.with(lenient).issues(of: 100), [])
        XCTAssertEqual(checks.with(lenient).baseline(.brightness), brightness)
        // A flat image has no relative sharpness, so no log measure either.
        XCTAssertNil(QualityChecks.Measure.logRelativeSharpness.value(stats(contrast: 0)))
    }
}
