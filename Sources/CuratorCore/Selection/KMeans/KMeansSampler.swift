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
/// Each step has its file in this folder: `KMeansSeeding` (1), `KMeansLloyd`
/// (2 to 4, driving the bounded engine `AssignmentState` and then
/// `FinalAssignment`); this one holds the options and runs the groups.
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
    /// Sample rows per cluster at most when the refinement runs on every
    /// candidate, whose steps then move the centroids on all rows: the
    /// sample steps only start them (on 10,000 rows, k 200, 20 instead of
    /// 40 took 15 % off the CPU time for +0.15 % inertia over three seeds).
    public var coveredSamplePerCluster: Int = 20
    /// The smallest sample, whatever the count.
    public var minimumSample: Int
    /// Rows the k-means++ seeding looks at, at most; its Gram matrix takes
    /// this many squared times four bytes (64 MiB for 4096) while the
    /// seeding runs. Fewer when there are fewer than ten times as many
    /// candidates (`seedingShare`).
    public var seedingSample: Int
    /// Candidates per seeding row below `seedingSample`: the seeding looks
    /// at one candidate in this many, at least `coveredSeedingSample`. Its
    /// Gram matrix grows with the square of its rows, so on 30,000 rows
    /// 3,000 rather than 4,096 took 9–16 % off the CPU time for +0.05–0.1 %
    /// inertia over three seeds, and 2,048 (one in 15) rather than 3,000
    /// with the trials of `sampledSeedingTrials` another 2–5 % for +0.09 %
    /// (k 100) and −0.4 % (k 200) over five; from 61,440 rows on it is
    /// `seedingSample`.
    public var seedingShare: Int = 15
    /// Rows the seeding looks at, at most, when the refinement runs on every
    /// candidate (albums of up to about 10,900 images): its Lloyd steps then
    /// move every centroid on all the rows, which makes up for a coarser
    /// start. On the benchmark's 10,000 rows 2,048 cut a sixth of the CPU
    /// time for +0.2 % inertia at k 100 (+0.7 % at k 200); on 85,491 rows,
    /// where the refinement is a sample, the same cut cost 0.5 %.
    public var coveredSeedingSample: Int = 2048
    /// Rows the covariance of the principal axes is taken from (evenly
    /// spaced; at least eight per axis). Kept apart from the seeding's
    /// sample because the axes need more rows than the seeding does: on
    /// 10,000 rows, 2,048 for the axes cost +0.3 % inertia at k 100 and
    /// +0.9 % at k 200, 2,048 for the seeding +0.1 % and +0.6 %.
    public var principalSample: Int = 4096
    /// Candidates tried per new centre in k-means++ (nil: sklearn's 2 + ln k,
    /// or `sampledSeedingTrials` when the refinement runs on a sample).
    public var seedingTrials: Int?
    /// Candidates tried per new centre, as a multiple of ln k added to 2,
    /// when `seedingTrials` is nil and the refinement runs on a sample (more
    /// than about 10,900 images), whose steps do not move every centroid on
    /// all the rows and so keep more of the seeding's start. A trial costs a
    /// pass over the seeding sample's distances, far less than its Gram
    /// matrix: on the benchmark's 30,000 rows 2 + 2 ln k trials (11 at
    /// k 100, 12 at k 200) instead of 2 + ln k paid for the smaller seeding
    /// sample (`seedingShare`), and on its 85,491 rows they took 0.4–0.5 %
    /// off the inertia over five seeds; 2 + 2.5 ln k (13 and 15) pay for
    /// one sample step fewer (`maxIterations`) and a smaller refinement
    /// sample too. Below that the Lloyd steps on every candidate make up
    /// for the start, and the trials would only cost time.
    public var sampledSeedingTrials: Double = 2.5
    /// Leading principal axes the seeding's distances are taken on when
    /// the clustering runs in a subspace (its Gram matrix costs in
    /// proportion); the whole subspace when larger, as by default: 64 of
    /// 128 halved the Gram matrix but cost 0.6–1 % of inertia on the
    /// benchmark's 10,000 and 30,000 rows, k 100.
    public var seedingRank: Int = 128
    /// Lloyd steps on the sample at most (they make the big early moves cheaply;
    /// the steps on all candidates refine). 4 rather than 5 took 3–4 % off
    /// the CPU time on 30,000 rows, k 100, for +0.03 % inertia.
    public var maxIterations: Int
    /// Lloyd steps on the sample at most when the refinement runs on every
    /// candidate, whose steps then do the same work on all rows (3 instead
    /// of 5: +0.1 % inertia on 10,000 rows, a tenth of the CPU time at k 200).
    public var coveredSampleSteps: Int = 3
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
    /// Candidates the bounded Lloyd steps run on (nil: 60 per cluster, at
    /// least 8,192; all candidates when that is three quarters of them or
    /// more). The final step covers every candidate. Against the earlier
    /// 100 per cluster and 20,480 this took 40 % off the refinement's time
    /// on 30,000 and 85,491 rows for at most +0.16 % inertia; 8,192 rather
    /// than 12,288 (with the seeding trials of `sampledSeedingTrials`)
    /// another 8 % of the CPU time on 30,000 rows, k 100, for +0.1 %.
    public var refinementSample: Int? = nil
    /// The smallest automatic `refinementSample`.
    static let minimumRefinementSample = 8_192
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
    /// With a subspace and more than twice this many candidates, the
    /// seeding, the sample steps and the refinement draw their samples from
    /// a uniform random pool of this many, and only the pool is projected
    /// onto the whole subspace; every candidate is projected onto the
    /// leading `finalRank` axes alone, which is all the final pass reads
    /// (at 1,000,000 × 512 that halves the projection's arithmetic).
    public var samplingPool: Int = 131_072
    /// Whether the principal axes' covariance and, on those axes, the
    /// seeding's Gram matrix are taken in bfloat16 where the processor has
    /// AVX512_BF16 (`PrincipalSubspace(bfloat16Sample:…)`, `BFloat16Gram`).
    /// For the seeding (2,048 rows on the benchmark's 10,000, 128 axes) that took
    /// its Gram matrix from 11.7 to about 8.5 ms, for +0.05 % inertia on
    /// average over six seeds at 10,000, 30,000 and 85,491 rows, k 100 and
    /// 200 (−0.06 % to +0.17 %, within the seeds' spread).
    public var roundedAxes = true
    /// Steps of the randomized subspace iteration the principal axes come
    /// from (`PrincipalSubspace.subspaceIteration`). One rather than two
    /// took 6 ms (two products and an orthonormalisation) off every
    /// clustering of 768-long vectors, about 5 % at 10,000 rows, for
    /// +0.06 % inertia on average over the same six seeds and sizes
    /// (−0.07 % to +0.15 %): K-Means needs the span of the leading axes,
    /// not each axis exactly.
    public var axisPowerSteps = 1

    /// Creates the sampler.
    public init(samplePerCluster: Int = 40, minimumSample: Int = 4096, seedingSample: Int = 4096,
                seedingTrials: Int? = nil, maxIterations: Int = 4, tolerance: Double = 1e-4,
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

    /// Leading axes of a `rank`-axis subspace the final pass ranks centroids on.
    func rankingDimensions(_ rank: Int) -> Int {
        min(rank, finalRank ?? max(64, rank / 2))
    }

    /// The principal subspace of the candidates, from an evenly spaced
    /// sample of them (nil when the full vectors are to be used).
    func subspace(of rows: CandidateRows) -> PrincipalSubspace? {
        let n = rows.candidates.count
        guard let rank = effectiveSubspaceRank(rows: n, dimension: rows.dimension) else { return nil }
        let size = min(n, max(principalSample, 8 * rank))
        if roundedAxes && PrincipalSubspace.bfloat16CovarianceAvailable,
           let axes = PrincipalSubspace(bfloat16Sample: size, dimension: rows.dimension, rank: rank,
                                        powerSteps: axisPowerSteps, copyRows: { range, target in
               for (i, r) in range.enumerated() { rows.copyCandidateRow(r * n / size, into: target + i * rows.dimension) }
           }) {
            return axes
        }
        let copies = rows.gatherCandidates((0..<size).map { $0 * n / size })
        defer { HugePageMemory.deallocate(copies.baseAddress!) }
        return PrincipalSubspace(centring: copies.baseAddress!, count: size, dimension: rows.dimension, rank: rank,
                                 powerSteps: axisPowerSteps)
    }

    /// The candidates the bounded Lloyd steps run on: a uniform random
    /// sample of `refinementSample` (automatic: 60 per cluster, at least
    /// 8,192), or all of them when that is most.
    func refinementSample(of rows: CandidateRows, k: Int, seed: UInt64) -> CandidateRows {
        let n = rows.candidates.count
        guard refinesSample(candidates: n, k: k) else { return rows }
        let size = refinementSample ?? max(Self.minimumRefinementSample, 60 * k)
        var random = Xoshiro256StarStar(seed: seed ^ 0x5A3B_1E00_0002)
        return CandidateRows(sampling: rows, indices: random.sample(size, from: n).sorted())
    }

    /// Whether the bounded Lloyd steps run on a sample of `candidates` rows
    /// rather than on all of them.
    func refinesSample(candidates n: Int, k: Int) -> Bool {
        (refinementSample ?? max(Self.minimumRefinementSample, 60 * k)) < n * 3 / 4
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
        // Huge regions given back (the axes' packed sample, the seeding's
        // Gram matrix, each run's sample) serve the next ones, not fresh pages.
        return try HugePageMemory.reusingPages {
            try cluster(full: full, k: k, seeds: seeds, progress: progress)
        }
    }

    /// `cluster(matrix:candidates:k:seeds:progress:)` on the candidates' rows.
    private func cluster(full: CandidateRows, k: Int, seeds: [UInt64], progress: SelectionProgress?) throws -> [Clustering] {
        let n = full.candidates.count
        // Every BLAS call from here on is single-threaded, spread over the
        // cores by this code (see `BLAS.gemmOnCores`).
        let subspace = BLAS.withSingleThreadedCalls { self.subspace(of: full) }
        // The rows seeding, sample steps and refinement draw from (a pool of
        // them when there are many), and the rows of the final pass.
        let rows: CandidateRows, finalRows: CandidateRows
        if let subspace, n > 2 * samplingPool {
            var random = Xoshiro256StarStar(seed: (seeds.first ?? 0) ^ 0x5A3B_1E00_0003)
            rows = CandidateRows(projecting: full, indices: random.sample(samplingPool, from: n).sorted(), onto: subspace)
            finalRows = CandidateRows(projecting: full, onto: subspace.leading(rankingDimensions(subspace.rank)))
        } else {
            rows = subspace.map { CandidateRows(projecting: full, onto: $0) } ?? full
            finalRows = rows
        }
        let d = rows.dimension
        // The rows the bounded Lloyd steps run on.
        let refinementRows = refinementSample(of: rows, k: k, seed: seeds.first ?? 0)
        // Iterations share the passes in groups of equal size whose state stays
        // under 96 MiB: per run about seven copies of its centroids (seeds,
        // centroids, double sums, each thread's changes) and per refinement
        // row its label, squared distance, two bounds and list; per candidate
        // its final label, alternative and distance; and the full centroids
        // (three copies, and each thread's member sums in the final pass).
        let perRunBytes = 7 * k * d * 4 + refinementRows.count * (16 + 4 * min(listLength, k))
            + finalRows.count * 12 + (3 + activeCoreCount) * k * full.dimension * 4
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
                seedPlusPlus(rows: rows, k: k, generators: &generators, sampleSeed: seeds[first],
                             leadingAxes: subspace.map { _ in seedingRank })
            }
            try report(0.05)
            // Each run's sample steps on its own core (they are independent
            // and small); the runs left when the cores have had as many each
            // (the fifth of five on two) one at a time on every core, so no
            // core waits a run's length for another.
            var centroids = [[Float]](repeating: [], count: runs)
            var steps = [Int](repeating: 0, count: runs)
            let cores = activeCoreCount
            let together = runs / cores * cores
            BLAS.withSingleThreadedCalls {
                centroids.withUnsafeMutableBufferPointer { c in
                    steps.withUnsafeMutableBufferPointer { s in
                        generators.withUnsafeMutableBufferPointer { g in
                            let out = UncheckedSendable((c, s, g))
                            parallelFor(together) { r in
                                let (c, s, g) = out.value
                                (c[r], s[r]) = self.lloyd(rows: rows, k: k, centroids: seeded[r], random: &g[r])
                            }
                            for r in together..<runs {
                                (c[r], s[r]) = self.lloyd(rows: rows, k: k, centroids: seeded[r], random: &g[r], threads: cores)
                            }
                        }
                    }
                }
            }
            try report(0.1)
            // The passes allocate no huge regions; the kept ones would only add to their peak.
            HugePageMemory.releaseKept()
            let assigned = try assignAll(rows: finalRows, refinementRows: refinementRows, full: full, subspace: subspace,
                                         centroids: centroids, k: k) { try report(0.1 + 0.9 * $0) }
            for (offset, var result) in assigned.enumerated() {
                result.lloydSteps = steps[offset]
                results.append(result)
            }
            first = last
        }
        return results
    }
}
