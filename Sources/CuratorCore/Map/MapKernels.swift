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

    /// x^y for positive x, to ~1e-5 relative (y·log2 x within ±126):
    /// gradient coefficients need no more, and this is several times faster
    /// than `powf`. Polynomials are evaluated in Estrin's form to keep the
    /// dependency chains short; the layout's inner loop waits on them.
    @inline(__always)
    static func fastPow(_ x: Float, _ y: Float) -> Float {
        fastExp2(y * fastLog2(x))
    }

    /// log2(x) for positive normal x, to ~2e-6 absolute.
    @inline(__always)
    static func fastLog2(_ x: Float) -> Float {
        let bits = x.bitPattern
        let exponent = Float(Int32(truncatingIfNeeded: bits >> 23) &- 127)
        // Mantissa m in [1, 2); log2(m) = (2/ln 2)·(t + t³/3 + t⁵/5 + …) with t = (m−1)/(m+1) < 1/3.
        let m = Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F80_0000)
        let t = (m - 1) / (m + 1)
        let t2 = t * t, t4 = t2 * t2
        let p = (2.8853901 + 0.96179669 * t2) + t4 * ((0.57707802 + 0.41219857 * t2) + t4 * 0.32059889)
        return exponent + t * p
    }

    /// 2^z for z in about [−126, 126], to ~3e-6 relative.
    @inline(__always)
    static func fastExp2(_ z: Float) -> Float {
        let clamped = min(max(z, -126), 126)
        // Round to nearest by the 1.5·2^23 trick; f is then in [−0.5, 0.5].
        let whole = (clamped + 12_582_912) - 12_582_912
        let f = clamped - whole
        let f2 = f * f
        // Taylor series of e^(f·ln 2) to degree 5: error below 3e-6 on [−0.5, 0.5].
        let q = (1 + 0.69314718 * f) + f2 * ((0.24022651 + 0.05550411 * f) + f2 * (0.0096181291 + 0.0013333558 * f))
        let scale = Float(bitPattern: UInt32(bitPattern: (Int32(whole) &+ 127) << 23))
        return q * scale
    }
}

/// x^b for one fixed exponent b, faster than `MapKernels.fastPow`: log2
/// by table lookup with linear interpolation (256 intervals of the mantissa,
/// error below 3e-6) instead of a division and a polynomial. The layout's
/// inner loop is a chain of these, so their latency is its speed.
///
/// `@unchecked Sendable`: the table is written once in `init` and only read after.
final class PowerTable: @unchecked Sendable {
    let exponent: Float
    /// Interleaved (log2 at the interval's start, slope per unit fraction).
    private let table: UnsafeMutablePointer<Float>

    init(exponent: Float) {
        self.exponent = exponent
        table = .allocate(capacity: 512)
        for i in 0..<256 {
            let start = log2(1 + Double(i) / 256), end = log2(1 + Double(i + 1) / 256)
            table[2 * i] = Float(start)
            table[2 * i + 1] = Float(end - start)
        }
    }

    deinit { table.deallocate() }

    /// x^exponent for positive normal x, to ~1e-5 relative.
    @inline(__always)
    func power(_ x: Float) -> Float {
        let bits = x.bitPattern
        let e = Float(Int32(truncatingIfNeeded: bits >> 23) &- 127)
        let i = Int((bits >> 15) & 0xFF)
        let fraction = Float(Int32(truncatingIfNeeded: bits & 0x7FFF)) * (1 / 32_768)
        let log = e + (table[2 * i] + fraction * table[2 * i + 1])
        return MapKernels.fastExp2(exponent * log)
    }
}
