import ArgumentParser
import CuratorCore
import Foundation
import GRDB

/// `curator-bench make-index DIR`: an album of N tiny files already indexed
/// with N × D random unit vectors, for timing how an album of that size opens.
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
                    _ = FileManager.default.createFile(atPath: path, contents: Data([0xFF]))
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
        BenchOutput.emit(["images": images, "dimension": dimension, "folder": folder])
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

/// `curator-bench open-index DIR`: what re-opening an indexed album costs,
/// against the README's budget of 1.3 × the matrix + 50 MB of memory.
struct OpenIndex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open-index",
        abstract: "Open an indexed album (rescan included) and load its matrix; report time and peak memory.")

    @Argument var folder: String
    @Flag(help: "Skip the folder rescan.") var noScan = false

    @Flag(help: "Time the steps of opening separately.") var steps = false

    func run() throws {
        if steps {
            var t = Date()
            var seconds: [String: Any] = [:]
            func lap(_ label: String) { seconds[label] = Date().timeIntervalSince(t); t = Date() }
            let album = try Album.open(folder, options: .init(scan: false, embed: false)); lap("open_seconds")
            try album.scan(); lap("scan_seconds")
            try album.embed(); lap("embed_check_seconds")
            _ = try album.matrix(); lap("matrix_seconds")
            BenchOutput.emit(seconds)
            return
        }
        let start = Date()
        let album = try Album.open(folder, options: .init(scan: !noScan))
        let opened = Date()
        let matrix = try album.matrix()
        let end = Date()
        let bytes = matrix.matrix.byteCount
        let peak = peakResidentBytes()
        BenchOutput.emit([
            "open_seconds": opened.timeIntervalSince(start), "scan": !noScan,
            "matrix_seconds": end.timeIntervalSince(opened), "seconds": end.timeIntervalSince(start),
            "rows": matrix.matrix.rows, "dimension": matrix.matrix.dimension,
            "matrix_bytes": bytes, "peak_rss_bytes": peak,
            "budget_bytes": Int(1.3 * Double(bytes) + 50e6),
        ])
    }
}
