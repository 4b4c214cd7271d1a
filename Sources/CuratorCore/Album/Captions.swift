import Foundation

/// Reading captions from their sidecar files, `<stem>.txt`, `<stem>.caption`
/// or `<stem>.json` beside an image, as LoRA trainers expect them. Which
/// files are sidecars, their order and their names are `Sidecar`'s one rule,
/// the one the export copies by; here only regular files count, since they
/// are read (the export also lists broken ones, to report them).
public enum Captions {
    /// The sidecar extensions (with their dots), in the order a caption is looked for.
    public static var extensions: [String] { Sidecar.standardExtensions }

    /// The sidecar files that exist beside the image at `path` (relative to `root`), in `extensions` order.
    public static func sidecars(of path: RelativePath, under root: FileSystemPath) -> [RelativePath] {
        extensions.compactMap { ext in
            let candidate = RelativePath(bytes: Sidecar.path(besideImageAt: path.bytes, fileExtension: ext))
            guard candidate != path else { return nil }
            var info = stat()
            let exists = candidate.absolute(under: root).withCPath { stat($0, &info) } == 0
            return exists && (info.st_mode & S_IFMT) == S_IFREG ? candidate : nil
        }
    }

    /// The caption of the image at `path`: the first sidecar's text, trimmed.
    /// A JSON sidecar gives its `caption`, `text` or `prompt` string (else its whole text).
    public static func caption(of path: RelativePath, under root: FileSystemPath) -> String? {
        for sidecar in sidecars(of: path, under: root) {
            guard let data = readFile(sidecar.absolute(under: root)) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            if sidecar.pathExtension == "json" {
                if let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] {
                    for key in ["caption", "text", "prompt"] {
                        if let value = object[key] as? String { return value.trimmingCharacters(in: .whitespacesAndNewlines) }
                    }
                }
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }

    /// A whole small file's bytes (at most `limit`), or nil when it cannot be
    /// read or is not a regular file (a FIFO named like a caption must not hang).
    static func readFile(_ path: FileSystemPath, limit: Int = 1 << 20) -> [UInt8]? {
        try? RegularFile.read(path, limit: limit, truncating: true)
    }
}

extension Album {
    /// The caption of `image`: its sidecar file's, else (in an index-only
    /// album) the one imported with its embedding, if any.
    public func caption(of image: ImageRecord) -> String? {
        if let sidecar = Captions.caption(of: image.path, under: root) { return sidecar }
        return isIndexOnly ? ImportedCaptions.caption(of: image.id, in: database) : nil
    }

    /// The caption sidecar files beside `image`.
    public func captionFiles(of image: ImageRecord) -> [RelativePath] {
        Captions.sidecars(of: image.path, under: root)
    }
}
