import CKernels
import Dispatch
import Foundation

/// The small element-wise loops around the BLAS calls of selection: written
/// with explicit SIMD so they stay fast without compiler flags, and exact
/// (min/max only move values, never round them).
enum VectorKernels {
    /// `distances[i] = min(distances[i], 1 - dots[i])` for every `i`; returns the
    /// largest resulting distance (−∞ when every entry is −∞).
    static func lowerToCosineDistance(
        _ distances: UnsafeMutablePointer<Float>, dots: UnsafePointer<Float>, count n: Int
    ) -> Float {
        let one = SIMD8<Float>(repeating: 1)
        var best = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        let raw = UnsafeMutableRawPointer(distances)
        let rawDots = UnsafeRawPointer(dots)
        while i + 8 <= n {
            let d = rawDots.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let m = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let v = m.replacing(with: one - d, where: (one - d) .< m)
            raw.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            best = best.replacing(with: v, where: v .> best)
            i += 8
        }
        var tail = best.max()
        while i < n {
            let d = 1 - dots[i]
            if d < distances[i] { distances[i] = d }
            if distances[i] > tail { tail = distances[i] }
            i += 1
        }
        return tail
    }

    /// The largest of `n` values (−∞ for none).
    static func maximum(_ values: UnsafePointer<Float>, count n: Int) -> Float {
        var best = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        let raw = UnsafeRawPointer(values)
        while i + 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            best = best.replacing(with: v, where: v .> best)
            i += 8
        }
        var tail = best.max()
        while i < n {
            if values[i] > tail { tail = values[i] }
            i += 1
        }
        return tail
    }

    /// The largest of `n` values and the largest of the others (the largest
    /// itself once left out: equal to it when it occurs twice); −∞ for none.
    /// One sweep: each lane keeps its best two.
    static func maximumAndRunnerUp(_ values: UnsafePointer<Float>, count n: Int) -> (first: Float, second: Float) {
        let raw = UnsafeRawPointer(values)
        let (best, next, tail) = laneBestTwo(count: n) { raw.loadUnaligned(fromByteOffset: $0 * 4, as: SIMD8<Float>.self) }
        var i = tail
        var first = -Float.infinity, second = -Float.infinity
        func offer(_ v: Float) {
            if v > first { second = first; first = v } else if v > second { second = v }
        }
        for lane in 0..<8 { offer(best[lane]); second = max(second, next[lane]) }
        while i < n { offer(values[i]); i += 1 }
        return (first, second)
    }

    /// The first index holding exactly `value`, or nil.
    static func firstIndex(of value: Float, in values: UnsafePointer<Float>, count n: Int) -> Int? {
        let target = SIMD8<Float>(repeating: value)
        return firstIndex(in: values, count: n, lanes: { $0 .== target }, where: { $0 == value })
    }

    /// The first index holding a value ≥ `floor`, or nil.
    static func firstIndex(atLeast floor: Float, in values: UnsafePointer<Float>, count n: Int) -> Int? {
        let target = SIMD8<Float>(repeating: floor)
        return firstIndex(in: values, count: n, lanes: { $0 .>= target }, where: { $0 >= floor })
    }

    /// The first index whose value satisfies `test`: eight values at a time
    /// until `lanes` (the same test on a vector) finds one, then one by one.
    /// Inlined into each caller so both tests compile to plain SIMD compares.
    @inline(__always)
    private static func firstIndex(in values: UnsafePointer<Float>, count n: Int,
                                   lanes: (SIMD8<Float>) -> SIMDMask<SIMD8<Int32>>,
                                   where test: (Float) -> Bool) -> Int? {
        let raw = UnsafeRawPointer(values)
        var i = 0
        while i + 8 <= n {
            if any(lanes(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))) { break }
            i += 8
        }
        while i < n {
            if test(values[i]) { return i }
            i += 1
        }
        return nil
    }

    /// The first index of the largest value, ignoring −∞ entries; nil when all are −∞.
    static func firstArgmax(_ values: UnsafePointer<Float>, count n: Int) -> Int? {
        let best = maximum(values, count: n)
        guard best > -.infinity else { return nil }
        return firstIndex(of: best, in: values, count: n)
    }

    /// `result[i] = max(result[i], values[i])`.
    static func raiseToMaximum(_ result: UnsafeMutablePointer<Float>, _ values: UnsafePointer<Float>, count n: Int) {
        let raw = UnsafeMutableRawPointer(result)
        let rawValues = UnsafeRawPointer(values)
        var i = 0
        while i + 8 <= n {
            let a = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let b = rawValues.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            raw.storeBytes(of: a.replacing(with: b, where: b .> a), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            if values[i] > result[i] { result[i] = values[i] }
            i += 1
        }
    }
}

