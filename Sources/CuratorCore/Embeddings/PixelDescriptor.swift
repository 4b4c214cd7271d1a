#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `pixels` embedder's descriptor: a 384-d, L2-normalised float32 vector
/// computed from an 8-bit sRGB thumbnail, plus `ImageStatistics`. It is
/// visual, not semantic: two photos of different things with the same
/// colours and layout are close; the same thing photographed differently is
/// not.
///
/// The vector has three blocks, each weighted so none dominates
/// (each at most 1/√3 of the length before the final normalisation):
/// - **Colour layout** `[0, 192)`: the image cut into an 8 × 8 grid; each
///   cell's mean colour (averaged in linear light) in CIELAB, as
///   `(L − 50)/50`, `a/50`, `b/50`, stored planar (64 L, then 64 a, then
///   64 b). Scaled by 1/8 and capped at length 1, so mid-grey is 0 and the
///   magnitude (how far from grey) counts, not only the pattern.
/// - **Colour histogram** `[192, 256)`: 4 × 4 × 4 bins over CIELAB (L
///   uniform; a and b companded with tanh so neutral and muted colours get
///   resolution), filled with trilinear soft assignment so small colour
///   shifts move weight smoothly; square-rooted proportions (Hellinger), so
///   its length is exactly 1 and dominant colours do not swamp the rest.
/// - **Texture** `[256, 384)`: a 4 × 4 grid of 8-bin histograms of
///   unsigned gradient orientation (central differences of luma), weighted
///   by gradient magnitude, soft-assigned between adjacent orientations;
///   divided by (total magnitude + 2 per pixel) and square-rooted, so
///   textures compare by shape and near-flat images (noise-level gradients)
///   get a short block instead of amplified noise.
///
/// The vector is computed from the colour as shown on white. For an image
/// with transparency the statistics' tone (brightness, colourfulness) is the
/// drawing's own, each pixel weighed by its opacity: a transparent
/// background is neither white nor black, so a white owl on nothing is not
/// "overexposed". Its structure (contrast, entropy, sharpness) is measured
/// against a page that contrasts with the drawing (see `weightedStatistics`).
///
/// The computation is deterministic and pure (same pixels, same bits out).
public enum PixelDescriptor {
    /// The vector length.
    public static let dimension = 384
    /// Where the colour layout sits in the vector.
    public static let layoutRange = 0..<192
    /// Where the colour histogram sits in the vector.
    public static let histogramRange = 192..<256
    /// Where the texture block sits in the vector.
    public static let textureRange = 256..<384

    /// Scratch memory for one thread: reused across images so the hot loop
    /// allocates nothing once it has seen its largest image.
    public final class Workspace {
        fileprivate var luma: UnsafeMutablePointer<UInt8>
        /// Luma of an image with transparency, the drawing's own and then as shown on its page (see `weightedStatistics`).
        fileprivate var opaqueLuma: UnsafeMutablePointer<UInt8>
        fileprivate var lumaCapacity: Int
        /// For each column, the offset of its texture cell within a cell row.
        fileprivate var columnCells: UnsafeMutablePointer<Int>
        fileprivate var columnCapacity: Int
        fileprivate let greyHistogram = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        fileprivate let colourHistogram = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        fileprivate let orientations = UnsafeMutablePointer<Float>.allocate(capacity: 128)

        /// Creates a workspace sized for images of up to `pixels` pixels (it grows if needed).
        public init(pixels: Int = 256 * 256) {
            lumaCapacity = max(1, pixels)
            luma = .allocate(capacity: lumaCapacity)
            opaqueLuma = .allocate(capacity: lumaCapacity)
            columnCapacity = 1024
            columnCells = .allocate(capacity: columnCapacity)
        }

        fileprivate func reserve(pixels: Int, width: Int) {
            if pixels > lumaCapacity {
                luma.deallocate()
                opaqueLuma.deallocate()
                lumaCapacity = pixels
                luma = .allocate(capacity: pixels)
                opaqueLuma = .allocate(capacity: pixels)
            }
            if width > columnCapacity {
                columnCells.deallocate()
                columnCapacity = width
                columnCells = .allocate(capacity: width)
            }
        }

        deinit {
            luma.deallocate()
            opaqueLuma.deallocate()
            columnCells.deallocate()
            greyHistogram.deallocate()
            colourHistogram.deallocate()
            orientations.deallocate()
        }
    }

