// The selection benchmarks of scripts/bench/selection, structure and
// clusters: the samplers on a raw float32 matrix (`RawMatrixInput`), each
// reporting one JSON line with its timings and picks.
import ArgumentParser
import CuratorCore
import Foundation

/// `curator-bench select MATRIX ROWS DIM --method fps|kmeans|facility`.
///
/// Reports "objective": the facility-location objective of the selection
/// (Σ over rows of the similarity to the nearest pick, clamped to 0...1), so
/// methods compare on one scale. With `--starts FILE` (a JSON array of row
/// numbers), fps runs one iteration per start instead of drawing starts
/// from the seed (to compare picks with the reference).
struct Select: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a sampler's Monte Carlo selection on a raw float32 matrix; report time, picks and objective.")

    enum Method: String, ExpressibleByArgument, CaseIterable { case fps, kmeans, facility }

    @OptionGroup var matrix: RawMatrixInput
    @Option var method: Method
    @Option var count: Int
    @Option var iterations = 1
    @Option var seed: UInt64 = 1
    @Option(help: "fps only: a JSON array of start rows, one iteration each.") var starts: String?
    @Option(help: "facility only: neighbours per image in the similarity graph.") var neighbors: Int?
    @Flag(help: "facility only: cover known through the graph only (not exact).") var sparseCover = false
    @Option(help: "facility only: inverted-file lists each list's rows are compared with, its own included.")
    var searchedLists: Int?
    @Option(help: "facility only: spherical Lloyd steps placing the inverted file's centres.") var centreSteps: Int?
    @Flag(help: "facility only: the K-Means sampler's centres instead of Lloyd steps.") var kmeansCentres = false
    @Option(help: "facility only: sample rows per inverted-file list the centres are placed on.") var listSample: Int?
    @Option(help: "fps only: rows a lazy step may evaluate before a pass.") var lazyLimit: Int?
    @Option(help: "fps only: runs with at most this many pending picks join a pass.") var passJoinLimit: Int?
    @Option(help: "fps only: the largest working set in bytes whose runs advance side by side (0: lockstep).")
    var sideBySideBytes: Int?
    @Flag(help: "Skip the objective (a GEMM of every row against the selection, after the clock; for profiles).")
    var noObjective = false
    @Option(help: "fps and kmeans: time the call this many times in the process and report the fastest, with every round's time and page faults (for profiles: the first round pays for what later ones find ready).")
    var rounds = 1
    @OptionGroup var tuning: KMeansTuning

    func run() throws {
        let loadStart = Date()
        let matrix = try self.matrix.read(normalized: false)
        // OpenBLAS is loaded before the clock, as the matrix is read: the
        // reference (scripts/bench/kmeans_reference.py) imports numpy, and so
        // loads its OpenBLAS, before its clock too. (The load is 4–5 ms,
        // 3 % of a 10,000-row K-Means.)
        try BLAS.require()
        var result: [String: Any] = ["method": method.rawValue, "rows": matrix.rows, "dim": matrix.dimension, "count": count,
                                     "iterations": iterations, "seed": seed, "load_seconds": Date().timeIntervalSince(loadStart)]
        let candidates = Array(0..<matrix.rows)
        let clock = ContinuousClock()
        // CPU seconds of the timed part too: on a loaded machine the wall time
        // says as much about the others' work as about this one's.
        let cpuStart = cpuSeconds()
        switch method {
        case .fps:
            var sampler = FarthestPointSampler()
            sampler.lazyLimit = lazyLimit
            if let passJoinLimit { sampler.passJoinLimit = passJoinLimit }
            if let sideBySideBytes { sampler.sideBySideBytes = sideBySideBytes }
            // Without --starts, the starts Monte Carlo draws (as the sampler
            // does), so the run is the same and its statistics are known.
            let startRows: [Int]
            if let starts {
                let data = try Data(contentsOf: URL(fileURLWithPath: starts))
                guard let starts = try JSONSerialization.jsonObject(with: data) as? [Int] else {
                    throw BenchError("\(self.starts!): not a JSON array of row numbers")
                }
                startRows = starts
            } else {
                startRows = MonteCarlo.iterationSeeds(master: seed, count: iterations).map { seed in
                    var generator = Xoshiro256StarStar(seed: seed)
                    return candidates[generator.nextInt(below: candidates.count)]
                }
            }
            var picks: [[Int]] = []
            var statistics = FarthestPointStatistics()
            let rounds = try timings(rounds, clock: clock) {
                (picks, statistics) = try sampler.farthestPointsWithStatistics(
                    matrix: matrix, candidates: candidates, count: count, starts: startRows.map { Optional($0) })
            }
            result["passes"] = statistics.passes
            result["columns"] = statistics.columns
            result["cache_hits"] = statistics.cacheHits
            result["steps_without_pass"] = statistics.stepsWithoutPass
            result["ties_settled"] = statistics.tiesSettled
            result["lazy_products"] = statistics.lazyProducts
            report(rounds, in: &result)
            result["picks"] = picks
            if self.starts == nil {
                // The selection MonteCarlo.run would report: the most voted rows.
                result["selection"] = SelectionRun(method: "fps", count: count, seed: seed, candidates: candidates.count,
                                                   iterationInertia: nil, picks: picks.map { $0.map { Int64($0) } }).selection
            }
        case .kmeans:
            var run: SelectionRun?
            let sampler = tuning.sampler
            let rounds = try timings(rounds, clock: clock) {
                run = try MonteCarlo.run(sampler, matrix: matrix, candidates: candidates, count: count,
                                         iterations: iterations, seed: seed)
            }
            report(rounds, in: &result)
            result["picks"] = run?.picks
            result["inertia"] = run?.iterationInertia
            result["mean_inertia"] = run?.inertia
            result["selection"] = run?.selection
        case .facility:
            var run: SelectionRun?
            let elapsed = try clock.measure {
                var sampler = FacilityLocationSampler()
                if let neighbors { sampler.neighbors = neighbors }
                if sparseCover { sampler.exactCover = false }
                if let searchedLists { sampler.searchedLists = searchedLists }
                if let centreSteps { sampler.centreSteps = centreSteps }
                if kmeansCentres { sampler.centreSteps = nil }
                if let listSample { sampler.samplePerList = listSample }
                run = try MonteCarlo.run(sampler, matrix: matrix, candidates: candidates, count: count,
                                         iterations: iterations, seed: seed)
            }
            result["seconds"] = elapsed.seconds
            result["selection"] = run?.selection
        }
        result["cpu_seconds"] = (cpuSeconds() - cpuStart) / Double(method == .facility ? 1 : max(1, rounds))
        if !noObjective, let selection = result["selection"] as? [Int64] {
            result["objective"] = FacilityLocationSampler.objective(matrix: matrix, candidates: candidates,
                                                                    picks: selection.map { Int($0) })
        }
        BenchOutput.emit(result)
    }
}

