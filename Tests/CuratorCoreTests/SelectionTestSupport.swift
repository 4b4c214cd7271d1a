@testable import CuratorCore

/// Deterministic test matrices for the selection tests.
enum SelectionTestData {
    /// `rows` random unit vectors of length `dimension` (Gaussian, normalised).
    static func randomMatrix(rows: Int, dimension: Int, seed: UInt64) -> EmbeddingMatrix {
        var random = Xoshiro256StarStar(seed: seed)
        var values = [Float](repeating: 0, count: rows * dimension)
        for i in 0..<values.count { values[i] = gaussian(&random) }
        let m = EmbeddingMatrix(rows: rows, dimension: dimension, values: values)
        m.normalizeRows()
        return m
    }

    /// `perBlob` noisy copies around each of `blobs` random centres, normalised.
    static func blobs(_ blobs: Int, perBlob: Int, dimension: Int, noise: Float, seed: UInt64) -> EmbeddingMatrix {
        var random = Xoshiro256StarStar(seed: seed)
        let centres = (0..<blobs).map { _ in (0..<dimension).map { _ in gaussian(&random) } }
        var values: [Float] = []
        for b in 0..<blobs {
            for _ in 0..<perBlob { values += centres[b].map { $0 + noise * gaussian(&random) } }
        }
        let m = EmbeddingMatrix(rows: blobs * perBlob, dimension: dimension, values: values)
        m.normalizeRows()
        return m
    }

    static func gaussian(_ random: inout Xoshiro256StarStar) -> Float {
        let u = max(random.nextDouble(), 1e-300), v = random.nextDouble()
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }

    /// Plain-loop FPS, exactly as the README's Selection section words it: distances `1 − dot` in
    /// float32, the largest minimum distance wins, the first row on ties,
    /// picked (and included) rows never again.
    static func naiveFPS(_ m: EmbeddingMatrix, candidates: [Int], count: Int, start: Int?, include: [Int] = []) -> [Int] {
        func distance(_ a: Int, _ b: Int) -> Float {
            var dot: Double = 0
            for k in 0..<m.dimension { dot += Double(m.row(a)[k]) * Double(m.row(b)[k]) }
            return 1 - Float(dot)
        }
        var picked = include
        var result: [Int] = []
        var pending = start
        while result.count < count {
            let next: Int
            if let p = pending {
                next = p
                pending = nil
            } else {
                var best = -Float.infinity
                var bestRow = -1
                for c in candidates where !picked.contains(c) {
                    let minimum = picked.map { distance(c, $0) }.min() ?? .infinity
                    if minimum > best { best = minimum; bestRow = c }
                }
                guard bestRow >= 0 else { break }
                next = bestRow
            }
            picked.append(next)
            result.append(next)
        }
        return result
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Records progress and cancels after `cancelAfter` updates.
final class RecordingProgress: ProgressSink {
    var updates: [(String, Int, Int)] = []
    var finished: [String] = []
    let cancelAfter: Int?
    init(cancelAfter: Int? = nil) { self.cancelAfter = cancelAfter }
    func update(label: String, done: Int, total: Int) { updates.append((label, done, total)) }
    func finish(label: String) { finished.append(label) }
    var isCancelled: Bool { cancelAfter.map { updates.count >= $0 } ?? false }
}

extension SelectionRun {
    /// The picks as matrix rows: a run over a bare matrix names its images by row.
    var rowPicks: [[Int]] { picks.map { $0.map { Int($0) } } }
    /// The selection as matrix rows.
    var rowSelection: [Int] { selection.map { Int($0) } }
}
