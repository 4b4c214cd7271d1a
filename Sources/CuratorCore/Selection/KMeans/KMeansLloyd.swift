import Foundation

/// Lloyd steps: a few on each iteration's own random sample (the big early
/// moves), then on the shared refinement sample through `AssignmentState`'s
/// bounds, then `FinalAssignment` over every candidate.
extension KMeansSampler {
    /// Lloyd steps from `centroids` on a random sample; returns the k × d
    /// centroids and the steps run. With `threads` above 1 the scores and
    /// nearest centroids of each step are split over that many cores (rows
    /// in halves: each row's values are the same either way).
    func lloyd(rows: CandidateRows, k: Int, centroids initial: [Float], random: inout Xoshiro256StarStar,
               threads: Int = 1) -> ([Float], Int) {
        let n = rows.candidates.count
        let d = rows.dimension
        let covered = !refinesSample(candidates: n, k: k)
        let s = lloydSampleSize(candidates: n, k: k)
        let order = random.sample(s, from: n)
        let maxIterations = covered ? min(self.maxIterations, coveredSampleSteps) : self.maxIterations
        // Huge pages: a fresh 2 MiB sample and its scores were 1,400 page faults over five runs.
        let sample = HugePageMemory.allocate(Float.self, count: s * d)
        defer { HugePageMemory.deallocate(sample) }
        for i in 0..<s {
            rows.copyCandidateRow(order[i], into: sample + i * d)
        }
        var norms = [Float](repeating: 0, count: s)
        for i in 0..<s { norms[i] = MapKernels.dot(sample + i * d, sample + i * d, d) }

        var centroids = initial
        // Lloyd steps.
        let scores = HugePageMemory.allocate(Float.self, count: s * k)
        defer { HugePageMemory.deallocate(scores) }
        var labels = [Int](repeating: 0, count: s)
        var distances = [Float](repeating: 0, count: s)
        var previous = Double.infinity
        var steps = 0
        var halfNorms = [Float](repeating: 0, count: k)
        while steps < maxIterations {
            steps += 1
            centroids.withUnsafeBufferPointer { c in
                for j in 0..<k { halfNorms[j] = 0.5 * MapKernels.dot(c.baseAddress! + j * d, c.baseAddress! + j * d, d) }
                if threads > 1 {
                    BLAS.gemmOnCores(transposeB: true, m: s, n: k, k: d, a: sample, lda: d, b: c.baseAddress!, ldb: d,
                                     c: scores, ldc: k)
                } else {
                    BLAS.gemm(transposeB: true, m: s, n: k, k: d, a: sample, lda: d, b: c.baseAddress!, ldb: d,
                              c: scores, ldc: k)
                }
            }
            halfNorms.withUnsafeBufferPointer { h in
                labels.withUnsafeMutableBufferPointer { l in
                    distances.withUnsafeMutableBufferPointer { t in
                        let out = UncheckedSendable((l.baseAddress!, t.baseAddress!, h.baseAddress!))
                        let parts = max(1, min(threads, s / 256))
                        parallelFor(parts) { part in
                            let (labels, distances, half) = out.value
                            for i in (part * s / parts)..<((part + 1) * s / parts) {
                                let best = VectorKernels.topTwo(scores + i * k, minus: half, count: k)
                                labels[i] = max(0, best.first)
                                distances[i] = max(0, norms[i] - 2 * best.firstValue)
                            }
                        }
                    }
                }
            }
            var inertia = 0.0
            for i in 0..<s { inertia += Double(distances[i]) }
            // New centroids: the means of their members.
            var counts = [Int](repeating: 0, count: k)
            centroids.withUnsafeMutableBufferPointer { c in
                let base = c.baseAddress!
                base.update(repeating: 0, count: k * d)
                for i in 0..<s {
                    counts[labels[i]] += 1
                    VectorKernels.accumulate(sample + i * d, into: base + labels[i] * d, count: d)
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

    /// Rows of each run's own sample for `candidates` rows and `k` clusters.
    func lloydSampleSize(candidates n: Int, k: Int) -> Int {
        let perCluster = refinesSample(candidates: n, k: k) ? samplePerCluster : min(samplePerCluster, coveredSamplePerCluster)
        return min(n, max(minimumSample, perCluster * k))
    }

    // MARK: - Assignment of every candidate

    /// Lloyd steps for each set of centroids on `refinementRows` (all
    /// candidates or a sample of them), all sets sharing each blocked pass: a
    /// first pass computing every distance, then up to `refinementSteps` mean
    /// updates, each followed by a pass that computes distances only where
    /// `AssignmentState`'s bounds cannot rule out a new nearest centroid.
    /// `rows` are the rows of the final pass: the candidates, their
    /// projections onto the subspace, or onto its leading ranking axes.
    /// Then `FinalAssignment` gives every candidate its cluster and exact
    /// full distance for the means of the last step; its labels give the
    /// representatives, and empty clusters are re-seeded there.
    func assignAll(rows: CandidateRows, refinementRows: CandidateRows, full: CandidateRows, subspace: PrincipalSubspace?,
                   centroids: [[Float]], k: Int, onChunk: (Double) throws -> Void) throws -> [Clustering] {
        let runs = centroids.count
        let wn = rows.count
        let reduced = refinementRows.dimension
        var stacked = [Float](); stacked.reserveCapacity(runs * k * reduced)
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
        let ranking = subspace.map { min(rows.dimension, rankingDimensions($0.rank)) } ?? rows.dimension
        let final = try FinalAssignment(rows: rows, full: full, subspace: subspace, rankingDimensions: ranking,
                                        isCandidate: isCandidate, runs: runs, k: k, centroids: state.memberMeans(),
                                        reducedDimension: reduced) { try onChunk((total - 1 + $0) / total) }
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
                var seedRow = [Float](repeating: 0, count: d)
                seedRow.withUnsafeMutableBufferPointer { rows.copyWorkingRow(seed, into: $0.baseAddress!) }
                rows.products(with: seedRow, into: dots)
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

