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
        var source = ModelDownload.Source(environment: ["HF_ENDPOINT": server.url("")])
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
        var seen: [String: Int64] = [:]
        let results = try download(from: server).run { file, received, _ in
            seen[file] = received
            return true
        }
        XCTAssertEqual(results.map(\.file), ["model.safetensors", "config.json", "preprocessor_config.json", "tokenizer.json"])
        XCTAssertEqual(results.map(\.result), [.downloaded(Int64(weights.count)), .downloaded(Int64(files["config.json"]!.count)),
                                               .downloaded(Int64(files["preprocessor_config.json"]!.count)), .absent])
        XCTAssertEqual(contents("model.safetensors"), weights)
        XCTAssertEqual(contents("config.json"), files["config.json"])
        XCTAssertEqual(listing(), ["config.json", "model.safetensors", "preprocessor_config.json"], "no partial file stays")
        XCTAssertEqual(seen["model.safetensors"], Int64(weights.count), "progress reaches the whole size")
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

    func testStoppingKeepsWhatArrivedForTheNextRun() throws {
        // Large enough to arrive in several pieces, each reported.
        let big = [UInt8](repeating: 1, count: 8 << 20)
        let server = try hub { request in
            request.path.hasSuffix("model.safetensors") ? TestHTTPServer.file(big, for: request) : nil
        }
        defer { server.stop() }
        XCTAssertThrowsError(try download(from: server).run { _, received, _ in received == 0 }) { error in
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
        let source = ModelDownload.Source(environment: ["HF_ENDPOINT": "https://hf-mirror.com/", "HF_TOKEN": ""])
        XCTAssertEqual(source.url(repository: "openai/clip-vit-base-patch32", file: "config.json"),
                       "https://hf-mirror.com/openai/clip-vit-base-patch32/resolve/main/config.json")
        XCTAssertNil(source.token)
        XCTAssertEqual(ModelDownload.Source(environment: [:]).endpoint, "https://huggingface.co")
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
