import Dispatch
import Foundation

/// The element-wise and row-wise pieces of the transformer that are not
/// matrix products: layer norm, activations, softmax, bias rows. Written over
/// 8-wide SIMD so they stay a small share of the time next to the GEMMs, and
/// split across cores with `CLIPParallel`.
enum CLIPKernels {
    typealias F8 = SIMD8<Float>

    /// `exp(x)` for 8 lanes: Cephes' single-precision polynomial after
    /// reducing by powers of two; within 2 ulp over the float range, with
    /// inputs clamped so the result neither overflows nor becomes subnormal.
    @inline(__always)
    static func exp8(_ x: F8) -> F8 {
        // Clamp with masks: the generic pointwiseMin/Max are not inlined.
        let low = F8(repeating: -87.3), high = F8(repeating: 88.3)
        let clamped = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
        // Adding 1.5·2²³ rounds to the nearest integer and leaves that integer
        // in the low mantissa bits: n as a float and as an int, with plain
        // vector arithmetic (the generic SIMD conversions are not vectorised).
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_040_888_963_4 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_359_375
        r = r + n * 2.121_944_400_546_905_8e-4
        var p = F8(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * (r * r) + r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: F8.self)
        return p * scale
    }

    /// Scalar `exp` with the same accuracy, for tails shorter than 8.
    @inline(__always)
    static func exp1(_ x: Float) -> Float { exp8(F8(repeating: x))[0] }

    // MARK: - Patches

    /// The patch embedding of `count` images (each 3 × imageSize ×
    /// imageSize, channel-major) without bias: im2col into `scratch` (one
    /// row per patch, its values in the conv kernel's (channel, y, x) order;
    /// count · patches × 3·p·p floats), then one GEMM with the conv weight
    /// [D, 3, p, p] read as D × 3·p·p, into `output` (count · patches × D).
    static func embedPatches(pixels: UnsafePointer<Float>, count: Int, imageSize side: Int, patchSize p: Int,
                             weight: UnsafePointer<Float>, width d: Int,
                             scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                             workers: Int = CLIPParallel.workers) {
        let grid = side / p, patches = grid * grid, cols = 3 * p * p
        let imageValues = 3 * side * side
        let source = UncheckedSendable(pixels), destination = UncheckedSendable(scratch)
        CLIPParallel.forEachChunk(count * patches, minimumChunk: 64, workers: workers) { range in
            let pixels = source.value, buffer = destination.value
            for row in range {
                let image = row / patches, patch = row % patches
                let py = patch / grid, px = patch % grid
                var dst = buffer + row * cols
                for c in 0..<3 {
                    for ky in 0..<p {
                        let src = pixels + image * imageValues + c * side * side + (py * p + ky) * side + px * p
                        dst.update(from: src, count: p)
                        dst += p
                    }
                }
            }
        }
        BLAS.gemm(transposeB: true, m: count * patches, n: d, k: cols,
                  a: scratch, lda: cols, b: weight, ldb: cols, c: output, ldc: d)
    }

    // MARK: - Activations

