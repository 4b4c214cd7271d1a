import CuratorCore
import Foundation

/// Benchmark driver for `scripts/bench/clip`: embeds every image in a folder
/// with the native CLIP encoder and prints throughput (decode included).
/// Not part of the product and not a test.
///
///     curator-clip-bench MODEL_FOLDER IMAGE_FOLDER [--batch N] [--margin M] [--out FILE.f32]
///                        [--part all|decode|model]
///     curator-clip-bench text|search|prompt-select ...   (see WordsBench)
///
/// `--part decode` only decodes and preprocesses (every core); `--part model`
/// only runs the network, on as many random pixel tensors as there are images.
@main
enum CLIPBench {
    static func main() throws {
        switch CommandLine.arguments.dropFirst().first {
        case "text": try WordsBench.text(Array(CommandLine.arguments.dropFirst(2))); return
        case "search": try WordsBench.search(Array(CommandLine.arguments.dropFirst(2))); return
        case "prompt-select": try WordsBench.promptSelect(Array(CommandLine.arguments.dropFirst(2))); return
        default: break
        }
        var arguments = Array(CommandLine.arguments.dropFirst())
        func option(_ name: String) -> String? {
            guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
            let value = arguments[i + 1]
            arguments.removeSubrange(i...(i + 1))
            return value
        }
        let batch = option("--batch").flatMap(Int.init)
        let margin = option("--margin").flatMap(Double.init) ?? 2
        let out = option("--out")
        let part = option("--part") ?? "all"
        guard arguments.count == 2 else {
            FileHandle.standardError.write(Data("usage: curator-clip-bench MODEL_FOLDER IMAGE_FOLDER [--batch N] [--margin M] [--out FILE.f32]\n".utf8))
            exit(2)
        }
        let model = URL(fileURLWithPath: arguments[0])
        let folder = URL(fileURLWithPath: arguments[1])
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted()
        let paths = names.map { Array(folder.appendingPathComponent($0).path.utf8) }

        let loadStart = Date()
        let encoder = try CLIPVisionEncoder(modelFolder: model, options: CLIPEncoderOptions(batchSize: batch, shrinkOnLoadMargin: margin))
        let loadSeconds = Date().timeIntervalSince(loadStart)

        let matrix = EmbeddingMatrix(rows: paths.count, dimension: encoder.dimension)
        if part != "all" {
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
            if part == "decode" {
                let preprocessor = encoder.preprocessor
                let shared = UncheckedPointer(pixels)
                DispatchQueue.concurrentPerform(iterations: paths.count) { i in
                    try? preprocessor.load(path: paths[i], into: shared.value + i * per)
                }
            } else {
                encoder.embed(pixels: pixels, count: paths.count, into: matrix.storage.baseAddress!)
            }
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "ours (%@ only): %d images in %.2f s = %.2f images/s; %.3f CPU s per image",
                         part, paths.count, seconds, Double(paths.count) / seconds, (cpuSeconds() - cpuStart) / Double(paths.count)))
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
        print(String(format: "ours: %d images (%d failed) in %.2f s = %.2f images/s; %.3f CPU s per image; model load %.2f s; batch %d; %d/%d weight tensors mapped in place; peak RSS %.0f MB",
                     paths.count, failed, seconds, Double(paths.count) / seconds, (cpuSeconds() - cpuStart) / Double(paths.count),
                     loadSeconds, encoder.batchSize,
                     encoder.mappedTensorCount, encoder.weightTensorCount,
                     Double(peakResidentBytes()) / 1_048_576))
    }

    /// User + system CPU time of this process so far, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Peak resident memory of this process so far, in bytes.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #endif
    }
}

/// A pointer shared by the decode threads, each writing its own image's slot.
/// `@unchecked Sendable`: each thread writes only its own image's slot, and the results are read after every thread joined.
struct UncheckedPointer: @unchecked Sendable {
    let value: UnsafeMutablePointer<Float>
    init(_ value: UnsafeMutablePointer<Float>) { self.value = value }
}
