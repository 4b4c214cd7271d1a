import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fetches a known CLIP or SigLIP model's files from the Hugging Face Hub
/// into its folder under the model folders, where `curator.open` and the
/// text search look for it (`curator models get clip-vit-base-patch32`).
///
/// Nothing already there is replaced: a file present is kept as it is. Each
/// file arrives as `<name>.partial` and takes its name only once complete
/// and checked (a weights file must read as safetensors, a `.json` as
/// JSON), so an interrupted download never leaves a file the loader would
/// trust; the next run resumes the partial file where it stopped, sending
/// the ETag it began with (kept in `<name>.partial.etag`) as If-Range, so a
/// file changed on the Hub meanwhile comes whole instead of spliced.
public struct ModelDownload {
    /// Where the files come from: the Hub (or a mirror) and a token.
    public struct Source: Sendable {
        /// The Hub's address; `$HF_ENDPOINT` (as huggingface_hub reads it) or https://huggingface.co.
        public var endpoint: String
        /// An access token for private or gated repositories: `$HF_TOKEN`,
        /// else the one `huggingface-cli login` stored (`$HF_HOME/token`,
        /// `~/.cache/huggingface/token`).
        public var token: String?
        /// The branch, tag or commit; "main".
        public var revision: String
        /// The Python package index whose JSON API gives open_clip's wheel
        /// (for open_clip models' vocabulary); https://pypi.org.
        public var pypi = "https://pypi.org"

        /// The source the environment names.
        public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
            let endpoint = environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
            self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            token = environment["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.storedToken(environment)
            revision = "main"
        }

        /// The token huggingface_hub's login saved, if any.
        static func storedToken(_ environment: [String: String]) -> String? {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            let folder = environment["HF_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cache/huggingface"
            guard let data = FileManager.default.contents(atPath: folder + "/token") else { return nil }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return token.isEmpty ? nil : token
        }

        /// The URL of `file` in `repository`.
        public func url(repository: String, file: String) -> String {
            "\(endpoint)/\(repository)/resolve/\(revision)/\(file)"
        }
    }

    /// What became of one file.
    public enum FileResult: Equatable, Sendable {
        /// Fetched: its size in bytes.
        case downloaded(Int64)
        /// Already in the folder, kept as it was.
        case present
        /// Not in the repository (an optional file the model can do without).
        case absent
    }

    /// The model fetched.
    public let model: CLIPKnownModel
    /// The folder its files go to: `<root>/<model.folder>`.
    public let folder: URL
    /// Where they come from.
    public let source: Source

    /// A download of `model` into `root` (by default the first model folder
    /// curator searches: `$CURATOR_MODELS`, else `~/.cache/curator/models`).
    public init(model: CLIPKnownModel, root: URL? = nil, source: Source = Source(),
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.model = model
        let root = root ?? CLIPModelLocator(environment: environment).roots[0]
        folder = root.appendingPathComponent(model.folder, isDirectory: true)
        self.source = source
    }

    /// The known model called `name`: its folder name (`clip-vit-base-patch32`)
    /// or its repository (`openai/clip-vit-base-patch32`), in any case.
    public static func model(named name: String) throws(DownloadError) -> CLIPKnownModel {
        let wanted = name.lowercased()
        if let model = CLIPKnownModel.all.first(where: { $0.folder.lowercased() == wanted || $0.repository.lowercased() == wanted }) {
            return model
        }
        throw DownloadError(.unknownModel, "'\(name)' is not a model curator knows; known: "
            + CLIPKnownModel.all.map(\.folder).joined(separator: ", "))
    }

