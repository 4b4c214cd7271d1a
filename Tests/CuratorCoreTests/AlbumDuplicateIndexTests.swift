import Foundation
import GRDB
import XCTest
@testable import CuratorCore

/// The duplicate index an album keeps: built on first use, read back when
/// the vectors are the same, updated when images arrive, rebuilt (never
/// trusted) when it was built for other vectors or is damaged; and the
/// search through it finds what comparing every pair finds.
final class AlbumDuplicateIndexTests: XCTestCase {
    private let folder = TemporaryFolder()

    /// An embeddings file of `matrix`'s rows (from row `first` on) named /p/<row>.jpg.
    private func npz(_ name: String, _ matrix: EmbeddingMatrix, rows: Range<Int>) -> String {
        let vectors = rows.map { Array(UnsafeBufferPointer(start: matrix.row($0), count: matrix.dimension)) }
        return folder.write(name, ZipFixture.archive([
            ZipFixture.stored("embeddings.npy", ZipFixture.npy(rows: vectors)),
            ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: rows.map { "/p/\($0).jpg" })),
        ]))
    }

    private func groups(_ search: DuplicateSearch) -> Set<[Int64]> { Set(search.groups.map(\.ids)) }

    func testTheIndexIsStoredUpdatedAndRebuiltForOtherVectors() throws {
        let m = SelectionDuplicateIndexTests.plantedMatrix(rows: 1600, dimension: 24, seed: 5)
        let file = npz("a/index.npz", m, rows: 0..<1400)
        let album = try Album.open(file)
        let exact = try album.duplicateSearch(threshold: 0.95, method: .exact)
        XCTAssertEqual(exact.method, .exact)
        XCTAssertNil(exact.index)
        XCTAssertGreaterThan(exact.groups.count, 20)

        let first = try album.duplicateSearch(threshold: 0.95, method: .index)
        XCTAssertEqual(first.method, .index)
        XCTAssertEqual(first.index, .built)
        XCTAssertEqual(first.lists, InvertedFile.duplicateListCount(rows: 1400))
        XCTAssertEqual(groups(first), groups(exact))
        for group in first.groups {
            XCTAssertGreaterThanOrEqual(group.similarity, 0.95 - 1e-6)
        }

        // Reopened, the same vectors: the stored index, not a new one.
        let reopened = try Album.open(file)
        let second = try reopened.duplicateSearch(threshold: 0.95, method: .index)
        XCTAssertEqual(second.index, .stored)
        XCTAssertEqual(groups(second), groups(exact))
        // A lower threshold than the stored index reaches needs a wider horizon: every row reassigned to the same centres.
        let lower = try reopened.duplicateSearch(threshold: 0.8, method: .index)
        XCTAssertEqual(lower.index, .updated(assigned: 1400))
        XCTAssertEqual(groups(lower), groups(try reopened.duplicateSearch(threshold: 0.8, method: .exact)))
        XCTAssertEqual(try Album.open(file).duplicateSearch(threshold: 0.95, method: .index).index, .stored,
                       "the wider index serves higher thresholds")

        // Images arrive: only they are assigned, and the search still matches every pair's.
        let grown = npz("a/index.npz", m, rows: 0..<1600)
        let bigger = try Album.open(grown)
        XCTAssertEqual(bigger.images.count, 1600)
        let third = try bigger.duplicateSearch(threshold: 0.95, method: .index)
        XCTAssertEqual(third.index, .updated(assigned: 200))
        XCTAssertEqual(groups(third), groups(try bigger.duplicateSearch(threshold: 0.95, method: .exact)))

        // The same images with another model's vectors: the index is for
        // other vectors, so it is rebuilt, and the groups are those of the new vectors.
        let other = SelectionDuplicateIndexTests.plantedMatrix(rows: 1600, dimension: 24, seed: 6)
        let swapped = try Album.open(npz("a/index.npz", other, rows: 0..<1600))
        let fourth = try swapped.duplicateSearch(threshold: 0.95, method: .index)
        XCTAssertEqual(fourth.index, .built)
        let exactOther = try swapped.duplicateSearch(threshold: 0.95, method: .exact)
        XCTAssertNotEqual(groups(exactOther), groups(exact))
        XCTAssertEqual(groups(fourth), groups(exactOther))

        // Another dimension: rebuilt too.
        let wide = SelectionDuplicateIndexTests.plantedMatrix(rows: 1600, dimension: 32, seed: 6)
        let widened = try Album.open(npz("a/index.npz", wide, rows: 0..<1600))
        XCTAssertEqual(try widened.duplicateSearch(threshold: 0.95, method: .index).index, .built)
    }

    func testADamagedStoredIndexIsRebuiltNotTrusted() throws {
        let m = SelectionDuplicateIndexTests.plantedMatrix(rows: 800, dimension: 16, seed: 3)
        let file = npz("d/index.npz", m, rows: 0..<800)
        let album = try Album.open(file)
        let exact = groups(try album.duplicateSearch(threshold: 0.95, method: .exact))
        XCTAssertEqual(try album.duplicateSearch(threshold: 0.95, method: .index).index, .built)
        for damage in ["UPDATE duplicate_index SET rows = substr(rows, 1, 100)",
                       "UPDATE duplicate_index SET centres = x'0102'",
                       "UPDATE duplicate_index SET rows = x''"] {
            try album.database.pool.write { try $0.execute(sql: damage) }
            let search = try Album.open(file).duplicateSearch(threshold: 0.95, method: .index)
            XCTAssertEqual(search.index, .built, damage)
            XCTAssertEqual(groups(search), exact, damage)
        }
    }

    func testSmallAlbumsCompareEveryPairAsBefore() throws {
        let m = SelectionDuplicateIndexTests.plantedMatrix(rows: 400, dimension: 16, seed: 2)
        let album = try Album.open(npz("s/index.npz", m, rows: 0..<400))
        let auto = try album.duplicateSearch(threshold: 0.95)
        XCTAssertEqual(auto.method, .exact)
        XCTAssertEqual(try album.duplicates(threshold: 0.95), auto.groups)
        let rows = Array(0..<400)
        let expected = try NearDuplicateFinder(threshold: 0.95).groups(matrix: album.matrix().matrix, rows: rows)
        XCTAssertEqual(auto.groups.map(\.ids), expected.map { $0.rows.map { try! album.matrix().imageIDs[$0] } })
        // Nothing was stored for a search that did not use the index.
        let stored = try album.database.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM duplicate_index") }
        XCTAssertEqual(stored, 0)
    }
}
