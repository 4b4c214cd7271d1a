#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small numeric kernels the map's hot loops run millions of times.
enum MapKernels {
    /// The dot product of two `count`-long float vectors.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var s0 = SIMD8<Float>.zero, s1 = SIMD8<Float>.zero, s2 = SIMD8<Float>.zero, s3 = SIMD8<Float>.zero
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        // Four independent accumulators hide the add latency.
        while i + 32 <= count {
            let o = i * 4
            s0 += ra.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            s1 += ra.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self)
            s2 += ra.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self)
            s3 += ra.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self)
            i += 32
        }
        while i + 8 <= count {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
        while i < count { sum += a[i] * b[i]; i += 1 }
        return sum
    }

    /// Cosine distance between two unit vectors: 1 − a·b, never negative.
    @inline(__always)
    static func cosineDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        max(1 - dot(a, b, count), 0)
    }
}

/// A function of a squared distance, tabulated for the layout's inner loop:
/// 64 intervals per octave of d² over [2⁻²⁴, 2²⁴], linear inside each
/// (relative error below 2e-4 for UMAP's curves), indexed straight from the float's bits. Lookups
/// replace a power and a division per sample; d² outside the range is
/// clamped to it (in a map spanning tens of units neither end matters).
///
/// `@unchecked Sendable`: the table is written once in `init` and only read after.
final class SquaredDistanceTable: @unchecked Sendable {
    private static let perOctave = 64
    private static let lowOctave = -24, octaves = 48
    private static let low = Float(sign: .plus, exponent: lowOctave, significand: 1)
    private static let high = Float(sign: .plus, exponent: lowOctave + octaves, significand: 1)
    /// The bits of `low`, shifted to the table's resolution.
    private static let base = Int(low.bitPattern >> 17)
    /// Interleaved (value at the interval's start, change across it).
    private let table: UnsafeMutablePointer<Float>
    private let count = octaves * perOctave

    /// Tabulates `function` (evaluated in Double).
    init(_ function: (Double) -> Double) {
        table = .allocate(capacity: 2 * (count + 1))
        for i in 0...count {
            let start = Double(Float(bitPattern: UInt32((Self.base + i) << 17)))
            let end = Double(Float(bitPattern: UInt32((Self.base + i + 1) << 17)))
            let value = function(start)
            table[2 * i] = Float(value)
            table[2 * i + 1] = Float(function(end) - value)
        }
    }

    deinit { table.deallocate() }

    /// The function at `d2` (any non-negative value).
    @inline(__always)
    func callAsFunction(_ d2: Float) -> Float {
        let x = min(max(d2, Self.low), Self.high)
        let bits = Int(x.bitPattern)
        let i = min((bits >> 17) - Self.base, count)
        let fraction = Float(bits & 0x1FFFF) * (1 / 131_072)
        return table[2 * i] + fraction * table[2 * i + 1]
    }
}
