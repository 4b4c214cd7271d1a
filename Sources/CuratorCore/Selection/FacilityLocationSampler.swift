/// Facility location (representative), `method="facility"`: picks the set S
/// of `count` images maximising Σᵢ wᵢ · maxⱼ∈S sim(i, j) over the candidates
/// i, where sim is the cosine similarity (clamped at 0) — every image is
/// represented by its most similar pick, so dense regions get more picks
/// and lone outliers few (FPS does the opposite, K-Means centroids ignore
/// density).
///
/// The objective is submodular, so greedy picking is within 1 − 1/e of the
/// optimum, and lazy greedy (Minoux) gives the same picks re-evaluating only
/// the few candidates whose stale gain still tops the queue. A candidate's
/// gain is summed over the images that list it among their k nearest
/// neighbours (`SparseNeighbors`, never an N × N matrix), as apricot does
/// with its sparse `n_neighbors` option; but what each image already has —
/// its cover, the similarity to its nearest pick — is exact, one GEMV per
/// pick, so an image a distant pick already represents is not counted as
/// gain again. With cover known only through the graph, the picks crowd
/// dense regions: 2 % less objective on the benchmark's 10,000 rows.
///
/// What varies per Monte Carlo iteration: the weights wᵢ. With one
/// iteration every wᵢ is 1 — the plain greedy. With more, each iteration
/// draws Poisson(1) weights from its seed (a bootstrap resample of the
/// album: about a third of the images count for nothing, others twice), so
/// a pick's frequency says how much it depends on which images happened to
/// be in the album; ties go to the lowest row. `include` rows start in S
/// (images they represent gain nothing more); `start` is every iteration's
/// first pick.
public struct FacilityLocationSampler: Sampler, Sendable {
    public var method: String { "facility" }
    public var measuresInertia: Bool { false }

    /// Neighbours per image in the similarity graph (the image itself included).
    public var neighbors: Int
    /// Whether every image's cover (its similarity to the nearest pick) is
    /// exact, one matrix-vector product per pick, rather than known only
    /// through the graph.
    public var exactCover: Bool
    /// Inverted-file lists each list's rows are compared with when the graph
    /// is approximate (beyond `SparseNeighbors.exactLimit` rows), its own
    /// included. Fewer than the neighbour scores' 6: with the cover exact the
    /// graph only ranks gains. On the benchmark's 10,000 rows, with the
    /// centres below, 2 lists (a third of the GEMMs of 3) left the objective
    /// at 7,806.89 (3: 7,811.55; K-Means' own selection: 7,787.80).
    public var searchedLists: Int
    /// Spherical Lloyd steps that place the inverted file's centres, on
    /// `samplePerList` random rows per list (`InvertedFile.lloydCentres`;
    /// nil: the K-Means sampler's representatives of 8 rows per list, as the
    /// neighbour scores use). On the benchmark's 10,000 rows 3 steps on 16
    /// rows per list took half the CPU time of the K-Means centres (0.03 s
    /// against 0.06 s) for the same objective.
    public var centreSteps: Int?
    /// Sample rows per list the centres are placed on.
    public var samplePerList: Int

    /// How the approximate graph is trained and searched. Each list's rows
    /// are gathered per thread rather than copied into a grouped matrix: at
    /// 10,000 rows the grouped copy's fresh pages (zeroed, then faulted in)
    /// cost more than gathering each list's few hundred rows again.
    var search: SparseNeighbors.ApproximateSearch {
        SparseNeighbors.ApproximateSearch(samplePerList: samplePerList, lloydSteps: centreSteps, gathersRows: true)
    }

    /// Creates the sampler with `neighbors` nearest neighbours per image.
    public init(neighbors: Int = 32, exactCover: Bool = true, searchedLists: Int = 2, centreSteps: Int? = 3,
                samplePerList: Int = 16) {
        self.neighbors = neighbors
        self.exactCover = exactCover
        self.searchedLists = searchedLists
        self.centreSteps = centreSteps
        self.samplePerList = samplePerList
    }

    public func sample(_ task: SamplingTask, progress: SelectionProgress) throws -> SamplerOutput {
        let graph = try ReverseNeighbors(matrix: task.matrix, candidates: task.candidates, include: task.include,
                                         k: neighbors, searchedLists: searchedLists,
                                         search: search, progress: progress)
        try progress.check()
        let runs = task.iterations
        let weights = runs == 1 ? [[Float](repeating: 1, count: graph.rows)]
                                : (0..<runs).map { Self.bootstrapWeights(count: graph.rows, seed: task.iterationSeeds[$0]) }
        let start = task.start.flatMap { graph.local[$0] }
        let picks = try graph.greedy(count: task.count, weights: weights, start: start, exactCover: exactCover,
                                     progress: progress)
        return SamplerOutput(picks: picks.map { $0.map { graph.albumRows[$0] } })
    }

