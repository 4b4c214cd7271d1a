#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// UMAP's stochastic gradient descent on the map (umap-learn's
/// `optimize_layout_euclidean`): each edge is sampled in proportion to its
/// weight, pulls its two ends together along the fitted curve, and pushes
/// its head away from `negativeSampleRate` random points; the learning rate
/// falls linearly to zero over the epochs.
///
/// Parallel and still deterministic: the points are cut into `partitions`
/// fixed ranges, each owning the edges whose head it holds. Every epoch runs
/// in `steps` rounds; within a round a partition moves only its own points,
/// sees other partitions' points as they were at the round's start, and
/// queues the pulls it gives their points, which their owners apply in a
/// fixed order at the round's end. Nothing depends on thread timing, and
/// the partition count is fixed, so the map is the same on any machine.
///
/// Past `negativePoolAbove` points the repelling points are drawn from a
/// pool: every round each partition gathers `negativePoolSize` points,
/// chosen uniformly at random, into a small block, and draws its negative
/// samples from it. Each sample is still a uniformly random point as the
/// round began, but it is read from a block that stays in the core's cache
/// instead of from anywhere in megabytes of points (at a million points a
/// random read of the map costs about five times one of the block).
struct LayoutOptimizer {
    var curve: UMAPCurve
    var epochs: Int
    var negativeSampleRate = 5
    var repulsion: Float = 1
    var initialAlpha: Float = 1
    var seed: UInt64
    /// Point ranges optimised side by side (independent of the core count).
    var partitions = 4
    /// Graphs with fewer edges run as one partition: too little work per
    /// round to pay for the synchronisation.
    var partitionThreshold = 32_768
    /// Synchronisation rounds per epoch.
    var steps = 8
    /// Maps of more points than this draw negative samples from a pool.
    var negativePoolAbove = UMAP.negativePoolLimit
    /// Points per pool (32,768 × 8 bytes: a quarter of a core's L2 cache).
    var negativePoolSize = 32_768

