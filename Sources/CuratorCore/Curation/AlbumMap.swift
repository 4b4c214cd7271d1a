import Foundation

/// Where an album's map comes from.
public enum MapSource: String, Sendable, CaseIterable {
    /// PhotoMapAI's `umap.npz` when the album has a current one, else `umap`.
    case auto
    /// curator's own seeded UMAP of the active embedder's vectors, cached in the index.
    case umap
    /// PhotoMapAI's `photomap_index/umap.npz`, as PhotoMapAI drew it.
    case photoMap = "photomap"
    /// The first two principal components: instant, but clusters overlap.
    case pca
}

/// How to make an album's map.
public struct AlbumMapOptions: Sendable {
    /// Where the points come from.
    public var source: MapSource
    /// The UMAP settings (for `.umap`, and `.auto` without PhotoMapAI's map).
    public var parameters: UMAPParameters
    /// Whether a cached layout may be used (and a new one stored).
    public var useCache: Bool

    /// Creates options; by default a seeded UMAP with PhotoMapAI's settings, cached.
    public init(source: MapSource = .umap, parameters: UMAPParameters = UMAPParameters(), useCache: Bool = true) {
        self.source = source
        self.parameters = parameters
        self.useCache = useCache
    }
}

/// A 2-D map of an album's embedded images, with where it came from.
public struct AlbumMap: Sendable {
    /// The points and the image of each.
    public let layout: MapLayout
    /// Where the points came from.
    public let source: MapSource
    /// The embedder whose vectors were mapped (PhotoMapAI's for `.photoMap`).
    public let embedder: String
    /// Whether the layout came whole from the index's cache.
    public let cached: Bool
    /// What was done, for display: "UMAP of the photomap embeddings (n_neighbors 15, min_dist 0.05, seed 0)".
    public let description: String
    private let rowOf: [Int64: Int]

    /// Creates a map from a layout whose `imageIDs` name every row.
    public init(layout: MapLayout, source: MapSource, embedder: String, cached: Bool, description: String) {
        self.layout = layout
        self.source = source
        self.embedder = embedder
        self.cached = cached
        self.description = description
        var rows: [Int64: Int] = [:]
        rows.reserveCapacity(layout.imageIDs.count)
        for (row, id) in layout.imageIDs.enumerated() { rows[id] = row }
        rowOf = rows
    }

    /// How many images the map places.
    public var count: Int { layout.points.count }

    /// The layout row of image `id`, or nil when the map does not place it.
    public func row(of id: Int64) -> Int? { rowOf[id] }

    /// The point of image `id`, or nil when the map does not place it.
    public func point(of id: Int64) -> SIMD2<Float>? {
        rowOf[id].map { layout.points[$0] }
    }
}

extension Album {
    /// The album's map. A UMAP is looked up in the index first: the same
    /// images with the same vectors and settings give the cached layout at
    /// once; an album that gained or changed a few images gets the cached
    /// layout updated (new points placed by their neighbours, then refined);
    /// otherwise the layout is computed and stored.
    ///
    /// - Throws: `IndexError.noEmbeddings`; `MapError` for bad settings or a
    ///   damaged cache; `EmbeddingFileError` when PhotoMapAI's map was asked
    ///   for by name and cannot be used; `CancelledError`.
    public func map(_ options: AlbumMapOptions = AlbumMapOptions(), progress: (any ProgressSink)? = nil) throws -> AlbumMap {
        switch options.source {
        case .photoMap:
            return try photoMapMap()
        case .auto:
            if photoMapUMAPFile() != nil, let map = try? photoMapMap() { return map }
            return try umapMap(options, progress: progress)
        case .umap:
            return try umapMap(options, progress: progress)
        case .pca:
            let album = try matrix()
            let projection = try Projection2D.principalComponents(of: float32(album, for: "the PCA map"))
            let layout = MapLayout(points: projection.points, imageIDs: album.imageIDs)
            return AlbumMap(layout: layout, source: .pca, embedder: album.embedder, cached: false,
                            description: "PCA of the \(album.embedder) embeddings")
        }
    }

