import ArgumentParser
import CuratorCore
import Foundation

// The map benchmarks of scripts/bench/umap and clusters: the input is a raw
// float32 matrix (`RawMatrixInput`, rows scaled to unit length as the album's
// are), maps are written as raw float32 x, y pairs.

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

/// `curator-bench umap-layout MATRIX ROWS DIM OUT.f32`: a:map()'s layout,
/// with each stage's wall and CPU seconds (`<stage>_seconds`,
/// `<stage>_cpu_seconds`), the whole (`umap_seconds`) and the peak memory.
struct UMAPLayout: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "umap-layout", abstract: "Lay out a matrix's rows in 2-d with UMAP.")

    @OptionGroup var matrix: RawMatrixInput
    @Argument(help: "The map: ROWS × 2 float32.") var out: String
    @Option var seed: UInt64?
    @Option(help: "Also draw the map here (PNG or SVG).") var png: String?
    @Option(help: "Exact neighbours up to this many rows.") var exactLimit: Int?
    @Option(help: "The inverted file's neighbour search past this many rows.") var cellSearchFrom = NeighborGraph.cellSearchLimit
    @Option(help: "Optimisation epochs (default: umap-learn's choice).") var epochs: Int?
    @Flag(help: "With the inverted file, start from the principal axes instead of the centroids' map.") var pcaStart = false
    @Option(help: "Negative samples from a pool past this many rows.") var negativePoolFrom = UMAP.negativePoolLimit
    @Flag(help: "With the inverted file, score every candidate in float32 (no int8 shortlist).") var float32Scores = false

    func run() throws {
        var parameters = UMAPParameters()
        if let seed { parameters.seed = seed }
        if let exactLimit { parameters.exactNeighborLimit = exactLimit }
        if let epochs { parameters.epochs = epochs }
        let t0 = Date()
        let matrix = try self.matrix.read(normalized: true)
        let t1 = Date()
        let watch = Stopwatch()
        let points = try UMAP.layout(of: matrix, parameters: parameters, progress: watch, cellSearchFrom: cellSearchFrom,
                                    startsFromCells: !pcaStart, negativePoolFrom: negativePoolFrom,
                                    scoresInInt8: !float32Scores)
        let t2 = Date()
        try writePoints(points, to: out)
        var result: [String: Any] = ["rows": matrix.rows, "read_seconds": t1.timeIntervalSince(t0)]
        for (label, seconds, cpu) in watch.seconds {
            let name = label.replacingOccurrences(of: "map: ", with: "")
            result["\(name)_seconds"] = seconds
            result["\(name)_cpu_seconds"] = cpu
        }
        result["umap_seconds"] = t2.timeIntervalSince(t1)
        result["peak_rss_bytes"] = peakResidentBytes()
        if let png {
            try MapPlot(points: points, caption: "curator UMAP · \(matrix.rows) images").write(to: png)
        }
        BenchOutput.emit(result)
    }
}

/// `curator-bench umap-update MATRIX ROWS DIM --new K`: what an album that
/// gained K images costs: the cached map of the others updated, against
/// computing the whole map again.
struct UMAPUpdate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "umap-update", abstract: "Map ROWS-K rows, then add the last K; against the whole map afresh.")

    @OptionGroup var matrix: RawMatrixInput
    @Option(name: .customLong("new"), help: "Rows added (default: 1 %).") var added: Int?

    func run() throws {
        let rows = self.matrix.rows, dim = self.matrix.dimension
        let added = self.added ?? max(1, rows / 100)
        guard added > 0, added < rows else { throw BenchError("--new must be between 1 and ROWS - 1") }
        let matrix = try self.matrix.read(normalized: true)
        let before = EmbeddingMatrix(uninitializedRows: rows - added, dimension: dim)
        before.storage.baseAddress!.update(from: matrix.storage.baseAddress!, count: (rows - added) * dim)
        let ids = (0..<rows).map(Int64.init)
        let t0 = Date(), c0 = cpuSeconds()
        let cached = try MapLayout.compute(before, imageIDs: Array(ids.prefix(rows - added)))
        let t1 = Date(), c1 = cpuSeconds()
        let updated = try cached.updated(for: matrix, imageIDs: ids)
        let t2 = Date(), c2 = cpuSeconds()
        BenchOutput.emit(["new_images": added, "method": updated.method.rawValue,
                          "full_seconds": t1.timeIntervalSince(t0), "full_cpu_seconds": c1 - c0,
                          "update_seconds": t2.timeIntervalSince(t1), "update_cpu_seconds": c2 - c1])
    }
}

/// `curator-bench umap-recall MATRIX ROWS DIM`: the approximate 15-neighbour
/// graph's recall against the exact one, and both times.
struct UMAPRecall: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "umap-recall", abstract: "Recall of the approximate neighbour graph against the exact one.")

    @OptionGroup var matrix: RawMatrixInput
    @Option(help: "Exact neighbours up to this many rows.") var exactLimit = 0
    @Option(help: "Score this many evenly spaced rows against their exact neighbours (default: every row).") var queries: Int?
    @Option(help: "descent (forest and descent) or cells (inverted file, then --refinements rounds of descent).") var method = "descent"
    @Option var probes = 3
    @Option var searchedLists = 6
    @Option var refinements = 1
    @Flag(help: "With cells, score every candidate in float32 (no int8 shortlist).") var float32Scores = false

    func run() throws {
        let matrix = try self.matrix.read(normalized: true)
        let t0 = Date(), c0 = cpuSeconds()
        let graph = method == "cells"
            ? try NeighborGraph.cellSearch(matrix, k: 15, seed: 0, probes: probes, searchedLists: searchedLists,
                                          refinements: refinements, scoresInInt8: !float32Scores).graph
            : NeighborGraph.build(matrix, k: 15, exactLimit: exactLimit, seed: 0)
        let t1 = Date(), c1 = cpuSeconds()
        let n = matrix.rows, m = min(queries ?? n, n)
        // Evenly spaced rows: the exact search of a million rows against themselves would take an hour.
        let rows = (0..<m).map { $0 * n / m }
        let sampled = EmbeddingMatrix(uninitializedRows: m, dimension: matrix.dimension)
        for (r, row) in rows.enumerated() { sampled.row(r).update(from: matrix.row(row), count: matrix.dimension) }
        let exact = NeighborGraph.exact(queries: sampled, selfRows: rows, in: matrix, k: 15)
        let t2 = Date()
        BenchOutput.emit(["method": method, "approx_seconds": t1.timeIntervalSince(t0), "approx_cpu_seconds": c1 - c0,
                          "exact_seconds": t2.timeIntervalSince(t1), "scored_rows": m,
                          "recall": graph.recall(of: rows, against: exact)])
    }
}

/// `curator-bench plot POINTS.f32 OUT.png|svg`: draws a map with MapPlot.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Draw a map's points (x, y float32 pairs) as PNG or SVG.")

    @Argument var points: String
    @Argument var out: String
    @Option var caption: String?
    @Option(help: "Colour a made-up curation of about this many picks.") var demoSelection: Int?

    func run() throws {
        let points = try readPoints(self.points)
        var categories: [MapPlot.Category] = []
        var highlight: Int?
        if let picks = demoSelection {
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
        try MapPlot(points: points, categories: categories, highlight: highlight, caption: caption).write(to: out)
        BenchOutput.emit(["points": points.count, "file": out])
    }
}
