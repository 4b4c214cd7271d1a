import Foundation

/// Seeding: greedy k-means++ for every iteration of a group on one shared sample.
extension KMeansSampler {
    /// Greedy k-means++ for every run of a group at once, on one shared random
    /// sample of `seedingSample` rows (fewer below ten times as many
    /// candidates; `coveredSeedingSample` at most when the refinement covers
    /// every candidate): each run's first centre is uniform, each
    /// next one the best (lowest potential) of `trials` rows drawn with
    /// probability proportional to their squared distance to the run's nearest
    /// centre. Centres are sample rows, so every distance the seeding needs is
    /// in the sample's Gram matrix: one GEMM shared by every run replaces a
    /// product of the sample with the trials of each centre of each run.
    /// With `leadingAxes`, the distances are taken on the rows' first that
    /// many coordinates (projections onto principal axes, largest first:
    /// the seeding only draws by them, and the Gram matrix costs in
    /// proportion); the centres are the sample rows, whole.
    func seedPlusPlus(rows: CandidateRows, k: Int, generators: inout [Xoshiro256StarStar],
                      sampleSeed: UInt64, leadingAxes: Int? = nil) -> [[Float]] {
        let runs = generators.count
        let n = rows.candidates.count
        let d = rows.dimension
        let s = seedingSampleSize(candidates: n, k: k)
        let trials = seedingTrialCount(candidates: n, k: k)
        var shuffle = Xoshiro256StarStar(seed: sampleSeed ^ 0x5EED_5A3B_1E00_0001)
        let order = shuffle.sample(s, from: n)
        let sample = UnsafeMutablePointer<Float>.allocate(capacity: s * d)
        let gram = HugePageMemory.allocate(Float.self, count: s * s)
        defer { sample.deallocate(); HugePageMemory.deallocate(gram) }
        for i in 0..<s { rows.copyCandidateRow(order[i], into: sample + i * d) }
        let depth = min(d, leadingAxes ?? d)
        // The seeding only draws by these distances: on principal axes of
        // long vectors bfloat16's rounding moves the inertia less than the
        // seeds do (see `roundedAxes`). Short vectors keep float32: there
        // (24 long, in a test) other centres made the duplicate index miss
        // a pair it had found, and nothing was measured to pay for it.
        if roundedAxes && leadingAxes != nil && BFloat16Gram.isAvailable {
            BFloat16Gram.centredRowProducts(rows: s, depth: depth, a: sample, lda: d, c: gram, ldc: s)
        } else {
            BLAS.gramOnCores(rows: s, depth: depth, a: sample, lda: d, c: gram, ldc: s)
        }
        let normStorage = UnsafeMutablePointer<Float>.allocate(capacity: s)
        defer { normStorage.deallocate() }
        for i in 0..<s { normStorage[i] = gram[i * s + i] }
        let norms = UncheckedSendable(normStorage)
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
                        let potential = Self.potential(closest: c, gram: distances.value + p * s, norms: norms.value, centre: p,
                                                       count: s, lower: false)
                        if potential < bestPotential { bestPotential = potential; bestTrial = t }
                    }
                }
                let p = drawn.value[r * trials + bestTrial]
                _ = Self.potential(closest: c, gram: distances.value + p * s, norms: norms.value, centre: p, count: s, lower: true)
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

    /// Rows the seeding's Gram matrix covers for `candidates` rows and `k` clusters.
    func seedingSampleSize(candidates n: Int, k: Int) -> Int {
        let sampleSize = refinesSample(candidates: n, k: k)
            ? min(seedingSample, max(coveredSeedingSample, n / max(1, seedingShare)))
            : min(seedingSample, coveredSeedingSample)
        return min(n, max(sampleSize, k))
    }

    /// Candidates tried per new centre for `candidates` rows and `k` clusters.
    func seedingTrialCount(candidates n: Int, k: Int) -> Int {
        if let seedingTrials { return max(1, seedingTrials) }
        let perLog = refinesSample(candidates: n, k: k) ? sampledSeedingTrials : 1
        return max(1, 2 + Int(perLog * log(Double(k))))
    }

    /// The seeding's potential were sample row `centre` (whose Gram row is
    /// `gram`) a centre too: Σ over the sample of the smaller of `closest`
    /// and the squared distance to it, each clamped at 0. With `lower`,
    /// `closest` takes those smaller values. Eight lanes at a time, summed
    /// in doubles every 256 rows (a double per row cost most of the seeding).
    @inline(__always)
    private static func potential(closest c: UnsafeMutablePointer<Float>, gram g: UnsafePointer<Float>,
                                  norms: UnsafePointer<Float>, centre p: Int, count s: Int, lower: Bool) -> Double {
        let rc = UnsafeMutableRawPointer(c), rg = UnsafeRawPointer(g), rn = UnsafeRawPointer(norms)
        let own = SIMD8<Float>(repeating: norms[p]), zero = SIMD8<Float>.zero, two = SIMD8<Float>(repeating: 2)
        var total = 0.0
        var i = 0
        while i + 8 <= s {
            var lanes = SIMD8<Float>.zero
            let end = min(s, i + 256)
            while i + 8 <= end {
                let o = i * 4
                var distance = rn.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self) + own
                    - two * rg.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                distance = distance.replacing(with: zero, where: distance .< zero)
                let current = rc.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                let smaller = current.replacing(with: distance, where: distance .< current)
                if lower { rc.storeBytes(of: smaller, toByteOffset: o, as: SIMD8<Float>.self) }
                lanes += smaller
                i += 8
            }
            total += Double(lanes.sum())
        }
        while i < s {
            let smaller = min(c[i], max(0, norms[i] + norms[p] - 2 * g[i]))
            if lower { c[i] = smaller }
            total += Double(smaller)
            i += 1
        }
        return total
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
}
