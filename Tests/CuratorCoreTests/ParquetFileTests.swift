import Foundation
import XCTest
@testable import CuratorCore

/// The files of Fixtures/parquet, written by pyarrow (make_fixtures.py), and their expected values.
enum ParquetFixtures {
    static let root: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("parquet")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    nonisolated(unsafe) static let expected: [String: Any] = {  // read once, never written
        let data = try! Data(contentsOf: root.appendingPathComponent("expected.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    /// A column of `files/<name>` as pyarrow wrote it (nil for nulls).
    static func column(_ name: String, _ column: String) -> [String?] {
        let files = expected["files"] as! [String: Any]
        return ((files[name] as! [String: Any])[column] as! [Any]).map { $0 as? String }
    }

    /// The expected values of clip-retrieval folder `name`: "paths", "captions" or "normalised".
    static func clip(_ name: String) -> [String: Any] {
        (expected["clip"] as! [String: Any])[name] as! [String: Any]
    }
}

final class ParquetFileTests: XCTestCase {
    private func read(_ name: String, _ column: String) throws -> [String?] {
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("files/\(name)"))
        let values = try file.strings(column, maximumRows: file.rowCount)
        return (0..<values.count).map { values.string($0) }
    }

    private func assertReadsAsWritten(_ name: String, file: StaticString = #filePath, line: UInt = #line) {
        for column in ["image_path", "caption"] {
            XCTAssertEqual(try read(name, column), ParquetFixtures.column(name, column), "\(name) \(column)", file: file, line: line)
        }
    }

    func testEachCodecAndEncodingPyarrowWrites() {
        for name in ["plain_snappy", "dictionary_snappy", "dictionary_zstd", "plain_zstd", "uncompressed",
                     "v2_dictionary_snappy", "v2_plain_zstd", "v2_uncompressed", "long_values_zstd"] {
            assertReadsAsWritten(name + ".parquet")
        }
    }

    func testRowGroupsPagesAndDictionaryFallback() throws {
        assertReadsAsWritten("row_groups_and_pages.parquet")
        assertReadsAsWritten("row_groups_v2_zstd.parquet")
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("files/row_groups_and_pages.parquet"))
        XCTAssertEqual(file.metadata.rowGroups.count, 6)
        XCTAssertEqual(file.rowCount, 40)
    }

    func testNullsRequiredColumnsAndEmptyFiles() throws {
        assertReadsAsWritten("required_and_all_null.parquet")
        assertReadsAsWritten("empty.parquet")
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("files/plain_snappy.parquet"))
        XCTAssertEqual(file.columnNames, ["image_path", "caption", "width"])
        XCTAssertTrue(file.createdBy?.hasPrefix("parquet-cpp-arrow") ?? false, "\(file.createdBy ?? "nil")")
        XCTAssertTrue(try file.strings("caption", maximumRows: 23).hasNulls)
        XCTAssertFalse(try file.strings("image_path", maximumRows: 23).hasNulls)
    }

    func testWhatItDoesNotReadIsNamed() {
        let files = "files/"
        XCTAssertFileError(.unsupported, ["gzip.parquet", "column 'image_path'", "GZIP", "UNCOMPRESSED, SNAPPY and ZSTD"]) {
            try read("gzip.parquet", "image_path")
        }
        XCTAssertFileError(.unsupported, ["BROTLI"]) { try read("brotli.parquet", "caption") }
        XCTAssertFileError(.unsupported, ["delta_length.parquet", "DELTA_LENGTH_BYTE_ARRAY", "PLAIN, PLAIN_DICTIONARY and RLE_DICTIONARY"]) {
            try read("delta_length.parquet", "image_path")
        }
        XCTAssertFileError(.unsupported, ["column 'image_path' is nested"]) { try read("nested.parquet", "image_path") }
        XCTAssertFileError(.wrongType, ["integers.parquet: column 'image_path'", "INT64", "BYTE_ARRAY"]) { try read("integers.parquet", "image_path") }
        XCTAssertFileError(.missing, ["has no column 'url'", "columns: image_path, caption, width"]) { try read("plain_snappy.parquet", "url") }
        XCTAssertFileError(.tooLarge, ["holds 23 rows, more than the 20 expected"]) {
            try ParquetFile(contentsOf: ParquetFixtures.url(files + "plain_snappy.parquet")).strings("image_path", maximumRows: 20)
        }
        XCTAssertFileError(.notRecognized, ["matrix.npy", "not a Parquet file"]) {
            try ParquetFile(contentsOf: NumpyFixtures.url("import/matrix.npy"))
        }
    }

