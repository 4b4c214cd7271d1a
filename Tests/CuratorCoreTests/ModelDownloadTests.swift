import CCurlAPICheck
import Foundation
import XCTest
@testable import CuratorCore

/// `curator models get`: a known model's files fetched from a Hub-shaped
/// server into the folder curator looks in, never replacing a file, never
/// giving a damaged or partial download a model file's name, and resuming
/// what was cut.
final class ModelDownloadTests: XCTestCase {
    var root: URL!
    let model = CLIPKnownModel.all[0] // clip-vit-base-patch32
    var files: [String: [UInt8]] = [:]

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("curator-download-\(UUID().uuidString)")
        for name in ["model.safetensors", "config.json", "preprocessor_config.json"] {
            files[name] = Array(try Data(contentsOf: CLIPFixture.huggingFaceModel.appendingPathComponent(name)))
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// The Hub's path of a file of the model.
    func hubPath(_ file: String) -> String { "/\(model.repository)/resolve/main/\(file)" }

    /// A download from `server` into `root`.
    func download(from server: TestHTTPServer, token: String? = nil) -> ModelDownload {
        var source = ModelDownload.Source(environment: ["HF_ENDPOINT": server.url(""), "HOME": root.path])
        source.token = token
        return ModelDownload(model: model, root: root, source: source)
    }

    /// Serves the fixture's files at their Hub paths (tokenizer.json absent).
    func hub(_ override: @escaping @Sendable (TestHTTPServer.Request) -> [UInt8]? = { _ in nil }) throws -> TestHTTPServer {
        let files = self.files, model = self.model
        return try TestHTTPServer { request in
            if let answer = override(request) { return answer }
            let prefix = "/\(model.repository)/resolve/main/"
            if request.path.hasPrefix(prefix), let body = files[String(request.path.dropFirst(prefix.count))] {
                return TestHTTPServer.file(body, for: request)
            }
            return TestHTTPServer.reply("404 Not Found", body: Array("Entry not found".utf8))
        }
    }

    func contents(_ file: String) -> [UInt8]? {
        FileManager.default.contents(atPath: root.appendingPathComponent(model.folder).appendingPathComponent(file).path).map(Array.init)
    }

    func listing() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(model.folder).path)) ?? []).sorted()
    }

    func testTheDeclarationsMatchLibcurlsHeader() {
        XCTAssertEqual(curator_curl_api_checked(), 1)
    }

    func testFetchesTheFilesFollowingARedirectIntoAFolderCuratorFinds() throws {
        let weights = files["model.safetensors"]!
        // The Hub answers with a redirect to its CDN for large files.
        let server = try hub { request in
            if request.path.hasSuffix("resolve/main/model.safetensors") {
                return TestHTTPServer.reply("302 Found", headers: ["Location": "/cdn/abc123"])
            }
            return request.path == "/cdn/abc123" ? TestHTTPServer.file(weights, for: request) : nil
        }
        defer { server.stop() }
        let progress = ExportRecordingProgress()
        let results = try download(from: server).run(progress: progress)
        XCTAssertEqual(results.map(\.file), ["model.safetensors", "config.json", "preprocessor_config.json", "tokenizer.json"])
        XCTAssertEqual(results.map(\.result), [.downloaded(Int64(weights.count)), .downloaded(Int64(files["config.json"]!.count)),
                                               .downloaded(Int64(files["preprocessor_config.json"]!.count)), .absent])
        XCTAssertEqual(contents("model.safetensors"), weights)
        XCTAssertEqual(contents("config.json"), files["config.json"])
        XCTAssertEqual(listing(), ["config.json", "model.safetensors", "preprocessor_config.json"], "no partial file stays")
        XCTAssertEqual(progress.updates.last { $0.0 == "model.safetensors" }?.1, weights.count, "progress reaches the whole size")
        XCTAssertEqual(progress.finished, ["model.safetensors", "config.json", "preprocessor_config.json", "tokenizer.json"],
                       "each file's bar is finished")
        let found = try CLIPModelLocator(roots: [root]).folder(named: model.folder)
        XCTAssertEqual(found.standardizedFileURL.path, root.appendingPathComponent(model.folder).standardizedFileURL.path)
        XCTAssertEqual(server.requests.first?.headers["user-agent"], "curator/\(CuratorVersion.string)")
    }

    func testAFileAlreadyThereIsKeptAndNotAskedFor() throws {
        let server = try hub()
        defer { server.stop() }
        let folder = root.appendingPathComponent(model.folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let mine = Array(#"{"mine": true}"#.utf8)
        try Data(mine).write(to: folder.appendingPathComponent("config.json"))
        let results = try download(from: server).run()
        XCTAssertEqual(results[1].result, .present)
        XCTAssertEqual(contents("config.json"), mine, "the user's file is never replaced")
        XCTAssertFalse(server.requests.contains { $0.path.hasSuffix("config.json") && !$0.path.hasSuffix("preprocessor_config.json") })
    }

    func testACutTransferKeepsItsBytesAndTheNextRunResumesWithARange() throws {
        let weights = files["model.safetensors"]!
        let cut = 100_000
        let first = Box(true)
        let server = try hub { request in
            guard request.path.hasSuffix("model.safetensors"), first.take() else { return nil }
            // The whole length announced, a part sent, the connection closed.
            let whole = TestHTTPServer.reply("200 OK", body: weights)
            return Array(whole.prefix(whole.count - weights.count + cut))
        }
        defer { server.stop() }
        XCTAssertThrowsError(try download(from: server).run()) { error in
            XCTAssertEqual((error as? DownloadError)?.kind, .network, "\(error)")
            XCTAssertTrue("\(error)".contains(server.url(hubPath("model.safetensors"))), "\(error)")
        }
        XCTAssertNil(contents("model.safetensors"), "a partial download never takes the file's name")
        XCTAssertEqual(contents("model.safetensors.partial")?.count, cut)
        let results = try download(from: server).run()
        XCTAssertEqual(results[0].result, .downloaded(Int64(weights.count)))
        XCTAssertEqual(contents("model.safetensors"), weights)
        XCTAssertEqual(server.requests.last { $0.path.hasSuffix("model.safetensors") }?.headers["range"], "bytes=\(cut)-")
        XCTAssertFalse(listing().contains { $0.hasSuffix(".partial") })
    }

    func testAFileChangedOnTheHubBetweenTheCutAndTheResumeComesWhole() throws {
        let old = files["model.safetensors"]!
        // The same length, other bytes within the part that arrived before the cut (after the
        // safetensors header): only the version tells them apart, and a splice would keep the old ones.
        var changed = old
        for i in 50_000..<51_000 { changed[i] ^= 0x5A }
        let new = changed
        let cut = 100_000
        let first = Box(true)
        let server = try hub { request in
            guard request.path.hasSuffix("model.safetensors") else { return nil }
            if first.take() {
                let whole = TestHTTPServer.file(old, for: request, etag: "\"v1\"")
                return Array(whole.prefix(whole.count - old.count + cut))
            }
            return TestHTTPServer.file(new, for: request, etag: "\"v2\"")
        }
        defer { server.stop() }
        XCTAssertThrowsError(try download(from: server).run())
        XCTAssertEqual(contents("model.safetensors.partial.etag").map { String(decoding: $0, as: UTF8.self) }, "\"v1\"",
                       "the cut download keeps the version its bytes came from")
        try download(from: server).run()
        // The cut one, the resume naming v1 (answered whole: v2), and the file from its first byte.
        let asked = server.requests.filter { $0.path.hasSuffix("model.safetensors") }
        XCTAssertEqual(asked.count, 3)
        XCTAssertEqual(asked.dropFirst().first?.headers["if-range"], "\"v1\"")
        XCTAssertEqual(asked.dropFirst().first?.headers["range"], "bytes=\(cut)-")
        XCTAssertNil(asked.last?.headers["range"])
        XCTAssertEqual(contents("model.safetensors"), new, "the new version whole, not the old one's start spliced to the new one's end")
        XCTAssertEqual(listing(), ["config.json", "model.safetensors", "preprocessor_config.json"], "no partial or version file stays")
    }

    func testAResumeOfTheSameVersionSendsItsETagAndGetsTheRest() throws {
        let weights = files["model.safetensors"]!
        let cut = 200_000
        let first = Box(true)
        let server = try hub { request in
            guard request.path.hasSuffix("model.safetensors") else { return nil }
            let whole = TestHTTPServer.file(weights, for: request, etag: "\"sha-1\"")
            return first.take() ? Array(whole.prefix(whole.count - weights.count + cut)) : whole
        }
        defer { server.stop() }
        XCTAssertThrowsError(try download(from: server).run())
        try download(from: server).run()
        let resumed = server.requests.last { $0.path.hasSuffix("model.safetensors") }
        XCTAssertEqual(resumed?.headers["if-range"], "\"sha-1\"")
        XCTAssertEqual(contents("model.safetensors"), weights)
        // A weak tag cannot go in an If-Range.
        let tag = root.appendingPathComponent("weak.etag")
        try Data("W/\"x\"".utf8).write(to: tag)
        XCTAssertNil(ModelDownload.resumableTag(tag))
    }

    func testAServerIgnoringTheRangeStartsTheFileAgain() throws {
        let weights = files["model.safetensors"]!
        let server = try hub { request in
            request.path.hasSuffix("model.safetensors") ? TestHTTPServer.reply("200 OK", body: weights) : nil
        }
        defer { server.stop() }
        let folder = root.appendingPathComponent(model.folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 5_000).write(to: folder.appendingPathComponent("model.safetensors.partial"))
        try download(from: server).run()
        XCTAssertEqual(contents("model.safetensors"), weights)
    }

    func testAPartialLongerThanTheFileStartsAgain() throws {
        let weights = files["model.safetensors"]!
        let server = try hub()
        defer { server.stop() }
        let folder = root.appendingPathComponent(model.folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(repeating: 7, count: weights.count + 10).write(to: folder.appendingPathComponent("model.safetensors.partial"))
        try download(from: server).run()
        XCTAssertEqual(contents("model.safetensors"), weights, "416 to the Range: the file changed on the Hub")
    }

    func testARequiredFileTheRepositoryLacksFailsNamingItsURL() throws {
        let server = try hub { request in
            request.path.hasSuffix("/config.json") ? TestHTTPServer.reply("404 Not Found") : nil
        }
        defer { server.stop() }
        XCTAssertThrowsError(try download(from: server).run()) { error in
            XCTAssertEqual((error as? DownloadError)?.kind, .notFound)
            XCTAssertEqual("\(error)", "\(server.url(hubPath("config.json"))): HTTP 404 (not in the repository)")
        }
        XCTAssertEqual(listing(), ["model.safetensors"], "what was complete stays; nothing partial")
    }

    func testAnErrorPageNeverTakesAModelFilesName() throws {
        let server = try hub { request in
            request.path.hasSuffix("model.safetensors")
                ? TestHTTPServer.reply("200 OK", headers: ["Content-Type": "text/html"], body: Array("<html>Sign in to the Wi-Fi</html>".utf8))
                : nil
        }
        defer { server.stop() }
        XCTAssertThrowsError(try download(from: server).run()) { error in
            XCTAssertEqual((error as? DownloadError)?.kind, .invalid)
            XCTAssertTrue("\(error)".hasPrefix("model.safetensors: the download is not a readable safetensors file"), "\(error)")
        }
        XCTAssertEqual(listing(), [])
    }

    func testTheTokenGoesAsABearerAndARefusalSaysWhatToDo() throws {
        let server = try hub { request in
            request.headers["authorization"] == "Bearer hf_secret" ? nil : TestHTTPServer.reply("401 Unauthorized")
        }
        defer { server.stop() }
        XCTAssertThrowsError(try download(from: server).run()) { error in
            XCTAssertEqual((error as? DownloadError)?.kind, .refused)
            XCTAssertTrue("\(error)".contains("HTTP 401 (the repository is private or gated"), "\(error)")
            XCTAssertTrue("\(error)".contains("HF_TOKEN"), "\(error)")
        }
        XCTAssertEqual(listing(), [])
        try download(from: server, token: "hf_secret").run()
        XCTAssertEqual(contents("model.safetensors"), files["model.safetensors"])
    }

    func testARefusalKeepsWhatArrivedBeforeForWhenTheTokenIsRight() throws {
        let weights = files["model.safetensors"]!
        let server = try hub { request in
            request.headers["authorization"] == "Bearer hf_secret" ? nil : TestHTTPServer.reply("403 Forbidden")
        }
        defer { server.stop() }
        let folder = root.appendingPathComponent(model.folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(weights.prefix(5_000)).write(to: folder.appendingPathComponent("model.safetensors.partial"))
        XCTAssertThrowsError(try download(from: server).run())
        XCTAssertEqual(contents("model.safetensors.partial")?.count, 5_000)
        try download(from: server, token: "hf_secret").run()
        XCTAssertEqual(contents("model.safetensors"), weights)
        XCTAssertEqual(server.requests.last { $0.path.hasSuffix("model.safetensors") }?.headers["range"], "bytes=5000-")
    }

    func testStoppingKeepsWhatArrivedForTheNextRun() throws {
        // Large enough to arrive in several pieces, each reported.
        let big = [UInt8](repeating: 1, count: 8 << 20)
        let server = try hub { request in
            request.path.hasSuffix("model.safetensors") ? TestHTTPServer.file(big, for: request) : nil
        }
        defer { server.stop() }
        let progress = ExportRecordingProgress()
        progress.cancelWhen = { _, received, _ in received > 0 }
        XCTAssertThrowsError(try download(from: server).run(progress: progress)) { error in
            XCTAssertEqual((error as? DownloadError)?.kind, .cancelled, "\(error)")
        }
        let kept = contents("model.safetensors.partial")?.count ?? 0
        XCTAssertGreaterThan(kept, 0)
        XCTAssertLessThan(kept, big.count)
        XCTAssertNil(contents("model.safetensors"))
    }

    func testModelsAreNamedByFolderOrRepositoryAndAnUnknownNameListsTheKnownOnes() throws {
        XCTAssertEqual(try ModelDownload.model(named: "clip-vit-base-patch32").repository, "openai/clip-vit-base-patch32")
        XCTAssertEqual(try ModelDownload.model(named: "Apple/DFN2B-CLIP-ViT-L-14-39B").folder, "DFN2B-CLIP-ViT-L-14-39B")
        XCTAssertThrowsError(try ModelDownload.model(named: "clip-vit-huge")) { error in
            XCTAssertEqual((error as? DownloadError)?.kind, .unknownModel)
            XCTAssertTrue("\(error)".hasPrefix("'clip-vit-huge' is not a model curator knows; known: clip-vit-base-patch32, "), "\(error)")
        }
        let source = ModelDownload.Source(environment: ["HF_ENDPOINT": "https://hf-mirror.com/", "HF_TOKEN": "", "HOME": root.path])
        XCTAssertEqual(source.url(repository: "openai/clip-vit-base-patch32", file: "config.json"),
                       "https://hf-mirror.com/openai/clip-vit-base-patch32/resolve/main/config.json")
        XCTAssertNil(source.token)
        XCTAssertEqual(ModelDownload.Source(environment: ["HOME": root.path]).endpoint, "https://huggingface.co")
        // huggingface-cli login's saved token, when HF_TOKEN is not set.
        let hfHome = root.appendingPathComponent("hf")
        try FileManager.default.createDirectory(at: hfHome, withIntermediateDirectories: true)
        try Data("hf_saved\n".utf8).write(to: hfHome.appendingPathComponent("token"))
        XCTAssertEqual(ModelDownload.Source(environment: ["HF_HOME": hfHome.path]).token, "hf_saved")
        XCTAssertEqual(ModelDownload.Source(environment: ["HF_HOME": hfHome.path, "HF_TOKEN": "hf_given"]).token, "hf_given")
        XCTAssertNil(ModelDownload.Source(environment: ["HOME": root.path]).token)
    }
}

extension ModelDownloadTests {
    func testAnOpenCLIPModelWithoutATokenizerGetsTheVocabularyFromTheOpenCLIPWheel() throws {
        let dfn = CLIPKnownModel.all.first { $0.folder == "DFN2B-CLIP-ViT-L-14-39B" }!
        let tiny = CLIPFixture.dfn2bModel
        let weights = Array(try Data(contentsOf: tiny.appendingPathComponent("open_clip_model.safetensors")))
        let config = Array(try Data(contentsOf: tiny.appendingPathComponent("open_clip_config.json")))
        let vocabulary = Array(try Data(contentsOf: tiny.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz")))
        let wheel = Self.storedZip(["open_clip/__init__.py": Array("".utf8), "open_clip/bpe_simple_vocab_16e6.txt.gz": vocabulary])
        // PyPI's JSON names the wheel by absolute URL: the server's port, known once it listens.
        let port = Port()
        let server = try TestHTTPServer { request in
            switch request.path {
            case "/\(dfn.repository)/resolve/main/open_clip_model.safetensors": return TestHTTPServer.file(weights, for: request)
            case "/\(dfn.repository)/resolve/main/open_clip_config.json": return TestHTTPServer.file(config, for: request)
            case "/pypi/open_clip_torch/json":
                let json = #"{"info": {"version": "9.9.9"}, "urls": [{"packagetype": "sdist", "url": "/nothing"}, "#
                    + #"{"packagetype": "bdist_wheel", "url": "http://127.0.0.1:\#(port.value)/files/open_clip_torch-9.9.9-py3-none-any.whl"}]}"#
                return TestHTTPServer.reply("200 OK", body: Array(json.utf8))
            case "/files/open_clip_torch-9.9.9-py3-none-any.whl": return TestHTTPServer.file(wheel, for: request)
            default: return TestHTTPServer.reply("404 Not Found")
            }
        }
        defer { server.stop() }
        port.value = server.port
        var source = ModelDownload.Source(environment: ["HF_ENDPOINT": server.url(""), "HOME": root.path])
        source.pypi = server.url("")
        let results = try ModelDownload(model: dfn, root: root, source: source).run()
        XCTAssertEqual(results.map(\.file), ["open_clip_model.safetensors", "open_clip_config.json", "tokenizer.json",
                                             "bpe_simple_vocab_16e6.txt.gz (from open_clip_torch 9.9.9 on PyPI)"])
        XCTAssertEqual(results.last?.result, .downloaded(Int64(vocabulary.count)))
        let folder = root.appendingPathComponent(dfn.folder)
        XCTAssertEqual(Array(try Data(contentsOf: folder.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz"))), vocabulary)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(),
                       ["bpe_simple_vocab_16e6.txt.gz", "open_clip_config.json", "open_clip_model.safetensors"], "no temporary file stays")
        // The folder's text side now loads: the tokenizer reads the vocabulary.
        XCTAssertEqual(try CLIPTokenizer.load(folder: folder).count("a photo of a dog"), try CLIPTokenizer.load(folder: tiny).count("a photo of a dog"))
        // A second run finds it and asks PyPI nothing.
        let asked = server.requests.count
        XCTAssertEqual(try ModelDownload(model: dfn, root: root, source: source).run().last?.result, .present)
        XCTAssertFalse(server.requests.dropFirst(asked).contains { $0.path.hasPrefix("/pypi") || $0.path.hasPrefix("/files") })
    }

    /// A zip of stored (uncompressed) members, as a wheel may hold them.
    static func storedZip(_ members: KeyValuePairs<String, [UInt8]>) -> [UInt8] {
        func le(_ value: Int, _ bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        func crc32(_ data: [UInt8]) -> Int {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in data {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
            }
            return Int(~crc)
        }
        var zip: [UInt8] = [], directory: [UInt8] = []
        for (name, data) in members {
            let common = le(20, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(crc32(data), 4)
                + le(data.count, 4) + le(data.count, 4) + le(name.utf8.count, 2) + le(0, 2)
            directory += le(0x0201_4B50, 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(zip.count, 4) + Array(name.utf8)
            zip += le(0x0403_4B50, 4) + common + Array(name.utf8) + data
        }
        let start = zip.count
        zip += directory
        zip += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(members.count, 2) + le(members.count, 2)
            + le(directory.count, 4) + le(start, 4) + le(0, 2)
        return zip
    }
}

/// The test server's port, for answers made before it was known.
private final class Port: @unchecked Sendable {
    private let lock = NSLock()
    private var port = 0
    var value: Int {
        get { lock.withLock { port } }
        set { lock.withLock { port = newValue } }
    }
}

/// A flag one request takes.
private final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Bool
    init(_ value: Bool) { self.value = value }
    /// Returns the value and clears it.
    func take() -> Bool { lock.withLock { defer { value = false }; return value } }
}
