import Foundation

/// A run's selection leaving curator: as files in a folder (flat or kohya),
/// as PhotoMapAI's CSV, as the album's favorites, and as an HTML report.
extension Album {
    /// The run's entries: the selection in rank order, each with its
    /// `rank` (its number in `r.selection`); picks excluded since the run
    /// stay in their place, marked excluded; then the album's other
    /// excluded images. `index` is the image's 0-based position in the album
    /// (PhotoMapAI's `Index`).
    public func curationEntries(for run: SelectionRun) -> [CurationEntry] {
        var entries: [CurationEntry] = []
        let selection = run.selection
        for (offset, id) in selection.enumerated() {
            guard let image = image(id: id), let index = position(of: id) else { continue }
            entries.append(CurationEntry(path: image.path, albumRoot: root, votes: run.votes(of: id),
                                         frequency: run.frequency(of: id), index: index, tier: run.tier(of: id),
                                         excluded: exclusions.contains(id), rank: offset + 1))
        }
        let selected = Set(selection)
        for id in exclusions.ids where !selected.contains(id) {
            guard let image = image(id: id), let index = position(of: id) else { continue }
            entries.append(CurationEntry(path: image.path, albumRoot: root, votes: run.votes(of: id),
                                         frequency: run.frequency(of: id), index: index, excluded: true))
        }
        return entries
    }

    /// The run's parameters, for reports.
    public func summary(of run: SelectionRun) -> CurationSummary {
        var parameters = run.parameters
        parameters["embedder"] = run.embedder
        parameters["candidates"] = String(run.candidates)
        if let inertia = run.inertia { parameters["inertia"] = String(format: "%.4f", inertia) }
        return CurationSummary(method: run.method, count: run.count, iterations: run.iterations, seed: run.seed,
                               created: run.created, album: name, parameters: parameters)
    }

    /// Copies the run's selection into `destination` (never an excluded
    /// image, never over an existing file); see `FolderExporter`. Only image
    /// files under the album's root are read (see `ExportScreening`): the
    /// rest are listed in the report's errors. An empty destination, or one
    /// inside the album without `options.intoAlbum`, is an error.
    public func export(_ run: SelectionRun, to destination: String, options: ExportOptions = ExportOptions(),
                       progress: (any ProgressSink)? = nil) throws -> ExportReport {
        let path = try checkExportDestination(destination, intoAlbum: options.intoAlbum)
        let (entries, refused) = try screenForExport(curationEntries(for: run))
        var report = try FolderExporter(destination: path, options: options).export(entries, progress: progress)
        report.errors = refused + report.errors
        report.items += refused.map {
            ExportItem(albumPath: $0.path, source: $0.path, status: .failed, reason: $0.reason)
        }
        return report
    }

    /// Writes PhotoMapAI's CSV of the run to `file` (never over an existing file unless `overwrite`;
    /// formula-like fields escaped unless `escapeFormulas` is false, see `CurationCSV`).
    public func writeCSV(_ run: SelectionRun, to file: String, overwrite: Bool = false, escapeFormulas: Bool = true) throws {
        try CurationCSV.write(curationEntries(for: run), to: Array(Self.absolutePath(file).utf8), overwrite: overwrite,
                              escapeFormulas: escapeFormulas)
    }

    /// Makes the run's selection the album's favorites (replacing them).
    public func favorite(_ run: SelectionRun) throws {
        try favorites.replace(with: run.selection.filter { !exclusions.contains($0) })
    }

    /// Writes a self-contained HTML report of the run to `file`: thumbnails
    /// framed in tier colours, excluded images in red, the parameters, and a
    /// map of the whole album (PhotoMapAI's when the album has one, else
    /// curator's cached UMAP; `map: nil` leaves it out).
    public func writeReport(_ run: SelectionRun, to file: String, overwrite: Bool = false,
                            map: AlbumMapOptions? = AlbumMapOptions(source: .auto),
                            progress: (any ProgressSink)? = nil) throws {
        let decoder = ImageDecoder(thumbnailSize: 160)
        let path = Array(Self.absolutePath(file).utf8)
        // Refuse before the map's minutes are spent, not after.
        if !overwrite, FileManager.default.fileExists(atPath: String(decoding: path, as: UTF8.self)) {
            throw ExportError.fileExists(ExportPath(bytes: path))
        }
        var (points, source): ([SIMD2<Float>], String) = ([], "")
        if let map { (points, source) = try mapPoints(map, progress: progress) }
        let report = HTMLReport(summary: summary(of: run), entries: curationEntries(for: run), mapPoints: points,
                                mapSource: source, title: "curator — \(name), run \(run.id)") { entry in
            // Thumbnails of files under the root only, and never of a FIFO (libvips would block on it).
            guard self.exportRefusal(entry, probe: nil) == nil else { return nil }
            return try? decoder.jpeg(path: entry.absolutePath, quality: 78)
        }
        try report.write(to: path, overwrite: overwrite, progress: progress)
    }

}
