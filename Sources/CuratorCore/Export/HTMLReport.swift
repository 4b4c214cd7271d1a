import Foundation

/// One self-contained HTML page showing a curation result to a person: the
/// run's parameters, a legend, a 2-D map of the whole album, the selection
/// as a grid of thumbnails framed in their tier's colour with frequency,
/// votes and name, and the excluded images in red. Each tile carries its
/// number in `r.selection`: a pick excluded since the run stays in its
/// place, struck through in red, and the others keep their numbers, so the
/// tile shown as #12 is always `r.selection[12]`. With clusters, the map
/// colours the album by cluster and names them, a table lists each cluster
/// (label, size, medoid) with how many picks it got, and each tile names its
/// pick's cluster. Thumbnails are embedded as data URIs and the map is
/// inline SVG, so the file needs no network and no sibling files.
public struct HTMLReport {
    /// How the result was made.
    public var summary: CurationSummary
    /// The selection in order (excluded picks in their place, with their
    /// `rank`), and the album's other excluded images (in any position).
    /// A tile's number is its entry's `rank`, or its position in the grid
    /// for entries made without one.
    public var entries: [CurationEntry]
    /// Map coordinates of every album image, indexed by `CurationEntry.index`;
    /// empty for no map. Any scale: the page fits them.
    public var mapPoints: [SIMD2<Float>]
    /// Where the map comes from, e.g. "UMAP" or "PCA", shown with the parameters.
    public var mapSource: String
    /// Thumbnail bytes (JPEG, PNG, GIF or WebP) of an entry, or nil for none.
    public var thumbnail: (CurationEntry) -> [UInt8]?
    /// The page title; by default names the album.
    public var title: String?
    /// The album's clusters, when the report shows them.
    public var clusters: ReportClusters?
    /// Per album position (`CurationEntry.index`), the image's uniqueness
    /// (FiftyOne's, 0...1), shown on its tile; empty to leave it out.
    public var uniqueness: [Int: Double] = [:]
    /// Per album position, the image's typicality (Lightly's), shown beside its uniqueness.
    public var typicality: [Int: Double] = [:]

    /// Creates a report.
    public init(summary: CurationSummary, entries: [CurationEntry], mapPoints: [SIMD2<Float>] = [],
                mapSource: String = "PCA", title: String? = nil, clusters: ReportClusters? = nil,
                thumbnail: @escaping (CurationEntry) -> [UInt8]?) {
        self.summary = summary
        self.entries = entries
        self.mapPoints = mapPoints
        self.mapSource = mapSource
        self.title = title
        self.clusters = clusters
        self.thumbnail = thumbnail
    }

