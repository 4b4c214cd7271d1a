import Foundation

/// K-Means (representative images), SPEC §4: `count` clusters on the
/// candidates; from each cluster the member nearest its centroid. Always
/// exactly `count` distinct images: clusters left empty are re-seeded with the
/// candidate farthest from its centroid, never skipped.
///
/// Each iteration clusters a random sample of the candidates (k-means++
/// seeding with `seedingTrials` candidates per centre as sklearn does, then
/// Lloyd steps to convergence), then assigns every candidate to its nearest
/// centroid in one pass shared by all iterations: a GEMM of each block of
/// rows against the centroids of every iteration at once. Distances are
/// GEMMs: with ‖x‖² known, the nearest centroid maximises `x·c − ½‖c‖²`.
/// `inertia` is sklearn's objective on all candidates: the sum of squared
/// Euclidean distances to the nearest centroid.
public struct KMeansSampler: Sampler, Sendable {
    public var method: String { "kmeans" }
    public var measuresInertia: Bool { true }

    /// Sample rows per cluster the Lloyd steps run on (all candidates when fewer).
    public var samplePerCluster: Int
    /// The smallest sample, whatever the count.
    public var minimumSample: Int
    /// Rows the k-means++ seeding looks at; its Gram matrix takes this many
    /// squared times four bytes (64 MiB for 4096) while the seeding runs.
    public var seedingSample: Int
    /// Candidates tried per new centre in k-means++ (nil: sklearn's 2 + ln k).
    public var seedingTrials: Int?
    /// Lloyd steps at most.
    public var maxIterations: Int
    /// Stop when a Lloyd step improves the sample inertia by less than this fraction.
    public var tolerance: Double
    /// Lloyd steps on all candidates after the sample's (each one blocked pass
    /// shared by all iterations), before the final assignment.
    public var refinementSteps: Int

    /// Creates the sampler.
    public init(samplePerCluster: Int = 40, minimumSample: Int = 4096, seedingSample: Int = 4096,
                seedingTrials: Int? = nil, maxIterations: Int = 10, tolerance: Double = 1e-4,
                refinementSteps: Int = 2) {
        self.samplePerCluster = samplePerCluster
        self.minimumSample = minimumSample
        self.seedingSample = seedingSample
        self.seedingTrials = seedingTrials
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.refinementSteps = refinementSteps
    }

    public func sample(_ task: SamplingTask, progress: SelectionProgress) throws -> SamplerOutput {
        guard task.include.isEmpty else {
            throw SelectionError.invalidParameter(name: "include", reason: "is not supported by kmeans (use fps to extend a set)")
        }
        let results = try cluster(matrix: task.matrix, candidates: task.candidates, k: task.count,
                                  seeds: task.iterationSeeds, progress: progress)
        return SamplerOutput(picks: results.map(\.representatives), inertia: results.map(\.inertia))
    }

    /// One iteration's clustering.
    public struct Clustering: Sendable, Equatable {
        /// Per cluster, the album row nearest its centroid (all distinct).
        public var representatives: [Int]
        /// Sum over candidates of the squared distance to the nearest centroid.
        public var inertia: Double
        /// Lloyd steps run on the sample.
        public var lloydSteps: Int
        /// Clusters that were empty on all candidates and were re-seeded.
        public var reseeded: Int
    }

