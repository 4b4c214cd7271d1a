import Foundation
import XCTest
@testable import CuratorCore
#if canImport(Glibc)
import Glibc
#endif

/// Embedding files made by someone else, to crash or hang curator: sizes a
/// zip directory or an `.npy` header claims, zip bombs, FIFOs where a file is
/// expected. Each must give an error naming the file, quickly, and never
/// abort or block the process. Fixtures are generated here (nothing large
/// is committed).
final class HostileEmbeddingFileTests: XCTestCase {
    private let folder = TemporaryFolder()

    private func write(_ name: String, _ members: [ZipFixture.Member]) -> URL {
        URL(fileURLWithPath: folder.write(name, ZipFixture.archive(members)))
    }

    private func thirtyMegabyteCrasher() -> URL {
        // A deflated embeddings.npy whose header says 10,000,000 × 768 float32
        // (30.7 GB) in a 30 MB file: just enough compressed bytes for deflate's
        // 1032:1 limit; only the header inflates, the rest is filler.
        let header = ZipFixture.npyHeader(descr: "<f4", shape: [10_000_000, 768])
        let claimed = header.count + 10_000_000 * 768 * 4
        var data = ZipFixture.compress(header + [UInt8](repeating: 0, count: 4096), finish: false)
        data += [UInt8](repeating: 0, count: claimed / 1032 + 16 - data.count)
        let embeddings = ZipFixture.Member(name: "embeddings.npy", data: data, method: 8, crc: 0, uncompressedSize: claimed)
        let filenames = ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: ["/a/1.jpg", "/a/2.jpg", "/a/3.jpg"]))
        return write("crasher/photomap_index/embeddings.npz", [embeddings, filenames])
    }

    func testThirtyMegabyteFileClaimingTenMillionRowsIsRefusedBeforeAllocating() throws {
        let url = thirtyMegabyteCrasher()
        XCTAssertGreaterThan((try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0, 29_000_000)
        // The headers contradict each other: refused from them alone.
        XCTAssertFileError(.mismatch, ["embeddings.npz", "key 'filenames' has 3 entries but key 'embeddings' has 10000000 rows"]) {
            try PhotoMapIndex.read(url)
        }
        XCTAssertFileError(.mismatch, ["key 'filenames' has 3 entries"]) { try EmbeddingImport.load(url) }
        // Read alone, the matrix is too large to allocate: an error, not an abort.
        XCTAssertFileError(.tooLarge, ["key 'embeddings'", "10000000 × 768", "30.7 GB"]) {
            try NumpyArchive(contentsOf: url).floatMatrix("embeddings")
        }
        XCTAssertFileError(.tooLarge, ["key 'embeddings'", "30.7 GB"]) { try NumpyArchive(contentsOf: url).array("embeddings") }
        // The album with that index opens (PhotoMapAI's vectors are optional) and says why they were not used.
        XCTAssertThrowsError(try Album.open(url.deletingLastPathComponent().deletingLastPathComponent().path,
                                            options: .init(embedder: "photomap"))) { error in
            XCTAssertTrue("\(error)".contains("key 'filenames' has 3 entries"), "\(error)")
        }
    }

    func testZipBombIsRefusedByItsRatioBeforeInflating() throws {
        // 800,000 × 768 float32 zeros: 2.46 GB from 2.4 MB.
        let header = ZipFixture.npyHeader(descr: "<f4", shape: [800_000, 768])
        let bomb = ZipFixture.zeroBomb("embeddings.npy", prefix: header, size: header.count + 800_000 * 768 * 4)
        XCTAssertLessThan(bomb.data.count, 11_000_000)
        let url = write("bomb.npz", [bomb])
        XCTAssertFileError(.tooLarge, ["bomb.npz: key 'embeddings'", "zip bomb"]) {
            try NumpyArchive(contentsOf: url).floatMatrix("embeddings")
        }
        XCTAssertFileError(.tooLarge, ["zip bomb"]) { try NumpyArchive(contentsOf: url).array("embeddings") }
        // The header alone still reads (it is in the first kilobytes).
        XCTAssertEqual(try NumpyArchive(contentsOf: url).header("embeddings").shape, [800_000, 768])
    }

    func testHeadersThatContradictEachOtherAreComparedBeforeAnyDataIsInflated() throws {
        // The embeddings' compressed data stops after its first MiB: inflating
        // it would fail as damaged, so a mismatch error proves nothing was inflated.
        let header = ZipFixture.npyHeader(descr: "<f4", shape: [800_000, 768])
        var data = ZipFixture.compress(header + [UInt8](repeating: 0, count: (1 << 20) - header.count), finish: false)
        let claimed = header.count + 800_000 * 768 * 4
        data += [UInt8](repeating: 0, count: claimed / 1000 - data.count)
        let bomb = ZipFixture.Member(name: "embeddings.npy", data: data, method: 8, crc: 0, uncompressedSize: claimed)
        let names = ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: ["/x/a.jpg", "/x/b.jpg", "/x/c.jpg"]))
        let times = ZipFixture.stored("modification_times.npy", ZipFixture.npyHeader(descr: "<f8", shape: [3]) + [UInt8](repeating: 0, count: 24))
        let url = write("contradicting.npz", [bomb, names, times])
        XCTAssertFileError(.mismatch, ["contradicting.npz", "key 'filenames' has 3 entries but key 'embeddings' has 800000 rows"]) {
            try PhotoMapIndex.read(url)
        }
        XCTAssertFileError(.mismatch, ["key 'filenames' has 3 entries but key 'embeddings' has 800000 rows"]) {
            try EmbeddingImport.npz(url)
        }
    }

    func testHeaderLengthAndNestingAreBounded() throws {
        // A version-2 header claiming 4 GB, and one nesting a million brackets.
        let huge: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        XCTAssertFileError(.corrupt, ["huge.npy", "header claims"]) { try NumpyArray(contentsOf: URL(fileURLWithPath: folder.write("huge.npy", huge + [UInt8](repeating: 32, count: 100)))) }
        let text = "{'descr': " + String(repeating: "[", count: 100_000) + "\n"
        let nested: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0] + [UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8 & 0xFF), UInt8(text.utf8.count >> 16), 0] + Array(text.utf8)
        XCTAssertFileError(.corrupt, ["nested.npy", "nested more than 32 deep"]) { try NumpyArray(contentsOf: URL(fileURLWithPath: folder.write("nested.npy", nested))) }
    }

    func testClipRetrievalShardClaimingMoreRowsThanItHoldsIsRefusedBeforeAllocating() throws {
        let header = ZipFixture.npyHeader(descr: "<f4", shape: [10_000_000, 768])
        folder.write("clip/img_emb/img_emb_0.npy", header + [UInt8](repeating: 0, count: 3072))
        folder.write("clip/paths.txt", Array("a.jpg\n".utf8))
        XCTAssertFileError(.corrupt, ["img_emb_0.npy", "data is 3072 bytes"]) {
            try EmbeddingImport.load(URL(fileURLWithPath: folder.path + "/clip"))
        }
    }

    // MARK: FIFOs

    /// Runs `body` on another thread; a call still blocked after 10 s fails
    /// the test, and the FIFO is then opened for writing so the call returns.
    private func returnsPromptly(_ what: String, fifo: String, _ body: @escaping @Sendable () throws -> Void) -> String? {
        let done = DispatchSemaphore(value: 0)
        let box = ErrorBox()
        DispatchQueue.global().async {
            do { try body() } catch { box.set("\(error)") }
            done.signal()
        }
        if done.wait(timeout: .now() + 10) == .timedOut {
            XCTFail("\(what) blocked on a FIFO")
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
            _ = done.wait(timeout: .now() + 10)
            return nil
        }
        return box.value
    }

    func testFIFOsWhereFilesAreExpectedGiveAnErrorInsteadOfBlocking() throws {
        let names = ["pipe.npz", "pipe.npy", "model.safetensors", "paths.txt", "photomap_index/embeddings.npz", "config.json"]
        try FileManager.default.createDirectory(atPath: folder.path + "/photomap_index", withIntermediateDirectories: true)
        for name in names { XCTAssertEqual(mkfifo(folder.path + "/" + name, 0o600), 0, name) }
        let p = folder.path
        let calls: [(String, String, @Sendable () throws -> Void)] = [
            ("NumpyArchive", "pipe.npz", { _ = try NumpyArchive(contentsOf: URL(fileURLWithPath: p + "/pipe.npz")) }),
            ("NumpyArray", "pipe.npy", { _ = try NumpyArray(contentsOf: URL(fileURLWithPath: p + "/pipe.npy")) }),
            ("a:import of an .npz", "pipe.npz", { _ = try EmbeddingImport.load(URL(fileURLWithPath: p + "/pipe.npz")) }),
            ("PhotoMapAI index", "photomap_index/embeddings.npz", { _ = try PhotoMapIndex.read(PhotoMapIndex.url(inAlbum: URL(fileURLWithPath: p))) }),
            ("safetensors", "model.safetensors", { _ = try SafeTensorsFile(url: URL(fileURLWithPath: p + "/model.safetensors")) }),
            ("path list", "paths.txt", { _ = try PathList.readPaths(URL(fileURLWithPath: p + "/paths.txt")) }),
            ("CLIP config", "config.json", { _ = try JSONFile.object(at: URL(fileURLWithPath: p + "/config.json")) }),
        ]
        for (what, fifo, call) in calls {
            let message = returnsPromptly(what, fifo: p + "/" + fifo, call)
            XCTAssertTrue(message?.contains("FIFO") ?? false, "\(what): \(message ?? "no error")")
            XCTAssertTrue(message?.contains(fifo) ?? false, "\(what) names the file: \(message ?? "no error")")
        }
        // A caption that is a FIFO is simply not a caption.
        XCTAssertEqual(mkfifo(p + "/a.txt", 0o600), 0)
        let caption = returnsPromptly("caption", fifo: p + "/a.txt") {
            if Captions.readFile(FileSystemPath(p + "/a.txt")) != nil { throw EmbeddingFileError(.corrupt, "a.txt", "read a FIFO") }
        }
        XCTAssertNil(caption)
    }
}

/// The error `returnsPromptly`'s background call threw. `@unchecked Sendable`: the
/// message is read and written only under `lock`.
private final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var message: String?
    var value: String? { lock.withLock { message } }
    func set(_ m: String) { lock.withLock { message = m } }
}
