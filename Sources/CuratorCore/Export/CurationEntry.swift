/// One image of a curation result, as export, CSV and reports need it: plain
/// values, so callers build it from an album and a selection however they hold them.
public struct CurationEntry: Hashable, Sendable {
    /// The image's path inside the album.
    public var path: RelativePath
    /// The image's absolute path (what is opened and copied).
    public var absolutePath: FileSystemPath
    /// How many Monte Carlo runs picked the image (PhotoMapAI's CSV `Count`).
    public var votes: Int
    /// `votes / iterations`, 0…1 (the CSV shows it as a percentage).
    public var frequency: Double
    /// The image's position in the album's embedding index (its row in the
    /// embedding matrix): PhotoMapAI's CSV `Index`, the number its map and
    /// favourites use for the image.
    public var index: Int
    /// The frequency tier; nil for excluded images or when none applies.
    public var tier: SelectionTier?
    /// Whether the user excluded the image: it is never exported, and is
    /// shown in red (struck through in its place when the run picked it).
    public var excluded: Bool
    /// The image's number in the run's selection (`r.selection[rank]`, from
    /// 1), also once it is excluded: reports and contact sheets show this
    /// number so it never drifts. nil for an image the run did not select.
    public var rank: Int?
    /// The image's sidecar files, when the caller already knows them; nil
    /// lets the exporter look beside the image (`Sidecar.discover`).
    public var sidecars: [Sidecar]?

    /// Creates an entry. Without an explicit `tier`, an included image gets
    /// the tier of its `frequency`; excluded images get none.
    public init(path: RelativePath, absolutePath: FileSystemPath, votes: Int = 0, frequency: Double = 0,
                index: Int, tier: SelectionTier? = nil, excluded: Bool = false, rank: Int? = nil,
                sidecars: [Sidecar]? = nil) {
        self.path = path
        self.absolutePath = absolutePath
        self.votes = votes
        self.frequency = frequency
        self.index = index
        self.tier = excluded ? nil : (tier ?? SelectionTier(frequency: frequency))
        self.excluded = excluded
        self.rank = rank
        self.sidecars = sidecars
    }

    /// Creates an entry for `path` in the album rooted at `albumRoot`.
    public init(path: RelativePath, albumRoot: FileSystemPath, votes: Int = 0, frequency: Double = 0,
                index: Int, tier: SelectionTier? = nil, excluded: Bool = false, rank: Int? = nil,
                sidecars: [Sidecar]? = nil) {
        self.init(path: path, absolutePath: path.absolute(under: albumRoot), votes: votes, frequency: frequency,
                  index: index, tier: tier, excluded: excluded, rank: rank, sidecars: sidecars)
    }

    /// The image's file name, e.g. `cat.jpg` (PhotoMapAI's CSV `Filename`).
    public var fileName: [UInt8] { absolutePath.name }

    /// The name of the folder holding the image on disk (PhotoMapAI's CSV
    /// `Subfolder` and the prefix of its collision names).
    public var parentFolderName: [UInt8] { absolutePath.parentName }
}
