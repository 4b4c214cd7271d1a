import Foundation
import XCTest
@testable import CuratorCore

final class CLIPSafeTensorsTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUp() { folder = TemporaryFolder() }
    override func tearDown() { folder = nil }

    private func url(_ name: String) -> URL { URL(fileURLWithPath: folder.path).appendingPathComponent(name) }

    private func assertError(_ kind: CLIPError.Kind, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? CLIPError else { return XCTFail("not a CLIPError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(e.description.contains(fragment), "'\(e)' lacks '\(fragment)'", file: file, line: line)
            }
        }
    }

    func testReadsTheFixtureWrittenByPythonInPlace() throws {
        let file = try SafeTensorsFile(url: CLIPFixture.huggingFaceModel.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(file.metadata["format"], "pt")
        let info = try XCTUnwrap(file.tensors["vision_model.embeddings.patch_embedding.weight"])
        XCTAssertEqual(info.dtype, .f32)
        XCTAssertEqual(info.shape, [48, 3, 8, 8])
        let tensor = try file.floatTensor(info.name)
        XCTAssertTrue(tensor.isMapped, "aligned F32 is read from the mapping, not copied")
        XCTAssertEqual(tensor.count, 48 * 3 * 8 * 8)
        XCTAssertTrue(tensor.values.contains { $0 != 0 })
    }

    func testConvertsHalfAndBFloat16AndCopiesMisalignedFloat32() throws {
        // F16: 1.0, -2.5, 65504 (max), 2^-24 (smallest subnormal); BF16: 1.0, -3.0.
        let f16: [UInt16] = [0x3C00, 0xC100, 0x7BFF, 0x0001]
        let bf16: [UInt16] = [0x3F80, 0xC040]
        var data = [UInt8]()
        for h in f16 + bf16 { data += [UInt8(h & 0xFF), UInt8(h >> 8)] }
        // An F32 tensor at offset 12+... made misaligned by a 2-byte U8 tensor before it.
        data += [7, 7]
        let f32Start = data.count
        for v: Float in [0.5, -1.25] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
        let header: [String: Any] = [
            "half": ["dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]],
            "brain": ["dtype": "BF16", "shape": [2], "data_offsets": [8, 12]],
            "bytes": ["dtype": "U8", "shape": [2], "data_offsets": [12, 14]],
            "single": ["dtype": "F32", "shape": [2], "data_offsets": [f32Start, f32Start + 8]],
        ]
        try SafeTensorsWriter.writeRaw(header: header, data: data, to: url("mixed.safetensors"))
        let file = try SafeTensorsFile(url: url("mixed.safetensors"))
        XCTAssertEqual(try file.floatTensor("half").values, [1, -2.5, 65504, Float(sign: .plus, exponent: -24, significand: 1)])
        XCTAssertEqual(try file.floatTensor("brain").values, [1, -3])
        let single = try file.floatTensor("single")
        XCTAssertFalse(single.isMapped, "misaligned F32 is copied, not read in place")
        XCTAssertEqual(single.values, [0.5, -1.25])
        assertError(.wrongShape, ["'bytes'", "U8"]) { _ = try file.floatTensor("bytes") }
        assertError(.missingTensor, ["'absent' is missing"]) { _ = try file.floatTensor("absent") }
    }

    func testTruncatedFileNamesTheFile() throws {
        try SafeTensorsWriter.write([.init(name: "w", shape: [4, 4], values: Array(repeating: 1, count: 16))], to: url("whole.safetensors"))
        let whole = try Data(contentsOf: url("whole.safetensors"))
        try whole.prefix(whole.count - 10).write(to: url("cut.safetensors"))
        assertError(.corrupt, ["cut.safetensors", "tensor 'w'", "past the end"]) { _ = try SafeTensorsFile(url: url("cut.safetensors")) }
        try whole.prefix(5).write(to: url("tiny.safetensors"))
        assertError(.corrupt, ["tiny.safetensors", "truncated"]) { _ = try SafeTensorsFile(url: url("tiny.safetensors")) }
        try whole.prefix(40).write(to: url("header.safetensors"))
        assertError(.corrupt, ["header.safetensors", "header claims"]) { _ = try SafeTensorsFile(url: url("header.safetensors")) }
    }

    func testHeaderOffsetsPastTheEnd() throws {
        let header: [String: Any] = ["w": ["dtype": "F32", "shape": [2], "data_offsets": [8, 16]]]
        try SafeTensorsWriter.writeRaw(header: header, data: [UInt8](repeating: 0, count: 12), to: url("past.safetensors"))
        assertError(.corrupt, ["past.safetensors", "tensor 'w'", "[8, 16]", "past the end"]) {
            _ = try SafeTensorsFile(url: url("past.safetensors"))
        }
    }

    func testOverlappingAndMissizedTensorsAreRefused() throws {
        let overlap: [String: Any] = [
            "a": ["dtype": "F32", "shape": [2], "data_offsets": [0, 8]],
            "b": ["dtype": "F32", "shape": [2], "data_offsets": [4, 12]],
        ]
        try SafeTensorsWriter.writeRaw(header: overlap, data: [UInt8](repeating: 0, count: 12), to: url("overlap.safetensors"))
        assertError(.corrupt, ["'a'", "'b'", "overlap"]) { _ = try SafeTensorsFile(url: url("overlap.safetensors")) }

        let missized: [String: Any] = ["w": ["dtype": "F16", "shape": [3, 2], "data_offsets": [0, 8]]]
        try SafeTensorsWriter.writeRaw(header: missized, data: [UInt8](repeating: 0, count: 8), to: url("size.safetensors"))
        assertError(.corrupt, ["tensor 'w'", "8 bytes for shape [3, 2] of F16", "needs 12"]) {
            _ = try SafeTensorsFile(url: url("size.safetensors"))
        }

        let backwards: [String: Any] = ["w": ["dtype": "F32", "shape": [0], "data_offsets": [8, 4]]]
        try SafeTensorsWriter.writeRaw(header: backwards, data: [UInt8](repeating: 0, count: 8), to: url("back.safetensors"))
        assertError(.corrupt, ["tensor 'w'", "not an increasing range"]) { _ = try SafeTensorsFile(url: url("back.safetensors")) }
    }

    func testCorruptHeadersAreRefused() throws {
        // Not JSON at all.
        var bytes = [UInt8]()
        withUnsafeBytes(of: UInt64(8).littleEndian) { bytes += $0 }
        bytes += Array("{garbage".utf8)
        try Data(bytes).write(to: url("json.safetensors"))
        assertError(.corrupt, ["json.safetensors", "JSON header"]) { _ = try SafeTensorsFile(url: url("json.safetensors")) }

        // A length that is absurd for a header.
        bytes = []
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { bytes += $0 }
        bytes += Array("{}".utf8)
        try Data(bytes).write(to: url("huge.safetensors"))
        assertError(.corrupt, ["huge.safetensors", "header claims"]) { _ = try SafeTensorsFile(url: url("huge.safetensors")) }

        // An image (or any other file) passed as weights.
        try Data(contentsOf: CLIPFixture.images.appendingPathComponent("rgba.png")).write(to: url("image.safetensors"))
        assertError(.corrupt, ["image.safetensors"]) { _ = try SafeTensorsFile(url: url("image.safetensors")) }

        let unknown: [String: Any] = ["w": ["dtype": "Q4", "shape": [2], "data_offsets": [0, 1]]]
        try SafeTensorsWriter.writeRaw(header: unknown, data: [0], to: url("dtype.safetensors"))
        assertError(.unsupported, ["tensor 'w'", "unknown dtype 'Q4'"]) { _ = try SafeTensorsFile(url: url("dtype.safetensors")) }

        assertError(.modelMissing, ["absent.safetensors"]) { _ = try SafeTensorsFile(url: url("absent.safetensors")) }
    }
}
