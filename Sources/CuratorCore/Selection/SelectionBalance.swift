/// How a balanced selection shares its count between strata.
public enum BalanceMode: Sendable, Equatable {
    /// The same number from every stratum (±1), a small stratum giving all it
    /// has and the others sharing what it could not.
    case equal
    /// Each stratum in proportion to its candidates (largest remainders round up).
    case proportional
    /// The given number from each named stratum; unnamed strata give none.
    case quotas([String: Int])
}

extension BalanceMode: CustomStringConvertible {
    /// "equal", "proportional" or "quotas sunset=5, city=3".
    public var description: String {
        switch self {
        case .equal: return "equal"
        case .proportional: return "proportional"
        case .quotas(let q): return "quotas " + q.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        }
    }
}

/// One stratum of a balanced run, as the run records it.
public struct SelectionStratum: Codable, Sendable, Equatable {
    /// The stratum's name: a folder, `"sunset"`/`"not sunset"`, an aspect,
    /// a cluster, what a function returned; `"unknown"` for images without one.
    public var name: String
    /// How many candidates it had.
    public var candidates: Int
    /// How many images the selection takes from it.
    public var quota: Int
    /// Why the quota differs from what was asked, if it does.
    public var note: String?
    /// The images any iteration picked in it (image ids), so the selection
    /// can take each stratum's best `quota` from the run's votes.
    public var voted: [Int64]

    /// Creates a stratum record.
    public init(name: String, candidates: Int, quota: Int, note: String? = nil, voted: [Int64] = []) {
        self.name = name
        self.candidates = candidates
        self.quota = quota
        self.note = note
        self.voted = voted
    }

    /// The name of the stratum of images a balance key has no value for.
    public static let unknown = "unknown"
}

/// Stratified selection: quotas per stratum, and the combination of the
/// strata's Monte Carlo runs into one run whose iteration k holds every
/// stratum's iteration k, so votes, frequencies and tiers keep their meaning.
public enum SelectionBalance {
    /// The quota of each stratum (`sizes` in stratum order) for `count`
    /// images under `mode`, and a note for each quota that is not what was
    /// asked (a stratum smaller than its share or quota).
    public static func quotas(names: [String], sizes: [Int], count: Int, mode: BalanceMode) -> (quotas: [Int], notes: [String?]) {
        let n = sizes.count
        var quotas = [Int](repeating: 0, count: n)
        var notes = [String?](repeating: nil, count: n)
        switch mode {
        case .equal:
            var active = Array(0..<n).filter { sizes[$0] > 0 }
            var remaining = count
            // Strata too small for an equal share give everything; the rest share what is left.
            while !active.isEmpty {
                let share = remaining / active.count
                let small = active.filter { sizes[$0] <= share }
                if small.isEmpty { break }
                for s in small {
                    quotas[s] = sizes[s]
                    remaining -= sizes[s]
                    notes[s] = "only \(sizes[s]) candidates, fewer than an equal share: all of them"
                }
                active.removeAll { small.contains($0) }
            }
            if !active.isEmpty {
                let share = remaining / active.count
                var extra = remaining % active.count
                // The remainder goes to the largest strata (then by name order), one each.
                for s in active.sorted(by: { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }) {
                    quotas[s] = share + (extra > 0 ? 1 : 0)
                    if extra > 0 { extra -= 1 }
                }
            }
        case .proportional:
            let total = sizes.reduce(0, +)
            guard total > 0 else { break }
            if count >= total { return (sizes, notes) }
            var remainders: [(Int, Double)] = []
            var given = 0
            for s in 0..<n {
                let exact = Double(count) * Double(sizes[s]) / Double(total)
                quotas[s] = Int(exact.rounded(.down))
                given += quotas[s]
                remainders.append((s, exact - Double(quotas[s])))
            }
            remainders.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            for (s, _) in remainders.prefix(count - given) { quotas[s] += 1 }
        case .quotas(let asked):
            for s in 0..<n {
                let want = asked[names[s]] ?? 0
                quotas[s] = min(want, sizes[s])
                if want > sizes[s] { notes[s] = "quota \(want) is more than its \(sizes[s]) candidates: all of them" }
            }
        }
        return (quotas, notes)
    }

    /// Runs `sampler` on each stratum (`strata` lists album rows per stratum,
    /// names in the same order) for its quota, with `iterations` iterations
    /// (see `MonteCarlo.run` for the parameters), and joins the runs: iteration k
    /// holds every stratum's iteration k. Each stratum's master seed is drawn
    /// from `seed`, so the whole is reproducible; `start` applies in the stratum
    /// holding it, `include` in every one. Returns the run and, per stratum, the
    /// images any iteration picked in it.
    public static func run(
        _ sampler: any Sampler, matrix: EmbeddingMatrix, strata: [[Int]], quotas: [Int],
        iterations: Int = 20, seed: UInt64, include: [Int] = [], start: Int? = nil,
        imageIDs: [Int64]? = nil, exactRows: ExactRows? = nil, progress: (any ProgressSink)? = nil
    ) throws -> (run: SelectionRun, voted: [[Int64]]) {
        let seeds = MonteCarlo.iterationSeeds(master: seed, count: strata.count)
        var picks = [[Int64]](repeating: [], count: iterations)
        var inertia: [Double]? = sampler.measuresInertia ? [Double](repeating: 0, count: iterations) : nil
        var voted = [[Int64]](repeating: [], count: strata.count)
        var candidates = 0
        for (s, rows) in strata.enumerated() {
            candidates += rows.count
            guard quotas[s] > 0 else { continue }
            let result = try MonteCarlo.run(sampler, matrix: matrix, candidates: rows, count: quotas[s],
                                            iterations: iterations, seed: seeds[s], include: include,
                                            start: start.flatMap { rows.contains($0) ? $0 : nil },
                                            imageIDs: imageIDs, exactRows: exactRows, progress: progress)
            for k in 0..<iterations { picks[k] += result.picks[k] }
            if let partInertia = result.iterationInertia {
                for k in 0..<iterations { inertia?[k] += partInertia[k] }
            }
            voted[s] = result.ranking.map(\.image)
        }
        let run = SelectionRun(method: sampler.method, count: quotas.reduce(0, +), seed: seed,
                               candidates: candidates, iterationInertia: inertia, picks: picks)
        return (run, voted)
    }

    /// The selection of a balanced run: walking the run's ranking, each
    /// image whose stratum still has room, so every stratum gives its best
    /// `quota` by votes; in ranking order.
    public static func selection(ranking: [Int64], strata: [SelectionStratum]) -> [Int64] {
        var stratumOf: [Int64: Int] = [:]
        for (s, stratum) in strata.enumerated() { for id in stratum.voted { stratumOf[id] = s } }
        var room = strata.map(\.quota)
        var result: [Int64] = []
        for id in ranking {
            guard let s = stratumOf[id], room[s] > 0 else { continue }
            room[s] -= 1
            result.append(id)
        }
        return result
    }
}