extension VectorKernels {
    /// The two largest of `scores[j] − offsets[j]` over `j` in `0..<n`, and
    /// where they are (first index on ties; `second` is −1 when `n` < 2).
    /// Four lanes each keep their own best two without branches, then the
    /// eight meet: a scalar scan mispredicts on most new maxima.
    @inline(__always)
    static func topTwo(_ scores: UnsafePointer<Float>, minus offsets: UnsafePointer<Float>, count n: Int)
        -> (first: Int, firstValue: Float, second: Int, secondValue: Float) {
        let rs = UnsafeRawPointer(scores), ro = UnsafeRawPointer(offsets)
        var b1 = SIMD4<Float>(repeating: -.infinity), b2 = b1
        var i1 = SIMD4<Int32>(repeating: -1), i2 = i1
        var index = SIMD4<Int32>(0, 1, 2, 3)
        var j = 0
        while j + 4 <= n {
            let v = rs.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self)
                - ro.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self)
            let beatsFirst = v .> b1, beatsSecond = v .> b2
            b2 = b2.replacing(with: v, where: beatsSecond)
            i2 = i2.replacing(with: index, where: beatsSecond)
            b2 = b2.replacing(with: b1, where: beatsFirst)
            i2 = i2.replacing(with: i1, where: beatsFirst)
            b1 = b1.replacing(with: v, where: beatsFirst)
            i1 = i1.replacing(with: index, where: beatsFirst)
            index &+= SIMD4(repeating: 4)
            j += 4
        }
        var first = -1, second = -1
        var firstValue = -Float.infinity, secondValue = -Float.infinity
        @inline(__always) func offer(_ v: Float, _ i: Int) {
            guard i >= 0 else { return }
            if first < 0 || v > firstValue || (v == firstValue && i < first) {
                second = first; secondValue = firstValue; first = i; firstValue = v
            } else if second < 0 || v > secondValue || (v == secondValue && i < second) {
                second = i; secondValue = v
            }
        }
        for lane in 0..<4 { offer(b1[lane], Int(i1[lane])) }
        for lane in 0..<4 { offer(b2[lane], Int(i2[lane])) }
        while j < n { offer(scores[j] - offsets[j], j); j += 1 }
        return (first, firstValue, second, secondValue)
    }

    /// The `count` largest of `scores[j] − offsets[j]` over `j` in `0..<n`,
    /// largest first and the first index first among equal values (as an
    /// insertion in index order leaves them), into `values` and `labels`
    /// (room for `count`); returns how many (`min(count, n)`).
    ///
    /// In C (`curator_largest`, CKernels/Largest.c): 16 AVX-512 lanes keep
    /// their best two, the count-th largest of those 32 is a threshold, and
    /// only entries that reach it are inserted. This Swift's SIMD compiles to
    /// 4-wide SSE on Linux; at 10,000 × 768, k 100 the nearest-9 lists of
    /// K-Means' first pass took 2.5 times as long that way.
    @inline(__always)
    static func largest(_ count: Int, of scores: UnsafePointer<Float>, minus offsets: UnsafePointer<Float>, count n: Int,
                        values: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) -> Int {
        Int(curator_largest(max(0, count), scores, offsets, max(0, n), values, labels))
    }

    /// Per lane, the largest and second largest of the eight-wide vectors
    /// `load(0)`, `load(8)`, … that fit in `n` values, without branches, and
    /// where the values left over for a scalar pass start. A lane's second
    /// equals its first when that value came twice.
    @inline(__always)
    private static func laneBestTwo(count n: Int, _ load: (Int) -> SIMD8<Float>)
        -> (best: SIMD8<Float>, next: SIMD8<Float>, tail: Int) {
        var best = SIMD8<Float>(repeating: -.infinity), next = best
        var i = 0
        while i + 8 <= n {
            let v = load(i)
            let beatsBest = v .> best, beatsNext = v .> next
            next = next.replacing(with: v, where: beatsNext)
            next = next.replacing(with: best, where: beatsBest)
            best = best.replacing(with: v, where: beatsBest)
            i += 8
        }
        return (best, next, i)
    }

    /// `x[t] -= y[t]` for `t` in `0..<n`.
    @inline(__always)
    static func subtract(_ y: UnsafePointer<Float>, from x: UnsafeMutablePointer<Float>, count n: Int) {
        let ry = UnsafeRawPointer(y), rx = UnsafeMutableRawPointer(x)
        var i = 0
        while i + 8 <= n {
            let v = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                - ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            rx.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { x[i] -= y[i]; i += 1 }
    }

    /// `sum[t] += x[t]` for `t` in `0..<n`.
    @inline(__always)
    static func accumulate(_ x: UnsafePointer<Float>, into sum: UnsafeMutablePointer<Float>, count n: Int) {
        let rx = UnsafeRawPointer(x), rs = UnsafeMutableRawPointer(sum)
        var i = 0
        while i + 8 <= n {
            let v = rs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            rs.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { sum[i] += x[i]; i += 1 }
    }
}

/// Calls `body(thread, rows)` for consecutive blocks of `blockRows` of
/// `count` rows, in chunks of 16 blocks per thread whose blocks are spread
/// over `threads` cores (thread t takes every t-th block), and `onChunk`
/// with the fraction done after each chunk (it may throw to stop: a
/// cancelled pass ends at a chunk boundary).
func forEachRowBlock(count: Int, blockRows: Int, threads: Int, onChunk: (Double) throws -> Void,
                     _ body: (Int, Range<Int>) -> Void) throws {
    let chunkRows = blockRows * threads * 16
    var chunkStart = 0
    while chunkStart < count {
        let chunkEnd = min(count, chunkStart + chunkRows)
        let blocks = (chunkEnd - chunkStart + blockRows - 1) / blockRows
        parallelFor(threads) { t in
            for block in stride(from: t, to: blocks, by: threads) {
                let start = chunkStart + block * blockRows
                body(t, start..<min(chunkEnd, start + blockRows))
            }
        }
        chunkStart = chunkEnd
        try onChunk(Double(chunkStart) / Double(count))
    }
}
