// The project's one family of seeded generators: a seed gives the same numbers
// on every platform and Swift version (selection iterations, K-Means seeding,
// the map's trees and epochs, Lua's ctx.random).

/// SplitMix64: a tiny generator that turns one 64-bit seed into a stream of
/// well-mixed 64-bit values. Monte Carlo runs draw their iteration seeds from
/// it, so a master seed gives the same iterations on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state.
    public private(set) var state: UInt64

    /// Creates a generator whose stream is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next value of the stream.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// xoshiro256**: the fast, statistically strong generator each sampler
/// iteration uses. Its bounded and floating-point draws are defined here
/// (not by the standard library, whose algorithms may change between Swift
/// versions), so a seed gives the same picks everywhere.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// Creates a generator seeded through SplitMix64, as the authors recommend.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        s0 = mixer.next(); s1 = mixer.next(); s2 = mixer.next(); s3 = mixer.next()
    }

    /// A generator for `seed` whose `stream` separates independent uses of one
    /// seed (tree 3, epoch 7, …) so they do not share a sequence.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: Self.mix(seed, stream))
    }

    /// A well-mixed 64-bit hash of two values: independent streams of one seed,
    /// and random priorities that do not depend on the order threads reach them.
    @inline(__always)
    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-and-reject method);
    /// `bound` must be positive.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// `count` distinct integers drawn uniformly from `0..<n`, in random
    /// order (a partial Fisher–Yates shuffle); all of them when `count` ≥ `n`.
    public mutating func sample(_ count: Int, from n: Int) -> [Int] {
        var order = Array(0..<n)
        let count = min(count, n)
        for i in 0..<count { order.swapAt(i, i + nextInt(below: n - i)) }
        return Array(order.prefix(count))
    }

    /// A uniform integer in `0..<bound` (`bound` > 0) by multiply-high alone,
    /// without `nextInt(below:)`'s rejection step: a bias below bound / 2^64,
    /// for the map's hot loops (whose layouts were fixed with this draw).
    @inline(__always)
    public mutating func nextIntFast(below bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A uniform `Double` in `[0, 1)` with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal value (Box–Muller).
    public mutating func nextGaussian() -> Double {
        let u = max(nextDouble(), 0x1.0p-53), v = nextDouble()
        return (-2 * _log(u)).squareRoot() * _cos(2 * Double.pi * v)
    }

    @inline(__always) private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
