import XCTest
@testable import CuratorCore

final class ExportAspectBucketsTests: XCTestCase {
    typealias Size = AspectBuckets.Size

    func testBucketsAtFiveTwelveAreKohyasList() {
        let sizes = AspectBuckets(width: 512, height: 512).resolutions
        let expected: [Size] = [(256, 832), (256, 896), (256, 960), (256, 1024), (320, 704), (320, 768), (384, 640),
                                (448, 576), (512, 512), (576, 448), (640, 384), (704, 320), (768, 320), (832, 256),
                                (896, 256), (960, 256), (1024, 256)].map { Size(width: $0.0, height: $0.1) }
        XCTAssertEqual(sizes, expected)
        let large = AspectBuckets(width: 1024, height: 1024).resolutions
        XCTAssertTrue(large.contains(Size(width: 1024, height: 1024)))
        XCTAssertTrue(large.contains(Size(width: 1216, height: 832)) == false, "max_reso 1024 caps every side")
        XCTAssertTrue(large.allSatisfy { $0.width <= 1024 && $0.height <= 1024 && $0.width >= 256 && $0.height >= 256 })
    }

    func testPlacementScalesToCoverAndCropsTheCentre() {
        let b = AspectBuckets(width: 512, height: 512)
        let sizes = b.resolutions
        let wide = b.place(width: 1024, height: 768, in: sizes)
        XCTAssertEqual(wide.bucket, Size(width: 576, height: 448))
        XCTAssertEqual(wide.resized, Size(width: 597, height: 448), "wider than the bucket: scaled by height")
        XCTAssertEqual(wide.cropped, 1 - 576.0 / 597.0, accuracy: 1e-9)
        XCTAssertLessThan(wide.scale, 1)
        let small = b.place(width: 300, height: 300, in: sizes)
        XCTAssertEqual(small.bucket, Size(width: 512, height: 512))
        XCTAssertEqual(small.scale, 512.0 / 300.0, accuracy: 1e-3)
        XCTAssertEqual(b.place(width: 448, height: 576, in: sizes).resized, Size(width: 448, height: 576), "an exact bucket size stays")
        let tall = b.place(width: 500, height: 2000, in: sizes)
        XCTAssertEqual(tall.bucket, Size(width: 256, height: 1024))
    }

    func testNoUpscaleKeepsSmallImagesAndShrinksLargeOnesToTheArea() {
        let b = AspectBuckets(width: 512, height: 512, noUpscale: true)
        let sizes = b.resolutions
        let small = b.place(width: 300, height: 200, in: sizes)
        XCTAssertEqual(small.resized, Size(width: 300, height: 200))
        XCTAssertEqual(small.bucket, Size(width: 256, height: 192))
        XCTAssertEqual(small.scale, 1)
        let large = b.place(width: 2000, height: 1000, in: sizes)
        XCTAssertLessThanOrEqual(large.bucket.width * large.bucket.height, 512 * 512)
        XCTAssertEqual(large.bucket.width % 64, 0)
        XCTAssertEqual(Double(large.resized.width) / Double(large.resized.height), 2, accuracy: 0.05)
    }

    func testSettingsKohyaRefusesAreRefused() {
        XCTAssertNil(AspectBuckets(width: 1024, height: 1024).problem)
        XCTAssertNotNil(AspectBuckets(width: 1280, height: 1280).problem, "max_reso below the resolution")
        XCTAssertNotNil(AspectBuckets(width: 1000, height: 1000).problem, "not a multiple of 64")
        XCTAssertNotNil(AspectBuckets(width: 512, height: 512, minimum: 2048).problem)
    }
}