    /// Fetches every file of the model the folder lacks, the required ones
    /// first (and, for an open_clip model without a tokenizer, open_clip's
    /// vocabulary from PyPI), and returns what became of each, in order. A required file the
    /// repository lacks, a refusal, a network failure or a damaged file stops
    /// it with an error naming the file; what was complete stays.
    ///
    /// `progress` is told each file's bytes (its label the file's name, the
    /// total 0 while the size is not known), and stops the download when it
    /// says `isCancelled`.
    @discardableResult
    public func run(progress: (any ProgressSink)? = nil) throws(DownloadError) -> [(file: String, result: FileResult)] {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw DownloadError(.file, folder.path, "cannot create the folder: \(Self.reason(error))")
        }
        var results: [(file: String, result: FileResult)] = []
        for file in model.requiredFiles {
            results.append((file, try fetch(file, progress: progress)))
        }
        for file in model.optionalFiles {
            do {
                results.append((file, try fetch(file, progress: progress)))
            } catch where error.kind == .notFound {
                results.append((file, .absent))
            }
        }
        if model.requiredFiles.contains(CLIPKnownModel.openCLIPWeights) {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(OpenCLIPVocabulary.fileName).path) {
                results.append((OpenCLIPVocabulary.fileName, .present))
            } else if !CLIPTokenizer.isPresent(in: folder) {
                let fetched = try OpenCLIPVocabulary.fetch(into: folder, pypi: source.pypi, progress: progress)
                results.append(("\(OpenCLIPVocabulary.fileName) (from \(OpenCLIPVocabulary.package) \(fetched.version) on PyPI)", .downloaded(fetched.bytes)))
            }
        }
        return results
    }

    /// Fetches one file unless it is there.
    private func fetch(_ file: String, progress: (any ProgressSink)?) throws(DownloadError) -> FileResult {
        let final = folder.appendingPathComponent(file)
        if FileManager.default.fileExists(atPath: final.path) { return .present }
        let partial = folder.appendingPathComponent(file + ".partial")
        let url = source.url(repository: model.repository, file: file)
        let fd = open(partial.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DownloadError(.file, partial.path, "cannot create: \(String(cString: strerror(errno)))") }
        var closed = false
        defer { if !closed { close(fd) } }
        var headers: [String] = []
        if let token = source.token { headers.append("Authorization: Bearer \(token)") }
        let report = Self.reporting(progress, label: file)
        defer { progress?.finish(label: file) }
        let tagFile = folder.appendingPathComponent(file + ".partial.etag")
        var etag: String?
        do {
            let offset = Int64(lseek(fd, 0, SEEK_END))
            // The version the bytes there came from: another version is sent whole (then .noRanges).
            var resumeHeaders = headers
            if offset > 0, let kept = Self.resumableTag(tagFile) { resumeHeaders.append("If-Range: \(kept)") }
            if try HTTPDownload.fetch(url, headers: resumeHeaders, appendingTo: fd, offset: offset, etag: &etag,
                                      progress: report) == .noRanges {
                try restart(fd, partial)
                _ = try HTTPDownload.fetch(url, headers: headers, appendingTo: fd, offset: 0, etag: &etag, progress: report)
            }
        } catch {
            // A file gone from the repository, or nothing received, leaves nothing behind; a cut
            // transfer (or a refusal a token may mend) keeps its bytes, and their version, to resume from.
            if error.kind == .notFound || lseek(fd, 0, SEEK_END) == 0 {
                unlink(partial.path)
                unlink(tagFile.path)
            } else if let etag {
                try? Data(etag.utf8).write(to: tagFile)
            }
            throw error
        }
        unlink(tagFile.path)
        let size = Int64(lseek(fd, 0, SEEK_END))
        guard fsync(fd) == 0 else { throw DownloadError(.file, partial.path, "cannot write: \(String(cString: strerror(errno)))") }
        closed = true
        close(fd)
        do {
            try Self.check(partial, as: file)
        } catch {
            unlink(partial.path)
            throw error
        }
        return try Self.place(partial, at: final) ? .downloaded(size) : .present
    }

    /// Gives the complete, checked file `partial` its name `final` and
    /// removes `partial`; false when a file of that name appeared meanwhile,
    /// which is kept: link() never replaces one, where rename() would.
    static func place(_ partial: URL, at final: URL) throws(DownloadError) -> Bool {
        defer { unlink(partial.path) }
        guard link(partial.path, final.path) != 0 else { return true }
        let failure = errno
        if failure == EEXIST { return false }
        throw DownloadError(.file, final.path, "cannot create: \(String(cString: strerror(failure)))")
    }

    /// A transfer's progress as `progress` takes it, under `label`.
    static func reporting(_ progress: (any ProgressSink)?, label: String) -> HTTPDownload.Progress {
        { received, total in
            progress?.update(label: label, done: Int(received), total: Int(total ?? 0))
            return !(progress?.isCancelled ?? false)
        }
    }

    /// The ETag kept beside a partial file, when it can be sent as If-Range
    /// (a strong one: HTTP does not allow a weak one there).
    static func resumableTag(_ file: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let tag = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return tag.isEmpty || tag.hasPrefix("W/") || tag.contains("\n") ? nil : tag
    }

    /// Empties the partial file, for a download starting again from its first byte.
    private func restart(_ fd: Int32, _ partial: URL) throws(DownloadError) {
        guard ftruncate(fd, 0) == 0 else {
            throw DownloadError(.file, partial.path, "cannot empty: \(String(cString: strerror(errno)))")
        }
    }

    /// Checks that a downloaded file is what its name says: a proxy's or
    /// captive portal's HTML page, or a truncated body, must not take a
    /// model file's name.
    static func check(_ downloaded: URL, as name: String) throws(DownloadError) {
        if name.hasSuffix(".safetensors") {
            do {
                _ = try SafeTensorsFile(url: downloaded)
            } catch {
                throw DownloadError(.invalid, name, "the download is not a readable safetensors file (\(error)); it was removed, run again to fetch it anew")
            }
        } else if name.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: downloaded.path),
                  (try? JSONSerialization.jsonObject(with: data)) != nil else {
                throw DownloadError(.invalid, name, "the download is not JSON; it was removed, run again to fetch it anew")
            }
        }
    }

    private static func reason(_ error: Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