    /// Clusters `candidates` (ascending, distinct, more than `k`) into `k`
    /// clusters once per seed.
    public func cluster(matrix: EmbeddingMatrix, candidates: [Int], k: Int, seeds: [UInt64],
                        progress: SelectionProgress? = nil) throws -> [Clustering] {
        let rows = CandidateRows(matrix: matrix, candidates: candidates)
        let n = candidates.count
        let d = matrix.dimension
        guard k > 0, k < n else {
            return seeds.map { _ in Clustering(representatives: Array(candidates.prefix(max(0, k))), inertia: 0, lloydSteps: 0, reseeded: 0) }
        }
        // Iterations share the final pass in groups whose centroids and per-row state stay small.
        let perRunBytes = k * d * 4 + rows.count * 8
        let group = max(1, min(seeds.count, (96 << 20) / max(1, perRunBytes)))
        var results: [Clustering] = []
        var first = 0
        while first < seeds.count {
            let last = min(seeds.count, first + group)
            var centroids: [[Float]] = []
            var steps: [Int] = []
            var generators = seeds[first..<last].map { Xoshiro256StarStar(seed: $0) }
            try progress?.check()
            let seeded = seedPlusPlus(rows: rows, k: k, generators: &generators, sampleSeed: seeds[first])
            for offset in 0..<(last - first) {
                try progress?.check()
                let (c, s) = lloyd(rows: rows, k: k, centroids: seeded[offset], random: &generators[offset])
                centroids.append(c)
                steps.append(s)
                progress?.report(fraction: (Double(first + offset + 1) * 0.5) / Double(seeds.count))
            }
            let assigned = try assignAll(rows: rows, centroids: centroids, k: k) { fraction in
                try progress?.check()
                progress?.report(fraction: (Double(first) + Double(last - first) * (0.5 + 0.5 * fraction)) / Double(seeds.count))
            }
            for (offset, var result) in assigned.enumerated() {
                result.lloydSteps = steps[offset]
                results.append(result)
            }
            first = last
        }
        return results
    }

    // MARK: - Sample clustering

