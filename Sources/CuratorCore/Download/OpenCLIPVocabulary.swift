import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// open_clip's BPE vocabulary, `bpe_simple_vocab_16e6.txt.gz`, which open_clip
/// models' Hub repositories (DFN-2B, PhotoMapAI's default) need not carry:
/// open_clip reads it from its own Python package. curator takes it from
/// that package's newest wheel on PyPI (`open_clip_torch`), read with its own
/// zip reader, so the text tower of a downloaded open_clip model works
/// without Python.
enum OpenCLIPVocabulary {
    /// The file's name in a model folder, where the tokenizer looks.
    static let fileName = CLIPTokenizer.openCLIPVocabularyName
    /// Where the wheel holds it.
    static let member = "open_clip/" + fileName
    /// The package on PyPI.
    static let package = "open_clip_torch"

    /// Fetches the vocabulary into `folder` (as `fileName`), the wheel and
    /// PyPI's description of it going to temporary files there. Returns the
    /// file's size and the package's version.
    static func fetch(into folder: URL, pypi: String, progress: (any ProgressSink)?) throws(DownloadError) -> (bytes: Int64, version: String) {
        let listing = "\(pypi)/pypi/\(package)/json"
        let described = try download(listing, to: folder.appendingPathComponent(".\(package).json.partial")) { _, _ in true }
        defer { unlink(described.path) }
        guard let data = FileManager.default.contents(atPath: described.path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let urls = json["urls"] as? [[String: Any]],
              let wheel = urls.first(where: { ($0["packagetype"] as? String) == "bdist_wheel" })?["url"] as? String else {
            throw DownloadError(.invalid, listing, "not PyPI's description of \(package) with a wheel")
        }
        let version = ((json["info"] as? [String: Any])?["version"] as? String) ?? "?"
        let label = "\(fileName) (\(package) \(version))"
        let wheelFile = try download(wheel, to: folder.appendingPathComponent(".\(package).whl.partial"),
                                     progress: ModelDownload.reporting(progress, label: label))
        progress?.finish(label: label)
        defer { unlink(wheelFile.path) }
        let bytes: [UInt8]
        do {
            let zip = try ZipDirectory(wheelFile)
            guard let entry = zip.members.first(where: { $0.name == member }) else {
                throw DownloadError(.invalid, wheel, "the wheel lacks \(member)")
            }
            let block = try zip.read(entry, location: "\(wheel): \(member)")
            bytes = Array(UnsafeRawBufferPointer(start: block.base, count: block.count))
        } catch let error as DownloadError {
            throw error
        } catch {
            throw DownloadError(.invalid, wheel, "not a readable wheel (\(error))")
        }
        guard bytes.starts(with: [0x1F, 0x8B]) else { throw DownloadError(.invalid, wheel, "\(member) is not gzip data") }
        let final = folder.appendingPathComponent(fileName)
        let partial = folder.appendingPathComponent(fileName + ".partial")
        guard FileManager.default.createFile(atPath: partial.path, contents: Data(bytes)) else {
            throw DownloadError(.file, partial.path, "cannot write")
        }
        _ = try ModelDownload.place(partial, at: final)
        return (Int64(bytes.count), version)
    }

    /// GETs `url` into a new file at `path` (replacing a temporary one left there).
    private static func download(_ url: String, to path: URL, progress: @escaping HTTPDownload.Progress) throws(DownloadError) -> URL {
        let fd = open(path.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DownloadError(.file, path.path, "cannot create: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        do {
            var etag: String?
            _ = try HTTPDownload.fetch(url, appendingTo: fd, offset: 0, etag: &etag, progress: progress)
        } catch {
            unlink(path.path)
            throw error
        }
        return path
    }
}