    /// Poisson(1) counts, one per row, from `seed` (Knuth's method: exact for a mean of 1).
    static func bootstrapWeights(count: Int, seed: UInt64) -> [Float] {
        var generator = Xoshiro256StarStar(seed: seed)
        let limit = 0.36787944117144233 // e^-1
        return (0..<count).map { _ in
            var k: Float = 0
            var product = generator.nextDouble()
            while product > limit {
                k += 1
                product *= generator.nextDouble()
            }
            return k
        }
    }

    /// The facility-location objective of `picks` over `candidates`, dense and
    /// exact: Σ over candidates of the similarity to the nearest pick, clamped
    /// to 0...1 (what `r:coverage()` measures, seen as similarity).
    public static func objective(matrix: EmbeddingMatrix, candidates: [Int], picks: [Int]) -> Double {
        SelectionCoverage.nearestPickDistances(matrix: matrix, candidates: candidates, picks: picks)
            .reduce(0.0) { $0 + Double(max(0, 1 - $1)) }
    }
}

/// The sparse similarity graph facility location runs on, turned around:
/// for each facility j, the images i that list j among their k nearest
/// neighbours, with sim(i, j). Working rows are the candidates, then the
/// included rows (which represent, but are never picked).
final class ReverseNeighbors: Sendable {
    /// Album row of each working row.
    let albumRows: [Int]
    /// Working row of each album row in it.
    let local: [Int: Int]
    /// How many working rows are candidates (the first ones).
    let candidates: Int
    let rows: Int
    /// CSR: facility j's represented images are `members[offsets[j]..<offsets[j+1]]`.
    let offsets: [Int]
    let members: [Int32]
    let similarities: [Float]
    /// Coverage every iteration starts from: the included rows' similarity.
    let initialCover: [Float]
    /// The working rows' vectors, in working order.
    let vectors: EmbeddingMatrix

    init(matrix: EmbeddingMatrix, candidates: [Int], include: [Int], k: Int, searchedLists: Int = 2,
         search: SparseNeighbors.ApproximateSearch? = FacilityLocationSampler().search, progress: SelectionProgress) throws {
        albumRows = candidates + include
        self.candidates = candidates.count
        rows = albumRows.count
        var local: [Int: Int] = [:]
        for (i, row) in albumRows.enumerated() { local[row] = i }
        self.local = local
        vectors = SparseNeighbors.working(matrix: matrix, rows: albumRows)
        let graph = try SparseNeighbors.graph(of: vectors, k: k, searchedLists: searchedLists, search: search)
        try progress.check()
        let k = graph.k
        var counts = [Int](repeating: 0, count: rows + 1)
        for i in 0..<rows {
            for slot in 0..<k {
                let j = Int(graph.indices[i * k + slot])
                if j >= 0 && j < rows { counts[j + 1] += 1 }
            }
        }
        for j in 0..<rows { counts[j + 1] += counts[j] }
        offsets = counts
        var fill = counts
        var members = [Int32](repeating: 0, count: counts[rows])
        var similarities = [Float](repeating: 0, count: counts[rows])
        var cover = [Float](repeating: 0, count: rows)
        for i in 0..<rows {
            for slot in 0..<k {
                let j = Int(graph.indices[i * k + slot])
                guard j >= 0 && j < rows else { continue }
                let similarity = max(0, 1 - graph.distances[i * k + slot])
                members[fill[j]] = Int32(i)
                similarities[fill[j]] = similarity
                fill[j] += 1
                if j >= candidates.count { cover[i] = max(cover[i], similarity) }
            }
        }
        self.members = members
        self.similarities = similarities
        for i in candidates.count..<rows { cover[i] = 1 }
        // Every image's exact similarity to its nearest included row, not only its neighbours'.
        if !include.isEmpty {
            let nearest = SelectionCoverage.nearestPickDistances(matrix: vectors, candidates: Array(0..<candidates.count),
                                                                 picks: Array(candidates.count..<rows))
            for i in 0..<candidates.count { cover[i] = max(cover[i], 1 - nearest[i]) }
        }
        initialCover = cover
    }

