import ArgumentParser
import CuratorCore
import Foundation

/// `curator-bench pixels DIR`: embeds every file in DIR (not recursive,
/// sorted) with the pixels embedder, every core busy; reports images,
/// failed, seconds and images_per_second (and, with `--stats`, one line per
/// image with its statistics). With `--profile`: one thread, decoding and
/// the descriptor timed separately.
struct Pixels: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Embed a folder's files with the pixels embedder.")

    @Argument var folder: String
    @Option(help: "Embedding threads (default: one per core).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "The thumbnail's box, in pixels.") var size = PixelEmbedder.defaultThumbnailSize
    @Flag(help: "Also report each image's statistics.") var stats = false
    @Flag(help: "One thread; time decoding and the descriptor separately.") var profile = false
    @Option(help: "libvips' own threads per image.") var vipsConcurrency = 1
    @Option(help: "libvips' operation cache size.") var vipsCache = 0

    func validate() throws {
        guard threads > 0, size > 0, vipsConcurrency > 0 else {
            throw ValidationError("--threads, --size and --vips-concurrency need a positive number")
        }
    }

    func run() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let paths = names.map { FileSystemPath(folder + "/" + $0) }
        Libvips.configure(concurrency: vipsConcurrency, cacheOperations: vipsCache)
        if profile { return profilePixels(paths) }
        let embedder = PixelEmbedder(thumbnailSize: size, threads: threads)
        let start = Date()
        let results = try embedder.embed(paths: paths)
        let seconds = Date().timeIntervalSince(start)
        var failed = 0
        for (name, result) in zip(names, results) {
            switch result {
            case .success(let embedding):
                if stats {
                    let s = embedding.statistics
                    BenchOutput.emit(["image": name, "sharpness": s.sharpness, "brightness": s.brightness,
                                      "contrast": s.contrast, "colourfulness": s.colourfulness, "entropy": s.entropy])
                }
            case .failure(let error):
                failed += 1
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        BenchOutput.emit(["images": paths.count, "failed": failed, "seconds": seconds,
                          "images_per_second": Double(paths.count) / seconds])
    }

    /// Decodes then describes each image on this thread, timing each part.
    private func profilePixels(_ paths: [FileSystemPath]) {
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
        BenchOutput.emit(["images": done, "decode_ms": decoding * 1000 / Double(max(done, 1)),
                          "describe_ms": describing * 1000 / Double(max(done, 1))])
    }
}

/// `curator-bench describe FILE`: decodes FILE once and computes its pixel
/// descriptor `--repeats` times; reports the milliseconds per descriptor.
struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time the pixel descriptor on one file.")

    @Argument var file: String
    @Option(help: "Descriptors to compute.") var repeats = 1000

    func validate() throws {
        guard repeats > 0 else { throw ValidationError("--repeats needs a positive number") }
    }

    func run() throws {
        let image = try ImageDecoder().decode(path: FileSystemPath(file))
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
        BenchOutput.emit(["width": image.width, "height": image.height, "describe_ms": seconds * 1000 / Double(repeats)])
    }
}
