/// Simple measurements of an image's pixels, taken on the `pixels` embedder's
/// thumbnail (at most 256 × 256 by default, 8-bit sRGB). Quality plugins use
/// them to flag blurry, dark, overexposed, flat or low-information images;
/// they are stored in the album index next to the embedding.
///
/// "Luma" below is Rec. 709 luma of the gamma-encoded values,
/// `0.2126 R + 0.7152 G + 0.0722 B`, rounded to 0…255.
public struct ImageStatistics: Codable, Sendable, Equatable, Hashable {
    /// Variance of the Laplacian of the luma (4-neighbour kernel, luma in
    /// 0…255 units, measured on the thumbnail): high when there are crisp
    /// edges, low when the image is blurred or flat. The scale depends on
    /// the thumbnail size (downscaling sharpens), so compare values from the
    /// same embedder settings only. Measured at 256 px: ordinary sharp
    /// photographs score ~1,000–5,000; the same photos slightly soft (a
    /// Gaussian blur of σ 1 px at 640 px) about half that; clearly blurred
    /// (σ 3 px) or very dark ones below ~100; flat images 0; pure noise
    /// tens of thousands.
    public var sharpness: Double
    /// Mean luma, 0 (black) … 1 (white). Dark images sit below ~0.2,
    /// overexposed ones above ~0.85.
    public var brightness: Double
    /// RMS contrast: the standard deviation of luma, 0 (flat) … 0.5 (half
    /// black, half white). Photographs typically sit at 0.15–0.3; washed-out,
    /// foggy or underexposed ones below ~0.1.
    public var contrast: Double
    /// Hasler and Süsstrunk's colourfulness M (2003), on 0…255 RGB:
    /// `σ_rgyb + 0.3 μ_rgyb` with rg = R − G and yb = (R + G)/2 − B.
    /// 0 for greyscale; their scale: ~15 slightly, ~33 moderately,
    /// ~45 averagely, ~59 quite, ~82 highly, ≥109 extremely colourful.
    public var colourfulness: Double
    /// Shannon entropy of the 256-bin luma histogram, in bits: 0 for a
    /// single flat tone, up to 8 when every grey level is equally common.
    /// Photographs typically score 6.5–7.8; values below ~5 mark dark,
    /// clipped, blank or posterised images.
    public var entropy: Double

    /// Creates statistics from their values.
    public init(sharpness: Double, brightness: Double, contrast: Double, colourfulness: Double, entropy: Double) {
        self.sharpness = sharpness
        self.brightness = brightness
        self.contrast = contrast
        self.colourfulness = colourfulness
        self.entropy = entropy
    }

    /// All zero: what an empty image measures.
    public static let zero = ImageStatistics(sharpness: 0, brightness: 0, contrast: 0, colourfulness: 0, entropy: 0)
}
