/// UMAP's stochastic gradient descent on the map (umap-learn's
/// `optimize_layout_euclidean`): each edge is sampled in proportion to its
/// weight, pulls its two ends together along the fitted curve, and pushes
/// its head away from `negativeSampleRate` random points; the learning rate
/// falls linearly to zero over the epochs.
///
/// Single-threaded on purpose: edges sharing a point update it in sequence,
/// so the same seed always gives the same map (umap-learn is deterministic
/// only single-threaded too).
struct LayoutOptimizer {
    var curve: UMAPCurve
    var epochs: Int
    var negativeSampleRate = 5
    var repulsion: Float = 1
    var initialAlpha: Float = 1
    var seed: UInt64

    /// Optimises `points` (x, y interleaved, `count` points) in place along
    /// `graph`'s edges. Only points with `movable[i]` move when `movable` is
    /// given (for placing new points into a fixed map); then edges whose head
    /// is fixed are skipped.
    ///
    /// `stop` is asked after every epoch with the epochs done; when it
    /// answers true the optimisation ends early and this returns false.
    @discardableResult
    func optimize(points: inout [Float], count: Int, graph: FuzzySimplicialSet, movable: [Bool]? = nil,
                  stop: (Int) -> Bool = { _ in false }) -> Bool {
        let edges = graph.weights.count
        guard edges > 0, count > 1, epochs > 0 else { return true }
        let a = Float(curve.a), b = Float(curve.b)
        let strongest = graph.weights.max() ?? 1
        var epochsPerSample = [Float](repeating: -1, count: edges)
        for e in 0..<edges where graph.weights[e] > 0 {
            epochsPerSample[e] = strongest / graph.weights[e]
        }
        let rate = Float(negativeSampleRate)
        var epochsPerNegative = epochsPerSample.map { $0 / rate }
        var nextSample = epochsPerSample
        var nextNegative = epochsPerNegative
        if let movable {
            for e in 0..<edges where !movable[Int(graph.heads[e])] {
                epochsPerSample[e] = -1
                nextSample[e] = .infinity
            }
        }
        let random = MapRandom(seed: seed, stream: 0x7367_6400)
        let twoAB = 2 * a * b, twoGammaB = 2 * repulsion * b
        var finished = true

        points.withUnsafeMutableBufferPointer { buffer in
            let y = buffer.baseAddress!
            graph.heads.withUnsafeBufferPointer { heads in
            graph.tails.withUnsafeBufferPointer { tails in
            epochsPerNegative.withUnsafeMutableBufferPointer { perNegative in
            nextSample.withUnsafeMutableBufferPointer { next in
            nextNegative.withUnsafeMutableBufferPointer { nextNeg in
            epochsPerSample.withUnsafeBufferPointer { perSample in
                let moveAll = movable == nil, mask = movable ?? []
                var random = random  // a local copy stays in registers
                for epoch in 0..<epochs {
                    let alpha = initialAlpha * (1 - Float(epoch) / Float(epochs))
                    let now = Float(epoch)
                    for e in 0..<edges where next[e] <= now {
                        let j = Int(heads[e]), k = Int(tails[e])
                        // Scalar code: SIMD2 arithmetic compiles to slower code here.
                        var cx = y[2 * j], cy = y[2 * j + 1]
                        let ox = y[2 * k], oy = y[2 * k + 1]
                        let dx = cx - ox, dy = cy - oy
                        let d2 = dx * dx + dy * dy
                        if d2 > 0 {
                            let power = VectorKernels.fastPow(d2, b)
                            let coefficient = -twoAB * power / (d2 * (a * power + 1))
                            let gx = clip(coefficient * dx) * alpha, gy = clip(coefficient * dy) * alpha
                            cx += gx; cy += gy
                            if moveAll || mask[k] {
                                y[2 * k] = ox - gx; y[2 * k + 1] = oy - gy
                            }
                        }
                        next[e] += perSample[e]

                        let negatives = Int((now - nextNeg[e]) / perNegative[e])
                        if negatives > 0 {
                            // All of an edge's repulsions are computed from the
                            // same position and applied together: independent
                            // samples overlap in the CPU instead of waiting on
                            // each other's power function.
                            var sx: Float = 0, sy: Float = 0
                            for _ in 0..<negatives {
                                let m = random.next(below: count)
                                if m == j { continue }
                                let nx = cx - y[2 * m], ny = cy - y[2 * m + 1]
                                let n2 = nx * nx + ny * ny
                                if n2 > 0 {
                                    let power = VectorKernels.fastPow(n2, b)
                                    let coefficient = twoGammaB / ((0.001 + n2) * (a * power + 1))
                                    sx += clip(coefficient * nx)
                                    sy += clip(coefficient * ny)
                                }
                            }
                            cx += sx * alpha
                            cy += sy * alpha
                            nextNeg[e] += Float(negatives) * perNegative[e]
                        }
                        y[2 * j] = cx; y[2 * j + 1] = cy
                    }
                    if stop(epoch + 1) {
                        finished = epoch + 1 == epochs
                        break
                    }
                }
            }
            }
            }
            }
            }
            }
        }
        return finished
    }

    @inline(__always)
    private func clip(_ v: Float) -> Float {
        v < -4 ? -4 : (v > 4 ? 4 : v)
    }
}
