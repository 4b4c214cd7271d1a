import XCTest
@testable import CuratorCore

final class PrincipalSubspaceTests: XCTestCase {
    /// LAPACK's eigensolver through the loaded BLAS library: the leading
    /// eigenvectors of a symmetric matrix, largest eigenvalue first.
    func testLeadingEigenvectorsComeLargestFirst() throws {
        // diag(1, 5, 3, 2): the leading three are e1, e2, e3 (0-based), in that order.
        var matrix = [Float](repeating: 0, count: 16)
        for (i, v) in [Float(1), 5, 3, 2].enumerated() { matrix[i * 4 + i] = v }
        let basis = try XCTUnwrap(BLAS.leadingEigenvectors(ofSymmetric: matrix, n: 4, count: 3))
        XCTAssertEqual(basis.count, 12)
        for (column, axis) in [1, 2, 3].enumerated() {
            for row in 0..<4 {
                XCTAssertEqual(abs(basis[row * 3 + column]), row == axis ? 1 : 0, accuracy: 1e-5, "column \(column) row \(row)")
            }
        }
        XCTAssertNil(BLAS.leadingEigenvectors(ofSymmetric: matrix, n: 3, count: 2), "a matrix of the wrong size is refused")
    }

    /// Vectors spread along four known directions (not coordinate axes) and
    /// barely along the rest: the subspace of rank 4 is theirs, keeps almost
    /// all the variance, and projecting then lifting gives a row back.
    func testFindsTheDirectionsOfLargestSpread() throws {
        let n = 2000, d = 32, rank = 4
        var random = Xoshiro256StarStar(seed: 3)
        // Orthonormal directions, each orthogonal to the constant vector: sign patterns over 32 coordinates.
        let directions: [[Float]] = (0..<rank).map { a in
            (0..<d).map { j in ((j >> a) & 1 == 0 ? 1 : -1) / Float(d).squareRoot() }
        }
        var values = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            for (a, direction) in directions.enumerated() {
                let s = Float(4 - a) * SelectionTestData.gaussian(&random)
                for j in 0..<d { values[i * d + j] += s * direction[j] }
            }
            for j in 0..<d { values[i * d + j] += 2 + 0.01 * SelectionTestData.gaussian(&random) }
        }
        let sample = values.withUnsafeBufferPointer { v in (0..<n).map { v.baseAddress! + $0 * d } }
        let subspace = try XCTUnwrap(PrincipalSubspace(sample: sample, dimension: d, rank: rank))
        XCTAssertGreaterThan(subspace.retainedVariance, 0.999)
        // Each known direction lies in the span of the basis.
        for direction in directions {
            var inSpan: Float = 0
            for column in 0..<rank {
                var dot: Float = 0
                for j in 0..<d { dot += direction[j] * subspace.basis[j * rank + column] }
                inSpan += dot * dot
            }
            XCTAssertEqual(inSpan, 1, accuracy: 1e-3)
        }
        // Projection then lift: a row minus its offset along the rest comes back.
        var projected = [Float](repeating: 0, count: rank), lifted = [Float](repeating: 0, count: d)
        values.withUnsafeBufferPointer { subspace.project($0.baseAddress!, count: 1, into: &projected) }
        subspace.lift(projected, into: &lifted)
        var outside: Float = 0
        for j in 0..<d { outside += (values[j] - lifted[j]) * (values[j] - lifted[j]) }
        // What is left is the constant offset 2 (orthogonal to the sign patterns) and the noise.
        XCTAssertEqual(outside, 4 * Float(d), accuracy: 0.5)
        XCTAssertNil(PrincipalSubspace(sample: Array(sample.prefix(3)), dimension: d, rank: rank), "too small a sample")
    }

    /// Randomized subspace iteration (used when the rank is well under the
    /// dimension, as for CLIP's 512 and 768) finds LAPACK's leading axes of a
    /// covariance whose eigenvalues decay slowly, as embeddings' do, and
    /// returns them orthonormal, largest first.
    func testSubspaceIterationFindsTheLeadingAxes() throws {
        let d = 192, rank = 24, width = 40
        var random = Xoshiro256StarStar(seed: 11)
        // A random orthonormal basis (Gram–Schmidt), eigenvalues 1 / (i + 1).
        var axes: [[Double]] = []
        while axes.count < d {
            var v = (0..<d).map { _ in random.nextGaussian() }
            for a in axes { let dot = zip(a, v).reduce(0) { $0 + $1.0 * $1.1 }; for j in 0..<d { v[j] -= dot * a[j] } }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            axes.append(v.map { $0 / norm })
        }
        var covariance = [Float](repeating: 0, count: d * d)
        for (i, a) in axes.enumerated() {
            let value = 1 / Double(i + 1)
            for r in 0..<d { for c in 0..<d { covariance[r * d + c] += Float(value * a[r] * a[c]) } }
        }
        let exact = try XCTUnwrap(BLAS.leadingEigenvectors(ofSymmetric: covariance, n: d, count: rank))
        /// Column `column`'s squared length, and its dot product with LAPACK's.
        func measure(_ axes: [Float], _ column: Int) -> (norm: Float, agreement: Float) {
            var norm: Float = 0, agreement: Float = 0
            for j in 0..<d {
                norm += axes[j * rank + column] * axes[j * rank + column]
                agreement += axes[j * rank + column] * exact[j * rank + column]
            }
            return (norm, agreement)
        }
        // K-Means' single step: orthonormal, and the leading axes (those its
        // distances mostly come from) still LAPACK's.
        let single = try XCTUnwrap(PrincipalSubspace.subspaceIteration(covariance, dimension: d, rank: rank, width: width, steps: 1))
        for column in 0..<rank {
            let (norm, agreement) = measure(single, column)
            XCTAssertEqual(norm, 1, accuracy: 1e-4, "one step: axis \(column) has unit length")
            if column < rank / 4 { XCTAssertGreaterThan(abs(agreement), 0.99, "one step: axis \(column) is LAPACK's") }
        }
        let found = try XCTUnwrap(PrincipalSubspace.subspaceIteration(covariance, dimension: d, rank: rank, width: width))
        for column in 0..<rank {
            let (norm, agreement) = measure(found, column)
            XCTAssertEqual(norm, 1, accuracy: 1e-4, "axis \(column) has unit length")
            // The last few axes, whose eigenvalues lie within a few % of the next, may mix a little.
            XCTAssertGreaterThan(abs(agreement), column < rank / 2 ? 0.999 : 0.9, "axis \(column) is LAPACK's")
            for other in 0..<column {
                var dot: Float = 0
                for j in 0..<d { dot += found[j * rank + column] * found[j * rank + other] }
                XCTAssertEqual(dot, 0, accuracy: 1e-4, "axes \(other) and \(column) are orthogonal")
            }
        }
    }

    /// A subspace cut to its leading axes projects onto the first
    /// coordinates of the whole one's projections, keeps their variances,
    /// and a share of the variance no larger than the whole one's.
    func testLeadingAxesProjectOntoTheFirstCoordinates() throws {
        let n = 600, d = 40
        var random = Xoshiro256StarStar(seed: 7)
        let data = (0..<(n * d)).map { i in Float(random.nextGaussian()) * Float(1 + (i % d)) }
        let whole = try data.withUnsafeBufferPointer { x in
            try XCTUnwrap(PrincipalSubspace(sample: (0..<n).map { x.baseAddress! + $0 * d }, dimension: d, rank: 12))
        }
        let cut = whole.leading(5)
        XCTAssertEqual(cut.rank, 5)
        XCTAssertEqual(cut.variances, Array(whole.variances.prefix(5)))
        XCTAssertLessThanOrEqual(cut.retainedVariance, whole.retainedVariance)
        var a = [Float](repeating: 0, count: 10 * 12), b = [Float](repeating: 0, count: 10 * 5)
        data.withUnsafeBufferPointer { x in
            whole.project(x.baseAddress!, count: 10, into: &a)
            cut.project(x.baseAddress!, count: 10, into: &b)
        }
        for i in 0..<10 { for j in 0..<5 { XCTAssertEqual(b[i * 5 + j], a[i * 12 + j], accuracy: 1e-3 * max(1, abs(a[i * 12 + j]))) } }
        XCTAssertEqual(whole.leading(12).rank, 12)
    }
}
