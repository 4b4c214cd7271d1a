import Foundation

/// K-Means (representative images) (README: Selection): `count` clusters on the
/// candidates; from each cluster the member nearest its centroid. Always
/// exactly `count` distinct images: clusters left empty are re-seeded with the
/// candidate farthest from its centroid, never skipped.
///
/// Long vectors (CLIP's 512 or 768) are clustered in their principal
/// subspace: the candidates are projected once onto the `subspaceRank` axes
/// of largest variance (`PrincipalSubspace`), where distances cost a sixth
/// and still order the centroids almost as the full ones do. The iterations
/// of a group then share every step:
/// 1. Greedy k-means++ (`seedingTrials` candidates per centre, as sklearn
///    does) on one random sample, whose Gram matrix (one GEMM) holds every
///    distance the seeding needs.
/// 2. A few Lloyd steps per iteration on a sample of its own, the
///    iterations spread over the cores: they make the big early moves.
/// 3. Lloyd steps on a larger shared sample (`refinementSample`): a first
///    pass that is one GEMM per block of rows against the centroids of every
///    iteration, then passes that compute exact distances only where bounds
///    (see `AssignmentState`) cannot rule a change out. With ‖x‖² known, the
///    nearest centroid maximises `x·c − ½‖c‖²`.
/// 4. One more Lloyd step on every candidate, back in the full vectors
///    (`FinalAssignment`): the two nearest centroids of each row on the
///    leading `finalRank` axes, centroids moved to the full means of their
///    members, and each row given the nearer of its two by exact distance.
///
/// `inertia` is sklearn's objective on all candidates: the sum of the
/// squared distances to the final centroids, each exact for the centroid a
/// row was given. On the benchmark that is not the true nearest for 0.65 %
/// of rows and iterations, which adds 0.09 % to the inertia: a missed
/// nearest only ever adds, so the figure never flatters a run.
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
    /// Lloyd steps on the sample at most (they make the big early moves cheaply;
    /// the steps on all candidates refine).
    public var maxIterations: Int
    /// Stop when a Lloyd step improves the sample inertia by less than this fraction.
    public var tolerance: Double
    /// Lloyd steps on the refinement sample after the per-iteration
    /// sample's: mean updates, each followed by a blocked pass shared by all
    /// iterations (fewer when no label changes). The pass before the first
    /// update computes every distance.
    public var refinementSteps: Int
    /// Nearest centroids remembered per refinement row and iteration between
    /// the bounded steps: a step then computes only these distances for rows
    /// it cannot move elsewhere.
    public var listLength: Int = 8
    /// Centroids per iteration whose distances to every refinement row a
    /// step after the first recomputes (the ones that moved most; nil: a tenth).
    public var hotCount: Int? = nil
    /// Candidates the bounded Lloyd steps run on (nil: 100 per cluster, at
    /// least 20,480; all candidates when that is three quarters of them or
    /// more). The final step covers every candidate.
    public var refinementSample: Int? = nil
    /// Principal axes the clustering runs on before it returns to the full
    /// vectors (nil: automatic — none for vectors of 256 or fewer
    /// dimensions or fewer than 2,048 candidates, else a sixth of the
    /// dimensions, at least 128, rounded up to 16; a rank at or above the
    /// dimension also means none).
    public var subspaceRank: Int? = nil
    /// Leading principal axes the final pass over every candidate ranks
    /// centroids on (nil: half the subspace rank, at least 64; unused
    /// without a subspace).
    public var finalRank: Int? = nil

    /// Creates the sampler.
    public init(samplePerCluster: Int = 40, minimumSample: Int = 4096, seedingSample: Int = 4096,
                seedingTrials: Int? = nil, maxIterations: Int = 5, tolerance: Double = 1e-4,
                refinementSteps: Int = 4) {
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
        /// Bounded Lloyd steps run on the refinement sample (mean updates
        /// followed by a pass; fewer than `refinementSteps` when no label changed).
        public var refinementSteps: Int = 0
        /// Clusters that were empty on all candidates and were re-seeded.
        public var reseeded: Int
        /// The principal axes the clustering ran on (nil: the full vectors).
        public var subspaceRank: Int? = nil
    }

    /// The rank `subspaceRank` asks for with `rows` candidates of `dimension`
    /// long vectors, or nil for the full vectors.
    func effectiveSubspaceRank(rows: Int, dimension d: Int) -> Int? {
        if let rank = subspaceRank { return rank > 0 && rank < d ? rank : nil }
        guard d > 256, rows >= 2048 else { return nil }
        let rank = max(128, (d / 6 + 15) / 16 * 16)
        return rank < d ? rank : nil
    }

    /// The principal subspace of the candidates, from an evenly spaced
    /// sample of them (nil when the full vectors are to be used).
    func subspace(of rows: CandidateRows) -> PrincipalSubspace? {
        let n = rows.candidates.count
        guard let rank = effectiveSubspaceRank(rows: n, dimension: rows.dimension) else { return nil }
        let size = min(n, max(seedingSample, 8 * rank))
        let sample = (0..<size).map { rows.candidateRow($0 * n / size) }
        return PrincipalSubspace(sample: sample, dimension: rows.dimension, rank: rank)
    }

    /// The candidates the bounded Lloyd steps run on: a uniform random
    /// sample of `refinementSample` (automatic: 100 per cluster, at least
    /// 20,480), or all of them when that is most.
    func refinementSample(of rows: CandidateRows, k: Int, seed: UInt64) -> CandidateRows {
        let n = rows.candidates.count
        let size = refinementSample ?? max(20_480, 100 * k)
        guard size < n * 3 / 4 else { return rows }
        var random = Xoshiro256StarStar(seed: seed ^ 0x5A3B_1E00_0002)
        return CandidateRows(sampling: rows, indices: random.sample(size, from: n).sorted())
    }

    /// Clusters `candidates` (ascending, distinct, more than `k`) into `k`
    /// clusters once per seed.
    public func cluster(matrix: EmbeddingMatrix, candidates: [Int], k: Int, seeds: [UInt64],
                        progress: SelectionProgress? = nil) throws -> [Clustering] {
        let full = CandidateRows(matrix: matrix, candidates: candidates)
        let n = candidates.count
        guard k > 0, k < n else {
            return seeds.map { _ in Clustering(representatives: Array(candidates.prefix(max(0, k))), inertia: 0, lloydSteps: 0, reseeded: 0) }
        }
        try progress?.check()
        // Every BLAS call from here on is single-threaded, spread over the
        // cores by this code (see `BLAS.gemmOnCores`).
        let subspace = BLAS.withSingleThreadedCalls { self.subspace(of: full) }
        // The rows seeding, sample steps and passes work on.
        let rows = subspace.map { CandidateRows(projecting: full, onto: $0) } ?? full
        let d = rows.dimension
        // The rows the bounded Lloyd steps run on.
        let refinementRows = refinementSample(of: rows, k: k, seed: seeds.first ?? 0)
        // Iterations share the passes in groups of equal size whose state stays
        // under 96 MiB: per run about seven copies of its centroids (seeds,
        // centroids, double sums, each thread's changes) and per refinement
        // row its label, squared distance, two bounds and list; per candidate
        // its final label, alternative and distance, and the full centroids.
        let perRunBytes = 7 * k * d * 4 + refinementRows.count * (16 + 4 * min(listLength, k))
            + rows.count * 12 + 3 * k * full.dimension * 4
        let largestGroup = max(1, min(seeds.count, (96 << 20) / max(1, perRunBytes)))
        let groups = (seeds.count + largestGroup - 1) / largestGroup
        let group = (seeds.count + groups - 1) / max(1, groups)
        var results: [Clustering] = []
        var first = 0
        while first < seeds.count {
            let last = min(seeds.count, first + group)
            let runs = last - first
            var generators = seeds[first..<last].map { Xoshiro256StarStar(seed: $0) }
            // Progress: seeding and sample steps a tenth, refinement and the final passes the rest.
            func report(_ fraction: Double) throws {
                try progress?.check()
                progress?.report(fraction: (Double(first) + Double(runs) * fraction) / Double(seeds.count))
            }
            try report(0)
            let seeded = BLAS.withSingleThreadedCalls {
                seedPlusPlus(rows: rows, k: k, generators: &generators, sampleSeed: seeds[first])
            }
            try report(0.05)
            // Each run's sample steps on its own core (they are independent and small).
            var centroids = [[Float]](repeating: [], count: runs)
            var steps = [Int](repeating: 0, count: runs)
            BLAS.withSingleThreadedCalls {
                centroids.withUnsafeMutableBufferPointer { c in
                    steps.withUnsafeMutableBufferPointer { s in
                        generators.withUnsafeMutableBufferPointer { g in
                            let out = UncheckedSendable((c, s, g))
                            parallelFor(runs) { r in
                                let (c, s, g) = out.value
                                (c[r], s[r]) = self.lloyd(rows: rows, k: k, centroids: seeded[r], random: &g[r])
                            }
                        }
                    }
                }
            }
            try report(0.1)
            let assigned = try assignAll(rows: rows, refinementRows: refinementRows, full: full, subspace: subspace,
                                         centroids: centroids, k: k) { try report(0.1 + 0.9 * $0) }
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
        let order = random.sample(s, from: n)
        let sample = UnsafeMutablePointer<Float>.allocate(capacity: s * d)
        defer { sample.deallocate() }
        for i in 0..<s {
            (sample + i * d).update(from: rows.candidateRow(order[i]), count: d)
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
        let order = shuffle.sample(s, from: n)
        let sample = UnsafeMutablePointer<Float>.allocate(capacity: s * d)
        let gram = UnsafeMutablePointer<Float>.allocate(capacity: s * s)
        defer { sample.deallocate(); gram.deallocate() }
        for i in 0..<s { (sample + i * d).update(from: rows.candidateRow(order[i]), count: d) }
        BLAS.gemmOnCores(transposeB: true, m: s, n: s, k: d, a: sample, lda: d, b: sample, ldb: d, c: gram, ldc: s)
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

    /// Lloyd steps for each set of centroids on `refinementRows` (all
    /// candidates or a sample of them), all sets sharing each blocked pass: a
    /// first pass computing every distance, then up to `refinementSteps` mean
    /// updates, each followed by a pass that computes distances only where
    /// `AssignmentState`'s bounds cannot rule out a new nearest centroid.
    /// Then `FinalAssignment` gives every candidate its cluster and exact
    /// full distance for the means of the last step; its labels give the
    /// representatives, and empty clusters are re-seeded there.
    func assignAll(rows: CandidateRows, refinementRows: CandidateRows, full: CandidateRows, subspace: PrincipalSubspace?,
                   centroids: [[Float]], k: Int, onChunk: (Double) throws -> Void) throws -> [Clustering] {
        let runs = centroids.count
        let wn = rows.count
        var stacked = [Float](); stacked.reserveCapacity(runs * k * rows.dimension)
        for c in centroids { stacked.append(contentsOf: c) }
        func candidateMask(_ rows: CandidateRows) -> [Bool] {
            guard rows.isAlbumMatrix && rows.candidates.count < rows.count else {
                return [Bool](repeating: true, count: rows.count)
            }
            var mask = [Bool](repeating: false, count: rows.count)
            for row in rows.candidates { mask[row] = true }
            return mask
        }
        let state = AssignmentState(rows: refinementRows, isCandidate: candidateMask(refinementRows), runs: runs, k: k,
                                    listLength: listLength, hotCount: hotCount ?? max(1, k / 10), centroids: stacked)
        var steps = 0
        // Progress counts the first pass as much as four later ones, and the
        // final passes as much as the first, in proportion to their rows.
        let share = Double(refinementRows.count) / Double(max(1, wn))
        let total = share * (1 + 0.25 * Double(refinementSteps)) + 1
        try BLAS.withSingleThreadedCalls {
            var changed = try state.pass(full: true) { try onChunk(share * $0 / total) }
            while steps < refinementSteps && changed > 0 {
                state.moveCentroidsToMeans()
                steps += 1
                let done = share * (1 + 0.25 * Double(steps - 1))
                changed = try state.pass(full: false) { try onChunk((done + 0.25 * share * $0) / total) }
            }
        }
        let isCandidate = candidateMask(rows)
        let ranking = subspace == nil ? rows.dimension : min(rows.dimension, finalRank ?? max(64, rows.dimension / 2))
        let final = try FinalAssignment(rows: rows, full: full, subspace: subspace, rankingDimensions: ranking,
                                        isCandidate: isCandidate, runs: runs, k: k,
                                        centroids: state.memberMeans()) { try onChunk((total - 1 + $0) / total) }
        return (0..<runs).map { r in
            var result = finish(rows: full, isCandidate: isCandidate, labels: final.labels + r * wn,
                                squared: final.squared + r * wn, rowNorms: final.rowNorms, k: k)
            result.refinementSteps = steps
            result.subspaceRank = subspace?.rank
            return result
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

/// Lloyd steps on every working row (the candidates, or the refinement
/// sample of them) for all iterations of a group at once. The
/// first pass computes every distance (one GEMM per block of rows against the
/// centroids of every run) and remembers, per run and row, its `listLength`
/// nearest centroids, a lower bound on the distance to every centroid but the
/// nearest, and one on every unlisted centroid. After a step, each run's
/// `hotCount` centroids that moved most get exact distances to every row (a
/// GEMM as wide as a tenth of the first pass's); the other moves were at most
/// `largestShift`, so the bounds drop by that (Hamerly's bound, made useful by
/// taking out the few centroids that move far: the largest moves are 10 to 20
/// times the typical one). Then per row: its own centroid's exact distance
/// within the bound on all others settles it (one dot product); else the
/// nearest listed centroid within the bound on the unlisted ones does
/// (`listLength` dot products); else the row is gathered and multiplied
/// against its run's centroids, which renews its list. Member sums are kept
/// in doubles and updated only by rows that change cluster, so a step costs
/// in proportion to what moves (on the benchmark 5 % of row-iterations are
/// recomputed in the first bounded step, 3 % in the later ones).
final class AssignmentState {
    let rows: CandidateRows
    let isCandidate: [Bool]
    let runs: Int
    let k: Int
    let dimension: Int
    /// Centroids remembered per run and row (all of them when `k` is smaller).
    let listLength: Int
    /// Every run's centroids, `runs * k` rows of `dimension`.
    var centroids: [Float]
    /// Per run, per working row: the nearest centroid and the exact squared distance to it.
    let labels: UnsafeMutablePointer<Int32>
    let squared: UnsafeMutablePointer<Float>
    /// Per run, per working row: `listLength` centroids, and a lower bound on
    /// the distance to every centroid not among them.
    let lists: UnsafeMutablePointer<Int32>
    let outside: UnsafeMutablePointer<Float>
    /// Per run, per working row: a lower bound on the distance to every
    /// centroid but its nearest.
    let second: UnsafeMutablePointer<Float>
    /// Per working row: its squared length.
    let rowNorms: UnsafeMutablePointer<Float>
    /// Per run: the `hotCount` centroids that moved most in the last step
    /// (their exact distances are computed for every row, one GEMM per block),
    /// and the largest move of any other centroid, by which the bounds drop.
    let hotCount: Int
    var hot: [Int]
    var hotCentroids: [Float]
    var largestShift: [Float]
    /// Per centroid: the sum and number of its members.
    var sums: [Double]
    var counts: [Int]
    /// Row-runs recomputed in the last pass (the rest were settled by their lists).
    var recomputed = 0
    let blockRows = 256

    init(rows: CandidateRows, isCandidate: [Bool], runs: Int, k: Int, listLength: Int, hotCount: Int,
         centroids: [Float]) {
        self.rows = rows
        self.isCandidate = isCandidate
        self.runs = runs
        self.k = k
        dimension = rows.dimension
        self.listLength = max(1, min(listLength, k))
        self.hotCount = min(k, max(1, hotCount))
        hot = []
        hotCentroids = []
        self.centroids = centroids
        let entries = max(1, runs * rows.count)
        labels = .allocate(capacity: entries)
        squared = .allocate(capacity: entries)
        lists = .allocate(capacity: entries * self.listLength)
        outside = .allocate(capacity: entries)
        second = .allocate(capacity: entries)
        rowNorms = .allocate(capacity: max(1, rows.count))
        largestShift = [Float](repeating: 0, count: runs)
        sums = [Double](repeating: 0, count: runs * k * rows.dimension)
        counts = [Int](repeating: 0, count: runs * k)
    }

    deinit {
        labels.deallocate(); squared.deallocate(); lists.deallocate(); outside.deallocate(); second.deallocate()
        rowNorms.deallocate()
    }

    /// Every run's centroids moved to the means of their members (one
    /// without members stays), as `moveCentroidsToMeans` would, without
    /// touching the state.
    func memberMeans() -> [Float] {
        var means = centroids
        let d = dimension
        for j in 0..<(runs * k) where counts[j] > 0 {
            let scale = 1 / Double(counts[j])
            for t in 0..<d { means[j * d + t] = Float(sums[j * d + t] * scale) }
        }
        return means
    }

    /// Moves every centroid with members to their mean (one without members
    /// stays), then picks each run's hot centroids and the largest other move.
    func moveCentroidsToMeans() {
        let d = dimension
        var shift = [Float](repeating: 0, count: runs * k)
        centroids.withUnsafeMutableBufferPointer { c in
            for j in 0..<(runs * k) where counts[j] > 0 {
                let scale = 1 / Double(counts[j])
                var moved: Float = 0
                for t in 0..<d {
                    let mean = Float(sums[j * d + t] * scale)
                    let step = mean - c[j * d + t]
                    moved += step * step
                    c[j * d + t] = mean
                }
                shift[j] = moved.squareRoot()
            }
        }
        hot = []
        hot.reserveCapacity(runs * hotCount)
        for r in 0..<runs {
            let order = (0..<k).sorted { shift[r * k + $0] != shift[r * k + $1] ? shift[r * k + $0] > shift[r * k + $1] : $0 < $1 }
            hot += order.prefix(hotCount)
            largestShift[r] = hotCount < k ? shift[r * k + order[hotCount]] : 0
        }
        hotCentroids = [Float](repeating: 0, count: runs * hotCount * d)
        centroids.withUnsafeBufferPointer { c in
            hotCentroids.withUnsafeMutableBufferPointer { h in
                for r in 0..<runs {
                    for q in 0..<hotCount {
                        (h.baseAddress! + (r * hotCount + q) * d).update(from: c.baseAddress! + (r * k + hot[r * hotCount + q]) * d, count: d)
                    }
                }
            }
        }
    }

    /// One thread's scratch buffers and its changes to the member sums.
    final class Worker {
        var sums: [Float]
        var counts: [Int]
        var changed = 0
        var recomputed = 0
        let scores: UnsafeMutablePointer<Float>
        let gathered: UnsafeMutablePointer<Float>
        let pending: UnsafeMutablePointer<Int>
        let topValues: UnsafeMutablePointer<Float>
        let topLabels: UnsafeMutablePointer<Int32>

        init(width: Int, dimension: Int, blockRows: Int, scoreColumns: Int, listLength: Int) {
            sums = [Float](repeating: 0, count: width * dimension)
            counts = [Int](repeating: 0, count: width)
            scores = .allocate(capacity: blockRows * scoreColumns)
            gathered = .allocate(capacity: blockRows * dimension)
            pending = .allocate(capacity: blockRows)
            topValues = .allocate(capacity: listLength + 1)
            topLabels = .allocate(capacity: listLength + 1)
        }

        deinit {
            scores.deallocate(); gathered.deallocate(); pending.deallocate(); topValues.deallocate(); topLabels.deallocate()
        }

        @inline(__always) func add(_ x: UnsafePointer<Float>, to centroid: Int, _ d: Int) {
            counts[centroid] += 1
            sums.withUnsafeMutableBufferPointer { BLAS.axpy(d, alpha: 1, x, $0.baseAddress! + centroid * d) }
        }

        @inline(__always) func move(_ x: UnsafePointer<Float>, from old: Int, to new: Int, _ d: Int) {
            counts[old] -= 1
            counts[new] += 1
            sums.withUnsafeMutableBufferPointer { s in
                BLAS.axpy(d, alpha: -1, x, s.baseAddress! + old * d)
                BLAS.axpy(d, alpha: 1, x, s.baseAddress! + new * d)
            }
            changed += 1
        }
    }

    /// Renews the list of one row and run from its dot products `scores` with
    /// the run's `k` centroids (halved squared lengths `half`): the nearest
    /// maximise `x·c − ½‖c‖²`, first index on ties. Returns the nearest.
    @inline(__always)
    func renew(_ index: Int, norm: Float, scores: UnsafePointer<Float>, half: UnsafePointer<Float>,
               worker: Worker) -> Int {
        let keep = min(listLength + 1, k)
        let values = worker.topValues, labels = worker.topLabels
        var filled = 0
        for j in 0..<k {
            let v = scores[j] - half[j]
            if filled == keep && !(v > values[keep - 1]) { continue }
            var p = filled == keep ? keep - 1 : filled
            if filled < keep { filled += 1 }
            while p > 0 && values[p - 1] < v {
                values[p] = values[p - 1]; labels[p] = labels[p - 1]; p -= 1
            }
            values[p] = v; labels[p] = Int32(j)
        }
        let list = lists + index * listLength
        for q in 0..<listLength { list[q] = labels[q] }
        outside[index] = keep > listLength ? max(0, norm - 2 * values[listLength]).squareRoot() : .infinity
        second[index] = keep > 1 ? max(0, norm - 2 * values[1]).squareRoot() : .infinity
        self.labels[index] = labels[0]
        squared[index] = max(0, norm - 2 * values[0])
        return Int(labels[0])
    }

    /// One pass over every candidate for every run; `full` computes every
    /// distance (the first pass, which also starts the member sums).
    /// Leaves every label and squared distance exact. Returns how many labels
    /// changed over all runs (every candidate for a full pass).
    func pass(full: Bool, onChunk: (Double) throws -> Void) throws -> Int {
        let d = dimension
        let wn = rows.count
        let width = runs * k
        var half = [Float](repeating: 0, count: width)
        centroids.withUnsafeBufferPointer { c in
            for j in 0..<width { half[j] = 0.5 * BLAS.dot(d, c.baseAddress! + j * d, c.baseAddress! + j * d) }
        }
        let threads = max(1, min(activeCoreCount, wn / blockRows))
        let workers = (0..<threads).map { _ in
            Worker(width: width, dimension: d, blockRows: blockRows, scoreColumns: full ? k : k + runs * hotCount,
                   listLength: listLength)
        }
        try centroids.withUnsafeBufferPointer { cb in
            try half.withUnsafeBufferPointer { hb in
                let c = cb.baseAddress!, h = hb.baseAddress!
                try forEachRowBlock(count: wn, blockRows: blockRows, threads: threads, onChunk: onChunk) { t, block in
                    if full {
                        self.fullBlock(start: block.lowerBound, rows: block.count, centroids: c, half: h, worker: workers[t])
                    } else {
                        self.listedBlock(start: block.lowerBound, rows: block.count, centroids: c, half: h, worker: workers[t])
                    }
                }
            }
        }
        var changed = 0
        recomputed = 0
        for w in workers {
            changed += w.changed
            recomputed += w.recomputed
            for j in 0..<width { counts[j] += w.counts[j] }
            for e in 0..<(width * d) { sums[e] += Double(w.sums[e]) }
        }
        return full ? rows.candidates.count : changed
    }

    /// Every distance of a block of rows to every run's centroids (one GEMM).
    private func fullBlock(start: Int, rows b: Int, centroids c: UnsafePointer<Float>, half: UnsafePointer<Float>,
                           worker: Worker) {
        let d = dimension, wn = rows.count
        let x = rows.base + start * d
        for i in 0..<b where isCandidate[start + i] { rowNorms[start + i] = BLAS.dot(d, x + i * d, x + i * d) }
        // One GEMM per run: its block × k scores stay in the core's cache for
        // the lists (one product against every run's centroids would write
        // and read back megabytes).
        for r in 0..<runs {
            BLAS.gemm(transposeB: true, m: b, n: k, k: d, a: x, lda: d, b: c + r * k * d, ldb: d, c: worker.scores, ldc: k)
            for i in 0..<b where isCandidate[start + i] {
                let label = renew(r * wn + start + i, norm: rowNorms[start + i], scores: worker.scores + i * k,
                                  half: half + r * k, worker: worker)
                worker.add(x + i * d, to: r * k + label, d)
            }
        }
        worker.recomputed += b * runs
    }

    /// A block of rows after a step: per run, each row's listed centroids
    /// settle it when the nearest of them is within the bound on all others;
    /// the rest are gathered and multiplied against that run's centroids.
    private func listedBlock(start: Int, rows b: Int, centroids c: UnsafePointer<Float>, half: UnsafePointer<Float>,
                             worker: Worker) {
        let d = dimension, wn = rows.count
        let x = rows.base + start * d
        let hotWidth = runs * hotCount
        // Hot scores go past the recompute scores (b × k) in the worker's buffer.
        let hotScores = worker.scores + blockRows * k
        // Local copies: every read of a class's `var` would be checked for exclusive access.
        let hot = self.hot, largestShift = self.largestShift
        hotCentroids.withUnsafeBufferPointer { h in
            BLAS.gemm(transposeB: true, m: b, n: hotWidth, k: d, a: x, lda: d, b: h.baseAddress!, ldb: d,
                      c: hotScores, ldc: hotWidth)
        }
        for r in 0..<runs {
            let base = r * k
            let shift = largestShift[r]
            var m = 0
            for i in 0..<b where isCandidate[start + i] {
                let index = r * wn + start + i
                let xi = x + i * d
                let norm = rowNorms[start + i]
                let old = Int(labels[index])
                let list = lists + index * listLength
                // Centroids that are not hot moved at most `shift`; a hot one's distance is exact.
                var others = second[index] - shift
                var unlisted = outside[index] - shift
                let hotRow = hotScores + i * hotWidth + r * hotCount
                for q in 0..<hotCount {
                    let j = hot[r * hotCount + q]
                    let distance = max(0, norm + 2 * half[base + j] - 2 * hotRow[q]).squareRoot()
                    if j != old && distance < others { others = distance }
                    if distance < unlisted && !(0..<listLength).contains(where: { list[$0] == j }) { unlisted = distance }
                }
                outside[index] = unlisted
                // Hamerly's test: the row's own centroid, exactly, against the bound on all others.
                let own = max(0, norm + 2 * half[base + old] - 2 * BLAS.dot(d, xi, c + (base + old) * d))
                if own.squareRoot() <= others {
                    squared[index] = own
                    second[index] = others
                    continue
                }
                // The listed centroids, exactly, against the bound on the unlisted ones.
                var best = Float.infinity, next = Float.infinity, label = -1
                for q in 0..<listLength {
                    let j = Int(list[q])
                    let sq = j == old ? own : max(0, norm + 2 * half[base + j] - 2 * BLAS.dot(d, xi, c + (base + j) * d))
                    if sq < best || (sq == best && j < label) {
                        next = best; best = sq; label = j
                    } else if sq < next {
                        next = sq
                    }
                }
                if best.squareRoot() <= unlisted {
                    labels[index] = Int32(label)
                    squared[index] = best
                    second[index] = min(next.squareRoot(), unlisted)
                    if label != old { worker.move(xi, from: base + old, to: base + label, d) }
                } else {
                    worker.pending[m] = i
                    m += 1
                }
            }
            guard m > 0 else { continue }
            worker.recomputed += m
            for q in 0..<m {
                (worker.gathered + q * d).update(from: x + worker.pending[q] * d, count: d)
            }
            BLAS.gemm(transposeB: true, m: m, n: k, k: d, a: worker.gathered, lda: d, b: c + base * d, ldb: d,
                      c: worker.scores, ldc: k)
            for q in 0..<m {
                let i = worker.pending[q]
                let index = r * wn + start + i
                let old = Int(labels[index])
                let label = renew(index, norm: rowNorms[start + i], scores: worker.scores + q * k, half: half + base,
                                  worker: worker)
                if label != old { worker.move(x + i * d, from: base + old, to: base + label, d) }
            }
        }
    }
}