/// `rounds` timings of `body` (at least one), each with the minor page
/// faults it took: a process's first call pays for fresh pages and code
/// the later ones find ready.
private func timings(_ rounds: Int, clock: ContinuousClock, _ body: () throws -> Void) throws -> [(Duration, Int)] {
    try (0..<max(1, rounds)).map { _ in
        let before = minorFaults()
        let time = try clock.measure(body)
        return (time, minorFaults() - before)
    }
}

/// "seconds": the fastest of `rounds`; with more than one, every round's
/// seconds and page faults too.
private func report(_ rounds: [(Duration, Int)], in result: inout [String: Any]) {
    result["seconds"] = rounds.map(\.0).min()!.seconds
    guard rounds.count > 1 else { return }
    result["round_seconds"] = rounds.map(\.0.seconds)
    result["round_faults"] = rounds.map(\.1)
}

/// K-Means' tuning knobs, for trying settings without a rebuild (each
/// defaults to `KMeansSampler`'s own).
struct KMeansTuning: ParsableArguments {
    @Option(help: "kmeans: rows sampled per cluster.") var samplePerCluster: Int?
    @Option(help: "kmeans: Lloyd iterations at most.") var maxIterations: Int?
    @Option(help: "kmeans: refinement steps.") var refinementSteps: Int?
    @Option(help: "kmeans: seeding trials.") var seedingTrials: Int?
    @Option(help: "kmeans: rows sampled for seeding.") var seedingSample: Int?
    @Option(help: "kmeans: candidate list length.") var listLength: Int?
    @Option(help: "kmeans: hot centroids.") var hotCount: Int?
    @Option(help: "kmeans: subspace rank.") var subspaceRank: Int?
    @Option(help: "kmeans: rows sampled for refinement.") var refinementSample: Int?
    @Option(help: "kmeans: final rank.") var finalRank: Int?
    @Option(help: "kmeans: leading axes the seeding's distances use.") var seedingRank: Int?
    @Option(help: "kmeans: candidates pooled for the sampled steps.") var samplingPool: Int?
    @Option(help: "kmeans: rows the principal axes' covariance reads.") var principalSample: Int?
    @Option(help: "kmeans: rows sampled for seeding when the refinement covers every row.") var coveredSeedingSample: Int?
    @Option(help: "kmeans: sample Lloyd steps when the refinement covers every row.") var coveredSampleSteps: Int?
    @Option(help: "kmeans: sample rows per cluster when the refinement covers every row.") var coveredSamplePerCluster: Int?
    @Option(help: "kmeans: candidates per seeding row below the seeding sample.") var seedingShare: Int?
    @Flag(help: "kmeans: principal axes' covariance and seeding Gram matrix in float32 even where bfloat16 products are available.") var float32Axes = false

