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
        try CurationCSV.write(curationEntries(for: run), to: FileSystemPath(Self.absolutePath(file)), overwrite: overwrite,
                              escapeFormulas: escapeFormulas)
    }

    /// Makes the run's selection the album's favorites (replacing them).
    public func favorite(_ run: SelectionRun) throws {
        try favorites.replace(with: run.selection.filter { !exclusions.contains($0) })
    }

    /// Writes a self-contained HTML report of the run to `file`: thumbnails
    /// framed in tier colours, excluded images in red, the parameters, and a
    /// map of the whole album (PhotoMapAI's when the album has one, else
    /// curator's cached UMAP; `map: nil` leaves it out). With `clusters`
    /// (and their `labels`, in the same order), the map is coloured by
    /// cluster and a table lists each cluster with its medoid and how many
    /// picks it got. Each tile shows its image's uniqueness and typicality
    /// when they are cheap: already computed this session, or an album
    /// small enough for the exact neighbour search.
    public func writeReport(_ run: SelectionRun, to file: String, overwrite: Bool = false,
                            map: AlbumMapOptions? = AlbumMapOptions(source: .auto),
                            clusters: AlbumClusters? = nil, labels: [ClusterLabel]? = nil, labelNote: String? = nil,
                            progress: (any ProgressSink)? = nil) throws {
        let decoder = ImageDecoder(thumbnailSize: 160)
        let path = FileSystemPath(Self.absolutePath(file))
        // Refuse before the map's minutes are spent, not after.
        if !overwrite, FileManager.default.fileExists(atPath: path.string) {
            throw ExportError.fileExists(path)
        }
        var (points, source): ([SIMD2<Float>], String) = ([], "")
        if let map { (points, source) = try mapPoints(map, progress: progress) }
        let entries = curationEntries(for: run)
        var report = HTMLReport(summary: summary(of: run), entries: entries, mapPoints: points,
                                mapSource: source, title: "curator — \(name), run \(run.id)",
                                clusters: clusters.map { reportClusters($0, labels: labels, labelNote: labelNote) }) { entry in
            // Thumbnails of files under the root only, and never of a FIFO (libvips would block on it).
            guard self.exportRefusal(entry, probe: nil) == nil else { return nil }
            return try? decoder.jpeg(path: entry.absolutePath, quality: 78)
        }
        if let album = try? matrix(), cachedNeighborScores?.matrix === album.matrix || album.imageIDs.count <= SparseNeighbors.exactLimit,
           let scores = try? neighborScores() {
            for entry in entries {
                guard entry.index >= 0, entry.index < images.count, let row = album.rowOf[images[entry.index].id] else { continue }
                report.uniqueness[entry.index] = scores.uniqueness[row]
                report.typicality[entry.index] = scores.typicality[row]
            }
        }
        try report.write(to: path, overwrite: overwrite, progress: progress)
    }

    /// `clusters` as a report shows them: per cluster its label (from
    /// `labels`, in the same order), size and medoid, and each album
    /// position's cluster.
    public func reportClusters(_ clusters: AlbumClusters, labels: [ClusterLabel]? = nil, labelNote: String? = nil) -> ReportClusters {
        var of = [Int32](repeating: -1, count: images.count)
        var rows: [ReportClusters.Cluster] = []
        for (c, cluster) in clusters.clusters.enumerated() {
            // A cluster whose medoid has left the album since is left out (its images show as in none).
            guard let medoid = image(id: cluster.medoid), let index = position(of: cluster.medoid) else { continue }
            for id in cluster.members { if let index = position(of: id) { of[index] = Int32(rows.count) } }
            let label = labels.flatMap { c < $0.count ? $0[c] : nil }
            rows.append(ReportClusters.Cluster(id: cluster.id, label: label?.label, score: label?.score,
                                               alternates: label?.alternates.map(\.label) ?? [], size: cluster.members.count,
                                               medoid: CurationEntry(path: medoid.path, albumRoot: root, index: index)))
        }
        let note = [clusters.note, labelNote].compactMap { $0 }.joined(separator: "; ")
        return ReportClusters(clusters: rows, of: of, noise: clusters.noise.count, description: clusters.description,
                              note: note.isEmpty ? nil : note)
    }

}