    /// Computes the descriptor and statistics of `image` (weighing its
    /// pixels by their opacity when it has an alpha band).
    public static func compute(_ image: RGBImage) -> (vector: [Float], statistics: ImageStatistics) {
        var vector = [Float](repeating: 0, count: dimension)
        let workspace = Workspace(pixels: image.width * image.height)
        let statistics = image.pixels.withUnsafeBufferPointer { pixels in
            vector.withUnsafeMutableBufferPointer { out in
                if let alpha = image.alpha {
                    return alpha.withUnsafeBufferPointer { alpha in
                        compute(pixels: pixels, width: image.width, height: image.height, alpha: alpha, into: out, workspace: workspace)
                    }
                }
                return compute(pixels: pixels, width: image.width, height: image.height, into: out, workspace: workspace)
            }
        }
        return (vector, statistics)
    }

    /// Computes the descriptor of the `width × height` RGB image in `pixels`
    /// into `vector` (its first `dimension` floats) and returns its
    /// statistics. Rows past the end of `pixels` are ignored; an empty image
    /// gives a zero vector and zero statistics. `alpha`, when given, holds
    /// each pixel's opacity (`pixels` being the colour flattened on white):
    /// the statistics then weigh pixels by it; an image without any opaque
    /// pixel measures as the white it is shown on.
    public static func compute(pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                               alpha: UnsafeBufferPointer<UInt8>? = nil,
                               into vector: UnsafeMutableBufferPointer<Float>,
                               workspace: Workspace) -> ImageStatistics {
        guard let out = vector.baseAddress, vector.count >= dimension else { return .zero }
        out.initialize(repeating: 0, count: dimension)
        let width = max(0, width)
        let rows = width == 0 ? 0 : min(max(0, height), pixels.count / (width * 3))
        guard width > 0, rows > 0, let rgb = pixels.baseAddress else { return .zero }
        let count = width * rows
        workspace.reserve(pixels: count, width: width)

        let statistics = colourPass(rgb: rgb, count: count, workspace: workspace, histogram: out + histogramRange.lowerBound)
        colourLayout(rgb: rgb, width: width, height: rows, into: out + layoutRange.lowerBound)
        let sharpness = texturePass(luma: workspace.luma, width: width, height: rows, workspace: workspace,
                                    into: out + textureRange.lowerBound)
        EmbeddingMatrix.normalize(out, count: dimension)
        if let alpha, alpha.count >= count, let opacity = alpha.baseAddress,
           let weighted = weightedStatistics(rgb: rgb, opacity: opacity, width: width, height: rows, workspace: workspace) {
            return weighted
        }
        return ImageStatistics(sharpness: sharpness, brightness: statistics.brightness, contrast: statistics.contrast,
                               colourfulness: statistics.colourfulness, entropy: statistics.entropy)
    }