    var sampler: KMeansSampler {
        var sampler = KMeansSampler()
        if let v = samplePerCluster { sampler.samplePerCluster = v }
        if let v = maxIterations { sampler.maxIterations = v }
        if let v = refinementSteps { sampler.refinementSteps = v }
        if let v = seedingTrials { sampler.seedingTrials = v }
        if let v = seedingSample { sampler.seedingSample = v }
        if let v = listLength { sampler.listLength = v }
        if let v = hotCount { sampler.hotCount = v }
        if let v = subspaceRank { sampler.subspaceRank = v }
        if let v = refinementSample { sampler.refinementSample = v }
        if let v = finalRank { sampler.finalRank = v }
        if let v = seedingRank { sampler.seedingRank = v }
        if let v = samplingPool { sampler.samplingPool = v }
        if let v = principalSample { sampler.principalSample = v }
        if let v = coveredSeedingSample { sampler.coveredSeedingSample = v }
        if let v = coveredSampleSteps { sampler.coveredSampleSteps = v }
        if let v = coveredSamplePerCluster { sampler.coveredSamplePerCluster = v }
        if let v = seedingShare { sampler.seedingShare = v }
        if float32Axes { sampler.roundedAxes = false }
        return sampler
    }
}

/// `curator-bench coverage MATRIX ROWS DIM --count N`: runs FPS and times
/// r:coverage()'s kernel on its selection three times, and beside it the
/// floor: the same product as one OpenBLAS call on every core into an
/// N × picks matrix, with no reduction at all (three times too).
struct Coverage: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time r:coverage()'s kernel on an FPS selection, and its GEMM alone.")

    @OptionGroup var matrix: RawMatrixInput
    @Option var count: Int
    @Option var iterations = 1
    @Option var seed: UInt64 = 1

    func run() throws {
        let matrix = try self.matrix.read(normalized: false)
        let rows = matrix.rows, dim = matrix.dimension
        let candidates = Array(0..<rows)
        let run = try MonteCarlo.run(FarthestPointSampler(), matrix: matrix, candidates: candidates,
                                     count: count, iterations: iterations, seed: seed)
        let picks = run.selection.map { Int($0) }
        let clock = ContinuousClock()
        var coverage: SelectionCoverage?
        // Wall and CPU seconds of each call: on a loaded machine the wall time says more about the others' work.
        var cpu: [Double] = []
        let timings = (0..<3).map { _ in
            let before = cpuSeconds()
            defer { cpu.append(cpuSeconds() - before) }
            return clock.measure { coverage = SelectionCoverage.measure(matrix: matrix, candidates: candidates, picks: picks) }.seconds
        }
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: picks.count * dim)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: rows * picks.count)
        defer { packed.deallocate(); products.deallocate() }
        for (j, row) in picks.enumerated() { (packed + j * dim).update(from: matrix.row(row), count: dim) }
        var floorCPU: [Double] = []
        let floor = (0..<3).map { _ in
            let before = cpuSeconds()
            defer { floorCPU.append(cpuSeconds() - before) }
            return clock.measure {
                BLAS.gemm(transposeB: true, m: rows, n: picks.count, k: dim, a: matrix.row(0), lda: dim, b: packed, ldb: dim,
                          c: products, ldc: picks.count)
            }.seconds
        }
        BenchOutput.emit(["rows": rows, "dim": dim, "count": count,
                          "coverage_seconds": timings[0], "coverage_timings": timings, "gemm_timings": floor,
                          "coverage_cpu": cpu, "gemm_cpu": floorCPU,
                          "coverage": ["mean": coverage?.mean ?? 0, "p95": coverage?.p95 ?? 0, "max": coverage?.max ?? 0]])
    }
}

