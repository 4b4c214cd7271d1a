import CuratorCore
import XCTest

final class PixelDescriptorTests: XCTestCase {
    let photo = SyntheticImages.scene(1, width: 256, height: 192)

    func length(_ v: ArraySlice<Float>) -> Float { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    func testVectorIsUnitLengthAndEveryBlockCounts() {
        for image in [photo, SyntheticImages.noise(2, width: 200, height: 150), SyntheticImages.flat(0, 0, 0, width: 64, height: 64),
                      SyntheticImages.flat(128, 128, 128, width: 10, height: 10), SyntheticImages.flat(255, 0, 0, width: 1, height: 1)] {
            let (vector, _) = PixelDescriptor.compute(image)
            XCTAssertEqual(vector.count, 384)
            XCTAssertEqual(length(vector[...]), 1, accuracy: 1e-5)
            XCTAssertTrue(vector.allSatisfy(\.isFinite))
        }
        let (vector, _) = PixelDescriptor.compute(photo)
        for range in [PixelDescriptor.layoutRange, PixelDescriptor.histogramRange, PixelDescriptor.textureRange] {
            let share = length(vector[range])
            // Each block is weighted to about 1/√3 ≈ 0.58 of the length.
            XCTAssertGreaterThan(share, 0.4, "block \(range) is present")
            XCTAssertLessThan(share, 0.7, "block \(range) does not dominate")
        }
    }

    func testDeterministic() {
        let first = PixelDescriptor.compute(photo)
        let second = PixelDescriptor.compute(photo)
        XCTAssertEqual(first.vector, second.vector)
        XCTAssertEqual(first.statistics, second.statistics)
    }

    func testWorkspaceReuseGivesTheSameResultAsAFreshOne() {
        let workspace = PixelDescriptor.Workspace(pixels: 16)  // grows as needed
        var reused = [Float](repeating: 9, count: 384)
        for image in [SyntheticImages.noise(5, width: 300, height: 200), photo] {
            let statistics = image.pixels.withUnsafeBufferPointer { pixels in
                reused.withUnsafeMutableBufferPointer { out in
                    PixelDescriptor.compute(pixels: pixels, width: image.width, height: image.height, into: out, workspace: workspace)
                }
            }
            XCTAssertEqual(reused, PixelDescriptor.compute(image).vector)
            XCTAssertEqual(statistics, PixelDescriptor.compute(image).statistics)
        }
    }

    func testBlurredCopyIsLessSharpButStillSimilar() {
        let blurred = SyntheticImages.blurred(photo, radius: 2)
        let sharp = PixelDescriptor.compute(photo), soft = PixelDescriptor.compute(blurred)
        XCTAssertLessThan(soft.statistics.sharpness, sharp.statistics.sharpness / 4,
                          "sharp \(sharp.statistics.sharpness), blurred \(soft.statistics.sharpness)")
        let other = PixelDescriptor.compute(SyntheticImages.scene(2, width: 256, height: 192))
        XCTAssertGreaterThan(SyntheticImages.cosine(sharp.vector, soft.vector), SyntheticImages.cosine(sharp.vector, other.vector))
    }

    func testDarkerExposureHasLowerBrightness() {
        let dark = SyntheticImages.scaled(photo, by: 0.3)
        let normal = PixelDescriptor.compute(photo).statistics, low = PixelDescriptor.compute(dark).statistics
        XCTAssertLessThan(low.brightness, normal.brightness * 0.5)
        XCTAssertLessThan(low.contrast, normal.contrast)
        XCTAssertEqual(PixelDescriptor.compute(SyntheticImages.flat(0, 0, 0, width: 8, height: 8)).statistics.brightness, 0)
        XCTAssertEqual(PixelDescriptor.compute(SyntheticImages.flat(255, 255, 255, width: 8, height: 8)).statistics.brightness, 1)
    }

    func testFlatImageHasNoEntropyContrastOrSharpness() {
        let flat = PixelDescriptor.compute(SyntheticImages.flat(90, 140, 200, width: 120, height: 80)).statistics
        XCTAssertEqual(flat.entropy, 0, accuracy: 1e-9)
        XCTAssertEqual(flat.contrast, 0, accuracy: 1e-9)
        XCTAssertEqual(flat.sharpness, 0, accuracy: 1e-9)
        let noisy = PixelDescriptor.compute(SyntheticImages.noise(7, width: 256, height: 256)).statistics
        XCTAssertGreaterThan(noisy.entropy, 7.5, "uniform noise fills the grey histogram")
        XCTAssertLessThanOrEqual(noisy.entropy, 8)
        XCTAssertGreaterThan(noisy.sharpness, 1000)
    }

    func testColourfulnessFollowsHaslerSusstrunk() {
        XCTAssertEqual(PixelDescriptor.compute(SyntheticImages.flat(120, 120, 120, width: 16, height: 16)).statistics.colourfulness,
                       0, accuracy: 1e-9)
        // A flat colour has no spread: M = 0.3 × |mean(rg, yb)|. Red: rg = 255, yb = 127.5.
        let red = PixelDescriptor.compute(SyntheticImages.flat(255, 0, 0, width: 16, height: 16)).statistics
        XCTAssertEqual(red.colourfulness, 0.3 * (255.0 * 255 + 127.5 * 127.5).squareRoot(), accuracy: 1e-6)
        let grey = SyntheticImages.scene(3, width: 128, height: 96).pixels.chunks3.map { pixel in
            let y = UInt8((Int(pixel[0]) + Int(pixel[1]) + Int(pixel[2])) / 3)
            return [y, y, y]
        }
        let colour = PixelDescriptor.compute(SyntheticImages.scene(3, width: 128, height: 96)).statistics
        let greyscale = PixelDescriptor.compute(RGBImage(width: 128, height: 96, pixels: Array(grey.joined()))).statistics
        XCTAssertEqual(greyscale.colourfulness, 0, accuracy: 1e-9)
        XCTAssertGreaterThan(colour.colourfulness, 15)
    }

    func testResizedAndShiftedCopiesAreCloserThanOtherPictures() {
        let base = PixelDescriptor.compute(photo).vector
        let resized = PixelDescriptor.compute(SyntheticImages.scene(1, width: 200, height: 150)).vector
        let shifted = PixelDescriptor.compute(SyntheticImages.scene(1, width: 256, height: 192, shift: (6, 4))).vector
        let nearest = (2...6).map { seed in
            SyntheticImages.cosine(base, PixelDescriptor.compute(SyntheticImages.scene(seed, width: 256, height: 192)).vector)
        }.max()!
        XCTAssertGreaterThan(SyntheticImages.cosine(base, resized), nearest)
        XCTAssertGreaterThan(SyntheticImages.cosine(base, shifted), nearest)
        XCTAssertGreaterThan(SyntheticImages.cosine(base, resized), 0.9)
    }

    func testColourAndLayoutAreDistinguished() {
        func vector(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> [Float] {
            PixelDescriptor.compute(SyntheticImages.flat(r, g, b, width: 32, height: 32)).vector
        }
        let red = vector(220, 30, 30), darkRed = vector(150, 20, 20), blue = vector(30, 30, 220)
        XCTAssertGreaterThan(SyntheticImages.cosine(red, darkRed), SyntheticImages.cosine(red, blue))
        // Same colours, mirrored arrangement: the histogram matches, the layout does not.
        var leftRight = [UInt8](), rightLeft = [UInt8]()
        for _ in 0..<32 { for x in 0..<32 {
            leftRight += x < 16 ? [220, 30, 30] : [30, 30, 220]
            rightLeft += x < 16 ? [30, 30, 220] : [220, 30, 30]
        } }
        let a = PixelDescriptor.compute(RGBImage(width: 32, height: 32, pixels: leftRight)).vector
        let b = PixelDescriptor.compute(RGBImage(width: 32, height: 32, pixels: rightLeft)).vector
        XCTAssertEqual(Array(a[PixelDescriptor.histogramRange]), Array(b[PixelDescriptor.histogramRange]), accuracy: 1e-6)
        XCTAssertLessThan(SyntheticImages.cosine(a, b), 0.9)
    }

    func testEmptyOrShortPixelBufferGivesZeros() {
        let (vector, statistics) = PixelDescriptor.compute(RGBImage(width: 10, height: 10, pixels: []))
        XCTAssertEqual(vector, [Float](repeating: 0, count: 384))
        XCTAssertEqual(statistics, .zero)
    }
}

private extension Array where Element == UInt8 {
    /// The samples grouped three by three (one RGB pixel each).
    var chunks3: [[UInt8]] { stride(from: 0, to: count, by: 3).map { Array(self[$0..<($0 + 3)]) } }
}
