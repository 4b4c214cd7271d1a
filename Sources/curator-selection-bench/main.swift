// Drives the selection samplers on a raw float32 matrix for
// scripts/bench/selection, printing one JSON object with timings and picks.
//
//   curator-selection-bench MATRIX.f32 ROWS DIM fps|kmeans|facility|coverage|duplicates|hdbscan COUNT ITERATIONS SEED [STARTS.json]
//
// hdbscan clusters a map (MATRIX holds ROWS points, DIM 2) with min_cluster_size COUNT
// and prints the labels (−1 for noise).
//
// Every method that selects also prints "objective": the facility-location
// objective of its selection (Σ over rows of the similarity to the nearest
// pick, clamped to 0...1), so methods compare on one scale. coverage runs FPS
// and times r:coverage()'s kernel on its selection.
//
// With STARTS.json (a JSON array of row numbers), fps runs one iteration per
// start instead of drawing starts from SEED (to compare picks with the reference).
import CuratorCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("curator-selection-bench: \(message)\n".utf8))
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 8, let rows = Int(args[2]), let dim = Int(args[3]),
      let count = Int(args[5]), let iterations = Int(args[6]), let seed = UInt64(args[7]) else {
    fail("usage: MATRIX.f32 ROWS DIM fps|kmeans|duplicates COUNT ITERATIONS SEED [STARTS.json]")
}
let method = args[4]

let loadStart = Date()
let matrix = EmbeddingMatrix(rows: rows, dimension: dim)
guard let file = fopen(args[1], "rb") else { fail("cannot open \(args[1])") }
let read = fread(matrix.row(0), MemoryLayout<Float>.stride, rows * dim, file)
fclose(file)
guard read == rows * dim else { fail("\(args[1]): read \(read) floats, expected \(rows * dim)") }
let loadSeconds = Date().timeIntervalSince(loadStart)

var result: [String: Any] = ["method": method, "rows": rows, "dim": dim, "count": count,
                             "iterations": iterations, "seed": seed, "load_seconds": loadSeconds]
