#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The curve 1 / (1 + a·d^(2b)) UMAP uses for similarity in the map,
/// fitted by least squares to the target that is 1 up to `minDist` and
/// exp(−(d − minDist)/spread) beyond, on 300 points of [0, 3·spread]:
/// the same fit as umap-learn's `find_ab_params` (scipy's curve_fit,
/// Levenberg–Marquardt from a = b = 1).
public struct UMAPCurve: Sendable, Hashable, Codable {
    /// The curve's scale.
    public let a: Double
    /// The curve's exponent.
    public let b: Double

    /// Creates a curve from known parameters.
    public init(a: Double, b: Double) {
        self.a = a
        self.b = b
    }

    /// The least-squares fit for `minDist` and `spread`.
    public static func fit(minDist: Double, spread: Double = 1) -> UMAPCurve {
        let xs = (0..<300).map { 3 * spread * Double($0) / 299 }
        let ys = xs.map { $0 < minDist ? 1 : exp(-($0 - minDist) / spread) }
        func residuals(_ a: Double, _ b: Double) -> Double {
            var sum = 0.0
            for (x, y) in zip(xs, ys) {
                let f = 1 / (1 + a * pow(x, 2 * b))
                sum += (f - y) * (f - y)
            }
            return sum
        }
        var a = 1.0, b = 1.0, lambda = 1e-3
        var cost = residuals(a, b)
        for _ in 0..<500 {
            // Normal equations JᵀJ·δ = −Jᵀr with Marquardt's damping.
            var jaa = 0.0, jab = 0.0, jbb = 0.0, ga = 0.0, gb = 0.0
            for (x, y) in zip(xs, ys) where x > 0 {
                let p = pow(x, 2 * b)
                let denominator = 1 + a * p
                let f = 1 / denominator
                let r = f - y
                let da = -p / (denominator * denominator)
                let db = -a * p * 2 * log(x) / (denominator * denominator)
                jaa += da * da; jab += da * db; jbb += db * db
                ga += da * r; gb += db * r
            }
            var improved = false
            for _ in 0..<40 {
                let m11 = jaa * (1 + lambda), m22 = jbb * (1 + lambda)
                let determinant = m11 * m22 - jab * jab
                guard determinant != 0 else { lambda *= 10; continue }
                let stepA = -(m22 * ga - jab * gb) / determinant
                let stepB = -(m11 * gb - jab * ga) / determinant
                let trial = residuals(a + stepA, b + stepB)
                if trial.isFinite && trial < cost {
                    let relative = (cost - trial) / max(cost, 1e-300)
                    a += stepA; b += stepB; cost = trial
                    lambda = max(lambda / 10, 1e-12)
                    improved = relative > 1e-15
                    break
                }
                lambda *= 10
            }
            if !improved { break }
        }
        return UMAPCurve(a: a, b: b)
    }
}
