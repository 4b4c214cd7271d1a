import ArgumentParser
import CuratorCore
import Foundation

/// `curator-bench encode-text MODEL_FOLDER PROMPTS.txt`, for
/// `scripts/bench/words`: encodes each prompt on its own (the latency a
/// search pays), then all at once.
struct EncodeText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode-text",
        abstract: "Encode each line of a file with the native text encoder, one at a time, then all at once.")

    @Argument(help: "The model's folder.") var model: String
    @Argument(help: "One prompt per line.") var prompts: String
    @Option(help: "Write the vectors here, raw float32.") var out: String?

    func run() throws {
        let encoder = try CLIPTextEncoder(modelFolder: URL(fileURLWithPath: model))
        let prompts = try String(contentsOfFile: prompts, encoding: .utf8).split(separator: "\n").map(String.init)
        guard !prompts.isEmpty else { throw BenchError("\(self.prompts): no prompts") }
        let vectors = EmbeddingMatrix(rows: prompts.count, dimension: encoder.dimension)
        _ = try encoder.embed([prompts[0]])  // warm: first touch of the mapped weights
        var each: [Double] = []
        for (i, prompt) in prompts.enumerated() {
            let start = Date()
            try encoder.embed([prompt], into: vectors.row(i))
            each.append(Date().timeIntervalSince(start))
        }
        let batchStart = Date()
        _ = try encoder.embed(prompts)
        let batch = Date().timeIntervalSince(batchStart)
        if let out {
            try Data(buffer: UnsafeBufferPointer(start: vectors.row(0), count: vectors.rows * vectors.dimension))
                .write(to: URL(fileURLWithPath: out))
        }
        each.sort()
        BenchOutput.emit(["prompts": prompts.count, "median_ms": each[each.count / 2] * 1000,
                          "mean_ms": each.reduce(0, +) / Double(each.count) * 1000,
                          "batch_ms_per_prompt": batch / Double(prompts.count) * 1000,
                          "peak_rss_bytes": peakResidentBytes()])
    }
}

/// `curator-bench search ROWS DIM`: a:search's work once the prompt is a
/// vector: one GEMV over ROWS × DIM unit rows, then the top K.
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time a:search's GEMV and top K over random unit rows.")

    @Argument var rows: Int
    @Argument var dimension: Int
    @Option(help: "Timed queries (one more warms the caches).") var queries = 20
    @Option var k = 20

    func run() throws {
        guard rows > 0, dimension > 0, queries > 0, k > 0 else { throw BenchError("ROWS, DIM, --queries and --k must be positive") }
        let matrix = randomUnitRows(rows, dimension, seed: 1)
        var times: [Double] = []
        var checksum: Float = 0
        for q in 0...queries {
            let direction = randomUnitRows(1, dimension, seed: UInt32(100 + q)).vector(0)
            let start = Date()
            let best = matrix.best(along: direction, k: k)
            let seconds = Date().timeIntervalSince(start)
            checksum += best.first?.score ?? 0
            if q > 0 { times.append(seconds) }  // the first query warms the caches
        }
        times.sort()
        BenchOutput.emit(["rows": rows, "dimension": dimension, "k": k, "queries": times.count,
                          "median_ms": times[times.count / 2] * 1000, "best_ms": times[0] * 1000,
                          "checksum": Double(checksum)])
    }
}

/// `curator-bench prompt-select ROWS DIM`: an FPS run, then the same run
/// narrowed by a prompt that keeps every candidate (the prompt's GEMV and
/// the narrowing are the overhead; its text encoding is `encode-text`'s).
struct PromptSelect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompt-select",
        abstract: "Time an FPS run with and without a:select{prompt=}'s narrowing.")

    @Argument var rows: Int
    @Argument var dimension: Int
    @Option var count = 200
    @Option var iterations = 20

    func run() throws {
        let matrix = randomUnitRows(rows, dimension, seed: 7)
        let imageIDs = (0..<rows).map { Int64($0 + 1) }
        func run(prompt: Bool) throws -> Double {
            let start = Date()
            var candidates = Array(0..<rows)
            if prompt {
                // What Album.select does for prompt=: one GEMV, then the candidates at or above min_score.
                let direction = randomUnitRows(1, dimension, seed: 99).vector(0)
                let scores = matrix.scores(along: direction)
                candidates = candidates.filter { scores[$0] >= -1 }
            }
            _ = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: candidates, count: count,
                                   iterations: iterations, seed: 1, imageIDs: imageIDs)
            return Date().timeIntervalSince(start)
        }
        var plain: [Double] = [], prompted: [Double] = []
        for _ in 0..<3 {
            plain.append(try run(prompt: false))
            prompted.append(try run(prompt: true))
        }
        let a = plain.min()!, b = prompted.min()!
        BenchOutput.emit(["rows": rows, "dimension": dimension, "count": count, "iterations": iterations,
                          "seconds": a, "prompt_seconds": b, "overhead_percent": (b - a) / a * 100])
    }
}

/// Rows of cheap pseudo-random values (a linear congruential sequence), each scaled to unit length.
func randomUnitRows(_ rows: Int, _ dim: Int, seed: UInt32) -> EmbeddingMatrix {
    let matrix = EmbeddingMatrix(uninitializedRows: rows, dimension: dim)
    var state = seed
    let values = matrix.storage.baseAddress!
    for i in 0..<(rows * dim) {
        state = state &* 1_664_525 &+ 1_013_904_223
        values[i] = Float(state >> 8) / Float(1 << 24) - 0.5
    }
    matrix.normalizeRows()
    return matrix
}