let candidates = Array(0..<rows)
let clock = ContinuousClock()
do {
    switch method {
    case "fps":
        if args.count >= 9 {
            let data = try Data(contentsOf: URL(fileURLWithPath: args[8]))
            guard let starts = try JSONSerialization.jsonObject(with: data) as? [Int] else { fail("bad starts file") }
            var picks: [[Int]] = []
            var statistics = FarthestPointStatistics()
            let elapsed = try clock.measure {
                (picks, statistics) = try FarthestPointSampler().farthestPointsWithStatistics(
                    matrix: matrix, candidates: candidates, count: count, starts: starts.map { Optional($0) })
            }
            result["passes"] = statistics.passes
            result["columns"] = statistics.columns
            result["cache_hits"] = statistics.cacheHits
            result["steps_without_pass"] = statistics.stepsWithoutPass
            result["seconds"] = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            result["picks"] = picks
        } else {
            var run: SelectionRun?
            let elapsed = try clock.measure {
                run = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: candidates,
                                         request: SelectionRequest(count: count, iterations: iterations, seed: seed))
            }
            result["seconds"] = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            result["picks"] = run?.picks
            result["selection"] = run?.selection
        }
    case "kmeans":
        var run: SelectionRun?
        let elapsed = try clock.measure {
            var sampler = KMeansSampler()
            let env = ProcessInfo.processInfo.environment
            if let v = env["KM_SAMPLE"].flatMap(Int.init) { sampler.samplePerCluster = v }
            if let v = env["KM_ITER"].flatMap(Int.init) { sampler.maxIterations = v }
            if let v = env["KM_REFINE"].flatMap(Int.init) { sampler.refinementSteps = v }
            if let v = env["KM_TRIALS"].flatMap(Int.init) { sampler.seedingTrials = v }
            if let v = env["KM_SEEDSAMPLE"].flatMap(Int.init) { sampler.seedingSample = v }
            if let v = env["KM_LIST"].flatMap(Int.init) { sampler.listLength = v }
            if let v = env["KM_HOT"].flatMap(Int.init) { sampler.hotCount = v }
            if let v = env["KM_RANK"].flatMap(Int.init) { sampler.subspaceRank = v }
            if let v = env["KM_REFSAMPLE"].flatMap(Int.init) { sampler.refinementSample = v }
            if let v = env["KM_FINALRANK"].flatMap(Int.init) { sampler.finalRank = v }
            run = try MonteCarlo.run(sampler, matrix: matrix, candidates: candidates,
                                     request: SelectionRequest(count: count, iterations: iterations, seed: seed))
        }
        result["seconds"] = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        result["picks"] = run?.picks
        result["inertia"] = run?.iterationInertia
        result["mean_inertia"] = run?.inertia
        result["selection"] = run?.selection
    case "facility":
        var run: SelectionRun?
        let elapsed = try clock.measure {
            run = try MonteCarlo.run(FacilityLocationSampler(), matrix: matrix, candidates: candidates,
                                     request: SelectionRequest(count: count, iterations: iterations, seed: seed))
        }
        result["seconds"] = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        result["selection"] = run?.selection
    case "hdbscan":
        // MATRIX is a map (DIM 2, the points of curator-umap-bench layout); COUNT is min_cluster_size.
        guard dim == 2 else { fail("hdbscan clusters map points: DIM must be 2") }
        let points = (0..<rows).map { SIMD2(Double(matrix.row($0)[0]), Double(matrix.row($0)[1])) }
        var clustering: HDBSCAN.Result?
        let elapsed = clock.measure { clustering = HDBSCAN(minClusterSize: count).cluster(points) }
        result["seconds"] = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        result["labels"] = clustering?.labels.map(Int.init)
        result["clusters"] = clustering?.clusterCount
    case "coverage":
        let run = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: candidates,
                                     request: SelectionRequest(count: count, iterations: iterations, seed: seed))
        var coverage: SelectionCoverage?
        let elapsed = clock.measure {
            coverage = SelectionCoverage.measure(matrix: matrix, candidates: candidates, picks: run.selection.map { Int($0) })
        }
        result["coverage_seconds"] = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        result["coverage"] = ["mean": coverage?.mean ?? 0, "p95": coverage?.p95 ?? 0, "max": coverage?.max ?? 0]
    case "gemm":
        // Shapes of one FPS step: m new picks against every row, both layouts.
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 64 * rows)
        var timings: [String: Double] = [:]
        for m in [1, 2, 4, 8, 20, 40] {
            let picks = matrix.row(0)
            let t1 = clock.measure {
                for _ in 0..<5 {
                    BLAS.gemm(transposeB: true, m: m, n: rows, k: dim, a: picks, lda: dim, b: matrix.row(0), ldb: dim, c: out, ldc: rows)
                }
            }
            let t2 = clock.measure {
                for _ in 0..<5 {
                    BLAS.gemm(transposeB: true, m: rows, n: m, k: dim, a: matrix.row(0), lda: dim, b: picks, ldb: dim, c: out, ldc: m)
                }
            }
            timings["picks_x_rows_m\(m)"] = Double(t1.components.attoseconds) * 1e-18 / 5 + Double(t1.components.seconds) / 5
            timings["rows_x_picks_m\(m)"] = Double(t2.components.attoseconds) * 1e-18 / 5 + Double(t2.components.seconds) / 5
        }
        for block in [256, 1024, 4096] {
            for m in [1, 4, 20] {
                let picks = matrix.row(0)
                let t = clock.measure {
                    for _ in 0..<5 {
                        var start = 0
                        while start < rows {
                            let b = min(block, rows - start)
                            BLAS.gemm(transposeB: true, m: m, n: b, k: dim, a: picks, lda: dim, b: matrix.row(start), ldb: dim, c: out + start, ldc: rows)
                            start += b
                        }
                    }
                }
                timings["blocked\(block)_m\(m)"] = Double(t.components.attoseconds) * 1e-18 / 5 + Double(t.components.seconds) / 5
            }
        }
        for block in [128, 256, 512] {
            for m in [1, 4, 20] {
                let picks = UncheckedBox(matrix.row(0))
                let o = UncheckedBox(out)
                let blocks = (rows + block - 1) / block
                let t = clock.measure {
                    for _ in 0..<5 {
                        DispatchQueue.concurrentPerform(iterations: 2) { part in
                            for bi in stride(from: part, to: blocks, by: 2) {
                                let start = bi * block
                                let b = min(block, rows - start)
                                BLAS.gemm(transposeB: true, m: m, n: b, k: dim, a: picks.value, lda: dim, b: matrix.row(start), ldb: dim, c: o.value + start, ldc: rows)
                            }
                        }
                    }
                }
                timings["par\(block)_m\(m)"] = Double(t.components.attoseconds) * 1e-18 / 5 + Double(t.components.seconds) / 5
            }
        }
        let t3 = clock.measure {
            for _ in 0..<5 { BLAS.gemv(m: rows, n: dim, a: matrix.row(0), lda: dim, x: matrix.row(0), y: out) }
        }
        timings["gemv"] = Double(t3.components.attoseconds) * 1e-18 / 5 + Double(t3.components.seconds) / 5
        result["timings"] = timings
    default:
        fail("unknown method \(method)")
    }
} catch {
    fail("\(error)")
}
if let selection = result["selection"] as? [Int64] {
    result["objective"] = FacilityLocationSampler.objective(matrix: matrix, candidates: candidates,
                                                            picks: selection.map { Int($0) })
}
let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
FileHandle.standardOutput.write(json)
FileHandle.standardOutput.write(Data("\n".utf8))

/// `@unchecked Sendable`: each box is handed to one worker and read after it finished.
struct UncheckedBox<T>: @unchecked Sendable { let value: T; init(_ v: T) { value = v } }
