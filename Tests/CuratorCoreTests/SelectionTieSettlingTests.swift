import Foundation
import XCTest
@testable import CuratorCore

/// FPS settles near-ties on exact values (`TieSettling`): a float16 album
/// whose exact float32 rows can be read (an index-only album's embeddings
/// file, a folder album's index) picks what its float32 twin picks, even
/// where float16 rounding alone swaps two candidates.
final class SelectionTieSettlingTests: XCTestCase {
    private let folder = TemporaryFolder()
    private let rows = 3000, dimension = 24, count = 60

    /// Random (not unit-length) rows as a PhotoMapAI index at `name`.
    private func index(_ name: String, seed: UInt64) -> String {
        var generator = SplitMix64(seed: seed)
        let vectors = (0..<rows).map { _ in (0..<dimension).map { _ in Float(generator.nextUnit() * 2 - 1) } }
        return folder.write(name, ZipFixture.archive([
            ZipFixture.stored("embeddings.npy", ZipFixture.npy(rows: vectors)),
            ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: (0..<rows).map { String(format: "/data/img%05d.jpg", $0) })),
        ]))
    }

    private func paths(_ album: Album, _ run: SelectionRun) -> [[String]] {
        run.picks.map { $0.map { album.image(id: $0)!.path.string } }
    }

    /// `count` float16 values in [−1, 1) as little-endian `.npy` data.
    private func halfValues(_ count: Int, _ generator: inout SplitMix64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 * count)
        for _ in 0..<count {
            withUnsafeBytes(of: Float16(Float(generator.nextUnit() * 2 - 1)).bitPattern.littleEndian) { bytes += $0 }
        }
        return bytes
    }

    /// Whether float16 rounding alone changes `album16`'s FPS picks from its
    /// float32 twin's; when it does, checks that with its exact rows the
    /// float16 album picks what float32 picks.
    private func settlesASwap(_ album32: Album, _ album16: Album, starts: [Int?], _ what: String) throws -> Bool {
        let m32 = try album32.matrix(), m16 = try album16.matrix()
        XCTAssertEqual(m16.matrix.precision, .float16)
        let exact = try XCTUnwrap(album16.exactRows(of: m16), "\(what) has exact rows")
        let all = Array(0..<m32.matrix.rows)
        let picks32 = try FarthestPointSampler().farthestPoints(matrix: m32.matrix, candidates: all, count: count, starts: starts)
        let unsettled = try FarthestPointSampler().farthestPoints(matrix: m16.matrix, candidates: all, count: count, starts: starts)
        guard unsettled != picks32 else { return false }
        XCTAssertEqual(try FarthestPointSampler().farthestPointsWithStatistics(
            matrix: m16.matrix, candidates: all, count: count, starts: starts, exactRows: exact).picks, picks32, what)
        return true
    }

    func testFloat16PicksWhatFloat32PicksWhereRoundingAloneWouldSwapANearTie() throws {
        let starts: [Int?] = [0, 1, 2]
        // The default engine (mostly lazy steps, near-ties among the top rows), and one
        // whose lazy steps give up at once (every step a pass, near-ties seen from block maxima).
        var eager = FarthestPointSampler()
        eager.lazyLimit = 1
        var swapped = 0
        for seed in UInt64(1)...40 where swapped < 2 {
            let file32 = index("s\(seed)/e.npz", seed: seed), file16 = index("s\(seed)h/e.npz", seed: seed)
            let album32 = try Album.open(file32)
            let album16 = try Album.open(file16, options: .init(precision: .float16))
            let m32 = try album32.matrix(), m16 = try album16.matrix()
            XCTAssertEqual(m16.matrix.precision, .float16)
            let all = Array(0..<rows)
            // Without exact rows, float16 follows its own rounding.
            let unsettled = try FarthestPointSampler().farthestPoints(matrix: m16.matrix, candidates: all, count: count, starts: starts)
            let picks32 = try FarthestPointSampler().farthestPoints(matrix: m32.matrix, candidates: all, count: count, starts: starts)
            guard unsettled != picks32 else { continue }
            swapped += 1
            let exact = try XCTUnwrap(album16.exactRows(of: m16), "an unchanged stored float32 npz has exact rows")
            XCTAssertNil(album32.exactRows(of: m32), "float32 rows are their own exact values")
            for sampler in [FarthestPointSampler(), eager] {
                let (settled, statistics) = try sampler.farthestPointsWithStatistics(
                    matrix: m16.matrix, candidates: all, count: count, starts: starts, exactRows: exact)
                XCTAssertEqual(settled, picks32, "seed \(seed), lazy limit \(sampler.lazyLimit ?? 0): the same picks in the same order")
                XCTAssertGreaterThan(statistics.tiesSettled, 0)
                XCTAssertEqual(try sampler.farthestPoints(matrix: m32.matrix, candidates: all, count: count, starts: starts), picks32,
                               "float32 picks do not depend on how the engine steps")
            }
            // The first pick farthest from included rows is settled too.
            let include = [7, 8, 9], candidates = all.filter { !include.contains($0) }
            let included32 = try FarthestPointSampler().farthestPoints(matrix: m32.matrix, candidates: candidates, count: count,
                                                                       include: include, starts: [nil])
            let included16 = try FarthestPointSampler().farthestPointsWithStatistics(
                matrix: m16.matrix, candidates: candidates, count: count, include: include, starts: [nil], exactRows: exact).picks
            XCTAssertEqual(included16, included32, "seed \(seed), with included rows")
            // Through the album, as a:select does it.
            let options = SelectOptions(method: "fps", count: count, iterations: 4, seed: 2)
            XCTAssertEqual(paths(album16, try album16.select(options)), paths(album32, try album32.select(options)))
            // An embeddings file changed since the import has no exact rows to offer: the float16 values stand.
            let later = Date().addingTimeInterval(60)
            try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: file16)
            XCTAssertNil(album16.exactRows(of: m16))
        }
        XCTAssertEqual(swapped, 2, "too few seeds gave a near-tie that float16 rounding swaps: the test proves nothing")
    }

    func testAFloat16EmbeddingsFilesExactRowsAreItsValuesWidened() throws {
        // clip-retrieval and others save float16: kept as float16, such an album picks what
        // its float32 import (the same values widened and scaled) picks.
        var swapped = 0
        for seed in UInt64(1)...40 where swapped < 1 {
            var generator = SplitMix64(seed: seed)
            let archive = ZipFixture.archive([
                ZipFixture.stored("embeddings.npy", ZipFixture.npyHeader(descr: "<f2", shape: [rows, dimension])
                                  + halfValues(rows * dimension, &generator)),
                ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: (0..<rows).map { String(format: "/data/img%05d.jpg", $0) })),
            ])
            let album32 = try Album.open(folder.write("h\(seed)/e.npz", archive))
            let album16 = try Album.open(folder.write("h\(seed)h/e.npz", archive), options: .init(precision: .float16))
            if try settlesASwap(album32, album16, starts: [0, 1, 2], "a stored float16 member, seed \(seed)") { swapped += 1 }
        }
        XCTAssertEqual(swapped, 1, "no seed gave a near-tie that float16 rounding swaps: the test proves nothing")
    }

    func testAClipRetrievalFoldersExactRowsComeFromItsShards() throws {
        // clip-retrieval writes float16 shards; three of them, kept as float16, pick what the
        // same folder imported as float32 picks.
        var swapped = 0
        for seed in UInt64(1)...40 where swapped < 1 {
            var generator = SplitMix64(seed: seed)
            let output = "clip\(seed)", copy = "clip\(seed)h"
            for (shard, shardRows) in [900, 1300, 800].enumerated() {
                let bytes = ZipFixture.npyHeader(descr: "<f2", shape: [shardRows, dimension]) + halfValues(shardRows * dimension, &generator)
                for root in [output, copy] { _ = folder.write(root + "/img_emb/img_emb_\(shard).npy", bytes) }
            }
            let paths = (0..<rows).map { String(format: "/data/img%05d.jpg", $0) }.joined(separator: "\n") + "\n"
            for root in [output, copy] { _ = folder.write(root + "/paths.txt", Array(paths.utf8)) }
            let album32 = try Album.open(folder.path + "/" + output)
            let album16 = try Album.open(folder.path + "/" + copy, options: .init(precision: .float16))
            if try settlesASwap(album32, album16, starts: [0, 1000, 2500], "clip-retrieval shards, seed \(seed)") { swapped += 1 }
        }
        XCTAssertEqual(swapped, 1, "no seed gave a near-tie that float16 rounding swaps: the test proves nothing")
    }

    func testCountAutoStopsWhereFloat32StopsEvenWhenRoundingStraddlesTheThreshold() throws {
        // count="auto" stops before a pick closer than the threshold to the picked set. Set at
        // a pick's exact distance (rounded to float32), the engine's float32 and float16 values
        // fall on either side of it by rounding alone; the exact scores decide the same way.
        let sampler = FarthestPointSampler()
        var unsettledDisagreed = 0, thresholds = 0
        for seed in UInt64(41)...46 {
            let album32 = try Album.open(index("a\(seed)/e.npz", seed: seed))
            let album16 = try Album.open(index("a\(seed)h/e.npz", seed: seed), options: .init(precision: .float16))
            let m32 = try album32.matrix(), m16 = try album16.matrix()
            let exact = try XCTUnwrap(album16.exactRows(of: m16))
            let all = Array(0..<rows)
            let full = try sampler.farthestPoints(matrix: m32.matrix, candidates: all, count: count, starts: [0])[0]
            for t in stride(from: 4, to: count, by: 3) {
                // Pick t's exact distance to the picks before it.
                let x = m32.matrix.row(full[t])
                var nearest = -Double.infinity
                for j in 0..<t {
                    let y = m32.matrix.row(full[j])
                    var dot = 0.0
                    for k in 0..<dimension { dot += Double(x[k]) * Double(y[k]) }
                    nearest = max(nearest, dot)
                }
                let threshold = Float(1 - nearest)
                thresholds += 1
                let picks32 = try sampler.farthestPointsWithStatistics(
                    matrix: m32.matrix, candidates: all, count: count, starts: [0], stopBelow: threshold).picks
                let picks16 = try sampler.farthestPointsWithStatistics(
                    matrix: m16.matrix, candidates: all, count: count, starts: [0], stopBelow: threshold, exactRows: exact).picks
                XCTAssertEqual(picks16, picks32, "seed \(seed), threshold at pick \(t)")
                XCTAssertTrue(picks32[0].count == t || picks32[0].count == t + 1, "the run stops at pick \(t) or just after it")
                let unsettled = try sampler.farthestPointsWithStatistics(
                    matrix: m16.matrix, candidates: all, count: count, starts: [0], stopBelow: threshold).picks
                if unsettled[0].count != picks32[0].count { unsettledDisagreed += 1 }
            }
        }
        XCTAssertGreaterThan(unsettledDisagreed, 0,
                             "float16's own values never straddled a threshold in \(thresholds) tries: the test proves nothing")
    }

    func testAFolderAlbumsExactRowsAreTheFloat32VectorsItsIndexKeeps() throws {
        let values: [Float] = [1, 0, 0, 0.6, 0.8, 0, 0.1, 0.2, (1 - 0.05 as Float).squareRoot()]
        let made = try folder.folderAlbum(vectors: values, dimension: 3)
        let album = made.path
        var opened = made.album
        let exact32 = try opened.matrix()
        XCTAssertNil(opened.exactRows(of: exact32))
        opened = try Album.open(album, options: .init(embed: false, precision: .float16))
        let m16 = try opened.matrix()
        XCTAssertEqual(m16.matrix.precision, .float16)
        let exact = try XCTUnwrap(opened.exactRows(of: m16))
        var row = [Float](repeating: 0, count: 3)
        for r in 0..<3 {
            try row.withUnsafeMutableBufferPointer { try exact.copyRow(r, $0.baseAddress!) }
            let id = m16.imageIDs[r]
            XCTAssertEqual(row, exact32.matrix.vector(try XCTUnwrap(exact32.imageIDs.firstIndex(of: id))),
                           "row \(r): the float32 vector, bit for bit")
            if r == 2 { XCTAssertNotEqual(m16.matrix.vector(r), row, "0.1 is not a float16 value") }
        }
    }

    func testTheRunnerUpIsTheLargestOtherValue() {
        func check(_ values: [Float], _ first: Float, _ second: Float, line: UInt = #line) {
            let (a, b) = values.withUnsafeBufferPointer { VectorKernels.maximumAndRunnerUp($0.baseAddress!, count: values.count) }
            XCTAssertEqual(a, first, line: line)
            XCTAssertEqual(b, second, line: line)
        }
        check([], -.infinity, -.infinity)
        check([3], 3, -.infinity)
        check([1, 5, 2, 5], 5, 5)
        // Both in one SIMD lane, in different lanes, and in the scalar tail.
        var values = [Float](repeating: -.infinity, count: 21)
        values[2] = 0.9; values[10] = 0.8
        check(values, 0.9, 0.8)
        values[10] = -1; values[5] = 0.85
        check(values, 0.9, 0.85)
        values[20] = 0.95
        check(values, 0.95, 0.9)
    }

    func testTheToleranceCoversFloat16RoundingAndTheSumsError() {
        // 2δ for 512-d rows: float32 sums alone about 6e-5, float16 values about 2e-3.
        XCTAssertEqual(TieSettling.tolerance(precision: .float32, dimension: 512), 6.2e-5, accuracy: 0.1e-5)
        XCTAssertEqual(TieSettling.tolerance(precision: .float16, dimension: 512), 2.04e-3, accuracy: 0.01e-3)
    }
}
