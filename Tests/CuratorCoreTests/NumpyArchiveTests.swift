import Foundation
import XCTest
@testable import CuratorCore

final class NumpyArchiveTests: XCTestCase {
    private func archive(_ name: String) throws -> NumpyArchive {
        try NumpyArchive(contentsOf: NumpyFixtures.url("npz/\(name)"))
    }

    func testKeysAndStoredMembers() throws {
        let a = try archive("photomap_f32.npz")
        XCTAssertEqual(a.keys, NumpyFixtures.strings("photomap", "keys"))
        XCTAssertTrue(a.contains("filenames"))
        XCTAssertFalse(a.contains("filenames.npy"))
        let m = try a.array("embeddings").floatMatrix()
        XCTAssertEqual((0..<m.rows).flatMap { m.vector($0) }, NumpyFixtures.floats("photomap", "raw_f32"))
        XCTAssertEqual(try a.array("filenames").strings(), NumpyFixtures.strings("photomap", "filenames"))
        XCTAssertEqual(try a.header("embeddings").shape, [5, 8])
    }

    func testDeflatedMembersGiveTheSameArrays() throws {
        let stored = try archive("photomap_f32.npz"), deflated = try archive("photomap_deflated.npz")
        for key in ["embeddings", "modification_times"] {
            XCTAssertEqual(try deflated.array(key).doubles(), try stored.array(key).doubles(), key)
        }
        XCTAssertEqual(try deflated.array("filenames").strings(), NumpyFixtures.strings("photomap", "filenames"))
        XCTAssertEqual(try deflated.array("embedding_dim").scalarInt(), 8)
    }

    func testPickledObjectArrayIsSkipped() throws {
        for name in ["photomap_f32.npz", "photomap_deflated.npz"] {
            let metadata = try archive(name).array("metadata")
            XCTAssertTrue(metadata.isSkipped, name)
            XCTAssertEqual(metadata.shape, [5])
            XCTAssertTrue(metadata.note?.contains("key 'metadata'") ?? false)
        }
    }

    func testMissingKeyListsTheKeys() {
        XCTAssertFileError(.missing, ["bad_missing_key.npz", "key 'filenames' is missing (keys: embeddings, modification_times, metadata, model_id, embedding_dim)"]) {
            try archive("bad_missing_key.npz").array("filenames")
        }
    }

    func testTruncatedArchive() {
        XCTAssertFileError(.corrupt, ["bad_truncated.npz", "truncated", "central directory"]) { try archive("bad_truncated.npz") }
    }

    func testCorruptMemberFailsItsChecksumAndOnlyIt() throws {
        let a = try archive("bad_corrupt_member.npz")
        XCTAssertFileError(.corrupt, ["bad_corrupt_member.npz: key 'embeddings'", "CRC-32 mismatch"]) { try a.array("embeddings") }
        XCTAssertEqual(try a.array("filenames").strings().count, 5)
    }

    func testTruncatedDeflatedMemberErrorsInsteadOfHanging() throws {
        let a = try archive("bad_truncated_member.npz")
        XCTAssertFileError(.corrupt, ["bad_truncated_member.npz: key 'embeddings'"]) { try a.array("embeddings") }
        XCTAssertEqual(try a.array("filenames").strings(), NumpyFixtures.strings("photomap", "filenames"))
        XCTAssertFileError(.corrupt, ["bad_truncated_member_eof.npz: key 'embeddings'", "truncated"]) {
            try archive("bad_truncated_member_eof.npz").array("embeddings")
        }
    }

    func testMemberWhoseShapeDoesNotMatchItsData() {
        XCTAssertFileError(.corrupt, ["bad_shape_mismatch.npz: key 'embeddings'", "data is 160 bytes", "(6, 8)", "needs 192 bytes"]) {
            try archive("bad_shape_mismatch.npz").array("embeddings")
        }
    }

    func testFilesThatAreNotArchives() {
        XCTAssertFileError(.notRecognized, ["not_zip.npz", "is not an .npz (zip) archive"]) { try archive("not_zip.npz") }
        XCTAssertFileError(.notRecognized, ["empty.npz", "is empty"]) { try archive("empty.npz") }
        XCTAssertFileError(.notRecognized, ["v1_f4.npy", "single .npy array, not an .npz"]) {
            try NumpyArchive(contentsOf: NumpyFixtures.url("npy/v1_f4.npy"))
        }
        XCTAssertFileError(.unreadable, ["missing.npz", "cannot open"]) { try archive("missing.npz") }
    }

