/// How a folder export lays out and names what it copies.
public struct ExportOptions: Sendable, Equatable {
    /// Where the images go inside the destination.
    public var layout: ExportLayout
    /// The sidecar extensions copied with each image (flat layout), each
    /// with its dot. Default: `.txt`, `.caption` and `.json`.
    public var captionExtensions: [String]
    /// Plan only: the report says what would be written, and nothing is.
    public var dryRun: Bool
    /// Allow a destination inside the album's own folder (refused by
    /// default: the copies would join the album at its next scan).
    public var intoAlbum: Bool
    /// What happens to what is already in the destination.
    public var mode: ExportMode
    /// Files written at the destination's top level with the export (a
    /// trainer's config such as kohya's `dataset.toml`), by name: only when
    /// every image made it; `add` refuses to replace one, `update` replaces
    /// it in one step, `replace` puts it into the new folder before the swap.
    public var companionFiles: [CompanionFile] = []

    /// Creates options.
    public init(layout: ExportLayout = .flat, captionExtensions: [String] = Sidecar.standardExtensions,
                dryRun: Bool = false, intoAlbum: Bool = false, mode: ExportMode = .add) {
        self.layout = layout
        self.captionExtensions = captionExtensions
        self.dryRun = dryRun
        self.intoAlbum = intoAlbum
        self.mode = mode
    }

    /// Throws `ExportError.invalidOption` for values that cannot work.
    public func validate() throws {
        for ext in captionExtensions { try Self.validateExtension(ext, option: "captions") }
        if case let .kohya(kohya) = layout { try kohya.validate() }
        for file in companionFiles {
            let bytes = Array(file.name.utf8)
            guard !bytes.isEmpty, !bytes.contains(PathBytes.slash), !bytes.contains(0), file.name != ".", file.name != ".." else {
                throw ExportError.invalidOption(name: "files", reason: "'\(file.name)' must be a plain file name, e.g. 'dataset.toml'")
            }
        }
        if Set(companionFiles.map(\.name)).count != companionFiles.count {
            throw ExportError.invalidOption(name: "files", reason: "a file name is given twice")
        }
    }

    static func validateExtension(_ ext: String, option: String) throws {
        let bytes = Array(ext.utf8)
        guard bytes.count >= 2, bytes.first == PathBytes.dot else {
            throw ExportError.invalidOption(name: option, reason: "'\(ext)' is not an extension like '.txt'")
        }
        guard !bytes.contains(PathBytes.slash), !bytes.contains(0), !bytes.dropFirst().contains(PathBytes.dot) else {
            throw ExportError.invalidOption(name: option, reason: "'\(ext)' must be one dot and a name, e.g. '.txt'")
        }
    }
}

/// A file written beside an export's images (see `ExportOptions.companionFiles`).
public struct CompanionFile: Sendable, Equatable {
    /// Its name at the destination's top level.
    public var name: String
    /// Its bytes.
    public var contents: [UInt8]

    /// Creates a companion file.
    public init(name: String, contents: [UInt8]) {
        self.name = name
        self.contents = contents
    }
}

/// What an export does with what is already in its destination. Nothing is
/// ever deleted: what an update or a replacement takes out goes into a trash
/// folder beside the destination, `<destination>.trash/<date-time>/`.
public enum ExportMode: String, Sendable, Equatable, CaseIterable {
    /// Add the selection beside what is there (an image whose bytes are
    /// already there is not copied again).
    case add
    /// Make the folder hold the selection: add what is new, keep what is
    /// there already, move every other file of the image folder to the trash.
    case update
    /// Export into a new folder, then swap it in for the destination in
    /// one atomic rename; the old folder goes to the trash.
    case replace
}

/// Where exported images go inside the destination folder.
public enum ExportLayout: Sendable, Equatable {
    /// Every image straight in the destination, with its sidecars.
    case flat
    /// kohya-ss's dataset layout: `<destination>/<repeats>_<concept>/`, one
    /// caption file per image.
    case kohya(KohyaLayout)
    /// Hugging Face `imagefolder` (what diffusers' LoRA scripts and
    /// `datasets.load_dataset("imagefolder", data_dir=...)` read): the images
    /// flat in the destination and their captions in `metadata.jsonl`, one
    /// `{"file_name": ..., "text": ...}` per line (see `ImageFolderMetadata`).
    case imagefolder
}

/// The kohya-ss dataset layout (`<repeats>_<concept>` folders read by
/// sd-scripts' DreamBooth-style datasets).
public struct KohyaLayout: Sendable, Equatable {
    /// How often the trainer repeats each image per epoch (≥ 1).
    public var repeats: Int
    /// The concept (instance) name, e.g. `mychar`.
    public var concept: String
    /// The caption file extension the trainer reads: `.txt` or `.caption`.
    public var captionExtension: String
    /// When an image has no caption of its own, write the concept as its caption.
    public var conceptAsMissingCaption: Bool

    /// Creates the layout.
    public init(repeats: Int, concept: String, captionExtension: String = ".txt", conceptAsMissingCaption: Bool = false) {
        self.repeats = repeats
        self.concept = concept
        self.captionExtension = captionExtension
        self.conceptAsMissingCaption = conceptAsMissingCaption
    }

    /// The folder the images go in, e.g. `10_mychar`.
    public var folderName: String { "\(repeats)_\(concept)" }

    /// The caption files an image may have, in the order they are preferred:
    /// the chosen extension first, then the other caption extensions.
    public var captionSources: [String] {
        [captionExtension] + Sidecar.captionExtensions.filter { $0 != captionExtension }
    }

    /// Throws `ExportError.invalidOption` for values that cannot work.
    public func validate() throws {
        guard repeats >= 1 else {
            throw ExportError.invalidOption(name: "repeats", reason: "must be at least 1, not \(repeats)")
        }
        let bytes = Array(concept.utf8)
        guard !bytes.isEmpty, !bytes.contains(PathBytes.slash), !bytes.contains(0) else {
            throw ExportError.invalidOption(name: "concept", reason: "'\(concept)' cannot be part of a folder name")
        }
        try ExportOptions.validateExtension(captionExtension, option: "caption_ext")
    }
}
