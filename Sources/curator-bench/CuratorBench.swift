import CuratorCore
import Foundation

/// A hidden driver for `scripts/bench/*`: runs one core operation over
/// files and prints machine-readable timings. Not installed for users.
///
///     curator-bench pixels [--threads N] [--size S] [--stats] DIR
///         embeds every file in DIR (not recursive, sorted) with the pixels
///         embedder; prints "images=… failed=… seconds=… images_per_second=…"
///         (and each image's statistics with --stats).
@main
struct CuratorBench {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let mode = arguments.first else { fail("usage: curator-bench pixels [--threads N] [--size S] [--stats] DIR") }
        arguments.removeFirst()
        switch mode {
        case "pixels": pixels(arguments)
        default: fail("curator-bench: unknown mode '\(mode)'")
        }
    }

    static func pixels(_ arguments: [String]) {
        var threads = ProcessInfo.processInfo.activeProcessorCount
        var size = PixelEmbedder.defaultThumbnailSize
        var showStatistics = false
        var folder: String?
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--threads": threads = number(iterator.next(), for: argument)
            case "--size": size = number(iterator.next(), for: argument)
            case "--stats": showStatistics = true
            default: folder = argument
            }
        }
        guard let folder else { fail("curator-bench pixels: no folder given") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        } catch {
            fail("curator-bench pixels: \(folder): \(error.localizedDescription)")
        }
        let paths = names.map { Array((folder + "/" + $0).utf8) }
        let embedder = PixelEmbedder(thumbnailSize: size, threads: threads)
        let start = Date()
        let results: [Result<PixelEmbedder.Embedding, ImageDecodeError>]
        do {
            results = try embedder.embed(paths: paths)
        } catch {
            fail("curator-bench pixels: \(error)")
        }
        let seconds = Date().timeIntervalSince(start)
        var failed = 0
        for (name, result) in zip(names, results) {
            switch result {
            case .success(let embedding):
                if showStatistics {
                    let s = embedding.statistics
                    print(name, String(format: "sharpness=%.1f brightness=%.3f contrast=%.3f colourfulness=%.1f entropy=%.2f",
                                       s.sharpness, s.brightness, s.contrast, s.colourfulness, s.entropy))
                }
            case .failure(let error):
                failed += 1
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        print(String(format: "images=%d failed=%d seconds=%.3f images_per_second=%.1f",
                     paths.count, failed, seconds, Double(paths.count) / seconds))
    }

    static func number(_ text: String?, for option: String) -> Int {
        guard let text, let value = Int(text), value > 0 else { fail("\(option) needs a positive number") }
        return value
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
        exit(2)
    }
}
