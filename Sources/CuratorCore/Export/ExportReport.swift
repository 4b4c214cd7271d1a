/// What a folder export did — or, for a dry run, would do: every image with
/// where it went, and every failure with its path and reason.
public struct ExportReport: Codable, Sendable, Equatable {
    /// The folder the images go into (for kohya, the `<repeats>_<concept>` folder).
    public var destination: FileSystemPath
    /// Whether this is a plan only (nothing was written).
    public var dryRun: Bool
    /// Whether the user stopped the export; items not reached are `notAttempted`.
    public var cancelled: Bool
    /// Images copied (in a dry run: images that would be copied).
    public var exported: Int
    /// Images not copied because their exact bytes were already in the
    /// destination (an earlier export into the same folder); see `ExportItem.Status.unchanged`.
    public var unchanged: Int
    /// Caption files beside unchanged images that an update rewrote because
    /// the album's caption had changed since they were copied.
    public var refreshedCaptions: Int
    /// Of those, images that got a new name because theirs was taken.
    public var renamed: Int
    /// Sidecar and caption files written with them (or that would be).
    public var captions: Int
    /// Excluded images in the input; they are never exported.
    public var excluded: Int
    /// Files an update or a replacement moved out of the destination, where
    /// they are now (under `trash`).
    public var trashed: [FileSystemPath]
    /// The trash folder they went to, when anything did.
    public var trash: FileSystemPath?
    /// Every failure: the path concerned and why.
    public var errors: [ExportFailure]
    /// Every image of the selection, in order, with its planned destination and outcome.
    public var items: [ExportItem]
    /// The companion files written (`ExportOptions.companionFiles`), where they are.
    public var companionFiles: [FileSystemPath]
    /// Hidden temporary files an interrupted export (kill -9, a crash) left
    /// in the destination, removed by this one.
    public var removedLeftovers: [FileSystemPath]

    /// Creates an empty report for `destination`.
    public init(destination: FileSystemPath, dryRun: Bool) {
        self.destination = destination
        self.dryRun = dryRun
        cancelled = false
        exported = 0
        unchanged = 0
        refreshedCaptions = 0
        trashed = []
        renamed = 0
        captions = 0
        excluded = 0
        errors = []
        items = []
        removedLeftovers = []
        companionFiles = []
    }
}

/// One failure during an export.
public struct ExportFailure: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The file concerned (the image, a sidecar, or the destination).
    public var path: FileSystemPath
    /// Why it failed, e.g. "write: No space left on device".
    public var reason: String

    /// Creates a failure record.
    public init(path: FileSystemPath, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path.string): \(reason)" }
}

/// One image of an export: source → destination, its sidecars, and the outcome.
public struct ExportItem: Codable, Sendable, Equatable {
    /// What happened to the image.
    public enum Status: String, Codable, Sendable {
        /// Dry run: it would be copied as described.
        case planned
        /// It and all its sidecars were copied.
        case exported
        /// Nothing of it was left in the destination; `reason` says why.
        case failed
        /// The export was cancelled before reaching it.
        case notAttempted
        /// A file with its exact bytes was already in the destination
        /// (`destination`); nothing was copied.
        case unchanged
    }

    /// The image's path inside the album.
    public var albumPath: FileSystemPath
    /// The image's absolute path.
    public var source: FileSystemPath
    /// Where it goes (absolute); nil when it failed before a name was chosen.
    public var destination: FileSystemPath?
    /// Whether the destination name differs from the image's own name.
    public var renamed: Bool
    /// Its sidecars and captions, each source → destination.
    public var sidecars: [ExportedFile]
    /// The outcome.
    public var status: Status
    /// Why it failed, when it did.
    public var reason: String?

    /// Creates an item record.
    public init(albumPath: FileSystemPath, source: FileSystemPath, destination: FileSystemPath? = nil, renamed: Bool = false,
                sidecars: [ExportedFile] = [], status: Status, reason: String? = nil) {
        self.albumPath = albumPath
        self.source = source
        self.destination = destination
        self.renamed = renamed
        self.sidecars = sidecars
        self.status = status
        self.reason = reason
    }
}

/// A sidecar or caption file of an export item.
public struct ExportedFile: Codable, Sendable, Equatable {
    /// The file copied; nil when the content was generated (the kohya concept caption).
    public var source: FileSystemPath?
    /// Where it goes (absolute).
    public var destination: FileSystemPath

    /// Creates a record.
    public init(source: FileSystemPath?, destination: FileSystemPath) {
        self.source = source
        self.destination = destination
    }
}
