import CuratorCore
import Foundation

// The driver of scripts/bench/umap: not part of the product. Reads raw
// little-endian float32 matrices (rows × dimension, no header), runs the
// map, and prints `key=value` lines the script collects.

/// Peak resident memory of this process so far, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}

/// CPU time of this process (all threads) so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func readMatrix(_ path: String, rows: Int, dimension: Int) throws -> EmbeddingMatrix {
    // Read straight into the matrix (no mapped or intermediate copy), so the
    // peak memory measured is the map's, not the loader's.
    guard let file = fopen(path, "rb") else { throw MapError(.invalidInput, "\(path): cannot open") }
    defer { fclose(file) }
    let matrix = EmbeddingMatrix(uninitializedRows: rows, dimension: dimension)
    let count = rows * dimension
    let read = fread(matrix.storage.baseAddress!, 4, count, file)
    guard read == count, fgetc(file) == EOF else {
        throw MapError(.invalidInput, "\(path): expected exactly \(rows)×\(dimension) float32 values")
    }
    matrix.normalizeRows()
    return matrix
}

func readPoints(_ path: String) throws -> [SIMD2<Float>] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return data.withUnsafeBytes { raw in
        (0..<(data.count / 8)).map { SIMD2(raw.load(fromByteOffset: $0 * 8, as: Float.self),
                                           raw.load(fromByteOffset: $0 * 8 + 4, as: Float.self)) }
    }
}

func writePoints(_ points: [SIMD2<Float>], to path: String) throws {
    var values: [Float] = []
    for p in points { values.append(p.x); values.append(p.y) }
    try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
}

/// Times each progress label from its first update to its finish.
final class Stopwatch: ProgressSink {
    var started: [String: (Date, Double)] = [:]
    var seconds: [(String, Double, Double)] = []
    func update(label: String, done: Int, total: Int) {
        if started[label] == nil { started[label] = (Date(), cpuSeconds()) }
    }
    func finish(label: String) {
        if let (start, cpu) = started.removeValue(forKey: label) {
            seconds.append((label, Date().timeIntervalSince(start), cpuSeconds() - cpu))
        }
    }
    var isCancelled: Bool { false }
}

func option(_ name: String, _ arguments: [String]) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
usage: curator-umap-bench layout DATA.f32 ROWS DIM OUT.f32 [--seed S] [--png FILE] [--exact-limit N]
       curator-umap-bench recall DATA.f32 ROWS DIM [--sample N] [--exact-limit N]
       curator-umap-bench update DATA.f32 ROWS DIM [--new K]   (map ROWS-K rows, then add the last K)
       curator-umap-bench plot POINTS.f32 OUT.png|svg [--caption TEXT] [--demo-selection PICKS]
"""
do {
    guard let command = arguments.first else { print(usage); exit(2) }
    switch command {
    case "layout":
        guard arguments.count >= 5, let rows = Int(arguments[2]), let dim = Int(arguments[3]) else { print(usage); exit(2) }
        var parameters = UMAPParameters()
        if let seed = option("--seed", arguments).flatMap(UInt64.init) { parameters.seed = seed }
        if let limit = option("--exact-limit", arguments).flatMap(Int.init) { parameters.exactNeighborLimit = limit }
        let t0 = Date()
        let matrix = try readMatrix(arguments[1], rows: rows, dimension: dim)
        let t1 = Date()
        let watch = Stopwatch()
        let points = try UMAP.layout(of: matrix, parameters: parameters, progress: watch)
        let t2 = Date()
        try writePoints(points, to: arguments[4])
        print(String(format: "read_seconds=%.3f", t1.timeIntervalSince(t0)))
        for (label, seconds, cpu) in watch.seconds {
            let name = label.replacingOccurrences(of: "map: ", with: "")
            print(String(format: "%@_seconds=%.3f", name, seconds))
            print(String(format: "%@_cpu_seconds=%.3f", name, cpu))
        }
        print(String(format: "umap_seconds=%.3f", t2.timeIntervalSince(t1)))
        print("peak_rss_bytes=\(peakResidentBytes())")
        if let png = option("--png", arguments) {
            try MapPlot(points: points, caption: "curator UMAP · \(rows) images").write(to: png)
        }
    case "update":
        // What an album that gained K images costs: the cached map of the
        // others updated, against computing the whole map again.
        guard arguments.count >= 4, let rows = Int(arguments[2]), let dim = Int(arguments[3]) else { print(usage); exit(2) }
        let added = option("--new", arguments).flatMap(Int.init) ?? max(1, rows / 100)
        guard added > 0, added < rows else { print(usage); exit(2) }
        let matrix = try readMatrix(arguments[1], rows: rows, dimension: dim)
        let before = EmbeddingMatrix(uninitializedRows: rows - added, dimension: dim)
        before.storage.baseAddress!.update(from: matrix.storage.baseAddress!, count: (rows - added) * dim)
        let ids = (0..<rows).map(Int64.init)
        let t0 = Date(), c0 = cpuSeconds()
        let cached = try MapLayout.compute(before, imageIDs: Array(ids.prefix(rows - added)))
        let t1 = Date(), c1 = cpuSeconds()
        let updated = try cached.updated(for: matrix, imageIDs: ids)
        let t2 = Date(), c2 = cpuSeconds()
        print("new_images=\(added)\nmethod=\(updated.method.rawValue)")
        print(String(format: "full_seconds=%.3f\nfull_cpu_seconds=%.3f", t1.timeIntervalSince(t0), c1 - c0))
        print(String(format: "update_seconds=%.3f\nupdate_cpu_seconds=%.3f", t2.timeIntervalSince(t1), c2 - c1))
    case "recall":
        guard arguments.count >= 4, let rows = Int(arguments[2]), let dim = Int(arguments[3]) else { print(usage); exit(2) }
        let matrix = try readMatrix(arguments[1], rows: rows, dimension: dim)
        let t0 = Date()
        let graph = NeighborGraph.build(matrix, k: 15, exactLimit: Int(option("--exact-limit", arguments) ?? "0") ?? 0, seed: 0)
        let t1 = Date()
        let exact = NeighborGraph.exact(matrix, k: 15)
        let t2 = Date()
        print(String(format: "approx_seconds=%.3f exact_seconds=%.3f recall=%.4f", t1.timeIntervalSince(t0),
                     t2.timeIntervalSince(t1), graph.recall(against: exact)))
    case "plot":
        guard arguments.count >= 3 else { print(usage); exit(2) }
        let points = try readPoints(arguments[1])
        var categories: [MapPlot.Category] = []
        var highlight: Int?
        if let picks = option("--demo-selection", arguments).flatMap(Int.init) {
            // A made-up curation to look at the colours: every n-th image
            // selected with a tier by position, a few excluded, one highlighted.
            categories = Array(repeating: .album, count: points.count)
            let step = max(1, points.count / max(picks, 1))
            for (rank, i) in stride(from: 0, to: points.count, by: step).enumerated() {
                categories[i] = [.core, .core, .stable, .variable][rank % 4]
            }
            for i in stride(from: step / 2, to: points.count, by: step * 10) { categories[i] = .excluded }
            highlight = step
        }
        try MapPlot(points: points, categories: categories, highlight: highlight,
                    caption: option("--caption", arguments)).write(to: arguments[2])
    default:
        print(usage)
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("curator-umap-bench: \(error)\n".utf8))
    exit(1)
}