/// `curator-bench neighbors MATRIX ROWS DIM --k 32`: the sparse
/// neighbour graph facility location and uniqueness use (`InvertedFile.neighborGraph`),
/// timed, against the exact graph: recall, and the mean similarity of the
/// neighbours found over that of the true ones.
struct NeighborsBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "neighbors",
                                                    abstract: "Time the inverted-file neighbour search and score it against the exact graph.")

    @OptionGroup var matrix: RawMatrixInput
    @Option var k = 32
    @Option var probes = 3
    @Option var searchedLists = 6
    @Option var lists: Int?
    @Option var samplePerList = 8
    @Option var seed: UInt64 = 0
    @Flag(help: "Skip the exact graph (no recall).") var noExact = false

    func run() throws {
        let matrix = try self.matrix.read(normalized: false)
        let clock = ContinuousClock()
        var graph: NeighborGraph?
        let seconds = try clock.measure {
            graph = try InvertedFile.neighborGraph(matrix, k: k, seed: seed, probes: probes, searchedLists: searchedLists,
                                                   lists: lists, samplePerList: samplePerList)
        }.seconds
        var result: [String: Any] = ["rows": matrix.rows, "dim": matrix.dimension, "k": k, "probes": probes, "seconds": seconds]
        if !noExact, let graph {
            var exact: NeighborGraph?
            result["exact_seconds"] = clock.measure { exact = NeighborGraph.exact(matrix, k: k) }.seconds
            result["recall"] = graph.recall(against: exact!)
            let found = graph.distances.reduce(0.0) { $0 + Double(1 - $1) }
            let truth = exact!.distances.reduce(0.0) { $0 + Double(1 - $1) }
            result["similarity_ratio"] = found / truth
        }
        BenchOutput.emit(result)
    }
}

/// `curator-bench hdbscan MAP ROWS --min-cluster-size N`: clusters a map's
/// points (ROWS × 2 float32, as `umap-layout` writes them); reports the
/// labels (−1 for noise).
struct HDBSCANBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hdbscan", abstract: "Cluster a map's points with HDBSCAN.")

    @Argument(help: "The map's points: ROWS × 2 float32.") var path: String
    @Argument var rows: Int
    @Option var minClusterSize: Int

    func run() throws {
        let map = try RawMatrixInput.read(path, rows: rows, dimension: 2, normalized: false)
        let points = (0..<rows).map { SIMD2(Double(map.row($0)[0]), Double(map.row($0)[1])) }
        var clustering: HDBSCAN.Result?
        let elapsed = ContinuousClock().measure { clustering = HDBSCAN(minClusterSize: minClusterSize).cluster(points) }
        BenchOutput.emit(["rows": rows, "min_cluster_size": minClusterSize, "seconds": elapsed.seconds,
                          "labels": clustering?.labels.map(Int.init) ?? [], "clusters": clustering?.clusterCount ?? 0])
    }
}

/// `curator-bench gemm MATRIX ROWS DIM`: the GEMM shapes of one FPS step
/// (m new picks against every row), in both layouts, blocked and in
/// parallel, and the GEMV; seconds per call.
struct GEMMBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gemm", abstract: "Time the GEMM shapes of an FPS step.")

    @OptionGroup var matrix: RawMatrixInput

    func run() throws {
        let matrix = try self.matrix.read(normalized: false)
        let rows = matrix.rows, dim = matrix.dimension
        let clock = ContinuousClock()
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 64 * rows)
        defer { out.deallocate() }
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
            timings["picks_x_rows_m\(m)"] = t1.seconds / 5
            timings["rows_x_picks_m\(m)"] = t2.seconds / 5
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
                timings["blocked\(block)_m\(m)"] = t.seconds / 5
            }
        }
        for block in [128, 256, 512] {
            for m in [1, 4, 20] {
                let picks = UncheckedSendable(matrix.row(0))
                let o = UncheckedSendable(out)
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
                timings["par\(block)_m\(m)"] = t.seconds / 5
            }
        }
        let t3 = clock.measure {
            for _ in 0..<5 { BLAS.gemv(m: rows, n: dim, a: matrix.row(0), lda: dim, x: matrix.row(0), y: out) }
        }
        timings["gemv"] = t3.seconds / 5
        BenchOutput.emit(["rows": rows, "dim": dim, "timings": timings])
    }
}
