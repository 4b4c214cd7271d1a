import Foundation
import XCTest
@testable import CuratorCore

/// The numpy fixtures written by `Fixtures/numpy/make_fixtures.py` and the values it recorded.
enum NumpyFixtures {
    static let root: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("numpy")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    static var expected: [String: Any] {
        let data = try! Data(contentsOf: root.appendingPathComponent("expected.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func section(_ name: String) -> [String: Any] { expected[name] as! [String: Any] }
    static func floats(_ section: String, _ key: String) -> [Float] {
        (self.section(section)[key] as! [NSNumber]).map { Float($0.doubleValue) }
    }
    static func doubles(_ section: String, _ key: String) -> [Double] {
        (self.section(section)[key] as! [NSNumber]).map(\.doubleValue)
    }
    static func strings(_ section: String, _ key: String) -> [String] { self.section(section)[key] as! [String] }
}

/// Asserts that `body` throws an `EmbeddingFileError` of `kind` whose message contains every fragment.
func XCTAssertFileError<T>(_ kind: EmbeddingFileError.Kind, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                           _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch let error as EmbeddingFileError {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.description.contains(fragment), "«\(error)» lacks «\(fragment)»", file: file, line: line)
        }
        XCTAssertEqual(error.errorDescription, error.description, file: file, line: line)
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
    }
}

final class NumpyArrayTests: XCTestCase {
    private func array(_ name: String) throws -> NumpyArray {
        try NumpyArray(contentsOf: NumpyFixtures.url("npy/\(name)"))
    }

    func testVersion1Float32MatrixHasNumpysValues() throws {
        let a = try array("v1_f4.npy")
        XCTAssertEqual(a.header.version.major, 1)
        XCTAssertEqual(a.dtype, .float32)
        XCTAssertEqual(a.shape, [2, 3])
        let m = try a.floatMatrix()
        XCTAssertEqual(m.rows, 2)
        XCTAssertEqual(m.dimension, 3)
        XCTAssertEqual(m.vector(0) + m.vector(1), NumpyFixtures.floats("v1_f4", "values"))
    }

    func testFloatMatrixStraightFromAFile() throws {
        let m = try NumpyArray.floatMatrix(contentsOf: NumpyFixtures.url("npy/v1_f4.npy"))
        XCTAssertEqual(m.vector(0) + m.vector(1), NumpyFixtures.floats("v1_f4", "values"))
        let f = try NumpyArray.floatMatrix(contentsOf: NumpyFixtures.url("npy/fortran_f4.npy"))
        XCTAssertEqual((0..<3).flatMap { f.vector($0) }, NumpyFixtures.floats("fortran_f4", "values"))
        XCTAssertFileError(.corrupt, ["shape_mismatch.npy", "needs 48 bytes"]) {
            try NumpyArray.floatMatrix(contentsOf: NumpyFixtures.url("npy/shape_mismatch.npy"))
        }
        XCTAssertFileError(.wrongType, ["i4.npy", "expected a 2-D matrix"]) {
            try NumpyArray.floatMatrix(contentsOf: NumpyFixtures.url("npy/i4.npy"))
        }
    }

    func testVersion2Float64() throws {
        let a = try array("v2_f8.npy")
        XCTAssertEqual(a.header.version.major, 2)
        XCTAssertEqual(try a.doubles(), NumpyFixtures.doubles("v2_f8", "values"))
        XCTAssertFileError(.wrongType, ["v2_f8.npy", "1-D", "expected a 2-D matrix"]) { try a.floatMatrix() }
    }

    func testVersion3UnicodeStrings() throws {
        let a = try array("v3_unicode.npy")
        XCTAssertEqual(a.header.version.major, 3)
        XCTAssertEqual(a.dtype.description, NumpyFixtures.section("v3_unicode")["descr"] as? String)
        XCTAssertEqual(try a.strings(), NumpyFixtures.strings("v3_unicode", "strings"))
    }

    func testFloat16IsWidenedExactly() throws {
        let m = try array("f2.npy").floatMatrix()
        XCTAssertEqual(m.vector(0) + m.vector(1), NumpyFixtures.floats("f2", "values"))
    }

