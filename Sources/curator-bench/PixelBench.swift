import CuratorCore
import Foundation

/// A hidden driver for `scripts/bench/*`: runs one core operation over
/// files and prints machine-readable timings. Not installed for users.
///
///     curator-bench pixels [--threads N] [--size S] [--stats]
///                          [--vips-concurrency N] [--vips-cache N] DIR
///         embeds every file in DIR (not recursive, sorted) with the pixels
///         embedder; prints "images=… failed=… seconds=… images_per_second=…"
///         (and each image's statistics with --stats).
///     curator-bench pixels --profile [--size S] DIR
///         one thread; times decoding and the descriptor separately.
///     curator-bench describe FILE [N]
///         decodes FILE once and computes its descriptor N times (default 1000).
enum PixelBench {
    static func pixels(_ arguments: [String]) {
        var threads = ProcessInfo.processInfo.activeProcessorCount
        var size = PixelEmbedder.defaultThumbnailSize
        var showStatistics = false
        var profile = false
        var vipsConcurrency = 1, vipsCache = 0
        var folder: String?
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--threads": threads = number(iterator.next(), for: argument)
            case "--size": size = number(iterator.next(), for: argument)
            case "--stats": showStatistics = true
            case "--profile": profile = true
            case "--vips-concurrency": vipsConcurrency = number(iterator.next(), for: argument)
            case "--vips-cache": vipsCache = Int(iterator.next() ?? "") ?? 0
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
        Libvips.configure(concurrency: vipsConcurrency, cacheOperations: vipsCache)
        if profile { return profilePixels(paths, size: size) }
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

    /// Decodes then describes each image on this thread, timing each part.
    static func profilePixels(_ paths: [[UInt8]], size: Int) {
        let decoder = ImageDecoder(thumbnailSize: size)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: decoder.bufferCapacity)
        defer { buffer.deallocate() }
        let workspace = PixelDescriptor.Workspace()
        var vector = [Float](repeating: 0, count: PixelDescriptor.dimension)
        var decoding = 0.0, describing = 0.0, done = 0
        for path in paths {
            let t0 = Date()
            guard let decoded = try? decoder.decode(path: path, into: buffer) else { continue }
            let t1 = Date()
            _ = vector.withUnsafeMutableBufferPointer { out in
                PixelDescriptor.compute(pixels: UnsafeBufferPointer(buffer), width: decoded.width, height: decoded.height,
                                        into: out, workspace: workspace)
            }
            decoding += t1.timeIntervalSince(t0)
            describing += Date().timeIntervalSince(t1)
            done += 1
        }
        print(String(format: "images=%d decode_ms=%.2f describe_ms=%.2f", done,
                     decoding * 1000 / Double(max(done, 1)), describing * 1000 / Double(max(done, 1))))
    }

    static func describe(_ arguments: [String]) {
        guard let file = arguments.first else { fail("usage: curator-bench describe FILE [N]") }
        let repeats = arguments.count > 1 ? number(arguments[1], for: "N") : 1000
        let image: RGBImage
        do { image = try ImageDecoder().decode(path: Array(file.utf8)) } catch { fail("\(error)") }
        let workspace = PixelDescriptor.Workspace()
        var vector = [Float](repeating: 0, count: PixelDescriptor.dimension)
        let start = Date()
        for _ in 0..<repeats {
            _ = image.pixels.withUnsafeBufferPointer { pixels in
                vector.withUnsafeMutableBufferPointer { out in
                    PixelDescriptor.compute(pixels: pixels, width: image.width, height: image.height, into: out, workspace: workspace)
                }
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "%dx%d describe_ms=%.3f", image.width, image.height, seconds * 1000 / Double(repeats)))
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