    /// Applies `activation` in place to `count` values.
    static func activate(_ activation: CLIPActivation, _ v: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .quickGELU: map(v, count) { x in x / (1 + exp8(x * -1.702)) }
        case .gelu: map(v, count) { x in 0.5 * x * (1 + erf8(x * 0.707_106_781_186_547_5)) }
        case .geluTanh:
            map(v, count) { x in
                let u = 0.797_884_560_802_865_4 * (x + 0.044_715 * x * x * x)
                // tanh(u) = 1 - 2 / (exp(2u) + 1), stable at both ends after exp's clamp.
                let t = 1 - 2 / (exp8(2 * u) + 1)
                return 0.5 * x * (1 + t)
            }
        }
    }

    /// `erf(x)` for 8 lanes: Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7),
    /// close enough to float rounding for the exact GELU.
    @inline(__always)
    static func erf8(_ x: F8) -> F8 {
        let a = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: F8.self)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p = F8(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let y = 1 - p * t * exp8(-(a * a))
        return y.replacing(with: -y, where: x .< 0)
    }

    /// Replaces each of `count` values with `f(value)`, 8 at a time.
    @inline(__always)
    static func map(_ v: UnsafeMutablePointer<Float>, _ count: Int, _ f: (F8) -> F8) {
        var i = 0
        let raw = UnsafeMutableRawPointer(v)
        while i + 8 <= count {
            let x = raw.loadUnaligned(fromByteOffset: i * 4, as: F8.self)
            raw.storeBytes(of: f(x), toByteOffset: i * 4, as: F8.self)
            i += 8
        }
        if i < count {
            var tail = F8(repeating: 0)
            for j in 0..<(count - i) { tail[j] = v[i + j] }
            let y = f(tail)
            for j in 0..<(count - i) { v[i + j] = y[j] }
        }
    }

    // MARK: - Row operations

    /// Layer norm of `rows` rows of `width` values read from `input` (row
    /// stride `inputStride`), written to `output` (row stride `outputStride`);
    /// `input` and `output` may be the same memory. Split over at most `workers` threads.
    static func layerNorm(rows: Int, width: Int, input: UnsafePointer<Float>, inputStride: Int,
                          output: UnsafeMutablePointer<Float>, outputStride: Int,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float,
                          workers: Int = CLIPParallel.workers) {
        let input = UncheckedSendable(input), output = UncheckedSendable(output), weight = UncheckedSendable(weight), bias = UncheckedSendable(bias)
        CLIPParallel.forEachChunk(rows, minimumChunk: 16, workers: workers) { range in
            for r in range {
                normalizeRow(input.value + r * inputStride, output.value + r * outputStride, width,
                             weight.value, bias.value, epsilon)
            }
        }
    }

    @inline(__always)
    private static func normalizeRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                                     _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ epsilon: Float) {
        let xr = UnsafeRawPointer(x)
        var acc = F8(repeating: 0)
        var i = 0
        while i + 8 <= n { acc += xr.loadUnaligned(fromByteOffset: i * 4, as: F8.self); i += 8 }
        var sum = acc.sum()
        while i < n { sum += x[i]; i += 1 }
        let mean = sum / Float(n)
        // Two passes: the variance of the centred values, as PyTorch computes it.
        var acc2 = F8(repeating: 0)
        i = 0
        while i + 8 <= n {
            let d = xr.loadUnaligned(fromByteOffset: i * 4, as: F8.self) - mean
            acc2 += d * d
            i += 8
        }
        var squares = acc2.sum()
        while i < n { let d = x[i] - mean; squares += d * d; i += 1 }
        let scale = 1 / (squares / Float(n) + epsilon).squareRoot()
        let yr = UnsafeMutableRawPointer(y)
        let wr = UnsafeRawPointer(w), br = UnsafeRawPointer(b)
        i = 0
        while i + 8 <= n {
            let v = (xr.loadUnaligned(fromByteOffset: i * 4, as: F8.self) - mean) * scale
            let out = v * wr.loadUnaligned(fromByteOffset: i * 4, as: F8.self) + br.loadUnaligned(fromByteOffset: i * 4, as: F8.self)
            yr.storeBytes(of: out, toByteOffset: i * 4, as: F8.self)
            i += 8
        }
        while i < n { y[i] = (x[i] - mean) * scale * w[i] + b[i]; i += 1 }
    }

    /// Softmax of each of `rows` rows of `width` values (row stride `stride`), in place.
    static func softmaxRows(_ m: UnsafeMutablePointer<Float>, rows: Int, width: Int, stride: Int) {
        for r in 0..<rows {
            let row = m + r * stride
            var maximum = -Float.infinity
            for j in 0..<width { maximum = max(maximum, row[j]) }
            if !maximum.isFinite { maximum = 0 }
            let raw = UnsafeMutableRawPointer(row)
            var acc = F8(repeating: 0)
            var j = 0
            while j + 8 <= width {
                let e = exp8(raw.loadUnaligned(fromByteOffset: j * 4, as: F8.self) - maximum)
                raw.storeBytes(of: e, toByteOffset: j * 4, as: F8.self)
                acc += e
                j += 8
            }
            var sum = acc.sum()
            while j < width { let e = exp1(row[j] - maximum); row[j] = e; sum += e; j += 1 }
            let inverse = 1 / sum
            for k in 0..<width { row[k] *= inverse }
        }
    }

    /// Sets each of `rows` rows (row stride `stride`) to `bias` (`width` values).
    static func fillRows(_ m: UnsafeMutablePointer<Float>, rows: Int, width: Int, stride: Int, with bias: UnsafePointer<Float>) {
        for r in 0..<rows { (m + r * stride).update(from: bias, count: width) }
    }

    /// Adds `bias` (`width` values) to each of `rows` rows (row stride `stride`).
    static func addRows(_ m: UnsafeMutablePointer<Float>, rows: Int, width: Int, stride: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = m + r * stride
            for j in 0..<width { row[j] += bias[j] }
        }
    }
}

/// Splits loops over the cores. Work items share no writes; buffers travel
/// as `UncheckedSendable` pointers.
enum CLIPParallel {
    /// How many chunks to split work into: the cores this process may use.
    static let workers = min(availableCoreCount, 16)

    /// Calls `body` on disjoint sub-ranges covering `0..<count`, concurrently
    /// on up to `workers` threads when there is enough work (at least
    /// `minimumChunk` items per chunk). A tower that is itself one of several
    /// running side by side passes 1: the cores are already busy.
    static func forEachChunk(_ count: Int, minimumChunk: Int = 1, workers: Int = CLIPParallel.workers,
                             _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(max(1, workers), max(1, count / max(1, minimumChunk)))
        if chunks == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let start = count * c / chunks
            let end = count * (c + 1) / chunks
            if start < end { body(start..<end) }
        }
    }
}
