import CVipsShims
import Foundation

/// The album map as a picture, PhotoMapAI's grey mode: every image a grey
/// point, the selection coloured by tier (core magenta, stable cyan,
/// variable green), excluded images red, one image optionally highlighted,
/// and a legend. Drawn as PNG (rasterised here with anti-aliased discs,
/// encoded by libvips) or as SVG.
///
/// Rarer, stronger marks are drawn last so they stay visible: grey, then
/// variable, stable, core, excluded, and the highlight on top. Point sizes
/// shrink with the album so thousands of points stay distinct.
public struct MapPlot: Sendable {
    /// What a point shows; the raw value is the drawing order.
    public enum Category: UInt8, Sendable, Codable, CaseIterable, Comparable {
        /// An album image not in the selection (grey).
        case album = 0
        /// Selected in fewer than 70 % of runs (green).
        case variable = 1
        /// Selected in at least 70 % of runs (cyan).
        case stable = 2
        /// Selected in at least 90 % of runs (magenta).
        case core = 3
        /// Excluded by the user (red).
        case excluded = 4

        /// The category of a selected image of `tier`.
        public init(tier: SelectionTier) {
            switch tier {
            case .core: self = .core
            case .stable: self = .stable
            case .variable: self = .variable
            }
        }

        public static func < (lhs: Category, rhs: Category) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The colour as 8-bit RGB.
        public var rgb: SIMD3<UInt8> {
            switch self {
            case .album: return SIMD3(0x8D, 0x8D, 0x99)
            case .variable: return SIMD3(0x2E, 0xCC, 0x40)
            case .stable: return SIMD3(0x00, 0xE5, 0xFF)
            case .core: return SIMD3(0xFF, 0x00, 0xFF)
            case .excluded: return SIMD3(0xFF, 0x3B, 0x30)
            }
        }

        /// The colour as a CSS hex value (the same as `SelectionTier`'s).
        public var colour: String {
            String(format: "#%02x%02x%02x", Int(rgb.x), Int(rgb.y), Int(rgb.z))
        }

        /// The legend's words.
        public var legend: String {
            switch self {
            case .album: return "album"
            case .variable: return "variable (< 70 %)"
            case .stable: return "stable (≥ 70 %)"
            case .core: return "core (≥ 90 %)"
            case .excluded: return "excluded"
            }
        }
    }

    /// One point per album image (any scale: the picture fits them).
    public var points: [SIMD2<Float>]
    /// One category per point; missing entries count as `.album`.
    public var categories: [Category]
    /// The index of a point to mark with a ring, if any.
    public var highlight: Int?
    /// The picture's width in pixels (the map is square; the legend goes below).
    public var size: Int
    /// A caption on a line of its own under the legend, e.g. "UMAP · 85,491 images".
    public var caption: String?
    /// Clusters to colour the album's points by and to name on the map, if any.
    public var clusters: Clusters?

    /// The clusters a plot shows: album points take their cluster's colour
    /// (noise stays grey; selected and excluded marks keep theirs, on top),
    /// and each cluster's name is written at the middle of its points.
    public struct Clusters: Sendable {
        /// Per point, its cluster (from 0), or −1 for none.
        public var of: [Int32]
        /// Per cluster, what is written on the map: "1 beach", or "1".
        public var names: [String]
        /// Only the largest clusters are named, so names do not cover the map.
        public static let namedLimit = 40

        /// Creates the clusters of a plot.
        public init(of: [Int32], names: [String]) {
            self.of = of
            self.names = names
        }

        /// The colour of cluster `c` (0-based): twelve well-separated hues
        /// first (none of them grey, the album's and the noise's colour),
        /// then hues a golden angle apart at three lightnesses and two
        /// saturations, so an album with hundreds of clusters never shows two
        /// clusters in one colour (the review page and the HTML report take
        /// theirs from here).
        public static func rgb(_ c: Int) -> SIMD3<UInt8> {
            let c = max(0, c)
            if c < palette.count { return palette[c] }
            let k = c - palette.count
            // The golden angle spreads any number of hues evenly; lightness and saturation change on cycles of 3 and 2
            // (coprime), so hues that come close again differ in the other two.
            let hue = (Double(k) * 137.507_764_05).truncatingRemainder(dividingBy: 360)
            let lightness = [0.55, 0.68, 0.42][k % 3]
            let saturation = [0.62, 0.48][(k / 3) % 2]
            return hsl(hue: hue, saturation: saturation, lightness: lightness)
        }

        /// The colour of cluster `c` (0-based) as CSS: "#rrggbb".
        public static func hex(_ c: Int) -> String { MapPlot.hex(rgb(c)) }

