import Foundation
import XCTest
@testable import CuratorCore

/// A float `.npy` streamed into imported rows a block at a time (clip-retrieval
/// shards) gives the values reading it whole gives, in every layout.
final class NumpyFloatStreamTests: XCTestCase {
    private let folder = TemporaryFolder()

    /// A rows × columns `.npy` of `descr` (<f2, <f4, <f8), C or Fortran order,
    /// holding element (i, j) = values[i * columns + j].
    private func npy(_ descr: String, rows: Int, columns: Int, fortran: Bool, values: [Float]) -> [UInt8] {
        var bytes = ZipFixture.npyHeader(descr: descr, shape: [rows, columns], fortran: fortran)
        let order = fortran ? (0..<columns).flatMap { j in (0..<rows).map { $0 * columns + j } } : Array(0..<rows * columns)
        for k in order {
            let v = values[k]
            switch descr {
            case "<f2": withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes += $0 }
            case "<f8": withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { bytes += $0 }
            default: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            }
        }
        return bytes
    }

    func testEveryLayoutStreamsToTheValuesReadWhole() throws {
        let rows = 37, columns = 5
        var generator = SystemRandomNumberGenerator()
        let values = (0..<rows * columns).map { _ in Float.random(in: -2...2, using: &generator) }
        for descr in ["<f2", "<f4", "<f8"] {
            for fortran in [false, true] {
                let name = "m\(descr.dropFirst())\(fortran ? "F" : "C").npy"
                let url = URL(fileURLWithPath: folder.write(name, npy(descr, rows: rows, columns: columns, fortran: fortran, values: values)))
                let whole = try NumpyArray(contentsOf: url).floatMatrix()
                let expected = (0..<rows).flatMap { whole.vector($0) }
                // Blocks of one row, of 3 rows (the last one partial), and one block for everything,
                // stored after 2 rows of another shard.
                for blockRows in [1, 3, 1000] {
                    let file = try RawFile(url)
                    let header = try NumpyArray.header(of: file)
                    let target = try ImportedRows(rows: rows + 2, dimension: columns, normalizing: false, location: name)
                    try NumpyArray.streamFloats(from: file, header: header, into: target, firstRow: 2, blockRows: blockRows)
                    let streamed = try target.matrix()
                    XCTAssertEqual((2..<rows + 2).flatMap { streamed.vector($0) }, expected, "\(name), blocks of \(blockRows) rows")
                }
                if descr == "<f4" { XCTAssertEqual(expected, values, name) }
            }
        }
    }

    func testATruncatedShardIsAnErrorNamingIt() throws {
        let full = npy("<f2", rows: 4, columns: 3, fortran: false, values: Array(repeating: 1, count: 12))
        let url = URL(fileURLWithPath: folder.write("short.npy", Array(full.dropLast(2))))
        let file = try RawFile(url)
        let header = try NumpyArray.header(of: file)
        let target = try ImportedRows(rows: 4, dimension: 3, normalizing: false, location: "short.npy")
        XCTAssertFileError(.corrupt, ["short.npy", "data is 22 bytes"]) {
            try NumpyArray.streamFloats(from: file, header: header, into: target, firstRow: 0, blockRows: 1)
        }
    }
}