    /// A 2-D position for every image (by album position; NaN for images the
    /// map does not place) and a description of the map, for reports.
    public func mapPoints(_ options: AlbumMapOptions = AlbumMapOptions(source: .auto),
                          progress: (any ProgressSink)? = nil) throws -> (points: [SIMD2<Float>], source: String) {
        let map = try self.map(options, progress: progress)
        var points = [SIMD2<Float>](repeating: SIMD2(.nan, .nan), count: images.count)
        for (row, id) in map.layout.imageIDs.enumerated() {
            if let index = position(of: id) { points[index] = map.layout.points[row] }
        }
        return (points, map.description)
    }

    /// The map as a picture (PNG, or SVG when `file` ends in `.svg`): every
    /// image grey (or in its cluster's colour, each cluster named by
    /// `clusterNames` or its number), `run`'s selection in tier colours,
    /// excluded images red, `highlight` ringed. Creates the file's missing
    /// folders; never replaces an existing file unless `overwrite`.
    public func plot(_ map: AlbumMap, to file: String, run: SelectionRun? = nil, highlight: Int64? = nil,
                     clusters: AlbumClusters? = nil, clusterNames: [String]? = nil,
                     size: Int = 1100, overwrite: Bool = false) throws {
        var categories = [MapPlot.Category](repeating: .album, count: map.count)
        if let run {
            for id in run.selection where !exclusions.contains(id) {
                if let row = map.row(of: id) { categories[row] = MapPlot.Category(tier: run.tier(of: id) ?? .variable) }
            }
        }
        for id in exclusions.ids { if let row = map.row(of: id) { categories[row] = .excluded } }
        var caption = "\(map.description) · \(Self.grouped(map.count)) images"
        if let run { caption += " · run \(run.id) (\(run.method), count \(run.count))" }
        var picture = MapPlot(points: map.layout.points, categories: categories, highlight: highlight.flatMap(map.row(of:)),
                              size: size, caption: caption)
        if let clusters {
            picture.clusters = MapPlot.Clusters(clusters, imageIDs: map.layout.imageIDs, names: clusterNames)
            picture.caption = (picture.caption ?? "") + " · \(clusters.clusters.count) clusters (\(clusters.options.method.rawValue))"
        }
        let bytes: [UInt8] = file.lowercased().hasSuffix(".svg") ? Array(picture.svg().utf8) : try picture.png()
        try AtomicFile.write(bytes, to: FileSystemPath(Self.absolutePath(file)), overwrite: overwrite, creatingFolders: true)
    }

    // MARK: - Sources

    private func umapMap(_ options: AlbumMapOptions, progress: (any ProgressSink)?) throws -> AlbumMap {
        try options.parameters.validate()
        let album = try matrix()
        let parameters = options.parameters
        let description = "UMAP of the \(album.embedder) embeddings (n_neighbors \(parameters.nNeighbors), "
            + "min_dist \(parameters.minDist), seed \(parameters.seed))"
        guard options.useCache else {
            let layout = try MapLayout.compute(float32(album, for: "the map"), imageIDs: album.imageIDs, parameters: parameters, progress: progress)
            return AlbumMap(layout: layout, source: .umap, embedder: album.embedder, cached: false, description: description)
        }
        let cache = MapCache(database: database)
        let fingerprints = album.matrix.rowFingerprints()
        let key = MapCache.key(embedder: album.embedder, parameters: parameters, imageIDs: album.imageIDs, fingerprints: fingerprints)
        if let hit = try? cache.entry(key: key), hit.layout.points.count == album.imageIDs.count {
            let layout = hit.layout.updatedOrder(album.imageIDs)
            return AlbumMap(layout: layout, source: .umap, embedder: album.embedder, cached: true, description: description)
        }
        let layout: MapLayout
        if let previous = try? cache.latest(embedder: album.embedder, parameters: parameters) {
            // Points whose vectors changed since are not trusted: they are placed again like new images.
            let current = Dictionary(uniqueKeysWithValues: zip(album.imageIDs, fingerprints))
            let kept = previous.layout.imageIDs.indices.filter { current[previous.layout.imageIDs[$0]] == previous.fingerprints[$0] }
            let reusable = MapLayout(points: kept.map { previous.layout.points[$0] }, imageIDs: kept.map { previous.layout.imageIDs[$0] },
                                     parameters: previous.layout.parameters, method: previous.layout.method)
            layout = try reusable.updated(for: float32(album, for: "the map"), imageIDs: album.imageIDs, parameters: parameters, progress: progress)
        } else {
            layout = try MapLayout.compute(float32(album, for: "the map"), imageIDs: album.imageIDs, parameters: parameters, progress: progress)
        }
        // A read-only index keeps its cache as it was: the map is this call's alone.
        if !database.isReadOnly { try cache.store(layout, fingerprints: fingerprints, key: key, embedder: album.embedder) }
        let how = layout.method == .incremental ? "\(description), updated" : description
        return AlbumMap(layout: layout, source: .umap, embedder: album.embedder, cached: false, description: how)
    }