    /// The gain of facility `j` given the current cover.
    @inline(__always) func gain(_ j: Int, cover: UnsafePointer<Float>, weights: [Float]) -> Float {
        var total: Float = 0
        for e in offsets[j]..<offsets[j + 1] {
            let i = Int(members[e])
            let better = similarities[e] - cover[i]
            if better > 0 { total += weights[i] * better }
        }
        return total
    }

    /// Lazy greedy, once per weighting in `weights` (one per iteration):
    /// `count` candidates (working rows) each, in pick order. The runs
    /// advance in lockstep, one pick each per step, so that with
    /// `exactCover` one matrix product of the step's picks against the
    /// working rows raises every run's cover to its exact similarities (the
    /// rows are read once per step, not once per run, and on every core; a
    /// single run reads an int8 copy and scores exactly only the rows it
    /// can raise, `QuantizedRows.raise`); a row already represented by a
    /// distant pick does not count as gain again. Gains are still summed over the graph's edges. Without
    /// `exactCover` a pick raises only its graph neighbours' cover.
    ///
    /// `quantizedCover` says whether a single run's cover goes through the
    /// int8 copy (nil: beyond `SparseNeighbors.exactLimit` rows); the picks
    /// are the same either way.
    func greedy(count: Int, weights: [[Float]], start: Int?, exactCover: Bool = true, quantizedCover: Bool? = nil,
                progress: SelectionProgress? = nil) throws -> [[Int]] {
        let runs = weights.count
        guard runs > 0 else { return [] }
        let covers = SharedBuffer<Float>(repeating: 0, count: runs * rows)
        for r in 0..<runs { (covers.pointer + r * rows).update(from: initialCover, count: rows) }
        var states = [LazyGreedyRun](repeating: LazyGreedyRun(candidates: candidates, count: count), count: runs)
        var step = [Int](repeating: -1, count: runs)
        var first = 0
        if let start, start < candidates, count > 0 {
            first = 1
            for r in 0..<runs { states[r].take(start) }
            raiseCovers(covers, runs: runs, picks: [Int](repeating: start, count: runs), exactCover: exactCover)
        }
        let threads = max(1, min(activeCoreCount, runs))
        // One run's cover is raised through an int8 copy of the rows (a quarter of the bytes a GEMV reads per pick,
        // and exact scores only where they can raise a cover); several runs share one GEMM per step instead.
        let quantize = exactCover && runs == 1 && (quantizedCover ?? (rows > SparseNeighbors.exactLimit))
        let quantized = quantize ? QuantizedRows(vectors) : nil
        let shared = UncheckedSendable(self)
        try states.withUnsafeMutableBufferPointer { statePointer in
            try step.withUnsafeMutableBufferPointer { stepPointer in
                let pointers = UncheckedSendable((statePointer.baseAddress!, stepPointer.baseAddress!))
                parallelFor(threads) { t in
                    let (states, _) = pointers.value
                    for r in stride(from: t, to: runs, by: threads) {
                        states[r].fillHeap(graph: shared.value, cover: covers.pointer + r * shared.value.rows, weights: weights[r])
                    }
                }
                for done in first..<count {
                    parallelFor(threads) { t in
                        let (states, step) = pointers.value
                        for r in stride(from: t, to: runs, by: threads) {
                            step[r] = states[r].next(graph: shared.value, cover: covers.pointer + r * shared.value.rows,
                                                     weights: weights[r]) ?? -1
                        }
                    }
                    let picks = Array(stepPointer)
                    guard picks.contains(where: { $0 >= 0 }) else { break }
                    if let quantized, picks[0] >= 0 {
                        quantized.raise(covers.pointer, along: vectors.row(picks[0]))
                    } else {
                        raiseCovers(covers, runs: runs, picks: picks, exactCover: exactCover)
                    }
                    if let progress {
                        try progress.check()
                        progress.report(fraction: Double(done + 1) / Double(count))
                    }
                }
            }
        }
        return states.map(\.result)
    }

