import ArgumentParser
import CuratorCore
import Foundation

/// `curator-bench encode-images MODEL_FOLDER IMAGE_FOLDER`, for
/// `scripts/bench/clip` and `words`: embeds every image in a folder with the
/// native image encoder (CLIP or SigLIP, as the model folder says) and
/// reports the throughput, decode included.
///
/// `--part decode` only decodes and preprocesses (every core); `--part model`
/// only runs the network, on as many random pixel tensors as there are images.
struct EncodeImages: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode-images",
        abstract: "Embed a folder's JPEG and PNG files with the native image encoder; report images per second.")

    enum Part: String, ExpressibleByArgument, CaseIterable { case all, decode, model }

    @Argument(help: "The model's folder (config.json, model.safetensors).") var model: String
    @Argument(help: "The images (*.jpg, *.jpeg, *.png; not recursive).") var images: String
    @Option(help: "Images per forward pass (default: the encoder's).") var batch: Int?
    @Option(help: "JPEG shrink-on-load margin.") var margin: Double = 2
    @Option(help: "Write the vectors here, raw float32.") var out: String?
    @Option(help: "all, or only decode, or only the model.") var part: Part = .all

    func run() throws {
        let folder = URL(fileURLWithPath: images)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted()
        let paths = names.map { FileSystemPath(folder.appendingPathComponent($0).path) }

        let loadStart = Date()
        let encoder = try CLIPVisionEncoder(modelFolder: URL(fileURLWithPath: model),
                                            options: CLIPEncoderOptions(batchSize: batch, shrinkOnLoadMargin: margin))
        let loadSeconds = Date().timeIntervalSince(loadStart)

        let matrix = EmbeddingMatrix(rows: paths.count, dimension: encoder.dimension)
        if part != .all {
            let per = encoder.preprocessor.valuesPerImage
            let pixels = UnsafeMutablePointer<Float>.allocate(capacity: paths.count * per)
            // Cheap pseudo-random pixels (a linear congruential sequence), set before timing.
            var state: UInt32 = 12345
            for i in 0..<(paths.count * per) {
                state = state &* 1_664_525 &+ 1_013_904_223
                pixels[i] = Float(state >> 8) / Float(1 << 24) * 4 - 2
            }
            let cpuStart = cpuSeconds()
            let start = Date()
            if part == .decode {
                let preprocessor = encoder.preprocessor
                let shared = UncheckedSendable(pixels)
                DispatchQueue.concurrentPerform(iterations: paths.count) { i in
                    try? preprocessor.load(path: paths[i], into: shared.value + i * per)
                }
            } else {
                encoder.embed(pixels: pixels, count: paths.count, into: matrix.storage.baseAddress!)
            }
            let seconds = Date().timeIntervalSince(start)
            BenchOutput.emit(["part": part.rawValue, "images": paths.count, "seconds": seconds,
                              "images_per_second": Double(paths.count) / seconds,
                              "cpu_seconds_per_image": (cpuSeconds() - cpuStart) / Double(paths.count)])
            return
        }
        let cpuStart = cpuSeconds()
        let start = Date()
        let results = try encoder.embed(paths: paths, into: matrix)
        let seconds = Date().timeIntervalSince(start)
        let failed = results.filter { if case .failure = $0 { return true } else { return false } }.count
        if let out {
            try Data(buffer: UnsafeBufferPointer(start: matrix.storage.baseAddress, count: matrix.rows * matrix.dimension))
                .write(to: URL(fileURLWithPath: out))
        }
        BenchOutput.emit([
            "part": part.rawValue, "images": paths.count, "failed": failed, "seconds": seconds,
            "images_per_second": Double(paths.count) / seconds,
            "cpu_seconds_per_image": (cpuSeconds() - cpuStart) / Double(paths.count),
            "model_load_seconds": loadSeconds, "batch": encoder.batchSize,
            "mapped_tensors": encoder.mappedTensorCount, "weight_tensors": encoder.weightTensorCount,
            "peak_rss_bytes": peakResidentBytes(),
        ])
    }
}

