import Foundation

extension Album {
    /// The clustering the index stored last (`a:clusters()`, with whatever
    /// settings), numbered as `a:clusters()` numbers it, without computing
    /// anything; nil when the album was never clustered. Members no longer in
    /// the album are left out, and noise is every other image of the album
    /// (readers that show the album, such as the review page, want it whole).
    /// `options.method` comes from the cache's key; `minSize`, `k` and the
    /// seed are not kept there and read nil and 0.
    ///
    /// - Throws: `MapError.corrupt` when the stored clusters are damaged.
    public func newestCachedClusters() throws -> (clusters: AlbumClusters, created: Date)? {
        guard let newest = try ClusterCache(database: database).newest() else { return nil }
        let present = Set(images.map(\.id))
        let kept = newest.clusters.compactMap { group -> (medoid: Int64, members: [Int64])? in
            let members = group.members.filter { present.contains($0) }
            guard !members.isEmpty else { return nil }
            return (present.contains(group.medoid) ? group.medoid : members[0], members)
        }
        let (clusters, noise) = Self.numbered(kept, embedded: images.map(\.id))
        let method: ClusterMethod = newest.key.hasPrefix("kmeans-") ? .kmeans : .hdbscan
        let what = "\(method.rawValue): \(clusters.count) cluster\(clusters.count == 1 ? "" : "s"), \(noise.count) image\(noise.count == 1 ? "" : "s") in none"
        return (AlbumClusters(clusters: clusters, noise: noise, options: ClusterOptions(method: method), embedder: embedder ?? "",
                              cached: true, description: what), newest.created)
    }
}

extension Album {
    /// When the index's newest clustering was stored (a cheap question: the
    /// clusters are not read), or nil when it holds none.
    public func newestClusteringDate() throws -> Date? {
        try ClusterCache(database: database).newestDate()
    }
}
