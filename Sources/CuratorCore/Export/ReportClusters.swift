/// The clusters an HTML report shows (`r:report{clusters=c}`): one row per
/// cluster with its label, size and medoid, how the run's picks spread over
/// them, each album image's cluster for colouring the map, and each pick's
/// cluster on its tile. Plain values, so a report can be made without an album.
public struct ReportClusters: Sendable {
    /// One cluster of the album.
    public struct Cluster: Sendable {
        /// Its number (`c[id]`): 1 for the largest.
        public var id: Int
        /// Its label from the vocabulary, when there are labels.
        public var label: String?
        /// The label's score (the members' mean zero-shot probability), when labelled.
        public var score: Float?
        /// The runner-up labels, best first.
        public var alternates: [String]
        /// How many images it holds.
        public var size: Int
        /// Its medoid, shown as a thumbnail (`index` is its album position).
        public var medoid: CurationEntry

        /// Creates a cluster row.
        public init(id: Int, label: String? = nil, score: Float? = nil, alternates: [String] = [], size: Int,
                    medoid: CurationEntry) {
            self.id = id
            self.label = label
            self.score = score
            self.alternates = alternates
            self.size = size
            self.medoid = medoid
        }

        /// What the map and the tiles write for it: "3 beach", or "3".
        public var name: String { label.map { "\(id) \($0)" } ?? String(id) }
    }

    /// The clusters, largest first (`clusters[c]` has id c + 1).
    public var clusters: [Cluster]
    /// Per album position (`CurationEntry.index`), the position in
    /// `clusters` of the image's cluster, or −1 for noise and images
    /// without a vector.
    public var of: [Int32]
    /// How many embedded images are in no cluster.
    public var noise: Int
    /// How the clusters were made, e.g. "HDBSCAN (min_size 85) on the map …: 196 clusters, 3,301 noise images".
    public var description: String
    /// Why there are no clusters or no labels, when there is something to say.
    public var note: String?

    /// Creates the clusters of a report.
    public init(clusters: [Cluster], of: [Int32], noise: Int, description: String, note: String? = nil) {
        self.clusters = clusters
        self.of = of
        self.noise = noise
        self.description = description
        self.note = note
    }

    /// The position in `clusters` of the image at album position `index`, or nil for none.
    public func cluster(atIndex index: Int) -> Int? {
        guard index >= 0, index < of.count, of[index] >= 0, Int(of[index]) < clusters.count else { return nil }
        return Int(of[index])
    }

    /// Per cluster (by position), how many of `entries` it holds, and how
    /// many are in none: the spread of a run's picks.
    public func spread(of entries: [CurationEntry]) -> (perCluster: [Int], unclustered: Int) {
        var counts = [Int](repeating: 0, count: clusters.count), none = 0
        for entry in entries {
            if let c = cluster(atIndex: entry.index) { counts[c] += 1 } else { none += 1 }
        }
        return (counts, none)
    }
}
