import Foundation
@testable import CuratorCore

/// Seeded synthetic embeddings for the map tests.
enum MapTestData {
    /// `groups` clusters of `perGroup` unit vectors in `dimension` dimensions:
    /// cluster g is centred on a random direction, members spread by `noise`.
    /// Returns the matrix and each row's cluster.
    static func clusters(groups: Int, perGroup: Int, dimension: Int, noise: Float = 0.25,
                         seed: UInt64 = 1) -> (EmbeddingMatrix, [Int]) {
        var random = Xoshiro256StarStar(seed: seed, stream: 0)
        func gaussian() -> Float { Float(random.nextGaussian()) }
        let centres = (0..<groups).map { _ in (0..<dimension).map { _ in gaussian() } }
        var values: [Float] = []
        var labels: [Int] = []
        for g in 0..<groups {
            for _ in 0..<perGroup {
                for j in 0..<dimension { values.append(centres[g][j] + noise * gaussian()) }
                labels.append(g)
            }
        }
        let matrix = EmbeddingMatrix(rows: groups * perGroup, dimension: dimension, values: values)
        matrix.normalizeRows()
        return (matrix, labels)
    }

    /// A matrix from explicit rows, normalised.
    static func matrix(_ rows: [[Float]]) -> EmbeddingMatrix {
        let matrix = EmbeddingMatrix(rows: rows.count, dimension: rows.first?.count ?? 0, values: rows.flatMap { $0 })
        matrix.normalizeRows()
        return matrix
    }

    /// The mean of some points.
    static func centroid(_ points: [SIMD2<Float>]) -> SIMD2<Float> {
        points.reduce(.zero, +) / Float(max(points.count, 1))
    }

    /// The fraction of points whose nearest other point on the map has their label.
    static func nearestAgreement(_ points: [SIMD2<Float>], labels: [Int]) -> Double {
        var agree = 0
        for i in points.indices {
            var best = -1
            var bestDistance = Float.infinity
            for j in points.indices where j != i && distance(points[i], points[j]) < bestDistance {
                best = j
                bestDistance = distance(points[i], points[j])
            }
            if labels[best] == labels[i] { agree += 1 }
        }
        return Double(agree) / Double(max(points.count, 1))
    }
}

func distance(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> Float {
    ((a - b) * (a - b)).sum().squareRoot()
}
