import XCTest
@testable import CuratorCore

final class EmbeddingMatrixTests: XCTestCase {
    func testNormalizeAndGemmGiveCosineSimilarity() {
        let m = EmbeddingMatrix(rows: 2, dimension: 3, values: [3, 4, 0, 0, 0, 2])
        m.normalizeRows()
        XCTAssertEqual(m.vector(0), [0.6, 0.8, 0], accuracy: 1e-6)
        var gram = [Float](repeating: -1, count: 4)
        BLAS.gemm(transposeB: true, m: 2, n: 2, k: 3, a: m.row(0), lda: 3, b: m.row(0), ldb: 3, c: &gram, ldc: 2)
        XCTAssertEqual(gram, [1, 0, 0, 1], accuracy: 1e-6)
    }
}

func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
