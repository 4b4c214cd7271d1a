import Foundation

/// The `metadata.jsonl` of a Hugging Face `imagefolder` export: one JSON
/// object per line, `{"file_name": "001.jpg", "text": "the caption"}`, as
/// `datasets` reads it (and diffusers' `train_text_to_image_lora.py` with
/// `--caption_column text`).
///
/// It describes every image the export leaves in the folder: lines of an
/// earlier export for files still there are kept (mode `add`), lines for this export's
/// images written anew (an image without a caption gets `"text": ""`).
/// The file is replaced in one rename.
enum ImageFolderMetadata {
    /// The file's name in the destination.
    static let fileName = Array("metadata.jsonl".utf8)

    /// Writes the metadata for the report's items (the images of `entries`,
    /// in order); a failure is added to the report's errors.
    static func write(for entries: [CurationEntry], report: inout ExportReport, in folder: FileSystemPath,
                      keepingEarlier: Bool, fileSystem: any ExportFileSystem) {
        let path = folder.appending(fileName)
        var lines: [(name: String, text: String)] = []
        var named = Set<String>()
        for (entry, item) in zip(entries, report.items) where item.status == .exported || item.status == .unchanged {
            guard let destination = item.destination else { continue }
            let name = String(decoding: destination.name, as: UTF8.self)
            guard named.insert(name).inserted else { continue }
            lines.append((name, caption(of: entry) ?? ""))
        }
        // Keep what an earlier export described for files still in the
        // folder (not in an update, after which the folder holds this export only).
        var kept: [(name: String, text: String)] = []
        if keepingEarlier, let data = Captions.readFile(path, limit: 256 << 20) {
            for line in data.split(separator: 10) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let name = object["file_name"] as? String, !named.contains(name),
                      (try? fileSystem.status(of: folder.appending(name), followingLinks: false)) != nil
                else { continue }
                named.insert(name)
                kept.append((name, object["text"] as? String ?? ""))
            }
        }
        var bytes: [UInt8] = []
        for (name, text) in kept + lines {
            let object: [String: String] = ["file_name": name, "text": text]
            guard let json = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            else { continue }
            bytes += json
            bytes.append(10)
        }
        do {
            try AtomicFile.write(bytes, to: path, overwrite: true, fileSystem: fileSystem)
        } catch {
            report.errors.append(ExportFailure(path: path, reason: "could not write the metadata: \(error)"))
        }
    }

    /// The caption of the image of `entry`, from its sidecar (as the album reads it).
    private static func caption(of entry: CurationEntry) -> String? {
        let relative = entry.path.bytes, absolute = entry.absolutePath.bytes
        guard absolute.count > relative.count, absolute.suffix(relative.count).elementsEqual(relative) else {
            return nil
        }
        let root = FileSystemPath(bytes: Array(absolute.dropLast(relative.count + 1)))
        return Captions.caption(of: entry.path, under: root)
    }
}