    /// Lloyd steps from `centroids` on a random sample; returns the k × d centroids and the steps run.
    func lloyd(rows: CandidateRows, k: Int, centroids initial: [Float], random: inout Xoshiro256StarStar) -> ([Float], Int) {
        let n = rows.candidates.count
        let d = rows.dimension
        let s = min(n, max(minimumSample, samplePerCluster * k))
        // A uniform sample without replacement, in random order (partial Fisher–Yates).
        var order = Array(0..<n)
        for i in 0..<s {
            let j = i + random.nextInt(below: n - i)
            order.swapAt(i, j)
        }
        let sample = UnsafeMutablePointer<Float>.allocate(capacity: s * d)
        defer { sample.deallocate() }
        for i in 0..<s {
            (sample + i * d).update(from: rows.matrix.row(rows.candidates[order[i]]), count: d)
        }
        var norms = [Float](repeating: 0, count: s)
        for i in 0..<s { norms[i] = BLAS.dot(d, sample + i * d, sample + i * d) }

        var centroids = initial
        // Lloyd steps.
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: s * k)
        defer { scores.deallocate() }
        var labels = [Int](repeating: 0, count: s)
        var distances = [Float](repeating: 0, count: s)
        var previous = Double.infinity
        var steps = 0
        var centroidNorms = [Float](repeating: 0, count: k)
        while steps < maxIterations {
            steps += 1
            centroids.withUnsafeBufferPointer { c in
                for j in 0..<k { centroidNorms[j] = BLAS.dot(d, c.baseAddress! + j * d, c.baseAddress! + j * d) }
                BLAS.gemm(transposeB: true, m: s, n: k, k: d, a: sample, lda: d, b: c.baseAddress!, ldb: d,
                          c: scores, ldc: k)
            }
            var inertia = 0.0
            for i in 0..<s {
                let row = scores + i * k
                var best = -Float.infinity, label = 0
                for j in 0..<k {
                    let v = row[j] - 0.5 * centroidNorms[j]
                    if v > best { best = v; label = j }
                }
                labels[i] = label
                distances[i] = max(0, norms[i] - 2 * best)
                inertia += Double(distances[i])
            }
            // New centroids: the means of their members.
            var counts = [Int](repeating: 0, count: k)
            centroids.withUnsafeMutableBufferPointer { c in
                let base = c.baseAddress!
                base.update(repeating: 0, count: k * d)
                for i in 0..<s {
                    counts[labels[i]] += 1
                    BLAS.axpy(d, alpha: 1, sample + i * d, base + labels[i] * d)
                }
                // Empty clusters take the sample rows farthest from their centroids.
                let empty = (0..<k).filter { counts[$0] == 0 }
                if !empty.isEmpty {
                    let farthest = (0..<s).sorted { distances[$0] != distances[$1] ? distances[$0] > distances[$1] : $0 < $1 }
                    var next = 0
                    for j in empty {
                        while next < s && counts[labels[farthest[next]]] <= 1 { next += 1 }
                        guard next < s else { break }
                        let i = farthest[next]
                        next += 1
                        BLAS.axpy(d, alpha: -1, sample + i * d, base + labels[i] * d)
                        counts[labels[i]] -= 1
                        labels[i] = j
                        (base + j * d).update(from: sample + i * d, count: d)
                        counts[j] = 1
                    }
                }
                for j in 0..<k where counts[j] > 1 {
                    BLAS.scale(d, alpha: 1 / Float(counts[j]), base + j * d)
                }
            }
            if previous - inertia <= tolerance * inertia { break }
            previous = inertia
        }
        return (centroids, steps)
    }

    /// Greedy k-means++ for every run of a group at once, on one shared random
    /// sample of `seedingSample` rows: each run's first centre is uniform, each
    /// next one the best (lowest potential) of `trials` rows drawn with
    /// probability proportional to their squared distance to the run's nearest
    /// centre. Centres are sample rows, so every distance the seeding needs is
    /// in the sample's Gram matrix: one GEMM shared by every run replaces a
    /// product of the sample with the trials of each centre of each run.
    func seedPlusPlus(rows: CandidateRows, k: Int, generators: inout [Xoshiro256StarStar],
                      sampleSeed: UInt64) -> [[Float]] {
        let runs = generators.count
        let n = rows.candidates.count
        let d = rows.dimension
        let s = min(n, max(seedingSample, k))
        let trials = max(1, seedingTrials ?? (2 + Int(log(Double(k)))))
        var shuffle = Xoshiro256StarStar(seed: sampleSeed ^ 0x5EED_5A3B_1E00_0001)
        var order = Array(0..<n)
        for i in 0..<s { order.swapAt(i, i + shuffle.nextInt(below: n - i)) }
        let sample = UnsafeMutablePointer<Float>.allocate(capacity: s * d)
        let gram = UnsafeMutablePointer<Float>.allocate(capacity: s * s)
        defer { sample.deallocate(); gram.deallocate() }
        for i in 0..<s { (sample + i * d).update(from: rows.matrix.row(rows.candidates[order[i]]), count: d) }
        BLAS.gemm(transposeB: true, m: s, n: s, k: d, a: sample, lda: d, b: sample, ldb: d, c: gram, ldc: s)
        let norms = (0..<s).map { gram[$0 * s + $0] }
        // Row p of the (symmetric) Gram matrix gives every squared distance to sample row p.
        let distances = UncheckedSendable(gram)
        let closestStorage = UnsafeMutablePointer<Float>.allocate(capacity: runs * s)
        defer { closestStorage.deallocate() }
        closestStorage.initialize(repeating: .infinity, count: runs * s)
        let closest = UncheckedSendable(closestStorage)
        var chosen = [[Int]](repeating: [], count: runs)
        let drawn = UncheckedSendable(UnsafeMutableBufferPointer<Int>.allocate(capacity: runs * trials))
        let picked = UncheckedSendable(UnsafeMutableBufferPointer<Int>.allocate(capacity: runs))
        defer { drawn.value.deallocate(); picked.value.deallocate() }
        for center in 0..<k {
            var columns = trials
            if center == 0 {
                columns = 1
                for r in 0..<runs { drawn.value[r * trials] = generators[r].nextInt(below: s) }
            } else {
                for r in 0..<runs {
                    let weights = UnsafeBufferPointer(start: closestStorage + r * s, count: s)
                    for (t, i) in drawTrials(weights, count: trials, random: &generators[r]).enumerated() {
                        drawn.value[r * trials + t] = i
                    }
                }
            }
            parallelFor(runs) { r in
                let c = closest.value + r * s
                var bestTrial = 0
                if columns > 1 {
                    var bestPotential = Double.infinity
                    for t in 0..<columns {
                        let p = drawn.value[r * trials + t]
                        let g = distances.value + p * s
                        var potential = 0.0
                        for i in 0..<s {
                            potential += Double(min(c[i], max(0, norms[i] + norms[p] - 2 * g[i])))
                        }
                        if potential < bestPotential { bestPotential = potential; bestTrial = t }
                    }
                }
                let p = drawn.value[r * trials + bestTrial]
                let g = distances.value + p * s
                for i in 0..<s { c[i] = min(c[i], max(0, norms[i] + norms[p] - 2 * g[i])) }
                picked.value[r] = p
            }
            for r in 0..<runs { chosen[r].append(picked.value[r]) }
        }
        return chosen.map { picks in
            var centers = [Float](repeating: 0, count: k * d)
            centers.withUnsafeMutableBufferPointer { c in
                for (j, p) in picks.enumerated() { (c.baseAddress! + j * d).update(from: sample + p * d, count: d) }
            }
            return centers
        }
    }

    /// `count` sample rows drawn with probability proportional to `weights`
    /// (uniformly when all are zero: every row sits on a centre).
    private func drawTrials(_ weights: UnsafeBufferPointer<Float>, count: Int, random: inout Xoshiro256StarStar) -> [Int] {
        var cumulative = [Double](repeating: 0, count: weights.count)
        var total = 0.0
        for i in 0..<weights.count { total += Double(weights[i]); cumulative[i] = total }
        return (0..<count).map { _ in
            guard total > 0 else { return random.nextInt(below: weights.count) }
            let target = random.nextDouble() * total
            var low = 0, high = weights.count - 1
            while low < high {
                let mid = (low + high) / 2
                if cumulative[mid] <= target { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }

    // MARK: - Assignment of every candidate

    /// Assigns every candidate to its nearest centroid for each set of
    /// centroids in blocked passes shared by every set: a first pass whose
    /// member means replace the sample centroids (a sample of a few dozen rows
    /// per cluster leaves noisy means), then the final assignment, from which
    /// the representatives are picked and empty clusters re-seeded.
    func assignAll(rows: CandidateRows, centroids: [[Float]], k: Int,
                   onChunk: (Double) throws -> Void) throws -> [Clustering] {
        let runs = centroids.count
        let d = rows.dimension
        let wn = rows.count
        var stacked = [Float](); stacked.reserveCapacity(runs * k * d)
        for c in centroids { stacked.append(contentsOf: c) }
        var isCandidate = [Bool](repeating: true, count: wn)
        if rows.isAlbumMatrix && rows.candidates.count < wn {
            isCandidate = [Bool](repeating: false, count: wn)
            for row in rows.candidates { isCandidate[row] = true }
        }
        let labels = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, runs * wn))
        let squared = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, runs * wn))
        let rowNorms = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, wn))
        defer { labels.deallocate(); squared.deallocate(); rowNorms.deallocate() }
        let state = AssignmentState(rows: rows, isCandidate: isCandidate, runs: runs, k: k,
                                    labels: labels.baseAddress!, squared: squared.baseAddress!,
                                    rowNorms: rowNorms.baseAddress!)
        try BLAS.withSingleThreadedCalls {
            let passes = Double(refinementSteps + 1)
            for step in 0..<refinementSteps {
                let sums = try state.pass(centroids: stacked, accumulate: true) { try onChunk((Double(step) + $0) / passes) }
                // Member means; a cluster without members keeps its centroid.
                for c in 0..<(runs * k) where sums.counts[c] > 0 {
                    let scale = 1 / Float(sums.counts[c])
                    for t in 0..<d { stacked[c * d + t] = sums.values[c * d + t] * scale }
                }
            }
            _ = try state.pass(centroids: stacked, accumulate: false) { try onChunk((passes - 1 + $0) / passes) }
        }
        return (0..<runs).map { r in
            finish(rows: rows, isCandidate: isCandidate, labels: labels.baseAddress! + r * wn,
                   squared: squared.baseAddress! + r * wn, rowNorms: rowNorms.baseAddress!, k: k)
        }
    }

    /// Representatives of one iteration from its assignment; clusters no
    /// candidate is nearest to are re-seeded with the candidate farthest from
    /// its centroid (which then takes the rows nearer to it), so the result
    /// always has `k` distinct rows.
    func finish(rows: CandidateRows, isCandidate: [Bool], labels: UnsafeMutablePointer<Int32>,
                squared: UnsafeMutablePointer<Float>, rowNorms: UnsafeMutablePointer<Float>, k: Int) -> Clustering {
        let wn = rows.count
        let d = rows.dimension
        var reseeded = 0
        var representative = [Int](repeating: -1, count: k)
        var usedSeeds = Set<Int>()
        let dots = UnsafeMutablePointer<Float>.allocate(capacity: wn)
        defer { dots.deallocate() }
        for _ in 0...k {
            representative = [Int](repeating: -1, count: k)
            var bestDistance = [Float](repeating: .infinity, count: k)
            for i in 0..<wn where isCandidate[i] {
                let j = Int(labels[i])
                if squared[i] < bestDistance[j] { bestDistance[j] = squared[i]; representative[j] = i }
            }
            let empty = (0..<k).filter { representative[$0] < 0 }
            if empty.isEmpty { break }
            // Farthest first; a row on its centroid (distance 0) cannot found a new cluster.
            let farthest = (0..<wn).filter { isCandidate[$0] && squared[$0] > 0 && !usedSeeds.contains($0) }
                .sorted { squared[$0] != squared[$1] ? squared[$0] > squared[$1] : $0 < $1 }
            guard !farthest.isEmpty else { break }
            for (j, seed) in zip(empty, farthest) {
                usedSeeds.insert(seed)
                reseeded += 1
                let seedNorm = rowNorms[seed]
                BLAS.gemv(m: wn, n: d, a: rows.base, lda: d, x: rows.base + seed * d, y: dots)
                for i in 0..<wn where isCandidate[i] {
                    let distance = max(0, rowNorms[i] + seedNorm - 2 * dots[i])
                    if distance < squared[i] || i == seed {
                        squared[i] = i == seed ? 0 : distance
                        labels[i] = Int32(j)
                    }
                }
            }
        }
        // Degenerate inputs (fewer distinct vectors than clusters): fill with the farthest unused rows.
        var taken = Set(representative.filter { $0 >= 0 })
        if taken.count < k {
            let spare = (0..<wn).filter { isCandidate[$0] && !taken.contains($0) }
                .sorted { squared[$0] != squared[$1] ? squared[$0] > squared[$1] : $0 < $1 }
            var next = 0
            for j in 0..<k where representative[j] < 0 && next < spare.count {
                representative[j] = spare[next]
                taken.insert(spare[next])
                next += 1
            }
        }
        var inertia = 0.0
        for i in 0..<wn where isCandidate[i] { inertia += Double(squared[i]) }
        return Clustering(representatives: representative.filter { $0 >= 0 }.map(rows.albumRow),
                          inertia: inertia, lloydSteps: 0, reseeded: reseeded)
    }
}

