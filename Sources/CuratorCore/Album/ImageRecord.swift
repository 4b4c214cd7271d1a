/// One image of an album as the index knows it.
public struct ImageRecord: Sendable, Hashable, Identifiable {
    /// The image's stable id in the index (survives rescans while the file stays).
    public let id: Int64
    /// Its path relative to the album root.
    public let path: RelativePath
    /// Its size in bytes when last scanned (0 when the file is absent, in index-only albums).
    public let size: Int64
    /// Its modification time when last scanned, seconds since 1970.
    public let mtime: Double
    /// Its width in pixels (0 when unknown).
    public let width: Int
    /// Its height in pixels (0 when unknown).
    public let height: Int

    /// Creates a record.
    public init(id: Int64, path: RelativePath, size: Int64, mtime: Double, width: Int, height: Int) {
        self.id = id
        self.path = path
        self.size = size
        self.mtime = mtime
        self.width = width
        self.height = height
    }
}

/// A file the index could not use, and why.
public struct SkippedFile: Sendable, Hashable, CustomStringConvertible {
    /// Its path relative to the album root.
    public let path: RelativePath
    /// Why it was skipped, e.g. "empty file".
    public let reason: String

    /// Creates an entry.
    public init(path: RelativePath, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path.string): \(reason)" }
}

/// What a scan found compared with the index.
public struct ScanReport: Sendable, CustomStringConvertible {
    /// Files new to the index.
    public var added = 0
    /// Files whose size or time changed (their embeddings are recomputed).
    public var changed = 0
    /// Indexed files that are gone.
    public var removed = 0
    /// Files as they were.
    public var unchanged = 0
    /// Files that cannot be used, with their reasons.
    public var skipped: [SkippedFile] = []

    /// An empty report.
    public init() {}

    public var description: String {
        "\(added) added, \(changed) changed, \(removed) removed, \(unchanged) unchanged, \(skipped.count) skipped"
    }
}

/// What computing or importing embeddings did.
public struct EmbedReport: Sendable, CustomStringConvertible {
    /// The embedder that ran.
    public var embedder: String
    /// Images that got a vector now.
    public var embedded = 0
    /// Images that already had one.
    public var alreadyEmbedded = 0
    /// Images without a vector after the run, with the reason.
    public var failed: [SkippedFile] = []
    /// Notes for the user (e.g. rows of an embeddings file that match no image).
    public var notes: [String] = []

    /// An empty report for `embedder`.
    public init(embedder: String) { self.embedder = embedder }

    public var description: String {
        var text = "\(embedder): \(embedded) embedded, \(alreadyEmbedded) already embedded, \(failed.count) failed"
        for note in notes { text += "\n  \(note)" }
        return text
    }
}