    /// The page. `progress` sees one step per image (thumbnails are the slow
    /// part) and may cancel.
    ///
    /// - Throws: `CancelledError` when cancelled.
    public func render(progress: (any ProgressSink)? = nil) throws -> String {
        let included = entries.filter { !$0.excluded }
        let excluded = entries.filter(\.excluded)
        // The grid: the selection as the run numbered it, excluded picks in place.
        let grid = entries.filter { !$0.excluded || $0.rank != nil }
        let otherExcluded = entries.filter { $0.excluded && $0.rank == nil }
        let pageTitle = title ?? (summary.album.map { "Curation of \($0)" } ?? "Curation report")
        let label = "report"
        let total = entries.count + (clusters?.clusters.count ?? 0)
        var done = 0
        func cards(_ list: [CurationEntry], numbered: Bool) throws -> String {
            var html = ""
            for (position, entry) in list.enumerated() {
                try progress.checkCancellation(label)
                html += card(entry, rank: numbered ? entry.rank ?? position + 1 : nil)
                done += 1
                progress.update(label: label, done: done, total: total)
            }
            return html
        }

        var page = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="curator \(CuratorVersion.string)">
        <title>\(htmlEscape(pageTitle))</title>
        <style>\(Self.style)</style>
        </head>
        <body>
        <header><h1>\(htmlEscape(pageTitle))</h1>
        <p class="subtitle">\(included.count) selected · \(excluded.count) excluded · \(htmlEscape(Self.timestamp(summary.created)))</p></header>
        <div class="top">
        <section class="about">
        <h2>Run</h2>
        \(parametersTable(selected: included.count, excluded: excluded.count))
        <h2>Legend</h2>
        \(legend(included: included, excluded: excluded.count))
        </section>
        \(mapSection())
        </div>
        \(try clusterSection(included: grid.filter { !$0.excluded }, done: &done, total: total, progress: progress))
        <section class="selection">
        <h2>Selection <span class="count">\(included.count)</span></h2>

        """
        if grid.count > included.count {
            page += "<p class=\"note\">Picks excluded since the run are struck through in their place; the others keep their numbers (r.selection[n]).</p>\n"
        }
        let dense = grid.count > 300 ? " dense" : ""
        page += grid.isEmpty
            ? "<p class=\"empty\">No images were selected.</p>\n"
            : "<div class=\"grid\(dense)\">\n" + (try cards(grid, numbered: true)) + "</div>\n"
        page += "</section>\n<section class=\"excluded\">\n<h2>\(grid.count > included.count ? "Other excluded images" : "Excluded") <span class=\"count\">\(otherExcluded.count)</span></h2>\n"
        page += otherExcluded.isEmpty
            ? "<p class=\"empty\">No \(grid.count > included.count ? "other " : "")images were excluded.</p>\n"
            : "<div class=\"grid\(otherExcluded.count > 300 ? " dense" : "")\">\n" + (try cards(otherExcluded, numbered: false)) + "</div>\n"
        page += "</section>\n<footer>Made by curator \(CuratorVersion.string). Hover a thumbnail or a map point for its path.</footer>\n</body>\n</html>\n"
        progress?.finish(label: label)
        return page
    }

    /// Renders the page and writes it to `path` atomically, creating its
    /// missing folders; an existing file is replaced only with `overwrite`
    /// (else `ExportError.fileExists`).
    public func write(to path: FileSystemPath, overwrite: Bool = false, progress: (any ProgressSink)? = nil,
                      fileSystem: any ExportFileSystem = POSIXFileSystem()) throws {
        let page = try render(progress: progress)
        try AtomicFile.write(Array(page.utf8), to: path, overwrite: overwrite, creatingFolders: true, fileSystem: fileSystem)
    }

    // MARK: - Parts

    private func parametersTable(selected: Int, excluded: Int) -> String {
        var rows: [(String, String)] = []
        if let album = summary.album { rows.append(("Album", album)) }
        rows.append(("Method", summary.method))
        rows.append(("Images asked for", String(summary.count)))
        rows.append(("Selected", String(selected)))
        rows.append(("Excluded", String(excluded)))
        rows.append(("Iterations", String(summary.iterations)))
        rows.append(("Seed", summary.seed.map { String($0) } ?? "none"))
        rows.append(("Created", Self.timestamp(summary.created)))
        if !mapPoints.isEmpty {
            let placed = mapPoints.filter { $0.x.isFinite && $0.y.isFinite }.count
            rows.append(("Map", "\(mapSource), \(placed) images"))
        }
        for key in summary.parameters.keys.sorted() { rows.append((key, summary.parameters[key] ?? "")) }
        let body = rows.map { "<tr><th>\(htmlEscape($0.0))</th><td>\(htmlEscape($0.1))</td></tr>" }.joined(separator: "\n")
        return "<table class=\"parameters\">\n\(body)\n</table>"
    }

    private func legend(included: [CurationEntry], excluded: Int) -> String {
        var items: [String] = []
        for tier in SelectionTier.allCases {
            let count = included.filter { $0.tier == tier }.count
            items.append(legendItem(colour: tier.colour, text: tier.legend, count: count))
        }
        let untiered = included.filter { $0.tier == nil }.count
        if untiered > 0 { items.append(legendItem(colour: Self.untieredColour, text: "selected, no tier", count: untiered)) }
        items.append(legendItem(colour: SelectionTier.excludedColour, text: "excluded by you: never exported (ringed on the map)", count: excluded))
        if !mapPoints.isEmpty {
            let what = clusters == nil ? "other album images (map only)"
                : "other album images, in their cluster's colour (grey: in no cluster)"
            items.append("<li><span class=\"dot\" style=\"background:\(Self.albumColour)\"></span>\(what)</li>")
        }
        return "<ul class=\"legend\">\n\(items.joined(separator: "\n"))\n</ul>"
    }

    private func legendItem(colour: String, text: String, count: Int) -> String {
        "<li><span class=\"swatch\" style=\"border-color:\(colour)\"></span>\(htmlEscape(text)) <b>\(count)</b></li>"
    }

    private func card(_ entry: CurationEntry, rank: Int?) -> String {
        let colour = Self.colour(of: entry)
        let name = PathBytes.display(entry.fileName)
        // An excluded pick keeps its number and place, struck through.
        let struck = entry.excluded && rank != nil
        var html = "<figure class=\"card\(struck ? " out" : "")\" style=\"--c:\(colour)\" title=\"\(htmlEscape(entry.path.string))\">"
        if let rank { html += "<span class=\"rank\">\(rank)</span>" }
        if let bytes = thumbnail(entry), let mime = Self.imageType(bytes) {
            html += "<img loading=\"lazy\" decoding=\"async\" alt=\"\(htmlEscape(name))\" src=\"data:\(mime);base64,"
            html += Data(bytes).base64EncodedString()
            html += "\">"
        } else {
            html += "<div class=\"missing\">no preview</div>"
        }
        let votes = "\(CurationCSV.percentage(entry.frequency)) % · \(entry.votes) vote\(entry.votes == 1 ? "" : "s")"
        let detail = struck ? "excluded · \(votes)" : entry.excluded ? "excluded" : votes
        html += "<figcaption><span class=\"name\">\(htmlEscape(name))</span><span class=\"freq\">\(detail)</span>"
        if let clusters {
            if let c = clusters.cluster(atIndex: entry.index) {
                let cluster = clusters.clusters[c]
                html += "<span class=\"cluster\" style=\"--k:\(Self.clusterColour(c))\" title=\"cluster \(cluster.id)\">"
                html += "\(htmlEscape(cluster.name))</span>"
            } else {
                html += "<span class=\"cluster none\">no cluster</span>"
            }
        }
        if let unique = uniqueness[entry.index] {
            // Short on the tile (it is narrow), in full on hover.
            var short = "uniq \(String(format: "%.2f", unique))", full = "uniqueness \(String(format: "%.2f", unique))"
            if let typical = typicality[entry.index] {
                let value = typical.isFinite ? String(format: "%.2f", typical) : "∞"
                short += " · typ \(value)"
                full += " · typicality \(value)"
            }
            html += "<span class=\"scores\" title=\"\(full)\">\(short)</span>"
        }
        html += "</figcaption></figure>\n"
        return html
    }

    private func mapSection() -> String {
        guard !mapPoints.isEmpty else { return "" }
        let size = 1000.0, margin = 24.0
        let finite = mapPoints.filter { $0.x.isFinite && $0.y.isFinite }
        guard let first = finite.first else { return "" }
        var low = first, high = first
        for p in finite { low = pointwiseMin(low, p); high = pointwiseMax(high, p) }
        let span = Double(max(high.x - low.x, high.y - low.y, 1e-12))
        let scale = (size - 2 * margin) / span
        let offsetX = margin + ((size - 2 * margin) - Double(high.x - low.x) * scale) / 2
        let offsetY = margin + ((size - 2 * margin) - Double(high.y - low.y) * scale) / 2
        func place(_ p: SIMD2<Float>) -> (String, String) {
            // SVG's y grows downwards; flip so the map reads like a plot.
            let x = offsetX + Double(p.x - low.x) * scale
            let y = size - (offsetY + Double(p.y - low.y) * scale)
            return (Self.number(x), Self.number(y))
        }

        let marked = Set(entries.map(\.index))
        let dotSize = mapPoints.count <= 2_000 ? 7.0 : mapPoints.count <= 20_000 ? 4.5 : 3.0
        // The album's points as one path per colour: grey, or each cluster's.
        var paths: [String: String] = [:], colours: [String] = []
        for (index, p) in mapPoints.enumerated() where !marked.contains(index) && p.x.isFinite && p.y.isFinite {
            let (x, y) = place(p)
            let colour = clusters?.cluster(atIndex: index).map(Self.clusterColour) ?? Self.albumColour
            if paths[colour] == nil { colours.append(colour) }
            paths[colour, default: ""] += "M\(x) \(y)h0"
        }
        var svg = "<svg class=\"map\" viewBox=\"0 0 1000 1000\" role=\"img\" aria-label=\"Map of the album\">\n"
        svg += "<rect width=\"1000\" height=\"1000\" rx=\"12\" class=\"map-bg\"/>\n"
        for colour in colours {
            svg += "<path d=\"\(paths[colour]!)\" stroke=\"\(colour)\" stroke-width=\"\(Self.number(dotSize))\" "
            svg += "stroke-linecap=\"round\" stroke-opacity=\"0.6\" fill=\"none\"/>\n"
        }
        // Variable first, core last, excluded on top: rarer, stronger marks stay visible.
        let order: [CurationEntry] = entries.filter { !$0.excluded && $0.tier == nil }
            + [SelectionTier.variable, .stable, .core].flatMap { tier in entries.filter { !$0.excluded && $0.tier == tier } }
            + entries.filter(\.excluded)
        var unplaced = 0
        // Few marks can be big; many must stay small enough not to merge.
        let radius = Self.number(entries.count <= 100 ? 10 : entries.count <= 500 ? 7.5 : 5.5)
        for entry in order {
            guard entry.index >= 0, entry.index < mapPoints.count,
                  mapPoints[entry.index].x.isFinite, mapPoints[entry.index].y.isFinite else { unplaced += 1; continue }
            let (x, y) = place(mapPoints[entry.index])
            let detail = entry.excluded ? "excluded" : "\(CurationCSV.percentage(entry.frequency)) %"
            svg += "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(radius)\" fill=\"\(Self.colour(of: entry))\"\(entry.excluded ? " class=\"out\"" : "")>"
            svg += "<title>\(htmlEscape(entry.path.string)) — \(detail)</title></circle>\n"
        }
        if let clusters {
            // Each of the largest clusters named at the middle of its points, over the marks.
            var sums = [SIMD2<Double>](repeating: .zero, count: clusters.clusters.count)
            var counts = [Int](repeating: 0, count: clusters.clusters.count)
            for (index, p) in mapPoints.enumerated() where p.x.isFinite && p.y.isFinite {
                guard let c = clusters.cluster(atIndex: index) else { continue }
                sums[c] += SIMD2(Double(p.x), Double(p.y))
                counts[c] += 1
            }
            for c in clusters.clusters.indices.prefix(MapPlot.Clusters.namedLimit) where counts[c] > 0 {
                let (x, y) = place(SIMD2<Float>(sums[c] / Double(counts[c])))
                svg += "<text x=\"\(x)\" y=\"\(y)\" class=\"cluster-name\">\(htmlEscape(clusters.clusters[c].name))</text>\n"
            }
        }
        svg += "</svg>"
        let note = unplaced > 0 ? "<p class=\"note\">\(unplaced) listed image\(unplaced == 1 ? " has" : "s have") no map position.</p>" : ""
        return "<section class=\"map-section\">\n<h2>Album map <span class=\"count\">\(htmlEscape(mapSource))</span></h2>\n\(svg)\n\(note)</section>"
    }

    /// The clusters' table: colour, number, label (runners-up and score),
    /// size, medoid, and how many of the selection's `included` picks fell
    /// in each beside its share of the album.
    private func clusterSection(included: [CurationEntry], done: inout Int, total: Int,
                                progress: (any ProgressSink)?) throws -> String {
        guard let clusters else { return "" }
        let label = "report"
        let (picks, unclustered) = clusters.spread(of: included)
        let albumTotal = clusters.clusters.reduce(clusters.noise) { $0 + $1.size }
        func share(_ part: Int, of whole: Int) -> String {
            whole == 0 ? "–" : String(format: "%.1f %%", 100 * Double(part) / Double(whole))
        }
        var html = "<section class=\"clusters\">\n<h2>Clusters <span class=\"count\">\(clusters.clusters.count)</span></h2>\n"
        html += "<p class=\"note\">\(htmlEscape(clusters.description))</p>\n"
        if let note = clusters.note { html += "<p class=\"note\">\(htmlEscape(note))</p>\n" }
        guard !clusters.clusters.isEmpty else { return html + "</section>" }
        html += "<table class=\"cluster-table\">\n<thead><tr><th>#</th><th>medoid</th><th>label</th><th>images</th>"
        html += "<th>picks</th><th>share of picks / of album</th></tr></thead>\n<tbody>\n"
        let widest = max(1, picks.max() ?? 1)
        for (c, cluster) in clusters.clusters.enumerated() {
            try progress.checkCancellation(label)
            html += "<tr><td><span class=\"dot\" style=\"background:\(Self.clusterColour(c))\"></span>\(cluster.id)</td><td>"
            let medoidName = PathBytes.display(cluster.medoid.fileName)
            if let bytes = thumbnail(cluster.medoid), let mime = Self.imageType(bytes) {
                html += "<img loading=\"lazy\" decoding=\"async\" title=\"\(htmlEscape(cluster.medoid.path.string))\" "
                html += "alt=\"\(htmlEscape(medoidName))\" src=\"data:\(mime);base64,\(Data(bytes).base64EncodedString())\">"
            }
            html += "<span class=\"medoid\">\(htmlEscape(cluster.medoid.path.string))</span></td><td>"
            if let name = cluster.label {
                html += "<b>\(htmlEscape(name))</b>"
                if let score = cluster.score { html += " <span class=\"muted\">\(String(format: "%.2f", score))</span>" }
                if !cluster.alternates.isEmpty {
                    html += "<br><span class=\"muted\">\(htmlEscape(cluster.alternates.joined(separator: ", ")))</span>"
                }
            } else {
                html += "<span class=\"muted\">no label</span>"
            }
            html += "</td><td>\(cluster.size)</td><td>\(picks[c])</td><td>"
            html += "<span class=\"bar\" style=\"width:\(Self.number(60 * Double(picks[c]) / Double(widest)))px;background:\(Self.clusterColour(c))\"></span>"
            html += "\(share(picks[c], of: included.count)) / \(share(cluster.size, of: albumTotal))</td></tr>\n"
            done += 1
            progress.update(label: label, done: done, total: total)
        }
        html += "<tr class=\"noise\"><td></td><td></td><td><span class=\"muted\">in no cluster</span></td><td>\(clusters.noise)</td>"
        html += "<td>\(unclustered)</td><td>\(share(unclustered, of: included.count)) / \(share(clusters.noise, of: albumTotal))</td></tr>\n"
        html += "</tbody>\n</table>\n</section>"
        return html
    }

    // MARK: - Helpers

    /// The colour of cluster `c` (by position), the same as on `m:plot`.
    static func clusterColour(_ c: Int) -> String { MapPlot.Clusters.hex(c) }

    static let albumColour = "#8d8d99"
    static let untieredColour = "#e0e0e0"

    static func colour(of entry: CurationEntry) -> String {
        if entry.excluded { return SelectionTier.excludedColour }
        return entry.tier?.colour ?? untieredColour
    }

    /// The MIME type of image bytes by their signature, or nil when unknown.
    static func imageType(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if bytes.starts(with: Array("GIF8".utf8)) { return "image/gif" }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return "image/webp"
        }
        return nil
    }

    static func number(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = abs(tenths)
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static let style = """
    :root{color-scheme:dark;--bg:#17171b;--panel:#212127;--text:#e8e8ee;--muted:#9a9aa6}
    *{box-sizing:border-box}
    body{margin:0;padding:24px 28px;background:var(--bg);color:var(--text);font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
    h1{margin:0 0 4px;font-size:22px;font-weight:600}
    h2{margin:22px 0 10px;font-size:16px;font-weight:600}
    .subtitle,.note,.empty,footer{color:var(--muted)}
    .count{color:var(--muted);font-weight:400;margin-left:6px}
    .top{display:grid;grid-template-columns:auto minmax(320px,720px);justify-content:space-between;gap:40px;align-items:start}
    @media (max-width:900px){.top{grid-template-columns:1fr}}
    .parameters{border-collapse:collapse;background:var(--panel);border-radius:8px;overflow:hidden}
    .parameters th,.parameters td{padding:5px 14px;text-align:left;border-bottom:1px solid #2e2e36;vertical-align:top}
    .parameters th{color:var(--muted);font-weight:500;white-space:nowrap}
    .legend{list-style:none;margin:0;padding:0;display:grid;gap:6px}
    .legend li{display:flex;align-items:center;gap:10px}
    .legend b{color:var(--muted);font-weight:500}
    .swatch{width:22px;height:16px;border:3px solid;border-radius:3px;background:#2a2a31}
    .dot{width:10px;height:10px;border-radius:50%;margin:0 6px}
    .map{width:100%;height:auto;display:block}
    .map-bg{fill:var(--panel)}
    .map circle{stroke:#0d0d10;stroke-width:1.5}
    .map circle.out{stroke:#fff;stroke-width:2.5}
    .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(132px,1fr));gap:10px}
    .grid.dense{grid-template-columns:repeat(auto-fill,minmax(112px,1fr));gap:7px}
    .card{position:relative;margin:0;background:var(--panel);border:3px solid var(--c);border-radius:6px;overflow:hidden}
    .card img,.card .missing{display:block;width:100%;aspect-ratio:1;object-fit:contain;background:#0f0f12}
    .card .missing{display:flex;align-items:center;justify-content:center;color:var(--muted);font-size:12px}
    .rank{position:absolute;top:3px;left:3px;padding:0 5px;border-radius:4px;background:rgba(0,0,0,.65);font-size:11px}
    figcaption{padding:4px 6px 5px;display:grid;font-size:11.5px}
    figcaption .name{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
    figcaption .freq{color:var(--c);font-variant-numeric:tabular-nums;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
    .dense figcaption{font-size:10.5px;padding:3px 5px 4px}
    .card.out img,.card.out .missing{opacity:.4}
    .card.out::after{content:"";position:absolute;inset:0;pointer-events:none;background:linear-gradient(to top right,transparent calc(50% - 2px),var(--c) calc(50% - 2px),var(--c) calc(50% + 2px),transparent calc(50% + 2px))}
    .card.out .name{text-decoration:line-through;text-decoration-color:var(--c)}
    .card.out .rank{background:var(--c);color:#fff;text-decoration:line-through}
    figcaption .cluster{color:var(--k);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
    figcaption .cluster::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:var(--k);margin-right:4px}
    figcaption .cluster.none,figcaption .scores,.muted{color:var(--muted)}
    figcaption .scores{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
    .cluster-name{font-size:22px;font-weight:600;fill:#f4f4f8;stroke:#17171b;stroke-width:3;paint-order:stroke;text-anchor:middle;dominant-baseline:middle;pointer-events:none}
    .cluster-table{border-collapse:collapse;background:var(--panel);border-radius:8px;overflow:hidden}
    .cluster-table th,.cluster-table td{padding:4px 12px;text-align:left;border-bottom:1px solid #2e2e36;vertical-align:middle;font-variant-numeric:tabular-nums}
    .cluster-table th{color:var(--muted);font-weight:500}
    .cluster-table img{width:56px;height:56px;object-fit:cover;border-radius:4px;vertical-align:middle;margin-right:8px;background:#0f0f12}
    .cluster-table .medoid{color:var(--muted);font-size:12px}
    .cluster-table .bar{display:inline-block;height:10px;border-radius:2px;margin-right:8px;vertical-align:middle}
    .excluded h2{color:\(SelectionTier.excludedColour)}
    footer{margin-top:28px;font-size:12px}
    """
}

/// `text` with HTML's special characters escaped, for element content and
/// quoted attribute values alike.
private func htmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
