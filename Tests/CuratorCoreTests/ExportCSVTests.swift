import Foundation
import XCTest
@testable import CuratorCore

final class ExportCSVTests: XCTestCase {
    private func sample(_ relative: String, index: Int, votes: Int, excluded: Bool = false) -> CurationEntry {
        CurationEntry(path: RelativePath(relative), albumRoot: FileSystemPath("/photos"), votes: votes,
                      frequency: Double(votes) / 30, index: index, excluded: excluded)
    }

    func testHeaderRowsAndNumbersAsPhotoMapAIWritesThem() {
        let csv = CurationCSV.render([
            sample("trips/b.jpg", index: 7, votes: 30),
            sample("x.jpg", index: 9, votes: 1, excluded: true),
            sample("trips/2024/a.png", index: 3, votes: 22),
            sample("c.jpg", index: 0, votes: 10),
        ])
        XCTAssertEqual(csv, """
        Filename,Subfolder,Count,Frequency(%),Index,Status,Path,Tier\r
        b.jpg,trips,30,100.0,7,Included,trips/b.jpg,core\r
        a.png,2024,22,73.3,3,Included,trips/2024/a.png,stable\r
        c.jpg,photos,10,33.3,0,Included,c.jpg,variable\r
        x.jpg,photos,1,3.3,9,Excluded,x.jpg,excluded\r

        """)
    }

    func testPercentagesRoundToOneDecimal() {
        XCTAssertEqual(CurationCSV.percentage(0), "0.0")
        XCTAssertEqual(CurationCSV.percentage(0.9), "90.0")
        XCTAssertEqual(CurationCSV.percentage(2.0 / 3), "66.7")
        XCTAssertEqual(CurationCSV.percentage(1), "100.0")
        XCTAssertEqual(CurationCSV.percentage(0.0004), "0.0")
    }