/// `curator-bench encode-pixels MODEL_FOLDER PIXELS.f32 COUNT`, for
/// `scripts/bench/clip --inference`: the network alone on preprocessed
/// images read from a file that ONNX Runtime's side reads too (3 × size ×
/// size float32 each), so both run the same tensors and their vectors can be
/// compared. One warm-up batch first (the weights' first touch), then all
/// COUNT timed.
struct EncodePixels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode-pixels",
        abstract: "Run the native image encoder alone on preprocessed tensors from a file; report images per second.")

    @Argument(help: "The model's folder (config.json, model.safetensors).") var model: String
    @Argument(help: "Raw float32 tensors, 3 × size × size per image.") var pixels: String
    @Argument(help: "How many images to embed.") var count: Int
    @Option(help: "Images per forward pass (default: the encoder's).") var batch: Int?
    @Option(help: "Write the vectors here, raw float32.") var out: String?
    @Option(help: "The blocks' arithmetic: float32 or bfloat16 (default: the encoder's, bfloat16 where the processor has AVX512_BF16).")
    var precision: String?

    func run() throws {
        var requested: CLIPPrecision?
        if let precision {
            guard let p = CLIPPrecision(rawValue: precision) else { BenchOutput.fail("--precision: float32 or bfloat16, not '\(precision)'") }
            requested = p
        }
        let loadStart = Date()
        let encoder = try CLIPVisionEncoder(modelFolder: URL(fileURLWithPath: model),
                                            options: CLIPEncoderOptions(batchSize: batch, precision: requested))
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let per = encoder.preprocessor.valuesPerImage
        let data = try Data(contentsOf: URL(fileURLWithPath: pixels), options: .alwaysMapped)
        guard count > 0, data.count >= count * per * 4 else {
            BenchOutput.fail("\(pixels) holds \(data.count / (per * 4)) images of \(per) values; \(count) asked for")
        }
        let input = UnsafeMutablePointer<Float>.allocate(capacity: count * per)
        defer { input.deallocate() }
        data.withUnsafeBytes { UnsafeMutableRawPointer(input).copyMemory(from: $0.baseAddress!, byteCount: count * per * 4) }
        let matrix = EmbeddingMatrix(rows: count, dimension: encoder.dimension)
        let output = matrix.storage.baseAddress!
        encoder.embed(pixels: input, count: min(count, encoder.batchSize), into: output)
        let cpuStart = cpuSeconds()
        let start = Date()
        encoder.embed(pixels: input, count: count, into: output)
        let seconds = Date().timeIntervalSince(start)
        if let out {
            try Data(buffer: UnsafeBufferPointer(start: output, count: count * encoder.dimension)).write(to: URL(fileURLWithPath: out))
        }
        BenchOutput.emit(["images": count, "seconds": seconds, "images_per_second": Double(count) / seconds,
                          "cpu_seconds_per_image": (cpuSeconds() - cpuStart) / Double(count), "batch": encoder.batchSize,
                          "flops_per_image": Self.flopsPerImage(encoder.configuration),
                          "precision": encoder.precision.rawValue, "load_seconds": loadSeconds,
                          "peak_rss_bytes": peakResidentBytes()])
    }

    /// The floating-point operations (2 per multiply-add) of one image's
    /// matrix products: the patch embedding, each block's four attention
    /// projections, its two attention products and its MLP; SigLIP's pooling
    /// head is left out (under 1 % of the tower). The work any implementation
    /// must do, so images per second times this over the cores' FMA rate is
    /// how close a run comes to the machine's bound.
    static func flopsPerImage(_ c: CLIPVisionConfiguration) -> Double {
        let d = Double(c.hiddenSize), ff = Double(c.intermediateSize), s = Double(c.tokens)
        let patches = Double(c.gridSize * c.gridSize), patchValues = Double(3 * c.patchSize * c.patchSize)
        let perBlock = s * (4 * d * d + 2 * d * ff) + 2 * s * s * d
        return 2 * (patches * patchValues * d + Double(c.layers) * perBlock)
    }
}
