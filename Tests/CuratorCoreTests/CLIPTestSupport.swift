import Foundation
import XCTest
@testable import CuratorCore

/// The committed CLIP fixture (made by `Fixtures/clip/make_fixture.py` with
/// transformers) and helpers to write safetensors files for bad-input tests.
enum CLIPFixture {
    static var root: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("clip")
    }
    static var huggingFaceModel: URL { root.appendingPathComponent("tiny-hf") }
    static var openCLIPModel: URL { root.appendingPathComponent("tiny-openclip") }
    static var images: URL { root.appendingPathComponent("images") }
    /// open_clip's ViT-L-14 DFN-2B layout (text and vision), tiny, made by open_clip.
    static var dfn2bModel: URL { root.appendingPathComponent("tiny-dfn2b") }
    /// The exactness corpus and open_clip's real vocabulary file.
    static var tokenizer: URL { root.appendingPathComponent("tokenizer") }

    /// The prompts of `expected/<name>/texts.json`, their ids and embeddings.
    static func expectedTexts(_ name: String) throws -> (texts: [String], ids: [[Int]], embeddings: EmbeddingMatrix) {
        let folder = root.appendingPathComponent("expected").appendingPathComponent(name)
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("texts.json"))) as! [[String: Any]]
        return (rows.map { $0["text"] as! String }, rows.map { $0["ids"] as! [Int] },
                try NumpyArray(contentsOf: folder.appendingPathComponent("text_embeddings.npy")).floatMatrix())
    }

    /// What transformers computed for model `name` (`tiny-hf`, `tiny-openclip`).
    struct Expected {
        let names: [String]
        let pixels: EmbeddingMatrix
        let embeddings: EmbeddingMatrix
    }

    static func expected(_ name: String) throws -> Expected {
        let folder = root.appendingPathComponent("expected").appendingPathComponent(name)
        let names = try String(contentsOf: folder.appendingPathComponent("names.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        return Expected(names: names,
                        pixels: try NumpyArray(contentsOf: folder.appendingPathComponent("pixels.npy")).floatMatrix(),
                        embeddings: try NumpyArray(contentsOf: folder.appendingPathComponent("embeddings.npy")).floatMatrix())
    }

    static func imagePath(_ name: String) -> FileSystemPath { FileSystemPath(images.appendingPathComponent(name).path) }
}

/// Cosine similarity of two equally long vectors.
func clipCosine(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var dot: Float = 0, na: Float = 0, nb: Float = 0
    for i in 0..<n { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
    return dot / (na.squareRoot() * nb.squareRoot())
}

/// Writes `.safetensors` files from named Float32 tensors, or from raw
/// header and data for damaged ones.
enum SafeTensorsWriter {
    struct Tensor {
        var name: String
        var shape: [Int]
        var values: [Float]
    }

    /// All tensors of `file`, as Float32 values (for rewriting a fixture model).
    static func tensors(of file: SafeTensorsFile) throws -> [Tensor] {
        try file.tensorNames.map { name in
            let t = try file.floatTensor(name)
            return Tensor(name: name, shape: t.shape, values: t.values)
        }
    }

    /// Writes `tensors` as a valid F32 safetensors file.
    static func write(_ tensors: [Tensor], to url: URL) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var data = [UInt8]()
        for t in tensors {
            let begin = data.count
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [begin, data.count]]
        }
        try writeRaw(header: header, data: data, to: url)
    }

    /// Writes a header object and data bytes with the 8-byte length prefix;
    /// the header is padded with spaces to a multiple of 8, as the Python writer does.
    static func writeRaw(header: [String: Any], data: [UInt8], to url: URL, padTo alignment: Int = 8) throws {
        var json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while json.count % alignment != 0 { json.append(UInt8(ascii: " ")) }
        var bytes = [UInt8]()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
        bytes += json
        bytes += data
        try Data(bytes).write(to: url)
    }

    /// Copies the model folder `source` into `destination`, replacing its
    /// weights by `transform` applied to its tensors.
    static func copyModel(_ source: URL, to destination: URL, weightsName: String = "model.safetensors",
                          transform: (inout [Tensor]) -> Void) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination, withIntermediateDirectories: true)
        for entry in try fm.contentsOfDirectory(atPath: source.path) where entry != weightsName {
            try fm.copyItem(at: source.appendingPathComponent(entry), to: destination.appendingPathComponent(entry))
        }
        var tensors = try Self.tensors(of: SafeTensorsFile(url: source.appendingPathComponent(weightsName)))
        transform(&tensors)
        try write(tensors, to: destination.appendingPathComponent(weightsName))
    }
}

/// A progress sink that records updates and can ask to stop after some.
/// `@unchecked Sendable`: the encoders report and ask `isCancelled` on the
/// thread that called `embed` (decoding threads never see the sink), and
/// the test reads it after that call returned.
final class CLIPRecordingProgress: ProgressSink, @unchecked Sendable {
    var updates: [(done: Int, total: Int)] = []
    var finished = 0
    /// Asks to stop once this many updates arrived.
    var cancelAfter: Int?
    func update(label: String, done: Int, total: Int) { updates.append((done, total)) }
    func finish(label: String) { finished += 1 }
    var isCancelled: Bool {
        guard let n = cancelAfter else { return false }
        return updates.count >= n
    }
}