    /// The statistics of an image with transparency. Its tone (brightness,
    /// colourfulness) is that of the drawing alone: each pixel weighed by its
    /// opacity and taken in its own colour (recovered from the white it was
    /// flattened on), so a transparent background adds neither white nor
    /// black. Its structure (contrast, entropy, sharpness) is measured on the
    /// drawing shown on a page that contrasts with it — white under a dark
    /// drawing, black under a light one: the outline of a one-tone
    /// silhouette or line drawing is all its information, and measured on
    /// the drawing alone it would read as flat. nil when every pixel is
    /// opaque (the plain statistics are the same) or none is (the white it is
    /// shown on is all there is).
    private static func weightedStatistics(rgb: UnsafePointer<UInt8>, opacity: UnsafePointer<UInt8>,
                                           width: Int, height: Int, workspace: Workspace) -> ImageStatistics? {
        let count = width * height
        var opaque = true
        for i in 0..<count where opacity[i] != 255 { opaque = false; break }
        if opaque { return nil }
        let luma = workspace.opaqueLuma
        var weight = 0, sumY = 0, sumRG = 0, sumYB = 0, sumRG2 = 0, sumYB2 = 0
        for i in 0..<count {
            let a = Int(opacity[i])
            guard a > 0 else { luma[i] = 0; continue }
            // Flattened f = (a·c + (255 − a)·255) / 255, so c = 255·(f − 255 + a) / a.
            @inline(__always) func own(_ f: UInt8) -> Int {
                a == 255 ? Int(f) : min(255, max(0, (510 * (Int(f) - 255 + a) + a) / (2 * a)))
            }
            let r = own(rgb[3 * i]), g = own(rgb[3 * i + 1]), b = own(rgb[3 * i + 2])
            let y = (54 * r + 183 * g + 19 * b + 128) >> 8
            luma[i] = UInt8(truncatingIfNeeded: y)
            weight += a
            sumY += a * y
            let rg = r - g, yb2 = r + g - 2 * b
            sumRG += a * rg; sumRG2 += a * rg * rg
            sumYB += a * yb2; sumYB2 += a * yb2 * yb2
        }
        guard weight > 0 else { return nil }
        let meanY = Double(sumY) / Double(weight)
        let colourfulness = opponentColourfulness(sumRG: sumRG, sumRG2: sumRG2, sumYB: sumYB, sumYB2: sumYB2, weight: weight)

        // The drawing on its contrasting page.
        let page = meanY < 127.5 ? 255 : 0
        let grey = workspace.greyHistogram
        grey.initialize(repeating: 0, count: 256)
        for i in 0..<count {
            let a = Int(opacity[i])
            if a != 255 { luma[i] = UInt8(truncatingIfNeeded: (a * Int(luma[i]) + (255 - a) * page + 127) / 255) }
            grey[Int(luma[i])] += 1
        }
        let shown = lumaMoments(grey)
        var sharpness = 0.0
        if width >= 3, height >= 3 {
            var sumLap = 0, sumLap2 = 0
            for y in 1..<(height - 1) {
                let row = luma + y * width, up = row - width, down = row + width
                for x in 1..<(width - 1) {
                    let lap = Int(row[x - 1]) + Int(row[x + 1]) + Int(up[x]) + Int(down[x]) - 4 * Int(row[x])
                    sumLap += lap; sumLap2 += lap * lap
                }
            }
            let n = Double((width - 2) * (height - 2))
            let mean = Double(sumLap) / n
            sharpness = max(0, Double(sumLap2) / n - mean * mean)
        }
        return ImageStatistics(sharpness: sharpness, brightness: meanY / 255, contrast: shown.variance.squareRoot() / 255,
                               colourfulness: colourfulness, entropy: shown.entropy)
    }

    private static let blockWeight: Float = 1 / Float(3).squareRoot()

    /// One pass over the pixels: luma (kept for the texture pass), the grey
    /// histogram, luma and opponent-colour moments, and the soft colour histogram.
    private static func colourPass(rgb: UnsafePointer<UInt8>, count: Int, workspace: Workspace,
                                   histogram out: UnsafeMutablePointer<Float>)
        -> (brightness: Double, contrast: Double, colourfulness: Double, entropy: Double) {
        let grey = workspace.greyHistogram
        grey.initialize(repeating: 0, count: 256)
        let bins = workspace.colourHistogram
        bins.initialize(repeating: 0, count: 64)
        let luma = workspace.luma
        var sumRG = 0, sumYB = 0, sumRG2 = 0, sumYB2 = 0
        let fraction: Float = 1 / 255
        HistogramTable.shared.table.withUnsafeBufferPointer { table in
            let table = table.baseAddress!
            for i in 0..<count {
                let r = Int(rgb[3 * i]), g = Int(rgb[3 * i + 1]), b = Int(rgb[3 * i + 2])
                let y = (54 * r + 183 * g + 19 * b + 128) >> 8
                luma[i] = UInt8(truncatingIfNeeded: y)
                grey[y] += 1
                let rg = r - g, yb2 = r + g - 2 * b  // yb2 = 2 × ((R+G)/2 − B), kept integral
                sumRG += rg; sumRG2 += rg * rg
                sumYB += yb2; sumYB2 += yb2 * yb2

                // Trilinear soft assignment into the 4×4×4 Lab bins.
                let entry = table[(r >> 3) << 10 | (g >> 3) << 5 | (b >> 3)]
                let fl = Float((entry >> 8) & 0xFF) * fraction
                let fa = Float((entry >> 16) & 0xFF) * fraction
                let fb = Float(entry >> 24) * fraction
                let base = bins + Int(entry & 0xFF)
                let l0 = 1 - fl, a0 = 1 - fa, b0 = 1 - fb
                base[0] += l0 * a0 * b0
                base[1] += l0 * a0 * fb
                base[4] += l0 * fa * b0
                base[5] += l0 * fa * fb
                base[16] += fl * a0 * b0
                base[17] += fl * a0 * fb
                base[20] += fl * fa * b0
                base[21] += fl * fa * fb
            }
        }
        let n = Float(count)
        for k in 0..<64 { out[k] = (bins[k] / n).squareRoot() * blockWeight }

        let moments = lumaMoments(grey)
        let colourfulness = opponentColourfulness(sumRG: sumRG, sumRG2: sumRG2, sumYB: sumYB, sumYB2: sumYB2, weight: count)
        return (moments.mean / 255, moments.variance.squareRoot() / 255, colourfulness, moments.entropy)
    }

