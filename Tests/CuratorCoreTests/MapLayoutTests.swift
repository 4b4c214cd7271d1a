import XCTest
@testable import CuratorCore

final class MapLayoutTests: XCTestCase {
    let parameters = UMAPParameters(nNeighbors: 10, epochs: 120)

    func testNewImagesLandBesideTheirNeighboursAndOldOnesStay() throws {
        let (all, labels) = MapTestData.clusters(groups: 4, perGroup: 60, dimension: 16, seed: 21)
        // The first 230 rows are the old album; 10 more arrive later.
        let oldRows = 230
        let oldMatrix = EmbeddingMatrix(rows: oldRows, dimension: all.dimension)
        oldMatrix.storage.baseAddress!.update(from: all.storage.baseAddress!, count: oldRows * all.dimension)
        let ids = (0..<all.rows).map { Int64(1_000 + $0) }
        let old = try MapLayout.compute(oldMatrix, imageIDs: Array(ids[0..<oldRows]), parameters: parameters)

        let updated = try old.updated(for: all, imageIDs: ids)
        XCTAssertEqual(updated.method, .incremental)
        XCTAssertEqual(updated.points.count, all.rows)
        XCTAssertEqual(Array(updated.points[0..<oldRows]), old.points, "old images moved")
        var centroids: [SIMD2<Float>] = []
        for g in 0..<4 {
            centroids.append(MapTestData.centroid((0..<oldRows).filter { labels[$0] == g }.map { old.points[$0] }))
        }
        for i in oldRows..<all.rows {
            let p = updated.points[i]
            XCTAssertTrue(p.x.isFinite && p.y.isFinite)
            let nearest = (0..<4).min { distance(p, centroids[$0]) < distance(p, centroids[$1]) }
            XCTAssertEqual(nearest, labels[i], "new image \(i) placed in the wrong cluster")
        }
        XCTAssertEqual(updated.point(forImage: ids[oldRows]), updated.points[oldRows])
    }

    func testRemovedImagesAreDroppedAndOrderFollowsTheNewMatrix() throws {
        let (matrix, _) = MapTestData.clusters(groups: 2, perGroup: 30, dimension: 8, seed: 2)
        let ids = (0..<matrix.rows).map { Int64($0 * 3) }
        let layout = try MapLayout.compute(matrix, imageIDs: ids, parameters: parameters)
        // Keep every other row, reversed.
        let kept = stride(from: matrix.rows - 1, through: 0, by: -2).map { $0 }
        let smaller = EmbeddingMatrix(rows: kept.count, dimension: matrix.dimension)
        for (r, i) in kept.enumerated() { smaller.row(r).update(from: matrix.row(i), count: matrix.dimension) }
        let updated = try layout.updated(for: smaller, imageIDs: kept.map { ids[$0] })
        XCTAssertEqual(updated.points, kept.map { layout.points[$0] })
        XCTAssertEqual(updated.imageIDs, kept.map { ids[$0] })
    }

    func testManyNewImagesOrOtherParametersRecomputeFromScratch() throws {
        let (matrix, _) = MapTestData.clusters(groups: 2, perGroup: 30, dimension: 8, seed: 6)
        let ids = (0..<matrix.rows).map { Int64($0) }
        let half = EmbeddingMatrix(rows: 30, dimension: matrix.dimension)
        half.storage.baseAddress!.update(from: matrix.storage.baseAddress!, count: 30 * matrix.dimension)
        let layout = try MapLayout.compute(half, imageIDs: Array(ids[0..<30]), parameters: parameters)
        let grown = try layout.updated(for: matrix, imageIDs: ids)
        XCTAssertEqual(grown.method, .umap)
        XCTAssertEqual(grown, try MapLayout.compute(matrix, imageIDs: ids, parameters: parameters))
        var other = parameters
        other.minDist = 0.3
        XCTAssertEqual(try layout.updated(for: half, imageIDs: Array(ids[0..<30]), parameters: other).parameters, other)
    }

    func testMismatchedIdsAreRefused() {
        let matrix = MapTestData.matrix([[1, 0], [0, 1]])
        XCTAssertThrowsError(try MapLayout.compute(matrix, imageIDs: [1, 2, 3])) {
            XCTAssertTrue("\($0)".contains("3 image ids for 2 embedding rows"), "\($0)")
        }
    }

    func testBytesRoundTripAndDamageIsReported() throws {
        let layout = MapLayout(points: [SIMD2(1.5, -2), SIMD2(.pi, 1e-7), SIMD2(-0.0, 42)], imageIDs: [7, -3, 1 << 40],
                               parameters: UMAPParameters(nNeighbors: 12, minDist: 0.1, seed: 5, epochs: 33),
                               method: .incremental)
        let bytes = layout.serialized()
        XCTAssertEqual(try MapLayout(serialized: bytes), layout)
        XCTAssertThrowsError(try MapLayout(serialized: Array(bytes.dropLast(3)))) {
            XCTAssertEqual(($0 as? MapError)?.kind, .corrupt)
        }
        XCTAssertThrowsError(try MapLayout(serialized: [0x43, 0x55]))
        var wrongMagic = bytes
        wrongMagic[7] = 0x39
        XCTAssertThrowsError(try MapLayout(serialized: wrongMagic)) { XCTAssertTrue("\($0)".contains("not a curator map")) }
        XCTAssertThrowsError(try MapLayout(serialized: bytes + [0])) { XCTAssertTrue("\($0)".contains("after the points")) }
        // Codable too.
        let json = try JSONEncoder().encode(layout)
        XCTAssertEqual(try JSONDecoder().decode(MapLayout.self, from: json), layout)
    }

    func testCacheKeyDependsOnEmbedderParametersAndImageSetOnly() {
        let p = UMAPParameters()
        let key = MapLayout.cacheKey(embedder: "clip", parameters: p, imageIDs: [3, 1, 2])
        XCTAssertTrue(key.hasPrefix("umap-"))
        XCTAssertEqual(key.count, 5 + 64)
        XCTAssertEqual(key, MapLayout.cacheKey(embedder: "clip", parameters: p, imageIDs: [1, 2, 3]))
        XCTAssertNotEqual(key, MapLayout.cacheKey(embedder: "siglip", parameters: p, imageIDs: [1, 2, 3]))
        XCTAssertNotEqual(key, MapLayout.cacheKey(embedder: "clip", parameters: UMAPParameters(seed: 1), imageIDs: [1, 2, 3]))
        XCTAssertNotEqual(key, MapLayout.cacheKey(embedder: "clip", parameters: p, imageIDs: [1, 2, 4]))
    }

    func testSHA256KnownAnswers() {
        XCTAssertEqual(SHA256.hex("".utf8), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