/// The per-row results of assigning every candidate to the nearest centroid
/// of each iteration, and the blocked pass computing them.
final class AssignmentState {
    let rows: CandidateRows
    let isCandidate: [Bool]
    let runs: Int
    let k: Int
    /// Per run, per working row: the nearest centroid, and the squared distance to it.
    let labels: UnsafeMutablePointer<Int32>
    let squared: UnsafeMutablePointer<Float>
    /// Per working row: its squared length.
    let rowNorms: UnsafeMutablePointer<Float>
    let blockRows = 256

    init(rows: CandidateRows, isCandidate: [Bool], runs: Int, k: Int, labels: UnsafeMutablePointer<Int32>,
         squared: UnsafeMutablePointer<Float>, rowNorms: UnsafeMutablePointer<Float>) {
        self.rows = rows
        self.isCandidate = isCandidate
        self.runs = runs
        self.k = k
        self.labels = labels
        self.squared = squared
        self.rowNorms = rowNorms
    }

    /// Member sums and counts per centroid (all runs' centroids in a row).
    struct Sums {
        var values: [Float]
        var counts: [Int]
    }

    /// Assigns every working row for every run's centroids (`runs * k` rows
    /// of `centroids`); with `accumulate`, also sums each centroid's members.
    func pass(centroids: [Float], accumulate: Bool, onChunk: (Double) throws -> Void) throws -> Sums {
        let d = rows.dimension
        let wn = rows.count
        let width = runs * k
        var halfNorms = [Float](repeating: 0, count: width)
        centroids.withUnsafeBufferPointer { c in
            for j in 0..<width { halfNorms[j] = 0.5 * BLAS.dot(d, c.baseAddress! + j * d, c.baseAddress! + j * d) }
        }
        let threads = max(1, min(activeCoreCount, wn / blockRows))
        let partials = (0..<threads).map { _ in
            accumulate ? Sums(values: [Float](repeating: 0, count: width * d), counts: [Int](repeating: 0, count: width))
                       : Sums(values: [], counts: [])
        }
        let boxes = partials.map { SumsBox($0) }
        let chunkRows = blockRows * threads * 16
        try centroids.withUnsafeBufferPointer { cb in
            let c = cb.baseAddress!
            var chunkStart = 0
            while chunkStart < wn {
                let chunkEnd = min(wn, chunkStart + chunkRows)
                let blocks = (chunkEnd - chunkStart + blockRows - 1) / blockRows
                parallelFor(threads) { t in
                    let box = boxes[t]
                    let scores = UnsafeMutablePointer<Float>.allocate(capacity: self.blockRows * width)
                    defer { scores.deallocate() }
                    for block in stride(from: t, to: blocks, by: threads) {
                        let start = chunkStart + block * self.blockRows
                        let b = min(self.blockRows, chunkEnd - start)
                        let x = self.rows.base + start * d
                        BLAS.gemm(transposeB: true, m: b, n: width, k: d, a: x, lda: d, b: c, ldb: d,
                                  c: scores, ldc: width)
                        for i in 0..<b where self.isCandidate[start + i] {
                            let norm = BLAS.dot(d, x + i * d, x + i * d)
                            self.rowNorms[start + i] = norm
                            let row = scores + i * width
                            for j in 0..<width { row[j] -= halfNorms[j] }
                            for r in 0..<self.runs {
                                let segment = row + r * self.k
                                let best = VectorKernels.maximum(segment, count: self.k)
                                let label = VectorKernels.firstIndex(of: best, in: segment, count: self.k) ?? 0
                                self.labels[r * wn + start + i] = Int32(label)
                                self.squared[r * wn + start + i] = max(0, norm - 2 * best)
                                if accumulate {
                                    let centroid = r * self.k + label
                                    box.sums.counts[centroid] += 1
                                    box.sums.values.withUnsafeMutableBufferPointer { v in
                                        BLAS.axpy(d, alpha: 1, x + i * d, v.baseAddress! + centroid * d)
                                    }
                                }
                            }
                        }
                    }
                }
                chunkStart = chunkEnd
                try onChunk(Double(chunkStart) / Double(wn))
            }
        }
        guard accumulate else { return Sums(values: [], counts: []) }
        var total = boxes[0].sums
        for box in boxes.dropFirst() {
            for j in 0..<width { total.counts[j] += box.sums.counts[j] }
            total.values.withUnsafeMutableBufferPointer { v in
                box.sums.values.withUnsafeBufferPointer { p in
                    BLAS.axpy(width * d, alpha: 1, p.baseAddress!, v.baseAddress!)
                }
            }
        }
        return total
    }

    /// One thread's running sums (a class so the parallel closure can mutate it).
    final class SumsBox {
        var sums: Sums
        init(_ sums: Sums) { self.sums = sums }
    }
}