    // MARK: Damaged files

    private func damaged(_ name: String, _ edit: (inout [UInt8], ParquetFile) -> Void) throws -> URL {
        let source = ParquetFixtures.url("files/\(name)")
        var bytes = [UInt8](try Data(contentsOf: source))
        edit(&bytes, try ParquetFile(contentsOf: source))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("curator-parquet-\(UUID().uuidString).parquet")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func readAll(_ url: URL) throws {
        let file = try ParquetFile(contentsOf: url)
        for column in file.columnNames where file.leaves.first(where: { $0.path == [column] })?.element.type == ParquetPhysicalType.byteArray {
            _ = try file.strings(column, maximumRows: 1000)
        }
    }

    func testTruncatedAndDamagedFilesAreRefusedWithTheReason() throws {
        let truncated = try damaged("dictionary_snappy.parquet") { bytes, _ in bytes.removeLast(100) }
        XCTAssertFileError(.corrupt, ["does not end with PAR1", "truncated"]) { try readAll(truncated) }

        // The data cut out but the footer kept: the chunks point past the data.
        let hollow = try damaged("plain_zstd.parquet") { bytes, file in
            let footer = Array(bytes[file.dataEnd...])
            bytes = Array(bytes[..<200]) + footer
        }
        XCTAssertFileError(.corrupt, ["column 'image_path'", "outside the file's data", "truncated or damaged"]) { try readAll(hollow) }

        let footer = try damaged("plain_snappy.parquet") { bytes, file in
            for i in file.dataEnd..<file.dataEnd + 40 { bytes[i] = 0xFF }
        }
        XCTAssertFileError(.corrupt, ["footer (the file metadata) is damaged"]) { try readAll(footer) }

        let hugeFooter = try damaged("plain_snappy.parquet") { bytes, _ in
            bytes.replaceSubrange(bytes.count - 8..<bytes.count - 4, with: [0xFF, 0xFF, 0xFF, 0x7F])
        }
        XCTAssertFileError(.corrupt, ["footer claims 2147483647 bytes"]) { try readAll(hugeFooter) }

        // Snappy data overwritten: the block's length no longer matches its page.
        let snappy = try damaged("plain_snappy.parquet") { bytes, file in
            let chunk = file.metadata.rowGroups[0].columns[0]
            var reader = ThriftCompactReader(bytes, from: chunk.dataPageOffset)
            _ = try! ParquetPageHeader(&reader)
            for i in reader.position..<reader.position + 8 { bytes[i] = 0xEE }
        }
        XCTAssertFileError(.corrupt, ["column 'image_path'", "row group 0, page at byte", "SNAPPY data is damaged"]) { try readAll(snappy) }

        let zstd = try damaged("dictionary_zstd.parquet") { bytes, file in
            let chunk = file.metadata.rowGroups[0].columns[1]
            var reader = ThriftCompactReader(bytes, from: chunk.dictionaryPageOffset!)
            _ = try! ParquetPageHeader(&reader)
            for i in reader.position..<reader.position + 12 { bytes[i] = 0x11 }
        }
        XCTAssertFileError(.corrupt, ["column 'caption'", "ZSTD data is damaged", "zstd says"]) { try readAll(zstd) }
    }

    /// A file made by hand: a footer claiming `rows` rows of one optional
    /// string column, and one data page claiming a billion values.
    private func handMadeFile(rows: Int64) throws -> URL {
        var page = CompactWriter()
        page.field(1, i32: 0); page.field(2, i32: 4); page.field(3, i32: 4)
        page.field(5) { w in w.field(1, i32: 1 << 30); w.field(2, i32: 0) }
        page.stop()
        let chunkLength = Int64(page.bytes.count + 4)  // the header and 4 bytes of levels
        var footer = CompactWriter()
        footer.field(2, list: 12, count: 2) { w in
            w.structure { w in w.field(4, string: "schema"); w.field(5, i32: 1) }
            w.structure { w in w.field(1, i32: 6); w.field(3, i32: 1); w.field(4, string: "image_path") }
        }
        footer.field(3, i64: rows)
        footer.field(4, list: 12, count: 1) { w in
            w.structure { w in
                w.field(1, list: 12, count: 1) { w in
                    w.structure { w in
                        w.field(2, i64: 4)
                        w.field(3) { w in
                            w.field(1, i32: 6); w.field(4, i32: 0); w.field(5, i64: rows); w.field(7, i64: chunkLength); w.field(9, i64: 4)
                        }
                    }
                }
                w.field(3, i64: rows)
            }
        }
        footer.stop()
        var bytes = Array("PAR1".utf8) + page.bytes + [0, 0, 0, 0]
        let length = UInt32(footer.bytes.count)
        bytes += footer.bytes + [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)] + Array("PAR1".utf8)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("curator-parquet-\(UUID().uuidString).parquet")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A few dozen bytes claiming terabytes are refused from the footer and
    /// page header, before any allocation.
    func testHandMadeFilesClaimingHugeCountsAreRefusedUpFront() throws {
        let huge = try ParquetFile(contentsOf: try handMadeFile(rows: 1 << 40))
        XCTAssertEqual(huge.rowCount, 1 << 40)
        XCTAssertFileError(.tooLarge, ["holds 1099511627776 rows, more than the 1000000 expected"]) {
            try huge.strings("image_path", maximumRows: 1_000_000)
        }
        XCTAssertFileError(.tooLarge, ["the row offsets of column 'image_path' would need"]) {
            try huge.strings("image_path", maximumRows: .max)
        }
        let small = try ParquetFile(contentsOf: try handMadeFile(rows: 100))
        XCTAssertFileError(.corrupt, ["column 'image_path'", "the pages hold more values than the row group's 100 rows"]) {
            try small.strings("image_path", maximumRows: 100)
        }
    }

    /// A little fuzzing in every test run: seeded byte edits and cuts of
    /// each kind of file must end in a value or an `EmbeddingFileError`,
    /// never a crash (scripts/fuzz goes further, with libFuzzer).
    func testEditedAndCutFilesNeverCrash() throws {
        var random = SplitMix64(seed: 19)
        var outcomes = [0, 0]
        for name in ["dictionary_snappy", "v2_plain_zstd", "row_groups_and_pages", "required_and_all_null"] {
            let original = [UInt8](try Data(contentsOf: ParquetFixtures.url("files/\(name).parquet")))
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("curator-parquet-fuzz-\(UUID().uuidString).parquet")
            defer { try? FileManager.default.removeItem(at: url) }
            for round in 0..<150 {
                var bytes = original
                if round % 10 == 9 {
                    bytes.removeSubrange(Int.random(in: 4..<bytes.count - 8, using: &random)..<bytes.count - 8)
                } else {
                    for _ in 0..<Int.random(in: 1...4, using: &random) {
                        bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                    }
                }
                try Data(bytes).write(to: url)
                do { try readAll(url); outcomes[0] += 1 } catch is EmbeddingFileError { outcomes[1] += 1 }
            }
        }
        XCTAssertGreaterThan(outcomes[1], 50, "most damage is noticed: \(outcomes)")
    }
}

/// Writes Thrift's compact protocol, for files made by hand in tests.
struct CompactWriter {
    private(set) var bytes: [UInt8] = []
    private var lastID = [0]

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func zigzag(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }
    private mutating func header(_ id: Int, _ type: UInt8) {
        bytes.append(UInt8(id - lastID[lastID.count - 1]) << 4 | type)
        lastID[lastID.count - 1] = id
    }
    mutating func field(_ id: Int, i32 value: Int32) { header(id, 5); zigzag(Int64(value)) }
    mutating func field(_ id: Int, i64 value: Int64) { header(id, 6); zigzag(value) }
    mutating func field(_ id: Int, string: String) { header(id, 8); varint(UInt64(string.utf8.count)); bytes += string.utf8 }
    mutating func field(_ id: Int, _ body: (inout CompactWriter) -> Void) { header(id, 12); structureBody(body) }
    mutating func field(_ id: Int, list type: UInt8, count: Int, _ body: (inout CompactWriter) -> Void) {
        header(id, 9)
        bytes.append(UInt8(count) << 4 | type)
        body(&self)
    }
    mutating func structure(_ body: (inout CompactWriter) -> Void) { structureBody(body) }
    private mutating func structureBody(_ body: (inout CompactWriter) -> Void) {
        lastID.append(0)
        body(&self)
        bytes.append(0)
        lastID.removeLast()
    }
    mutating func stop() { bytes.append(0) }
}
