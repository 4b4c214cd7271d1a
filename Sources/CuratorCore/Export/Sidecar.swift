/// A file beside an image that shares its stem, such as `cat.txt` beside
/// `cat.jpg`: captions (`.txt`, `.caption`) and metadata (`.json`). It
/// travels with its image on export and takes the image's final name.
public struct Sidecar: Hashable, Sendable {
    /// The extension with its dot, e.g. `.txt`.
    public var fileExtension: String
    /// The sidecar's absolute path.
    public var absolutePath: FileSystemPath

    /// Creates a sidecar record.
    public init(fileExtension: String, absolutePath: FileSystemPath) {
        self.fileExtension = fileExtension
        self.absolutePath = absolutePath
    }

    /// The extensions looked for beside each image, as PhotoMapAI does.
    public static let standardExtensions = [".txt", ".caption", ".json"]

    /// The extensions kohya-style trainers read captions from.
    public static let captionExtensions = [".txt", ".caption"]

    /// The path of the `fileExtension` sidecar of the image at `imagePath`:
    /// the image's extension replaced (`a/cat.jpg` → `a/cat.txt`). On bytes,
    /// so that the album's captions (`RelativePath`) and export's sidecars
    /// (`FileSystemPath`) follow this one rule.
    public static func path(besideImageAt imagePath: [UInt8], fileExtension: String) -> [UInt8] {
        PathBytes.replacingExtension(imagePath, with: Array(fileExtension.utf8))
    }

    /// The sidecars present beside the image at `imagePath`, in the order of
    /// `extensions` (each with its dot; matched case-sensitively).
    ///
    /// An entry counts as present when anything at all has that name — also
    /// a dangling symbolic link or one that cannot be inspected — so that a
    /// broken caption is reported by the export instead of silently missing.
    public static func discover(besideImageAt imagePath: FileSystemPath,
                                extensions: [String] = standardExtensions,
                                fileSystem: any ExportFileSystem = POSIXFileSystem()) -> [Sidecar] {
        extensions.compactMap { ext in
            let candidate = FileSystemPath(bytes: path(besideImageAt: imagePath.bytes, fileExtension: ext))
            if candidate == imagePath { return nil }
            let present: Bool
            do { present = try fileSystem.status(of: candidate, followingLinks: false) != nil } catch { present = true }
            return present ? Sidecar(fileExtension: ext, absolutePath: candidate) : nil
        }
    }
}
