import Foundation

/// How `Album.clusters` groups the images.
public enum ClusterMethod: String, Sendable, CaseIterable {
    /// HDBSCAN on the album's map: clusters of any shape and size, and noise.
    case hdbscan
    /// K-Means on the vectors (the selection's K-Means): exactly `k` clusters, no noise.
    case kmeans
}

/// The settings of a clustering.
public struct ClusterOptions: Sendable, Equatable {
    /// The algorithm.
    public var method: ClusterMethod
    /// HDBSCAN's smallest cluster; nil: 5, or one image in 1,000 on albums over 5,000.
    public var minSize: Int?
    /// K-Means' cluster count; nil: √(n / 2), at least 2.
    public var k: Int?
    /// The seed of the map HDBSCAN runs on (the map `a:map{seed=}` draws), or of K-Means.
    public var seed: UInt64

    /// Creates settings; by default HDBSCAN on the default map.
    public init(method: ClusterMethod = .hdbscan, minSize: Int? = nil, k: Int? = nil, seed: UInt64 = 0) {
        self.method = method
        self.minSize = minSize
        self.k = k
        self.seed = seed
    }

    /// HDBSCAN's smallest cluster for an album of `count` embedded images.
    public func effectiveMinSize(count: Int) -> Int { minSize ?? max(5, count / 1000) }

    /// K-Means' cluster count for an album of `count` embedded images.
    public func effectiveK(count: Int) -> Int { k ?? max(2, Int((Double(count) / 2).squareRoot().rounded())) }
}

/// Why an album cannot be clustered as asked.
public struct ClusterError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// What is wrong, naming the setting.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// One cluster of an album's images.
public struct ImageCluster: Sendable, Equatable {
    /// 1 for the largest cluster, then by size (ties: the smallest image id first).
    public let id: Int
    /// Its images (ids, ascending).
    public let members: [Int64]
    /// The member most like the others: the largest sum of cosine
    /// similarities to the members (the medoid under cosine distance).
    public let medoid: Int64
}

/// An album's images grouped into clusters, and those in none (noise).
public struct AlbumClusters: Sendable {
    /// The clusters, largest first.
    public let clusters: [ImageCluster]
    /// The embedded images in no cluster (HDBSCAN's noise), ascending.
    public let noise: [Int64]
    /// The settings used, with `minSize` and `k` filled in.
    public let options: ClusterOptions
    /// The embedder whose vectors were clustered.
    public let embedder: String
    /// Whether the clusters came from the index's cache.
    public let cached: Bool
    /// What was done, for display.
    public let description: String
    /// Why there are no clusters, when there are none.
    public let note: String?
    /// The key the index keeps these clusters under (nil when they were not stored).
    let cacheKey: String?
    private let clusterOfID: [Int64: Int]

    init(clusters: [ImageCluster], noise: [Int64], options: ClusterOptions, embedder: String, cached: Bool,
         description: String, note: String? = nil, cacheKey: String? = nil) {
        self.cacheKey = cacheKey
        self.clusters = clusters
        self.noise = noise
        self.options = options
        self.embedder = embedder
        self.cached = cached
        self.description = description
        self.note = note
        var of: [Int64: Int] = [:]
        for (index, cluster) in clusters.enumerated() { for id in cluster.members { of[id] = index } }
        clusterOfID = of
    }

    /// The cluster of image `id`; nil for noise and images without a vector.
    public func cluster(of id: Int64) -> ImageCluster? { clusterOfID[id].map { clusters[$0] } }
}