    #if !(os(macOS) && arch(x86_64))
    func testHalfConversionMatchesFloat16ForEveryBitPattern() {
        for bits in 0...UInt16.max {
            let ours = NumpyArray.float(fromHalf: bits), swift = Float(Float16(bitPattern: bits))
            if swift.isNaN { XCTAssertTrue(ours.isNaN) } else { XCTAssertEqual(ours.bitPattern, swift.bitPattern, "half 0x\(String(bits, radix: 16))") }
        }
    }
    #endif

    func testFortranOrderIsTransposedToRowMajor() throws {
        let a = try array("fortran_f4.npy")
        XCTAssertTrue(a.header.isFortranOrder)
        let m = try a.floatMatrix()
        XCTAssertEqual((0..<3).flatMap { m.vector($0) }, NumpyFixtures.floats("fortran_f4", "values"))
        let ints = try array("fortran_i4.npy")
        XCTAssertEqual(try ints.int64s(), (NumpyFixtures.section("fortran_i4")["values"] as! [Int]).map(Int64.init))
    }

    func testFortranOrderBeyondTwoDimensionsIsRefused() {
        XCTAssertFileError(.unsupported, ["fortran_3d.npy", "Fortran-order arrays of 3 dimensions", "np.ascontiguousarray"]) {
            try array("fortran_3d.npy")
        }
    }

    func testZeroDimensionalScalars() throws {
        let f = try array("scalar_f8.npy")
        XCTAssertEqual(f.shape, [])
        XCTAssertEqual(try f.scalarDouble(), 2.75)
        XCTAssertEqual(try array("scalar_i8.npy").scalarInt(), 768)
        XCTAssertEqual(try array("scalar_u.npy").scalarString(), "open-clip:ViT-L-14/dfn2b_s39b")
        XCTAssertEqual(try array("scalar_u.npy").strings(), ["open-clip:ViT-L-14/dfn2b_s39b"])
        XCTAssertFileError(.wrongType, ["scalar_f8.npy", "expected an integer"]) { try f.scalarInt() }
        XCTAssertFileError(.wrongType, ["v1_f4.npy", "expected a single value"]) { try array("v1_f4.npy").scalarDouble() }
    }

    func testBoolIntegerAndByteStringArrays() throws {
        XCTAssertEqual(try array("bool.npy").bools(), [true, false, true])
        XCTAssertEqual(try array("bool.npy").int64s(), [1, 0, 1])
        XCTAssertEqual(try array("i4.npy").int64s(), [-1, 2, 2_147_483_647])
        XCTAssertEqual(try array("i4.npy").doubles(), [-1, 2, 2_147_483_647])
        XCTAssertEqual(try array("i8.npy").int64s(), [-(1 << 62), 5])
        XCTAssertFileError(.wrongType, ["u8_big.npy", "element 0 does not fit"]) { try array("u8_big.npy").int64s() }
        XCTAssertEqual(try array("bytes_s.npy").strings(), ["abc", "d"])
        XCTAssertFileError(.wrongType, ["u_2d.npy", "2-D", "expected a 1-D list of strings"]) { try array("u_2d.npy").strings() }
        XCTAssertFileError(.wrongType, ["i4.npy", "<i4", "expected strings"]) { try array("i4.npy").strings() }
        XCTAssertFileError(.wrongType, ["v3_unicode.npy", "expected numbers"]) { try array("v3_unicode.npy").doubles() }
    }

    func testEmptyMatrix() throws {
        let m = try array("empty_f4.npy").floatMatrix()
        XCTAssertEqual(m.rows, 0)
        XCTAssertEqual(m.dimension, 8)
    }

    func testObjectArrayIsSkippedNeverUnpickled() throws {
        let a = try array("object.npy")
        XCTAssertTrue(a.isSkipped)
        XCTAssertEqual(a.dtype, .object)
        XCTAssertEqual(a.shape, [2])
        XCTAssertTrue(a.note?.contains("never unpickles") ?? false)
        XCTAssertFileError(.wrongType, ["object.npy", "object array", "never unpickles"]) { try a.doubles() }
    }

    func testBigEndianIsRefusedWithTheFix() {
        XCTAssertFileError(.unsupported, ["bigendian.npy", "'>f4' is big-endian", "astype('<f4')"]) { try array("bigendian.npy") }
    }

    func testUnknownDtypesAreRefusedByName() {
        XCTAssertFileError(.unsupported, ["complex.npy", "unsupported dtype '<c8'"]) { try array("complex.npy") }
        XCTAssertFileError(.unsupported, ["structured.npy", "structured dtype", "'x'"]) { try array("structured.npy") }
    }