        /// HSL (hue in degrees, the rest 0...1) as 8-bit RGB.
        static func hsl(hue: Double, saturation: Double, lightness: Double) -> SIMD3<UInt8> {
            let chroma = (1 - abs(2 * lightness - 1)) * saturation
            let h = hue / 60
            let x = chroma * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1))
            let (r, g, b): (Double, Double, Double) = switch Int(h) % 6 {
            case 0: (chroma, x, 0)
            case 1: (x, chroma, 0)
            case 2: (0, chroma, x)
            case 3: (0, x, chroma)
            case 4: (x, 0, chroma)
            default: (chroma, 0, x)
            }
            let m = lightness - chroma / 2
            func byte(_ v: Double) -> UInt8 { UInt8(max(0, min(255, ((v + m) * 255).rounded()))) }
            return SIMD3(byte(r), byte(g), byte(b))
        }

        static let palette: [SIMD3<UInt8>] = [
            SIMD3(0x4E, 0x79, 0xA7), SIMD3(0xF2, 0x8E, 0x2B), SIMD3(0x59, 0xA1, 0x4F), SIMD3(0xB0, 0x7A, 0xA1),
            SIMD3(0xED, 0xC9, 0x48), SIMD3(0x76, 0xB7, 0xB2), SIMD3(0xFF, 0x9D, 0xA7), SIMD3(0x9C, 0x75, 0x5F),
            SIMD3(0xD4, 0xA6, 0xC8), SIMD3(0x86, 0xBC, 0xB6), SIMD3(0xD3, 0x72, 0x95), SIMD3(0xA0, 0xCB, 0xE8),
        ]

        /// Per named cluster, the mean position of its points (of `positions`).
        func centres(_ positions: [SIMD2<Double>?]) -> [(Int, SIMD2<Double>)] {
            var sums = [SIMD2<Double>](repeating: .zero, count: names.count), counts = [Int](repeating: 0, count: names.count)
            for (i, c) in of.enumerated() where c >= 0 && Int(c) < names.count && i < positions.count {
                if let p = positions[i] { sums[Int(c)] += p; counts[Int(c)] += 1 }
            }
            return names.indices.prefix(Self.namedLimit).compactMap { c in counts[c] > 0 ? (c, sums[c] / Double(counts[c])) : nil }
        }
    }

    /// The colour of the background.
    public static let background = SIMD3<UInt8>(0x17, 0x17, 0x1B)
    /// The colour of the highlight ring.
    public static let highlightColour = SIMD3<UInt8>(0xFF, 0xD6, 0x0A)

    /// Creates a plot. `size` is clamped to 200…8000 pixels.
    public init(points: [SIMD2<Float>], categories: [Category] = [], highlight: Int? = nil,
                size: Int = 1100, caption: String? = nil) {
        self.points = points
        self.categories = categories
        self.highlight = highlight
        self.size = min(max(size, 200), 8_000)
        self.caption = caption
    }

    /// Categories for an album of `count` images from a curation's entries
    /// (by `CurationEntry.index`): selected images by tier (untiered ones
    /// as variable), excluded ones red, the rest grey.
    public static func categories(count: Int, entries: [CurationEntry]) -> [Category] {
        var result = [Category](repeating: .album, count: count)
        for entry in entries where entry.index >= 0 && entry.index < count {
            let category: Category = entry.excluded ? .excluded : Category(tier: entry.tier ?? .variable)
            result[entry.index] = max(result[entry.index], category)
        }
        return result
    }

    // MARK: - Geometry

    /// The category of point `i`.
    public func category(_ i: Int) -> Category { i < categories.count ? categories[i] : .album }

    /// The legend strip's height in pixels.
    var legendHeight: Int { max(36, size / 20) }
    /// The picture's height in pixels: the map, the legend, and the caption's line.
    public var height: Int { size + legendHeight * (caption == nil ? 1 : 2) }

    /// The radius of grey points, by how many share the picture.
    var albumRadius: Double {
        let side = Double(size) * 0.94
        let radius = 0.36 * side / Double(max(points.count, 1)).squareRoot()
        return min(max(radius, 1.0), Double(size) / 160)
    }

    /// The radius of coloured marks.
    var markRadius: Double { min(max(albumRadius * 1.7, Double(size) / 300), Double(size) / 110) }

    /// Where each point lands in pixels (nil for non-finite points), fitted
    /// into the square with a margin, aspect kept, y pointing up.
    public func pixelPositions() -> [SIMD2<Double>?] {
        let margin = Double(size) * 0.03
        var low = SIMD2<Double>(repeating: .infinity), high = SIMD2<Double>(repeating: -.infinity)
        for p in points where p.x.isFinite && p.y.isFinite {
            let q = SIMD2(Double(p.x), Double(p.y))
            low = pointwiseMin(low, q); high = pointwiseMax(high, q)
        }
        guard low.x.isFinite else { return points.map { _ in nil } }
        let inner = Double(size) - 2 * margin
        let span = max(high.x - low.x, high.y - low.y)
        let scale = span > 0 ? inner / span : 0
        let offset = SIMD2(margin + (inner - (high.x - low.x) * scale) / 2,
                           margin + (inner - (high.y - low.y) * scale) / 2)
        return points.map { p in
            guard p.x.isFinite, p.y.isFinite else { return nil }
            let x = offset.x + (Double(p.x) - low.x) * scale
            let y = offset.y + (Double(p.y) - low.y) * scale
            return SIMD2(x, Double(size) - y)
        }
    }

    /// Point indices in drawing order: by category, then by index.
    func drawingOrder() -> [Int] {
        var buckets = [[Int]](repeating: [], count: Category.allCases.count)
        for i in points.indices { buckets[Int(category(i).rawValue)].append(i) }
        return buckets.flatMap { $0 }
    }

    /// How many points fall in each category.
    public func counts() -> [Category: Int] {
        var result: [Category: Int] = [:]
        for i in points.indices { result[category(i), default: 0] += 1 }
        return result
    }

    /// The legend entries shown: grey always, others when present.
    func legendEntries() -> [(Category, Int)] {
        let counts = counts()
        return Category.allCases.reversed().compactMap { category in
            let count = counts[category] ?? 0
            return category == .album || count > 0 ? (category, count) : nil
        }
    }

    // MARK: - Raster

    /// The picture as 8-bit RGBA pixels.
    public func rasterize() -> MapRaster {
        var raster = MapRaster(width: size, height: height, fill: Self.background)
        let positions = pixelPositions()
        let album = albumRadius, mark = markRadius
        for i in drawingOrder() {
            guard let p = positions[i] else { continue }
            let category = category(i)
            switch category {
            case .album:
                raster.disc(at: p, radius: album, colour: albumColour(i), opacity: 0.6)
            case .excluded:
                raster.disc(at: p, radius: mark + 1.5, colour: SIMD3(255, 255, 255), opacity: 1)
                raster.disc(at: p, radius: mark, colour: category.rgb, opacity: 1)
            default:
                raster.disc(at: p, radius: mark + 1, colour: Self.background, opacity: 0.9)
                raster.disc(at: p, radius: mark, colour: category.rgb, opacity: 1)
            }
        }
        if let highlight, highlight >= 0, highlight < positions.count, let p = positions[highlight] {
            let ring = mark * 2.2 + 4
            raster.ring(at: p, radius: ring, width: max(2, mark * 0.6), colour: Self.highlightColour)
            raster.disc(at: p, radius: mark, colour: category(highlight).rgb, opacity: 1)
        }
        if let clusters {
            let fontSize = max(10, Int(Double(legendHeight) * 0.34))
            for (c, centre) in clusters.centres(positions) {
                guard let text = MapText.mask(clusters.names[c], pixelSize: fontSize) else { continue }
                let at = SIMD2(Int(centre.x) - text.width / 2, Int(centre.y) - text.height / 2)
                // A dark outline keeps the name readable over any colour.
                for offset in [SIMD2(-1, 0), SIMD2(1, 0), SIMD2(0, -1), SIMD2(0, 1)] {
                    raster.blend(mask: text, at: at &+ offset, colour: Self.background)
                }
                raster.blend(mask: text, at: at, colour: SIMD3(0xF4, 0xF4, 0xF8))
            }
        }
        drawLegend(on: &raster)
        return raster
    }

    /// The colour of album point `i`: its cluster's, or grey.
    func albumColour(_ i: Int) -> SIMD3<UInt8> {
        guard let clusters, i < clusters.of.count, clusters.of[i] >= 0 else { return Category.album.rgb }
        return Clusters.rgb(Int(clusters.of[i]))
    }

    private func drawLegend(on raster: inout MapRaster) {
        let top = Double(size), strip = Double(legendHeight)
        let swatch = strip * 0.22
        var x = strip * 0.5
        let centreY = top + strip / 2
        let fontSize = max(8, Int(strip * 0.34))
        for (category, count) in legendEntries() {
            raster.disc(at: SIMD2(x + swatch, centreY), radius: swatch, colour: category.rgb, opacity: 1)
            x += swatch * 2 + strip * 0.2
            let label = "\(category.legend) \(count)"
            if let text = MapText.mask(label, pixelSize: fontSize) {
                raster.blend(mask: text, at: SIMD2(Int(x), Int(centreY) - text.height / 2), colour: SIMD3(0xE8, 0xE8, 0xEE))
                x += Double(text.width) + strip * 0.5
            } else {
                x += strip * 0.5
            }
        }
        // The caption has a line of its own: beside a long legend it would not fit.
        if let caption, let text = MapText.mask(caption, pixelSize: fontSize) {
            raster.blend(mask: text, at: SIMD2(Int(strip * 0.5), Int(centreY + strip) - text.height / 2),
                         colour: SIMD3(0x9A, 0x9A, 0xA6))
        }
    }

    /// The picture as PNG bytes.
    ///
    /// - Throws: `MapError.drawing` when libvips cannot encode it.
    public func png() throws -> [UInt8] {
        try rasterize().png()
    }

    // MARK: - SVG

    /// The picture as a standalone SVG document (same layout as the PNG).
    public func svg() -> String {
        let positions = pixelPositions()
        let album = albumRadius, mark = markRadius
        func n(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(size)\" height=\"\(height)\" "
        out += "viewBox=\"0 0 \(size) \(height)\" font-family=\"sans-serif\">\n"
        out += "<rect width=\"\(size)\" height=\"\(height)\" fill=\"\(Self.hex(Self.background))\"/>\n"
        let order = drawingOrder()
        // Album points as one path per colour (grey, or each cluster's).
        var paths: [SIMD3<UInt8>: String] = [:], colours: [SIMD3<UInt8>] = []
        for i in order where category(i) == .album {
            guard let p = positions[i] else { continue }
            let colour = albumColour(i)
            if paths[colour] == nil { colours.append(colour) }
            paths[colour, default: ""] += "M\(n(p.x)) \(n(p.y))h0"
        }
        for colour in colours {
            out += "<path d=\"\(paths[colour]!)\" stroke=\"\(Self.hex(colour))\" stroke-width=\"\(n(2 * album))\" "
            out += "stroke-linecap=\"round\" stroke-opacity=\"0.6\" fill=\"none\"/>\n"
        }
        for i in order where category(i) != .album {
            guard let p = positions[i] else { continue }
            let category = category(i)
            let stroke = category == .excluded ? "#ffffff" : Self.hex(Self.background)
            out += "<circle cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"\(n(mark))\" fill=\"\(category.colour)\" "
            out += "stroke=\"\(stroke)\" stroke-width=\"\(category == .excluded ? "2" : "1.5")\" data-index=\"\(i)\"/>\n"
        }
        if let highlight, highlight >= 0, highlight < positions.count, let p = positions[highlight] {
            out += "<circle cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"\(n(mark * 2.2 + 4))\" fill=\"none\" "
            out += "stroke=\"\(Self.hex(Self.highlightColour))\" stroke-width=\"\(n(max(2, mark * 0.6)))\" class=\"highlight\"/>\n"
        }
        if let clusters {
            let fontSize = max(10, Int(Double(legendHeight) * 0.34))
            for (c, centre) in clusters.centres(positions) {
                out += "<text x=\"\(n(centre.x))\" y=\"\(n(centre.y))\" text-anchor=\"middle\" dominant-baseline=\"middle\" "
                out += "font-size=\"\(fontSize)\" fill=\"#f4f4f8\" stroke=\"\(Self.hex(Self.background))\" stroke-width=\"3\" "
                out += "paint-order=\"stroke\" class=\"cluster\">\(Self.escape(clusters.names[c]))</text>\n"
            }
        }
        let strip = Double(legendHeight), swatch = strip * 0.22, centreY = Double(size) + strip / 2
        let fontSize = max(8, Int(strip * 0.34))
        var x = strip * 0.5
        for (category, count) in legendEntries() {
            out += "<circle cx=\"\(n(x + swatch))\" cy=\"\(n(centreY))\" r=\"\(n(swatch))\" fill=\"\(category.colour)\"/>\n"
            x += swatch * 2 + strip * 0.2
            let label = "\(category.legend) \(count)"
            out += "<text x=\"\(n(x))\" y=\"\(n(centreY))\" dominant-baseline=\"middle\" font-size=\"\(fontSize)\" "
            out += "fill=\"#e8e8ee\">\(Self.escape(label))</text>\n"
            x += Double(label.count) * Double(fontSize) * 0.55 + strip * 0.5
        }
        if let caption {
            out += "<text x=\"\(n(strip * 0.5))\" y=\"\(n(centreY + strip))\" dominant-baseline=\"middle\" "
            out += "font-size=\"\(fontSize)\" fill=\"#9a9aa6\">\(Self.escape(caption))</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    // MARK: - Files

    /// Writes the picture to `path`: SVG when it ends in `.svg`, else PNG.
    ///
    /// - Throws: `MapError.drawing` when encoding or writing fails.
    public func write(to path: String) throws {
        let bytes: [UInt8] = path.lowercased().hasSuffix(".svg") ? Array(svg().utf8) : try png()
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw MapError(.drawing, "\(path): cannot write the map (\(error.localizedDescription))")
        }
    }

    static func hex(_ c: SIMD3<UInt8>) -> String { String(format: "#%02x%02x%02x", Int(c.x), Int(c.y), Int(c.z)) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