    /// Mean, variance (in 0…255 units) and entropy (bits) of a 256-bin luma histogram.
    private static func lumaMoments(_ grey: UnsafeMutablePointer<Int>) -> (mean: Double, variance: Double, entropy: Double) {
        var count = 0, sumY = 0, sumY2 = 0
        for level in 0..<256 {
            count += grey[level]
            sumY += level * grey[level]
            sumY2 += level * level * grey[level]
        }
        guard count > 0 else { return (0, 0, 0) }
        let total = Double(count)
        var entropy = 0.0
        for level in 0..<256 where grey[level] > 0 {
            let p = Double(grey[level]) / total
            entropy -= p * log2(p)
        }
        let mean = Double(sumY) / total
        return (mean, max(0, Double(sumY2) / total - mean * mean), max(0, entropy))
    }

    /// Hasler and Süsstrunk's colourfulness from the (weighted) sums of
    /// rg = R − G and yb2 = R + G − 2B and of their squares over `weight`.
    private static func opponentColourfulness(sumRG: Int, sumRG2: Int, sumYB: Int, sumYB2: Int, weight: Int) -> Double {
        let total = Double(weight)
        let meanRG = Double(sumRG) / total, meanYB = Double(sumYB) / total / 2
        let varRG = max(0, Double(sumRG2) / total - meanRG * meanRG)
        let varYB = max(0, Double(sumYB2) / total / 4 - meanYB * meanYB)
        return (varRG + varYB).squareRoot() + 0.3 * (meanRG * meanRG + meanYB * meanYB).squareRoot()
    }

    /// The 8 × 8 grid of mean colours in CIELAB. Cell boundaries are
    /// `⌊k·size/8⌋`; cells of images narrower than 8 pixels share pixels
    /// rather than stay empty.
    private static func colourLayout(rgb: UnsafePointer<UInt8>, width: Int, height: Int,
                                     into out: UnsafeMutablePointer<Float>) {
        let linear = ColourSpace.linearTable
        var squared: Float = 0
        linear.withUnsafeBufferPointer { linear in
            for cy in 0..<8 {
                let y0 = cy * height / 8, y1 = max(y0 + 1, (cy + 1) * height / 8)
                for cx in 0..<8 {
                    let x0 = cx * width / 8, x1 = max(x0 + 1, (cx + 1) * width / 8)
                    var r: Float = 0, g: Float = 0, b: Float = 0
                    for y in y0..<y1 {
                        var p = rgb + 3 * (y * width + x0)
                        for _ in x0..<x1 {
                            r += linear[Int(p[0])]; g += linear[Int(p[1])]; b += linear[Int(p[2])]
                            p += 3
                        }
                    }
                    let n = Float((y1 - y0) * (x1 - x0))
                    let lab = ColourSpace.lab(linearR: r / n, g: g / n, b: b / n)
                    let cell = cy * 8 + cx
                    let l = (lab.l - 50) / 50, a = lab.a / 50, bb = lab.b / 50
                    out[cell] = l; out[64 + cell] = a; out[128 + cell] = bb
                    squared += l * l + a * a + bb * bb
                }
            }
        }
        // 1/8 makes the length the RMS cell distance from grey; cap it at 1.
        let length = squared.squareRoot() / 8
        let scale = blockWeight / 8 / max(1, length)
        for k in 0..<192 { out[k] *= scale }
    }