    /// Optimises `points` (x, y interleaved, `count` points) in place along
    /// `graph`'s edges (sorted by head). Only points with `movable[i]` move
    /// when `movable` is given (for placing new points into a fixed map);
    /// edges whose head is fixed are then skipped.
    ///
    /// `stop` is asked after every epoch with the epochs done; when it
    /// answers true the optimisation ends early and this returns false.
    @discardableResult
    func optimize(points: inout [Float], count: Int, graph: FuzzySimplicialSet, movable: [Bool]? = nil,
                  stop: (Int) -> Bool = { _ in false }) -> Bool {
        let edges = graph.weights.count
        guard edges > 0, count > 1, epochs > 0 else { return true }
        let strongest = graph.weights.max() ?? 1
        let perSample = SharedBuffer<Float>(repeating: -1, count: edges)
        let perNegative = SharedBuffer<Float>(repeating: -1, count: edges)
        let nextSample = SharedBuffer<Float>(repeating: .infinity, count: edges)
        let nextNegative = SharedBuffer<Float>(repeating: .infinity, count: edges)
        let rate = Float(max(negativeSampleRate, 0))
        for e in 0..<edges where graph.weights[e] > 0 && (movable?[Int(graph.heads[e])] ?? true) {
            perSample[e] = strongest / graph.weights[e]
            nextSample[e] = perSample[e]
            perNegative[e] = rate > 0 ? perSample[e] / rate : .infinity
            nextNegative[e] = perNegative[e]
        }

        // Partition p owns points [bounds[p], bounds[p+1]) and, the graph
        // being sorted by head, the edges [edgeBounds[p], edgeBounds[p+1]).
        let parts = edges < partitionThreshold ? 1 : max(1, min(partitions, count))
        let bounds = (0...parts).map { $0 * count / parts }
        var edgeBounds = [0]
        var e = 0
        for p in 1..<parts {
            while e < edges && Int(graph.heads[e]) < bounds[p] { e += 1 }
            edgeBounds.append(e)
        }
        edgeBounds.append(edges)
        var owner = [Int32](repeating: 0, count: count)
        for p in 0..<parts { for i in bounds[p]..<bounds[p + 1] { owner[i] = Int32(p) } }

        let live = SharedBuffer<Float>(repeating: 0, count: 2 * count)
        let snapshot = SharedBuffer<Float>(repeating: 0, count: 2 * count)
        live.pointer.update(from: points, count: 2 * count)
        snapshot.pointer.update(from: points, count: 2 * count)
        let queues = SharedBuffer<[Pull]>(repeating: [], count: parts * parts)
        let moveAll = movable == nil, mask = movable ?? []
        let heads = graph.heads, tails = graph.tails
        // The attraction and repulsion coefficients as functions of d²,
        // tabulated once: no power or division per sample.
        let (ad, bd, gamma) = (curve.a, curve.b, Double(repulsion))
        let attraction = SquaredDistanceTable { d2 in
            -2 * ad * bd * pow(d2, bd - 1) / (ad * pow(d2, bd) + 1)
        }
        let repulsionCoefficient = SquaredDistanceTable { d2 in
            2 * gamma * bd / ((0.001 + d2) * (ad * pow(d2, bd) + 1))
        }
        let rounds = max(1, steps)
        var finished = true
        // Each partition's pool: the points' round-start positions, then their numbers.
        let poolSize = count > negativePoolAbove ? max(1, min(negativePoolSize, count)) : 0
        let poolPoints = SharedBuffer<Float>(repeating: 0, count: parts * poolSize * 2)
        let poolIndices = SharedBuffer<Int32>(repeating: 0, count: parts * poolSize)

        for epoch in 0..<epochs {
            let alpha = initialAlpha * (1 - Float(epoch) / Float(epochs))
            let now = Float(epoch)
            for round in 0..<rounds {
                parallelFor(parts) { p in
                    let first = edgeBounds[p], total = edgeBounds[p + 1] - first
                    let range = (first + total * round / rounds)..<(first + total * (round + 1) / rounds)
                    var random = Xoshiro256StarStar(seed: seed, stream: (UInt64(epoch) &* 1_000_003 &+ UInt64(round)) &* 64 &+ UInt64(p))
                    let y = live.pointer, old = snapshot.pointer
                    let next = nextSample.pointer, nextNeg = nextNegative.pointer
                    let every = perSample.pointer, everyNeg = perNegative.pointer
                    let mine = bounds[p]..<bounds[p + 1]
                    var pulls: [[Pull]] = Array(repeating: [], count: parts)
                    let pool = poolPoints.pointer + p * poolSize * 2, poolIndex = poolIndices.pointer + p * poolSize
                    for i in 0..<poolSize {
                        let m = random.nextIntFast(below: count)
                        pool[2 * i] = old[2 * m]; pool[2 * i + 1] = old[2 * m + 1]
                        poolIndex[i] = Int32(m)
                    }
                    // Negative samples come from the pool when there is one, else from every point.
                    let candidates = poolSize > 0 ? UnsafePointer(pool) : UnsafePointer(old)
                    let candidateCount = poolSize > 0 ? poolSize : count
                    for e in range where next[e] <= now {
                        let j = Int(heads[e]), k = Int(tails[e])
                        // Scalar code: SIMD2 arithmetic compiles to slower code here.
                        var cx = y[2 * j], cy = y[2 * j + 1]
                        let ownTail = mine.contains(k)
                        let ox = ownTail ? y[2 * k] : old[2 * k], oy = ownTail ? y[2 * k + 1] : old[2 * k + 1]
                        let dx = cx - ox, dy = cy - oy
                        let d2 = dx * dx + dy * dy
                        if d2 > 0 {
                            let coefficient = attraction(d2)
                            let gx = clip(coefficient * dx) * alpha, gy = clip(coefficient * dy) * alpha
                            cx += gx; cy += gy
                            if moveAll || mask[k] {
                                if ownTail {
                                    y[2 * k] = ox - gx; y[2 * k + 1] = oy - gy
                                } else {
                                    pulls[Int(owner[k])].append(Pull(point: Int32(k), dx: -gx, dy: -gy))
                                }
                            }
                        }
                        next[e] += every[e]

                        let negatives = Int((now - nextNeg[e]) / everyNeg[e])
                        if negatives > 0 {
                            // All of an edge's repulsions are computed from the
                            // same position and applied together: independent
                            // samples overlap in the CPU instead of waiting on
                            // each other's power function.
                            var sx: Float = 0, sy: Float = 0
                            for _ in 0..<negatives {
                                let m = random.nextIntFast(below: candidateCount)
                                if (poolSize > 0 ? Int(poolIndex[m]) : m) == j { continue }
                                // Repelling points are read as the round began
                                // (own ones too): no unpredictable branch.
                                let nx = cx - candidates[2 * m], ny = cy - candidates[2 * m + 1]
                                let n2 = nx * nx + ny * ny
                                if n2 > 0 {
                                    let coefficient = repulsionCoefficient(n2)
                                    sx += clip(coefficient * nx)
                                    sy += clip(coefficient * ny)
                                }
                            }
                            cx += sx * alpha
                            cy += sy * alpha
                            nextNeg[e] += Float(negatives) * everyNeg[e]
                        }
                        y[2 * j] = cx; y[2 * j + 1] = cy
                    }
                    for target in 0..<parts { queues[p * parts + target] = pulls[target] }
                }
                // Owners apply the pulls queued for their points, by source
                // partition order, then publish their points for the next round.
                parallelFor(parts) { p in
                    let y = live.pointer
                    for source in 0..<parts where source != p {
                        for pull in queues[source * parts + p] {
                            y[2 * Int(pull.point)] += pull.dx
                            y[2 * Int(pull.point) + 1] += pull.dy
                        }
                        queues[source * parts + p] = []
                    }
                    let start = 2 * bounds[p], length = 2 * (bounds[p + 1] - bounds[p])
                    (snapshot.pointer + start).update(from: live.pointer + start, count: length)
                }
            }
            if stop(epoch + 1) {
                finished = epoch + 1 == epochs
                break
            }
        }
        points = live.array
        return finished
    }

    /// A pull one partition gives a point another partition owns.
    private struct Pull {
        var point: Int32
        var dx: Float
        var dy: Float
    }

    @inline(__always)
    private func clip(_ v: Float) -> Float {
        v < -4 ? -4 : (v > 4 ? 4 : v)
    }
}