    /// Raises run r's cover (`covers[r * rows...]`) by `picks[r]` (none when negative).
    private func raiseCovers(_ covers: SharedBuffer<Float>, runs: Int, picks: [Int], exactCover: Bool) {
        guard exactCover else {
            for (r, j) in picks.enumerated() where j >= 0 {
                let cover = covers.pointer + r * rows
                for e in offsets[j]..<offsets[j + 1] {
                    let i = Int(members[e])
                    if similarities[e] > cover[i] { cover[i] = similarities[e] }
                }
            }
            return
        }
        let active = picks.enumerated().filter { $0.element >= 0 }
        let d = vectors.dimension, m = active.count
        // The picks' vectors side by side, then per block of rows their similarities, m × block, into `products`.
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: m * d)
        defer { packed.deallocate() }
        for (p, pick) in active.enumerated() { (packed + p * d).update(from: vectors.row(pick.element), count: d) }
        let parts = max(1, min(activeCoreCount, rows / 1024))
        let shared = UncheckedSendable((self, packed, active))
        BLAS.withSingleThreadedCalls {
            parallelFor(parts) { part in
                let (graph, packed, active) = shared.value
                let rows = graph.rows
                let first = part * rows / parts, last = (part + 1) * rows / parts, width = last - first
                guard width > 0 else { return }
                let products = UnsafeMutablePointer<Float>.allocate(capacity: m * width)
                defer { products.deallocate() }
                if m == 1 {
                    BLAS.gemv(m: width, n: d, a: graph.vectors.row(first), lda: d, x: packed, y: products)
                } else {
                    BLAS.gemm(transposeB: true, m: m, n: width, k: d, a: packed, lda: d, b: graph.vectors.row(first), ldb: d,
                              c: products, ldc: width)
                }
                for (p, pick) in active.enumerated() {
                    VectorKernels.raiseToMaximum(covers.pointer + pick.offset * rows + first, products + p * width, count: width)
                }
            }
        }
    }
}

/// One run of the lazy greedy (Minoux): the picks so far and a max-heap of
/// stale gains; the next pick is the top whose fresh gain still leads.
struct LazyGreedyRun {
    private(set) var result: [Int] = []
    private var picked: [Bool]
    private var heap: GainHeap
    private let candidates: Int

    init(candidates: Int, count: Int) {
        self.candidates = candidates
        picked = [Bool](repeating: false, count: candidates)
        heap = GainHeap(capacity: candidates)
        result.reserveCapacity(count)
    }

    /// Records `j` as picked.
    mutating func take(_ j: Int) {
        picked[j] = true
        result.append(j)
    }

    /// Every candidate not picked yet, with its gain under `cover`.
    mutating func fillHeap(graph: ReverseNeighbors, cover: UnsafePointer<Float>, weights: [Float]) {
        for j in 0..<candidates where !picked[j] { heap.push(gain: graph.gain(j, cover: cover, weights: weights), row: j) }
    }

    /// The next pick under `cover` (taken), or nil when every candidate is.
    mutating func next(graph: ReverseNeighbors, cover: UnsafePointer<Float>, weights: [Float]) -> Int? {
        while let top = heap.pop() {
            let fresh = graph.gain(top.row, cover: cover, weights: weights)
            if let next = heap.peek(), GainHeap.before(next.gain, next.row, fresh, top.row) {
                heap.push(gain: fresh, row: top.row)   // stale: its true gain no longer leads
                continue
            }
            take(top.row)
            return top.row
        }
        return nil
    }
}

/// A max-heap of (gain, row), larger gain first, lower row on ties.
struct GainHeap {
    private var gains: [Float] = []
    private var rows: [Int] = []

    init(capacity: Int) {
        gains.reserveCapacity(capacity)
        rows.reserveCapacity(capacity)
    }

    /// Whether (ga, ra) comes before (gb, rb).
    @inline(__always) static func before(_ ga: Float, _ ra: Int, _ gb: Float, _ rb: Int) -> Bool {
        ga != gb ? ga > gb : ra < rb
    }

    func peek() -> (gain: Float, row: Int)? { gains.isEmpty ? nil : (gains[0], rows[0]) }

    mutating func push(gain: Float, row: Int) {
        gains.append(gain)
        rows.append(row)
        var i = gains.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(gains[i], rows[i], gains[parent], rows[parent]) else { break }
            gains.swapAt(i, parent)
            rows.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (gain: Float, row: Int)? {
        guard let top = peek() else { return nil }
        let last = gains.count - 1
        gains.swapAt(0, last)
        rows.swapAt(0, last)
        gains.removeLast()
        rows.removeLast()
        var i = 0
        let n = gains.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < n && Self.before(gains[l], rows[l], gains[best], rows[best]) { best = l }
            if r < n && Self.before(gains[r], rows[r], gains[best], rows[best]) { best = r }
            guard best != i else { break }
            gains.swapAt(i, best)
            rows.swapAt(i, best)
            i = best
        }
        return top
    }
}