    func testFloatMatrixReadStraightIntoTheMatrix() throws {
        for name in ["photomap_f32.npz", "photomap_deflated.npz"] {
            let m = try archive(name).floatMatrix("embeddings")
            XCTAssertEqual((0..<m.rows).flatMap { m.vector($0) }, NumpyFixtures.floats("photomap", "raw_f32"), name)
        }
        let half = try archive("photomap_f16.npz").floatMatrix("embeddings")
        XCTAssertEqual(half.rows, 5)
        XCTAssertFileError(.corrupt, ["bad_corrupt_member.npz: key 'embeddings'", "CRC-32 mismatch"]) {
            try archive("bad_corrupt_member.npz").floatMatrix("embeddings")
        }
        XCTAssertFileError(.corrupt, ["bad_truncated_member.npz: key 'embeddings'"]) {
            try archive("bad_truncated_member.npz").floatMatrix("embeddings")
        }
        XCTAssertFileError(.corrupt, ["bad_shape_mismatch.npz: key 'embeddings'", "data is 160 bytes", "needs 192 bytes"]) {
            try archive("bad_shape_mismatch.npz").floatMatrix("embeddings")
        }
        XCTAssertFileError(.wrongType, ["photomap_f32.npz: key 'filenames'", "expected a 2-D matrix"]) {
            try archive("photomap_f32.npz").floatMatrix("filenames")
        }
    }

    func testParallelPiecesGiveTheSameBytesAndChecksum() throws {
        for name in ["photomap_f32.npz", "photomap_deflated.npz"] {
            let directory = try ZipDirectory(NumpyFixtures.url("npz/\(name)"))
            let member = directory.members.first { $0.name == "embeddings.npy" }!
            let whole = try directory.read(member, location: name)
            for pieceSize in [1, 7, 100, 4096] {
                let split = try ByteBlock(count: member.uncompressedSize, for: "the test", location: name)
                let head = 37  // an odd split between two segments, as header and matrix
                try directory.read(member, location: name, into: [
                    UnsafeMutableRawBufferPointer(start: split.base, count: head),
                    UnsafeMutableRawBufferPointer(start: split.base + head, count: split.count - head),
                ], wholeMember: true, pieceSize: pieceSize)
                XCTAssertEqual(memcmp(split.base, whole.base, whole.count), 0, "\(name) pieces of \(pieceSize)")
            }
        }
        let damaged = try ZipDirectory(NumpyFixtures.url("npz/bad_corrupt_member.npz"))
        let member = damaged.members.first { $0.name == "embeddings.npy" }!
        let block = try ByteBlock(count: member.uncompressedSize, for: "the test", location: "damaged")
        XCTAssertFileError(.corrupt, ["CRC-32 mismatch"]) {
            try damaged.read(member, location: "x", into: [UnsafeMutableRawBufferPointer(start: block.base, count: block.count)],
                             wholeMember: true, pieceSize: 13)
        }
    }

    func testADeflatedMemberIsInflatedPieceByPieceIntoOneBuffer() throws {
        let name = "photomap_deflated.npz"
        let directory = try ZipDirectory(NumpyFixtures.url("npz/\(name)"))
        let member = directory.members.first { $0.name == "embeddings.npy" }!
        XCTAssertEqual(member.method, 8)
        let whole = try directory.read(member, location: name)
        for (head, pieceSize) in [(0, 1000), (37, 7), (128, 4096), (5, member.uncompressedSize)] {
            let headBlock = try ByteBlock(count: max(head, 1), for: "the test", location: name)
            var joined: [UInt8] = []
            var buffers = Set<UnsafeMutableRawPointer>()
            try directory.readDeflatedPieces(member, location: name, head: UnsafeMutableRawBufferPointer(start: headBlock.base, count: head),
                                             pieceSize: pieceSize) { offset, piece in
                XCTAssertEqual(offset, joined.count)
                XCTAssertTrue(piece.count == pieceSize || offset + piece.count == member.uncompressedSize - head)
                buffers.insert(piece.baseAddress!)
                joined += piece
            }
            XCTAssertEqual(memcmp(headBlock.base, whole.base, head), 0)
            XCTAssertEqual(joined, Array(UnsafeRawBufferPointer(start: whole.base + head, count: whole.count - head)), "head \(head), pieces of \(pieceSize)")
            XCTAssertEqual(buffers.count, 1, "every piece in the same buffer: the member is never held whole")
        }
        // A member whose data does not match its CRC-32 is refused after the last piece.
        let damaged = try ZipDirectory(NumpyFixtures.url("npz/bad_corrupt_member.npz"))
        let bad = damaged.members.first { $0.name == "embeddings.npy" }!
        if bad.method == 8 {
            XCTAssertFileError(.corrupt, ["CRC-32 mismatch"]) {
                try damaged.readDeflatedPieces(bad, location: "x", head: UnsafeMutableRawBufferPointer(start: nil, count: 0), pieceSize: 13) { _, _ in }
            }
        }
    }

    func testConcurrentReadsOfOneArchive() throws {
        let a = try archive("photomap_deflated.npz")
        let expected = try a.array("embeddings").doubles()
        let matches = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            if (try? a.array("embeddings").doubles()) == expected { matches.increment() }
        }
        XCTAssertEqual(matches.value, 8)
    }
}

/// A thread-safe count, for tests that run work concurrently.
final class Counter: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
