import XCTest
@testable import CuratorCore

final class ExportKohyaTests: XCTestCase {
    func testKohyaLayoutPutsImagesInRepeatsConceptFolderWithOneCaptionEach() throws {
        let s = try ExportScratchFolder()
        s.write("album/a/one.jpg", "ONE")
        s.write("album/a/one.caption", "from .caption")       // renamed to .txt
        s.write("album/a/one.json", "{}")                       // not a caption: stays behind
        s.write("album/b/two.jpg", "TWO")
        s.write("album/b/two.txt", "from .txt")
        s.write("album/b/two.caption", "ignored: .txt is preferred")
        s.write("album/c/three.jpg", "THREE")                   // no caption at all
        s.write("album/c/skip.jpg", "SKIP")
        let out = s.path("lora/img")
        let layout = KohyaLayout(repeats: 10, concept: "mychar", captionExtension: ".txt")
        let entries = [exportEntry(s, "a/one.jpg", index: 0), exportEntry(s, "b/two.jpg", index: 1),
                       exportEntry(s, "c/three.jpg", index: 2), exportEntry(s, "c/skip.jpg", index: 3, excluded: true)]

        let report = try FolderExporter(destination: out, options: ExportOptions(layout: .kohya(layout))).export(entries)

        let folder = s.path("lora/img/10_mychar")
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(report.destination, folder)
        XCTAssertEqual(folderNames(out), ["10_mychar"])
        XCTAssertEqual(folderNames(folder), ["one.jpg", "one.txt", "three.jpg", "two.jpg", "two.txt"])
        XCTAssertEqual(fileText(folder.appending("one.txt")), "from .caption")
        XCTAssertEqual(fileText(folder.appending("two.txt")), "from .txt")
        XCTAssertEqual(report.captions, 2)
    }

    func testConceptIsWrittenAsTheCaptionOnlyWhenAsked() throws {
        let s = try ExportScratchFolder()
        s.write("album/three.jpg", "THREE")
        s.write("album/four.jpg", "FOUR")
        s.write("album/four.txt", "own caption")
        let out = s.path("img")
        let layout = KohyaLayout(repeats: 3, concept: "my char", captionExtension: ".caption", conceptAsMissingCaption: true)

        let report = try FolderExporter(destination: out, options: ExportOptions(layout: .kohya(layout)))
            .export([exportEntry(s, "three.jpg", index: 0), exportEntry(s, "four.jpg", index: 1)])

        let folder = s.path("img/3_my char")
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(folderNames(folder), ["four.caption", "four.jpg", "three.caption", "three.jpg"])
        XCTAssertEqual(fileText(folder.appending("three.caption")), "my char")
        XCTAssertEqual(fileText(folder.appending("four.caption")), "own caption")
        XCTAssertNil(report.items[0].sidecars.first?.source, "the concept caption is generated, not copied")
    }

    func testKohyaCollisionsAreCheckedInsideTheConceptFolder() throws {
        let s = try ExportScratchFolder()
        s.write("album/x/cat.jpg", "X")
        s.write("album/y/cat.jpg", "Y")
        s.write("img/5_c/cat.txt", "already there")
        let layout = KohyaLayout(repeats: 5, concept: "c", conceptAsMissingCaption: true)
        let report = try FolderExporter(destination: s.path("img"), options: ExportOptions(layout: .kohya(layout)))
            .export([exportEntry(s, "x/cat.jpg", index: 0), exportEntry(s, "y/cat.jpg", index: 1)])
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(folderNames(s.path("img/5_c")), ["cat.txt", "x_cat.jpg", "x_cat.txt", "y_cat.jpg", "y_cat.txt"])
        XCTAssertEqual(fileText(s.path("img/5_c/cat.txt")), "already there")
    }

    func testInvalidKohyaOptionsAreRefusedBeforeAnythingHappens() throws {
        let s = try ExportScratchFolder()
        let cases: [(KohyaLayout, String)] = [
            (KohyaLayout(repeats: 0, concept: "c"), "export option 'repeats': must be at least 1, not 0"),
            (KohyaLayout(repeats: 1, concept: "a/b"), "export option 'concept': 'a/b' cannot be part of a folder name"),
            (KohyaLayout(repeats: 1, concept: ""), "export option 'concept': '' cannot be part of a folder name"),
            (KohyaLayout(repeats: 1, concept: "c", captionExtension: "txt"), "export option 'caption_ext': 'txt' is not an extension like '.txt'"),
        ]
        for (layout, message) in cases {
            XCTAssertThrowsError(try FolderExporter(destination: s.path("img"), options: ExportOptions(layout: .kohya(layout))).export([])) {
                XCTAssertEqual(($0 as? ExportError)?.description, message)
            }
        }
        XCTAssertEqual(folderNames(s.path("")), [])
    }
}
