import XCTest
@testable import CuratorCore
#if canImport(CBLAS)
import CBLAS
#endif

/// On Linux OpenBLAS is opened with dlopen (BLAS.swift) and declared there
/// by hand: these check those declarations against the installed cblas.h
/// and that the library loads and computes.
final class BLASDeclarationTests: XCTestCase {
    #if canImport(CBLAS)
    func testConstantsAndIntegerWidthMatchCBLASHeader() {
        XCTAssertEqual(OpenBLAS.rowMajor, Int32(CblasRowMajor.rawValue))
        XCTAssertEqual(OpenBLAS.noTrans, Int32(CblasNoTrans.rawValue))
        XCTAssertEqual(OpenBLAS.trans, Int32(CblasTrans.rawValue))
        XCTAssertTrue(blasint.self == Int32.self, "cblas.h's blasint is \(blasint.self), BLAS.swift passes Int32")
    }
    #endif

    func testLoadsAndComputes() throws {
        XCTAssertNil(BLAS.unavailableReason)
        try BLAS.require()
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2×3
        let b: [Float] = [1, 0, 0, 1, 1, 1]  // 3×2
        var c = [Float](repeating: 0, count: 4)
        BLAS.gemm(m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [4, 5, 10, 11])
        var y = [Float](repeating: 0, count: 2)
        BLAS.gemv(m: 2, n: 3, a: a, lda: 3, x: [1, 1, 1], y: &y)
        XCTAssertEqual(y, [6, 15])
        XCTAssertEqual(BLAS.dot(3, a, [1, 1, 1]), 6)
        var x: [Float] = [1, 2]
        BLAS.axpy(2, alpha: 2, [1, 1], &x)
        XCTAssertEqual(x, [3, 4])
        BLAS.scale(2, alpha: 0.5, &x)
        XCTAssertEqual(x, [1.5, 2])
        XCTAssertEqual(BLAS.withSingleThreadedCalls { BLAS.dot(2, x, x) }, 6.25)
    }
}
