import CuratorCore
import Foundation

/// The words benchmarks of `scripts/bench/words` (not a test):
///
///     curator-clip-bench text MODEL_FOLDER PROMPTS.txt [--out FILE.f32]
///         encodes each prompt on its own (the latency a search pays), then all at once
///     curator-clip-bench search ROWS DIM [--queries Q] [--k K]
///         a:search's work once the prompt is a vector: one GEMV over ROWS × DIM unit rows, then the top K
///     curator-clip-bench prompt-select ROWS DIM COUNT ITERATIONS
///         an FPS run, then the same run narrowed by a prompt that keeps every candidate
///         (the prompt's GEMV and the narrowing are the overhead; its text encoding is measured by `text`)
enum WordsBench {
    static func text(_ arguments: [String]) throws {
        guard arguments.count >= 2 else { usage() }
        let encoder = try CLIPTextEncoder(modelFolder: URL(fileURLWithPath: arguments[0]))
        let prompts = try String(contentsOfFile: arguments[1], encoding: .utf8).split(separator: "\n").map(String.init)
        let out = EmbeddingMatrix(rows: prompts.count, dimension: encoder.dimension)
        _ = try encoder.embed([prompts[0]])  // warm: first touch of the mapped weights
        var each: [Double] = []
        for (i, prompt) in prompts.enumerated() {
            let start = Date()
            try encoder.embed([prompt], into: out.row(i))
            each.append(Date().timeIntervalSince(start))
        }
        let batchStart = Date()
        _ = try encoder.embed(prompts)
        let batch = Date().timeIntervalSince(batchStart)
        if let i = arguments.firstIndex(of: "--out"), i + 1 < arguments.count {
            try Data(buffer: UnsafeBufferPointer(start: out.row(0), count: out.rows * out.dimension)).write(to: URL(fileURLWithPath: arguments[i + 1]))
        }
        each.sort()
        print(String(format: "ours: %d prompts one at a time: median %.2f ms, mean %.2f ms per prompt; all %d in one call %.2f ms per prompt; peak RSS %.0f MB",
                     prompts.count, each[each.count / 2] * 1000, each.reduce(0, +) / Double(each.count) * 1000,
                     prompts.count, batch / Double(prompts.count) * 1000, Double(CLIPBench.peakResidentBytes()) / 1e6))
    }

    static func search(_ arguments: [String]) throws {
        guard arguments.count >= 2, let rows = Int(arguments[0]), let dim = Int(arguments[1]) else { usage() }
        let queries = value(arguments, "--queries") ?? 20
        let k = value(arguments, "--k") ?? 20
        let matrix = randomUnitRows(rows, dim, seed: 1)
        var times: [Double] = []
        var checksum: Float = 0
        for q in 0...queries {
            let direction = randomUnitRows(1, dim, seed: UInt32(100 + q)).vector(0)
            let start = Date()
            let best = matrix.best(along: direction, k: k)
            let seconds = Date().timeIntervalSince(start)
            checksum += best.first?.score ?? 0
            if q > 0 { times.append(seconds) }  // the first query warms the caches
        }
        times.sort()
        print(String(format: "ours: %d × %d, top %d: median %.1f ms, best %.1f ms per query (%d warm queries; checksum %.4f)",
                     rows, dim, k, times[times.count / 2] * 1000, times[0] * 1000, times.count, checksum))
    }

    static func promptSelect(_ arguments: [String]) throws {
        guard arguments.count >= 4, let rows = Int(arguments[0]), let dim = Int(arguments[1]),
              let count = Int(arguments[2]), let iterations = Int(arguments[3]) else { usage() }
        let matrix = randomUnitRows(rows, dim, seed: 7)
        let request = SelectionRequest(count: count, iterations: iterations, seed: 1)
        let imageIDs = (0..<rows).map { Int64($0 + 1) }
        func run(prompt: Bool) throws -> Double {
            let start = Date()
            var candidates = Array(0..<rows)
            if prompt {
                // What Album.select does for prompt=: one GEMV, then the candidates at or above min_score.
                let direction = randomUnitRows(1, dim, seed: 99).vector(0)
                let scores = matrix.scores(along: direction)
                candidates = candidates.filter { scores[$0] >= -1 }
            }
            _ = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: candidates, request: request, imageIDs: imageIDs)
            return Date().timeIntervalSince(start)
        }
        var plain: [Double] = [], prompted: [Double] = []
        for _ in 0..<3 {
            plain.append(try run(prompt: false))
            prompted.append(try run(prompt: true))
        }
        let a = plain.min()!, b = prompted.min()!
        print(String(format: "ours: FPS %d × %d iterations on %d × %d: without a prompt %.3f s, with prompt= (GEMV + narrowing) %.3f s (best of 3 each): +%.1f%%",
                     count, iterations, rows, dim, a, b, (b - a) / a * 100))
    }

    private static func value(_ arguments: [String], _ name: String) -> Int? {
        guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
        return Int(arguments[i + 1])
    }

    /// Rows of cheap pseudo-random values (a linear congruential sequence), each scaled to unit length.
    static func randomUnitRows(_ rows: Int, _ dim: Int, seed: UInt32) -> EmbeddingMatrix {
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

    private static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: curator-clip-bench text MODEL PROMPTS.txt | search ROWS DIM [--queries Q] [--k K] | prompt-select ROWS DIM COUNT ITERATIONS\n".utf8))
        exit(2)
    }
}
