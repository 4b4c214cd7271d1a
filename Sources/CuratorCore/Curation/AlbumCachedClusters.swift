import Foundation

extension Album {
    /// The clustering the index stored last (`a:clusters()`, with whatever
    /// settings), numbered as `a:clusters()` numbers it, with the labels
    /// `a:clusters()` last gave it (nil for a cluster without one), without
    /// computing anything; nil when the album was never clustered. Members no
    /// longer in the album are left out, and noise is every other image of the
    /// album (readers that show the album, such as the review page, want it
    /// whole). `options.method` comes from the cache's key; `minSize`, `k` and
    /// the seed are not kept there and read nil and 0.
    ///
    /// - Throws: `MapError.corrupt` when the stored clusters are damaged.
    public func newestCachedClusters() throws -> (clusters: AlbumClusters, labels: [String?], created: Date)? {
        guard let newest = try ClusterCache(database: database).newest() else { return nil }
        let present = Set(images.map(\.id))
        var labelOfMedoid: [Int64: String] = [:]
        let kept = newest.clusters.compactMap { group -> (medoid: Int64, members: [Int64])? in
            let members = group.members.filter { present.contains($0) }
            guard !members.isEmpty else { return nil }
            let medoid = present.contains(group.medoid) ? group.medoid : members[0]
            // The label follows the group, whose medoid may have left the album.
            if let label = newest.labels[group.medoid] { labelOfMedoid[medoid] = label }
            return (medoid, members)
        }
        let (clusters, noise) = Self.numbered(kept, embedded: images.map(\.id))
        let method: ClusterMethod = newest.key.hasPrefix("kmeans-") ? .kmeans : .hdbscan
        let what = "\(method.rawValue): \(clusters.count) cluster\(clusters.count == 1 ? "" : "s"), \(noise.count) image\(noise.count == 1 ? "" : "s") in none"
        return (AlbumClusters(clusters: clusters, noise: noise, options: ClusterOptions(method: method), embedder: embedder ?? "",
                              cached: true, description: what, cacheKey: newest.key),
                clusters.map { labelOfMedoid[$0.medoid] }, newest.created)
    }

    /// Keeps `labels` (one per cluster, as `clusterLabels` gives them) in the
    /// index with the clustering they name, so the review page shows them
    /// without the REPL passing them on. Does nothing for clusters the index
    /// does not hold (a read-only index, or a clustering since dropped).
    public func storeLabels(_ labels: [ClusterLabel], of clusters: AlbumClusters) throws {
        guard let key = clusters.cacheKey, !database.isReadOnly, labels.count == clusters.clusters.count else { return }
        var byMedoid: [Int64: String] = [:]
        for (cluster, label) in zip(clusters.clusters, labels) { byMedoid[cluster.medoid] = label.label }
        try ClusterCache(database: database).storeLabels(byMedoid, key: key)
    }
}

extension Album {
    /// When the index's newest clustering was stored (a cheap question: the
    /// clusters are not read), or nil when it holds none.
    public func newestClusteringDate() throws -> Date? {
        try ClusterCache(database: database).newestDate()
    }
}