    /// PhotoMapAI's map file for this album, when there is one.
    func photoMapUMAPFile() -> URL? {
        let url: URL
        if isIndexOnly {
            let file = URL(fileURLWithPath: location)
            url = file.deletingLastPathComponent().appendingPathComponent("umap.npz")
        } else {
            url = PhotoMapUMAP.url(inAlbum: URL(fileURLWithPath: rootPath))
        }
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// PhotoMapAI's `umap.npz`, its rows matched to images through the
    /// file names of the `embeddings.npz` beside it.
    private func photoMapMap() throws -> AlbumMap {
        guard let file = photoMapUMAPFile() else {
            throw EmbeddingFileError(.missing, PhotoMapUMAP.url(inAlbum: URL(fileURLWithPath: rootPath)).path,
                                     "does not exist; make the map in PhotoMapAI, or use source=\"umap\"")
        }
        let embeddingsURL = file.deletingLastPathComponent().appendingPathComponent("embeddings.npz")
        let names = try NumpyArchive(contentsOf: embeddingsURL).array("filenames").fileSystemPaths()
        let points = try PhotoMapUMAP.read(file, expectedRows: names.count)
        let matcher = PathMatcher(album: self)
        var placed: [SIMD2<Float>] = [], ids: [Int64] = []
        var seen = Set<Int64>()
        for (row, name) in names.enumerated() {
            guard let id = matcher.imageID(for: name), seen.insert(id).inserted else { continue }
            ids.append(id)
            placed.append(points[row])
        }
        let layout = MapLayout(points: placed, imageIDs: ids, method: .photoMap)
        return AlbumMap(layout: layout, source: .photoMap, embedder: PhotoMapEmbedder.name, cached: false,
                        description: "PhotoMapAI's UMAP (photomap_index/umap.npz)")
    }

    static func grouped(_ value: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        return formatter.string(from: NSNumber(value: value)) ?? String(value)
    }
}

extension MapPlot.Clusters {
    /// The clusters of the points of `imageIDs` (in that order), named
    /// "N label" with `names` (one per cluster, in order) or "N".
    public init(_ clusters: AlbumClusters, imageIDs: [Int64], names: [String]? = nil) {
        self.init(of: imageIDs.map { id in clusters.cluster(of: id).map { Int32($0.id - 1) } ?? -1 },
                  names: clusters.clusters.indices.map { c in
                      let label = names.flatMap { c < $0.count ? $0[c] : nil }
                      return label.map { "\(c + 1) \($0)" } ?? "\(c + 1)"
                  })
    }
}

extension MapLayout {
    /// The same points in the row order of `imageIDs` (which must name the same images).
    func updatedOrder(_ imageIDs: [Int64]) -> MapLayout {
        guard imageIDs != self.imageIDs else { return self }
        var byID: [Int64: SIMD2<Float>] = [:]
        for (id, p) in zip(self.imageIDs, points) { byID[id] = p }
        return MapLayout(points: imageIDs.map { byID[$0] ?? SIMD2(.nan, .nan) }, imageIDs: imageIDs,
                         parameters: parameters, method: method)
    }
}
