import ArgumentParser
import CuratorCore
import Foundation
import GRDB

/// Benchmark drivers for `scripts/bench/*`: not part of the product, and not
/// tests — they print measurements of release builds.
@main
struct CuratorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curator-bench",
        abstract: "Benchmark drivers for scripts/bench.",
        subcommands: [MakeIndex.self, OpenIndex.self, Pixels.self, Describe.self, Thumbnails.self, ParquetRead.self]
    )
}

/// `curator-bench pixels …`: see `PixelBench`.
struct Pixels: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Embed a folder's files with the pixels embedder.")
    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
    func run() { PixelBench.pixels(arguments) }
}

/// `curator-bench describe …`: see `PixelBench`.
struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time the pixel descriptor on one file.")
    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
    func run() { PixelBench.describe(arguments) }
}

/// Peak resident memory of this process so far, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    #if canImport(Darwin)
    getrusage(RUSAGE_SELF, &usage)
    #else
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #endif
    #if canImport(Darwin)
    return Int(usage.ru_maxrss)
    #else
    return Int(usage.ru_maxrss) * 1024
    #endif
}

struct MakeIndex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-index",
        abstract: "Make an album of N tiny files already indexed with N×D random unit vectors.")

    @Argument var folder: String
    @Option var images = 100_000
    @Option var dimension = 768

    func run() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let album = try Album.open(folder, options: .init(scan: false, embed: false))
        var generator = SystemRandomNumberGenerator()
        var vector = [Float](repeating: 0, count: dimension)
        let store = album.embeddingStore
        try store.register(embedder: "bench", modelID: "random", dimension: dimension, source: folder)
        let batch = 5_000
        for start in stride(from: 0, to: images, by: batch) {
            var rows: [(Int64, [Float])] = []
            try album.database.pool.write { db in
                for i in start..<min(start + batch, images) {
                    let name = String(format: "%03d/img%06d.jpg", i / 1000, i)
                    let path = (folder as NSString).appendingPathComponent(name)
                    if i % 1000 == 0 {
                        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    }
                    FileManager.default.createFile(atPath: path, contents: Data([0xFF]))
                    var st = stat()
                    stat(path, &st)
                    let exact = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
                    try db.execute(sql: "INSERT INTO image(path, size, mtime, width, height) VALUES (?, 1, ?, 640, 480)",
                                   arguments: [Data(name.utf8), exact])
                    for j in 0..<dimension { vector[j] = Float.random(in: -1...1, using: &generator) }
                    rows.append((db.lastInsertedRowID, vector))
                }
            }
            for i in rows.indices { rows[i].1.withUnsafeMutableBufferPointer { EmbeddingMatrix.normalize($0.baseAddress!, count: dimension) } }
            try withBuffers(rows) { try store.write(embedder: "bench", vectors: $0) }
        }
        try album.activate(embedder: "bench")
        print("made \(images) images × \(dimension)-d in \(folder)")
    }

    private func withBuffers(_ rows: [(Int64, [Float])], _ body: ([(imageID: Int64, vector: UnsafeBufferPointer<Float>)]) throws -> Void) throws {
        var pointers: [(imageID: Int64, vector: UnsafeBufferPointer<Float>)] = []
        let storage = rows.map { row -> UnsafeMutableBufferPointer<Float> in
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: row.1.count)
            _ = p.initialize(from: row.1)
            return p
        }
        defer { storage.forEach { $0.deallocate() } }
        for (row, p) in zip(rows, storage) { pointers.append((row.0, UnsafeBufferPointer(p))) }
        try body(pointers)
    }
}

struct OpenIndex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open-index",
        abstract: "Open an indexed album (rescan included) and load its matrix; print time and peak memory.")

    @Argument var folder: String
    @Flag(help: "Skip the folder rescan.") var noScan = false

    @Flag(help: "Time the steps of opening separately.") var steps = false

    func run() throws {
        if steps {
            var t = Date()
            func lap(_ label: String) { print(label, String(format: "%.3f s", Date().timeIntervalSince(t))); t = Date() }
            let album = try Album.open(folder, options: .init(scan: false, embed: false)); lap("open (no scan, no embed)")
            try album.scan(); lap("scan")
            try album.embed(); lap("embed check")
            _ = try album.matrix(); lap("matrix")
            return
        }
        let start = Date()
        let album = try Album.open(folder, options: .init(scan: !noScan))
        let opened = Date()
        let matrix = try album.matrix()
        let end = Date()
        let bytes = matrix.matrix.byteCount
        let peak = peakResidentBytes()
        print(String(format: "open %.3f s (scan %@) + matrix %.3f s = %.3f s; %d×%d; matrix %.1f MB; peak RSS %.1f MB (%.2f× matrix + 50 MB budget %.1f MB)",
                     opened.timeIntervalSince(start), noScan ? "off" : "on", end.timeIntervalSince(opened), end.timeIntervalSince(start),
                     matrix.matrix.rows, matrix.matrix.dimension, Double(bytes) / 1e6, Double(peak) / 1e6,
                     Double(peak) / Double(bytes), (1.3 * Double(bytes) + 50e6) / 1e6))
    }
}