extension Album {
    /// The album's clusters. HDBSCAN runs on the map (`map()`, cached), as
    /// PhotoMapAI clusters its UMAP: density is meaningful in the map's two
    /// dimensions, where in 512 or 768 every distance looks alike, and the
    /// clusters are the islands the user sees on `m:plot`. K-Means runs on
    /// the vectors. Either way the same album and settings give the same
    /// clusters, cached in the index.
    ///
    /// - Throws: `ClusterError` for bad settings; `IndexError.noEmbeddings`;
    ///   `MapError`; `CancelledError`.
    public func clusters(_ options: ClusterOptions = ClusterOptions(), progress: (any ProgressSink)? = nil) throws -> AlbumClusters {
        let album = try matrix()
        let n = album.imageIDs.count
        var settled = options
        switch options.method {
        case .hdbscan:
            let minSize = options.effectiveMinSize(count: n)
            guard minSize >= 2 else { throw ClusterError("clusters: min_size must be at least 2 (got \(minSize))") }
            settled.minSize = minSize
            settled.k = nil
            let what = "HDBSCAN (min_size \(minSize)) on the map of the \(album.embedder) embeddings (seed \(options.seed))"
            // No map can hold a cluster of minSize, and none is drawn for fewer than two clusters' worth.
            guard n >= 2 * minSize else {
                let note = "\(n) embedded image\(n == 1 ? "" : "s") cannot form two clusters of at least \(minSize) (min_size): every image is noise"
                    + (n >= 4 ? "; pass a smaller min_size (at least 2)" : "")
                return AlbumClusters(clusters: [], noise: album.imageIDs.sorted(), options: settled, embedder: album.embedder,
                                     cached: false, description: what, note: note)
            }
            let map = try self.map(AlbumMapOptions(source: .umap, parameters: UMAPParameters(seed: options.seed)), progress: progress)
            var points = [SIMD2<Double>](repeating: .zero, count: n)
            var key = Array("curator-clusters-1\nhdbscan \(minSize)\n".utf8)
            key.reserveCapacity(key.count + n * 16)
            for (row, id) in album.imageIDs.enumerated() {
                guard let p = map.point(of: id), p.x.isFinite, p.y.isFinite else {
                    throw MapError(.invalidInput, "clusters: the map does not place image #\(id)")
                }
                points[row] = SIMD2(Double(p.x), Double(p.y))
                withUnsafeBytes(of: id.littleEndian) { key += $0 }
                withUnsafeBytes(of: p.x.bitPattern.littleEndian) { key += $0 }
                withUnsafeBytes(of: p.y.bitPattern.littleEndian) { key += $0 }
            }
            return try cachedClusters(key: "hdbscan-" + SHA256.hex(key), options: settled, album: album, what: what) {
                let labels = HDBSCAN(minClusterSize: minSize).cluster(points)
                var groups = [[Int]](repeating: [], count: labels.clusterCount)
                for (row, label) in labels.labels.enumerated() where label >= 0 { groups[Int(label)].append(row) }
                return groups
            }
        case .kmeans:
            let k = options.effectiveK(count: n)
            guard k >= 1 else { throw ClusterError("clusters: k must be at least 1 (got \(k))") }
            guard k <= n else {
                throw ClusterError("clusters: k \(k) is more than the album's \(n) embedded image\(n == 1 ? "" : "s")")
            }
            settled.k = k
            settled.minSize = nil
            let what = "K-Means (k \(k), seed \(options.seed)) on the \(album.embedder) embeddings"
            var key = Array("curator-clusters-1\nkmeans \(k) \(options.seed)\n\(album.embedder)\n".utf8)
            for (id, fingerprint) in zip(album.imageIDs, album.matrix.rowFingerprints()) {
                withUnsafeBytes(of: id.littleEndian) { key += $0 }
                withUnsafeBytes(of: fingerprint.littleEndian) { key += $0 }
            }
            return try cachedClusters(key: "kmeans-" + SHA256.hex(key), options: settled, album: album, what: what) {
                let rows = Array(0..<n)
                let centres = try KMeansSampler().cluster(matrix: album.matrix, candidates: rows, k: k, seeds: [options.seed],
                                                          progress: SelectionProgress(sink: progress, label: "clusters", total: 1))
                let representatives = centres.first?.representatives ?? rows
                // Each image joins the cluster of its nearest representative (the image nearest each centroid).
                let nearest = SelectionCoverage.nearestPicks(matrix: album.matrix, candidates: rows, picks: representatives).nearest
                var groups = [[Int]](repeating: [], count: representatives.count)
                for row in rows { groups[Int(nearest[row])].append(row) }
                return groups.filter { !$0.isEmpty }
            }
        }
    }

    /// The clusters under `key` in the index, or those `compute` makes
    /// (groups of matrix rows), given medoids, ordered and stored.
    private func cachedClusters(key: String, options: ClusterOptions, album: AlbumMatrix, what: String,
                                compute: () throws -> [[Int]]) throws -> AlbumClusters {
        let cache = ClusterCache(database: database)
        var stored = try? cache.entry(key: key)
        let cached = stored != nil
        if stored == nil {
            stored = try compute().map { rows in
                (medoid: album.imageIDs[Self.medoidRow(of: rows, in: album.matrix)], members: rows.map { album.imageIDs[$0] }.sorted())
            }
            if !database.isReadOnly { try? cache.store(stored!, key: key) }
        }
        let (clusters, noise) = Self.numbered(stored!, embedded: album.imageIDs)
        let summary = "\(what): \(clusters.count) cluster\(clusters.count == 1 ? "" : "s"), \(noise.count) noise image\(noise.count == 1 ? "" : "s")"
        let note = clusters.isEmpty ? "no group of images is dense enough to be a cluster: every image is noise (a smaller min_size finds smaller groups)" : nil
        return AlbumClusters(clusters: clusters, noise: noise, options: options, embedder: album.embedder, cached: cached,
                             description: summary, note: note, cacheKey: key)
    }

    /// Stored groups as `ImageCluster`s numbered as `a:clusters()` numbers
    /// them (largest first; ties: the smallest member id first), and the
    /// images of `embedded` in none (noise), ascending.
    static func numbered(_ stored: [(medoid: Int64, members: [Int64])], embedded: [Int64]) -> (clusters: [ImageCluster], noise: [Int64]) {
        var groups = stored
        groups.sort { $0.members.count > $1.members.count || ($0.members.count == $1.members.count && $0.members[0] < $1.members[0]) }
        let clusters = groups.enumerated().map { ImageCluster(id: $0.offset + 1, members: $0.element.members, medoid: $0.element.medoid) }
        var inCluster = Set<Int64>()
        for c in clusters { inCluster.formUnion(c.members) }
        return (clusters, embedded.filter { !inCluster.contains($0) }.sorted())
    }

    /// The row of `rows` whose vector has the largest dot product with their
    /// sum: the largest sum of cosine similarities to the others.
    static func medoidRow(of rows: [Int], in matrix: EmbeddingMatrix) -> Int {
        let d = matrix.dimension
        var sum = [Float](repeating: 0, count: d)
        var vector = [Float](repeating: 0, count: d)
        for row in rows {
            vector.withUnsafeMutableBufferPointer { matrix.copyRow(row, into: $0.baseAddress!) }
            BLAS.axpy(d, alpha: 1, vector, &sum)
        }
        var best = rows[0], bestScore = -Float.infinity
        for row in rows {
            vector.withUnsafeMutableBufferPointer { matrix.copyRow(row, into: $0.baseAddress!) }
            let score = BLAS.dot(d, vector, sum)
            if score > bestScore { best = row; bestScore = score }
        }
        return best
    }
}