    func testPython2StyleHeader() throws {
        XCTAssertEqual(try array("python2_header.npy").int64s(), [7, -8])
    }

    func testShapeThatDoesNotMatchTheData() {
        XCTAssertFileError(.corrupt, ["shape_mismatch.npy", "data is 32 bytes", "(3, 4)", "needs 48 bytes"]) { try array("shape_mismatch.npy") }
        XCTAssertFileError(.corrupt, ["truncated.npy", "data is 20 bytes", "needs 24 bytes"]) { try array("truncated.npy") }
    }

    func testNotNumpyMissingAndFolder() {
        XCTAssertFileError(.notRecognized, ["not_npy.npy", "not a numpy .npy array"]) { try array("not_npy.npy") }
        XCTAssertFileError(.unreadable, ["nope.npy", "cannot open"]) { try array("nope.npy") }
        XCTAssertFileError(.notRecognized, ["npy", "is a folder"]) { try NumpyArray(contentsOf: NumpyFixtures.url("npy")) }
    }

    func testInMemoryBytesAndHeaderOnly() throws {
        let bytes = try [UInt8](Data(contentsOf: NumpyFixtures.url("npy/v1_f4.npy")))
        let a = try NumpyArray(npyBytes: bytes, location: "memory")
        XCTAssertEqual(try a.doubles().map(Float.init), NumpyFixtures.floats("v1_f4", "values"))
        XCTAssertFileError(.corrupt, ["memory", "needs 24 bytes"]) { try NumpyArray(npyBytes: Array(bytes.dropLast()), location: "memory") }
        let header = try NumpyArray.header(contentsOf: NumpyFixtures.url("npy/fortran_f4.npy"))
        XCTAssertEqual(header.shape, [3, 4])
        XCTAssertEqual(header.dataByteCount, 48)
        XCTAssertEqual(header.dataOffset % 64, 0)
    }

    func testHeaderLiteralParser() throws {
        XCTAssertEqual(try PythonLiteral.parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"),
                       .dict(["descr": .string("<f4"), "fortran_order": .bool(false), "shape": .tuple([.int(3), .int(4)])]))
        XCTAssertEqual(try PythonLiteral.parse(" ( 5 , ) "), .tuple([.int(5)]))
        XCTAssertEqual(try PythonLiteral.parse("()"), .tuple([]))
        XCTAssertEqual(try PythonLiteral.parse(#"u"caf\xe9 \u65e5\'""#), .string("café 日'"))
        XCTAssertEqual(try PythonLiteral.parse("[('x', '<f4'), None]"), .list([.tuple([.string("x"), .string("<f4")]), .none]))
        XCTAssertThrowsError(try PythonLiteral.parse("{'shape': (3, 4)"))
        XCTAssertThrowsError(try PythonLiteral.parse("{'shape': 1.5}"))
        XCTAssertThrowsError(try PythonLiteral.parse("{'a': 1} extra"))
        XCTAssertThrowsError(try PythonLiteral.parse("{'a': 99999999999999999999999}"))
    }

    func testDamagedHeadersNameTheProblem() throws {
        func npy(_ header: String) -> [UInt8] {
            let text = Array(header.utf8)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count), 0] + text
        }
        XCTAssertFileError(.corrupt, ["h", "not a valid Python dict"]) { try NumpyArray(npyBytes: npy("{'descr': '<f4'"), location: "h") }
        XCTAssertFileError(.corrupt, ["h", "no 'shape' entry"]) { try NumpyArray(npyBytes: npy("{'descr': '<f4', 'fortran_order': False}"), location: "h") }
        XCTAssertFileError(.corrupt, ["h", "invalid dimension"]) { try NumpyArray(npyBytes: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), location: "h") }
        XCTAssertFileError(.corrupt, ["h", "impossibly large"]) {
            try NumpyArray(npyBytes: npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"), location: "h")
        }
        XCTAssertFileError(.unsupported, ["h", "version 9.0"]) { try NumpyArray(npyBytes: [0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0], location: "h") }
        XCTAssertFileError(.corrupt, ["h", "header claims"]) { try NumpyArray(npyBytes: [0x93] + Array("NUMPY".utf8) + [1, 0, 200, 0, 123], location: "h") }
    }
}