    func testQuotesCommasAndNewlinesReadBackWithPythonsCSVModule() throws {
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
            ?? ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map({ "\($0)/python3" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { throw XCTSkip("python3 is not installed") }

        let s = try ExportScratchFolder()
        let awkward = [
            sample("say \"cheese\"/a, b.jpg", index: 0, votes: 30),
            sample("line\nbreak/two\r\nlines.jpg", index: 1, votes: 15),
            sample("plain/ü ñ 日本.jpg", index: 2, votes: 3, excluded: true),
        ]
        let path = s.path("curation.csv")
        try CurationCSV.write(awkward, to: path)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", """
            import csv, json, sys
            with open(sys.argv[1], newline='', encoding='utf-8') as f:
                print(json.dumps(list(csv.reader(f))))
            """, path.string]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let rows = try JSONDecoder().decode([[String]].self, from: output)
        XCTAssertEqual(rows, [
            CurationCSV.header,
            ["a, b.jpg", "say \"cheese\"", "30", "100.0", "0", "Included", "say \"cheese\"/a, b.jpg", "core"],
            ["two\r\nlines.jpg", "line\nbreak", "15", "50.0", "1", "Included", "line\nbreak/two\r\nlines.jpg", "variable"],
            ["ü ñ 日本.jpg", "plain", "3", "10.0", "2", "Excluded", "plain/ü ñ 日本.jpg", "excluded"],
        ])
    }

    func testFormulaLikeNamesAreEscapedUnlessTurnedOff() {
        // OWASP's CSV-injection rule: =, +, -, @, tab and CR start a formula in a spreadsheet.
        let entries = [sample("=HYPERLINK(\"x\").jpg", index: 0, votes: 30), sample("@sum/+1.jpg", index: 1, votes: 30),
                       sample("-2.jpg", index: 2, votes: 30), sample("\tx.jpg", index: 3, votes: 30), sample("a=b.jpg", index: 4, votes: 30)]
        let lines = CurationCSV.render(entries).components(separatedBy: "\r\n")
        XCTAssertEqual(lines[1], #""'=HYPERLINK(""x"").jpg",photos,30,100.0,0,Included,"'=HYPERLINK(""x"").jpg",core"#)
        XCTAssertEqual(lines[2], "'+1.jpg,'@sum,30,100.0,1,Included,'@sum/+1.jpg,core")
        XCTAssertEqual(lines[3], "'-2.jpg,photos,30,100.0,2,Included,'-2.jpg,core")
        XCTAssertEqual(lines[4], "'\tx.jpg,photos,30,100.0,3,Included,'\tx.jpg,core")
        XCTAssertEqual(lines[5], "a=b.jpg,photos,30,100.0,4,Included,a=b.jpg,core", "only a leading character counts")
        let raw = CurationCSV.render(entries, escapeFormulas: false).components(separatedBy: "\r\n")
        XCTAssertEqual(raw[3], "-2.jpg,photos,30,100.0,2,Included,-2.jpg,core")
    }

    func testOverwritingASymbolicLinkReplacesTheLinkNotItsTarget() throws {
        let s = try ExportScratchFolder()
        let outside = s.write("outside.txt", "someone else's file")
        let root = s.root.string
        try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: true)
        let link = FileSystemPath(root + "/out/curation.csv")
        XCTAssertEqual(symlink(outside.string, link.string), 0)
        try CurationCSV.write([sample("a.jpg", index: 0, votes: 1)], to: link, overwrite: true)
        XCTAssertEqual(fileText(outside), "someone else's file", "the link's target is untouched")
        XCTAssertTrue(fileText(link)?.hasPrefix("Filename,") == true)
        XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: link.string), "the link was replaced by the file")
    }

    func testAnExistingFileIsReplacedOnlyWhenAsked() throws {
        let s = try ExportScratchFolder()
        let path = s.write("curation.csv", "precious")
        XCTAssertThrowsError(try CurationCSV.write([sample("a.jpg", index: 0, votes: 1)], to: path)) {
            XCTAssertEqual($0 as? ExportError, .fileExists(path))
        }
        XCTAssertEqual(fileText(path), "precious")
        try CurationCSV.write([sample("a.jpg", index: 0, votes: 1)], to: path, overwrite: true)
        XCTAssertTrue(fileText(path)?.hasPrefix("Filename,Subfolder,Count,Frequency(%),Index,Status") == true)
        XCTAssertEqual(folderNames(s.root), ["curation.csv"], "no temporary file left")
    }

    func testAFolderOrAFileInTheWayIsAnErrorNamingThePathAndMissingFoldersAreMade() throws {
        let s = try ExportScratchFolder()
        XCTAssertThrowsError(try CurationCSV.write([], to: s.root, overwrite: true)) {
            XCTAssertEqual($0 as? ExportError, .isADirectory(s.root))
        }
        try CurationCSV.write([sample("a.jpg", index: 0, votes: 1)], to: s.path("missing/deeper/curation.csv"))
        XCTAssertTrue(fileText(s.path("missing/deeper/curation.csv"))?.hasPrefix("Filename,Subfolder") == true)
        let taken = s.write("taken", "precious")
        XCTAssertThrowsError(try CurationCSV.write([], to: s.path("taken/sub/curation.csv"))) {
            XCTAssertEqual($0 as? ExportError, .notADirectory(taken))
        }
        XCTAssertEqual(fileText(taken), "precious")
    }

    func testAFullDiskLeavesNeitherAPartialCSVNorATemporaryFile() throws {
        let s = try ExportScratchFolder()
        let fs = ExportFaultyFileSystem()
        fs.capacity = 20
        let path = s.path("curation.csv")
        XCTAssertThrowsError(try CurationCSV.write([sample("a.jpg", index: 0, votes: 1)], to: path, fileSystem: fs)) {
            XCTAssertTrue(String(describing: $0).hasSuffix("write: No space left on device"), "\($0)")
        }
        XCTAssertEqual(folderNames(s.root), [])
    }
}