    /// Gradient-orientation histograms and the Laplacian variance, over the
    /// interior pixels (those with four neighbours). Returns the sharpness.
    private static func texturePass(luma: UnsafeMutablePointer<UInt8>, width: Int, height: Int,
                                    workspace: Workspace, into out: UnsafeMutablePointer<Float>) -> Double {
        let cells = workspace.orientations
        cells.initialize(repeating: 0, count: 128)
        guard width >= 3, height >= 3 else { return 0 }
        var sumLap = 0, sumLap2 = 0, totalMagnitude: Float = 0
        let binsPerRadian = Float(8) / Float.pi
        let columnCells = workspace.columnCells
        for x in 0..<width { columnCells[x] = (x * 4 / width) * 8 }
        for y in 1..<(height - 1) {
            let row = luma + y * width, up = row - width, down = row + width
            let cellRow = (y * 4 / height) * 32
            for x in 1..<(width - 1) {
                let centre = Int(row[x]), left = Int(row[x - 1]), right = Int(row[x + 1])
                let above = Int(up[x]), below = Int(down[x])
                let lap = left + right + above + below - 4 * centre
                sumLap += lap; sumLap2 += lap * lap
                let gx = right - left, gy = below - above
                if gx == 0 && gy == 0 { continue }
                let fx = Float(gx), fy = Float(gy)
                let magnitude = (fx * fx + fy * fy).squareRoot()
                totalMagnitude += magnitude
                var t = unsignedAngle(fx, fy) * binsPerRadian
                if t >= 8 { t -= 8 }
                let low = min(Int(t), 7), fraction = t - Float(low)
                let high = low == 7 ? 0 : low + 1
                let cell = cells + cellRow + columnCells[x]
                cell[low] += magnitude * (1 - fraction)
                cell[high] += magnitude * fraction
            }
        }
        let interior = Float((width - 2) * (height - 2))
        let denominator = totalMagnitude + 2 * interior
        for k in 0..<128 { out[k] = (cells[k] / denominator).squareRoot() * blockWeight }
        let n = Double(interior)
        let mean = Double(sumLap) / n
        return max(0, Double(sumLap2) / n - mean * mean)
    }

    /// The gradient's orientation folded into [0, π), with a polynomial
    /// arctangent (error < 0.004 rad, far below a 22.5° bin).
    @inline(__always)
    private static func unsignedAngle(_ x: Float, _ y: Float) -> Float {
        let ax = abs(x), ay = abs(y)
        let z = min(ax, ay) / max(ax, ay)
        var angle = (Float.pi / 4) * z + 0.273 * z * (1 - z)
        if ay > ax { angle = Float.pi / 2 - angle }
        // Fold: (x, y) and (−x, −y) are the same orientation.
        if (x < 0) != (y < 0) { angle = Float.pi - angle }
        return angle >= Float.pi ? 0 : angle
    }
}

/// sRGB ↔ CIELAB (D65) for the descriptor.
enum ColourSpace {
    /// sRGB byte → linear light in 0…1.
    static let linearTable: [Float] = (0..<256).map { value in
        let c = Float(value) / 255
        return c <= 0.04045 ? c / 12.92 : powf((c + 0.055) / 1.055, 2.4)
    }

    /// CIELAB of a linear-light sRGB colour (D65 white).
    static func lab(linearR r: Float, g: Float, b: Float) -> (l: Float, a: Float, b: Float) {
        let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
        let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
        let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883
        func f(_ t: Float) -> Float { t > 0.008856 ? cbrtf(t) : 7.787 * t + 16.0 / 116 }
        let fx = f(x), fy = f(y), fz = f(z)
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }
}

/// For each sRGB colour quantised to 5 bits a channel, where it falls in the
/// 4 × 4 × 4 histogram: the index of the lower corner of its 2 × 2 × 2
/// neighbourhood of bins (bits 0–7) and its fractional position towards the
/// upper corner along L, a and b (bits 8–15, 16–23, 24–31, in 1/255 steps).
final class HistogramTable: Sendable {
    static let shared = HistogramTable()
    /// 32768 packed entries, indexed by `r5 << 10 | g5 << 5 | b5`.
    let table: [UInt32]

    private init() {
        var table = [UInt32](repeating: 0, count: 32768)
        let linear = ColourSpace.linearTable
        for index in 0..<32768 {
            let r = (index >> 10) & 31, g = (index >> 5) & 31, b = index & 31
            // 5-bit code k stands for the byte k·255/31 (0 → 0, 31 → 255).
            let lab = ColourSpace.lab(linearR: linear[r * 255 / 31], g: linear[g * 255 / 31], b: linear[b * 255 / 31])
            // Continuous bin coordinates in 0…3: L uniform, a and b companded.
            let coordinates = [min(3, max(0, lab.l / 100 * 3)),
                               1.5 + 1.5 * tanhf(lab.a / 30),
                               1.5 + 1.5 * tanhf(lab.b / 30)]
            var corner = [Int](), fractions = [UInt32]()
            for t in coordinates {
                let low = min(Int(t), 2)
                corner.append(low)
                fractions.append(UInt32(min(255, max(0, ((t - Float(low)) * 255).rounded()))))
            }
            let base = UInt32(corner[0] * 16 + corner[1] * 4 + corner[2])
            table[index] = base | fractions[0] << 8 | fractions[1] << 16 | fractions[2] << 24
        }
        self.table = table
    }
}
