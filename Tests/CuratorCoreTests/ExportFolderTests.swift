#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import XCTest
@testable import CuratorCore

final class ExportFolderTests: XCTestCase {
    // MARK: - What a user relies on

    func testCopiesSelectionWithSidecarsKeepsTimesAndNeverExportsExcluded() throws {
        let s = try ExportScratchFolder()
        s.write("album/pets/cat.jpg", "CAT", modified: 1_500_000_000)
        s.write("album/pets/cat.txt", "a cat")
        s.write("album/pets/cat.caption", "cat, sitting")
        s.write("album/pets/cat.json", "{\"k\":1}")
        s.write("album/dog.png", "DOG")
        s.write("album/pets/evil.jpg", "EVIL")
        let out = s.path("out")

        let report = try FolderExporter(destination: out).export([
            exportEntry(s, "pets/cat.jpg", index: 0),
            exportEntry(s, "pets/evil.jpg", index: 2, excluded: true),
            exportEntry(s, "dog.png", index: 1),
        ])

        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(report.exported, 2)
        XCTAssertEqual(report.captions, 3)
        XCTAssertEqual(report.renamed, 0)
        XCTAssertEqual(report.excluded, 1)
        XCTAssertEqual(folderNames(out), ["cat.caption", "cat.jpg", "cat.json", "cat.txt", "dog.png"])
        XCTAssertEqual(fileText(out.appending("cat.txt")), "a cat")
        XCTAssertEqual(fileText(out.appending("cat.caption")), "cat, sitting")
        XCTAssertEqual(fileText(out.appending("dog.png")), "DOG")
        let copied = try XCTUnwrap(POSIXFileSystem().status(of: out.appending("cat.jpg"), followingLinks: false))
        XCTAssertEqual(copied.modificationTime.seconds, 1_500_000_000)
        XCTAssertEqual(copied.modificationTime.nanoseconds, 123_456_789)
        XCTAssertEqual(report.items.map(\.status), [.exported, .exported])
        XCTAssertEqual(report.items[0].destination?.string, out.string + "/cat.jpg")
        XCTAssertEqual(report.items[0].sidecars.map(\.destination.string).map { String($0.split(separator: "/").last!) },
                       ["cat.txt", "cat.caption", "cat.json"])
        assertNoExportTemporaryFiles(in: out)
    }

    func testCaptionExtensionsOptionChoosesWhichSidecarsTravel() throws {
        let s = try ExportScratchFolder()
        s.write("album/cat.jpg", "CAT")
        s.write("album/cat.txt", "a cat")
        s.write("album/cat.json", "{}")
        let out = s.path("out")
        let options = ExportOptions(captionExtensions: [".txt", ".caption"])
        let report = try FolderExporter(destination: out, options: options).export([exportEntry(s, "cat.jpg", index: 0)])
        XCTAssertEqual(report.captions, 1)
        XCTAssertEqual(folderNames(out), ["cat.jpg", "cat.txt"])
        XCTAssertThrowsError(try FolderExporter(destination: out, options: ExportOptions(captionExtensions: ["txt/"]))
            .export([])) { error in
            XCTAssertEqual((error as? ExportError).map(\.description), "export option 'captions': 'txt/' is not an extension like '.txt'")
        }
    }

    func testNamesCollidingThreeWaysFollowPhotoMapAIAndCaptionsFollowTheirImage() throws {
        let s = try ExportScratchFolder()
        for (i, folder) in ["one", "two/one", "three/one", "four/one"].enumerated() {
            s.write("album/\(folder)/cat.jpg", "CAT\(i)")
            s.write("album/\(folder)/cat.txt", "caption \(i)")
        }
        let out = s.path("out")
        let entries = ["one", "two/one", "three/one", "four/one"].enumerated().map { exportEntry(s, "\($1)/cat.jpg", index: $0) }
        let report = try FolderExporter(destination: out).export(entries)

        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(report.exported, 4)
        XCTAssertEqual(report.renamed, 3)
        let finalNames = report.items.compactMap { $0.destination.map { String($0.string.split(separator: "/").last!) } }
        XCTAssertEqual(finalNames, ["cat.jpg", "one_cat.jpg", "one_cat_1.jpg", "one_cat_2.jpg"])
        for (i, name) in ["cat", "one_cat", "one_cat_1", "one_cat_2"].enumerated() {
            XCTAssertEqual(fileText(out.appending("\(name).jpg")), "CAT\(i)")
            XCTAssertEqual(fileText(out.appending("\(name).txt")), "caption \(i)")
        }
    }

    func testATakenSidecarNameMovesTheImageToItsNextName() throws {
        let s = try ExportScratchFolder()
        s.write("album/pets/cat.jpg", "CAT")
        s.write("album/pets/cat.txt", "new caption")
        s.write("album/pets/dog.jpg", "DOG")
        let out = s.path("out")
        s.write("out/cat.txt", "someone else's caption")
        s.write("out/dog.txt", "unrelated")

        let report = try FolderExporter(destination: out).export([exportEntry(s, "pets/cat.jpg", index: 0), exportEntry(s, "pets/dog.jpg", index: 1)])

        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(folderNames(out), ["cat.txt", "dog.jpg", "dog.txt", "pets_cat.jpg", "pets_cat.txt"])
        XCTAssertEqual(fileText(out.appending("cat.txt")), "someone else's caption")
        XCTAssertEqual(fileText(out.appending("pets_cat.txt")), "new caption")
        XCTAssertEqual(report.renamed, 1, "dog.jpg has no sidecar, so dog.txt does not stand in its way")
    }

    func testImagesSharingAStemDoNotShareACaptionFile() throws {
        let s = try ExportScratchFolder()
        s.write("album/a/x.jpg", "JPG")
        s.write("album/a/x.png", "PNG")
        s.write("album/a/x.txt", "shared caption")
        let out = s.path("out")
        let report = try FolderExporter(destination: out).export([exportEntry(s, "a/x.jpg", index: 0), exportEntry(s, "a/x.png", index: 1)])
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(folderNames(out), ["a_x.png", "a_x.txt", "x.jpg", "x.txt"])
    }

    func testReexportIntoTheSameFolderCopiesNothingTwiceAndOverwritesNothing() throws {
        let s = try ExportScratchFolder()
        s.write("album/pets/cat.jpg", "CAT")
        s.write("album/pets/cat.txt", "a cat")
        s.write("album/wild/cat.jpg", "LYNX")
        let out = s.path("out")
        let exporter = FolderExporter(destination: out)
        _ = try exporter.export([exportEntry(s, "pets/cat.jpg", index: 0)])
        s.write("out/cat.txt", "edited by hand")

        // The same image again: already there with the same bytes.
        let second = try exporter.export([exportEntry(s, "pets/cat.jpg", index: 0)])
        // Another image of the same name: new names, nothing overwritten.
        let third = try exporter.export([exportEntry(s, "pets/cat.jpg", index: 0), exportEntry(s, "wild/cat.jpg", index: 1)])

        XCTAssertEqual(second.errors + third.errors, [])
        XCTAssertEqual(second.exported, 0)
        XCTAssertEqual(second.unchanged, 1)
        XCTAssertEqual(second.items.map(\.status), [.unchanged])
        XCTAssertEqual(second.items.first?.destination, out.appending("cat.jpg"))
        XCTAssertEqual(third.items.map(\.status), [.unchanged, .exported])
        XCTAssertEqual(folderNames(out), ["cat.jpg", "cat.txt", "wild_cat.jpg"])
        XCTAssertEqual(fileText(out.appending("cat.txt")), "edited by hand")
        XCTAssertEqual(third.renamed, 1)
        assertNoExportTemporaryFiles(in: out)
    }

    func testDryRunReturnsThePlanAndWritesNothing() throws {
        let s = try ExportScratchFolder()
        s.write("album/a/cat.jpg", "CAT")
        s.write("album/a/cat.txt", "caption")
        s.write("album/b/cat.jpg", "CAT2")
        let out = s.path("out/new/folder")
        let entries = [exportEntry(s, "a/cat.jpg", index: 0), exportEntry(s, "b/cat.jpg", index: 1), exportEntry(s, "c/gone.jpg", index: 2)]
        let report = try FolderExporter(destination: out, options: ExportOptions(dryRun: true)).export(entries)

        XCTAssertTrue(report.dryRun)
        XCTAssertEqual(folderNames(s.path("")), ["album"], "nothing at all was created")
        XCTAssertEqual(report.items.map(\.status), [.planned, .planned, .failed])
        XCTAssertEqual(report.items[1].destination?.string, out.string + "/b_cat.jpg")
        XCTAssertEqual(report.items[0].sidecars.map(\.destination.string), [out.string + "/cat.txt"])
        XCTAssertEqual(report.exported, 2)
        XCTAssertEqual(report.renamed, 1)
        XCTAssertEqual(report.errors.map(\.reason), ["not on disk (no such file)"])

        // Planning against an existing folder sees what is there, and still writes nothing.
        s.write("out/new/folder/cat.jpg", "OLD")
        let again = try FolderExporter(destination: out, options: ExportOptions(dryRun: true)).export(entries)
        XCTAssertEqual(again.items.compactMap { $0.destination.map { String($0.string.split(separator: "/").last!) } },
                       ["a_cat.jpg", "b_cat.jpg"])
        XCTAssertEqual(folderNames(out), ["cat.jpg"])
    }

    func testImagesAbsentOnDiskAreErrorsNotSilence() throws {
        let s = try ExportScratchFolder()
        s.write("album/here.jpg", "HERE")
        let out = s.path("out")
        let report = try FolderExporter(destination: out).export([exportEntry(s, "missing.jpg", index: 0), exportEntry(s, "here.jpg", index: 1)])
        XCTAssertEqual(report.exported, 1)
        XCTAssertEqual(report.errors, [ExportFailure(path: s.path("album/missing.jpg"),
                                                     reason: "not on disk (no such file)")])
        XCTAssertEqual(report.items.map(\.status), [.failed, .exported])
        XCTAssertEqual(folderNames(out), ["here.jpg"])
    }

    func testAnImageListedTwiceIsExportedOnceAndSaidSo() throws {
        let s = try ExportScratchFolder()
        s.write("album/cat.jpg", "CAT")
        let out = s.path("out")
        let report = try FolderExporter(destination: out).export([exportEntry(s, "cat.jpg", index: 0), exportEntry(s, "cat.jpg", index: 0)])
        XCTAssertEqual(report.exported, 1)
        XCTAssertEqual(report.errors.map(\.reason), ["listed twice in the selection; exported once"])
        XCTAssertEqual(folderNames(out), ["cat.jpg"])
    }

    func testNamesThatAreNotUTF8KeepTheirBytes() throws {
        let s = try ExportScratchFolder()
        let folder: [UInt8] = [0x64, 0xFE]                         // "d\xFE"
        let name: [UInt8] = [0x63, 0xFF, 0x2E, 0x6A, 0x70, 0x67]    // "c\xFF.jpg"
        s.write(Array("album/".utf8) + folder + [0x2F] + name, Array("X".utf8))
        s.write(Array("album/".utf8) + folder + [0x2F, 0x63, 0xFF, 0x2E, 0x74, 0x78, 0x74], Array("caption".utf8))
        s.write(Array("out/".utf8) + name, Array("OLD".utf8))
        let relative = RelativePath(bytes: folder + [0x2F] + name)
        let image = CurationEntry(path: relative, albumRoot: s.path("album"), votes: 1, frequency: 1, index: 0)
        let out = s.path("out")

        let report = try FolderExporter(destination: out).export([image])

        XCTAssertEqual(report.errors, [])
        let expected = folder + [0x5F] + name                      // "d\xFE_c\xFF.jpg"
        XCTAssertEqual(report.items.first?.destination, out.appending(expected))
        XCTAssertEqual(fileBytes(out.appending(expected)), Array("X".utf8))
        XCTAssertEqual(fileBytes(out.appending(folder + [0x5F, 0x63, 0xFF, 0x2E, 0x74, 0x78, 0x74])), Array("caption".utf8))
        // The report still encodes to JSON without losing the bytes.
        let json = try JSONEncoder().encode(report)
        let decoded = try JSONDecoder().decode(ExportReport.self, from: json)
        XCTAssertEqual(decoded, report)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"bytes\""))
    }

    func testADestinationAndAFileNameThatAreNotUTF8KeepTheirBytes() throws {
        // Every path export writes is an FileSystemPath; none goes through a String on its way to the system.
        let s = try ExportScratchFolder()
        s.write("album/pets/cat.jpg", "CAT")
        s.write("album/pets/cat.txt", "a cat")
        let out = s.root.appending([0x6F, 0xFE, 0x75, 0x74])             // "o\xFEut", created by the export
        let report = try FolderExporter(destination: out, options: ExportOptions(layout: .kohya(KohyaLayout(repeats: 2, concept: "cat"))))
            .export([exportEntry(s, "pets/cat.jpg", index: 0)])
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(report.exported, 1)
        XCTAssertEqual(folderListing(s.root).filter { $0.first == 0x6F }, [[0x6F, 0xFE, 0x75, 0x74]], "one folder, its name byte for byte")
        XCTAssertEqual(fileText(out.appending("2_cat").appending("cat.jpg")), "CAT")
        XCTAssertEqual(fileText(out.appending("2_cat").appending("cat.txt")), "a cat")
        // A whole-file writer (the CSV) under a name that is not UTF-8.
        let csv = out.appending([0x72, 0xFF, 0x2E, 0x63, 0x73, 0x76])     // "r\xFF.csv"
        try CurationCSV.write([exportEntry(s, "pets/cat.jpg", index: 0)], to: csv)
        XCTAssertTrue(fileText(csv)?.hasPrefix("Filename,") == true)
        XCTAssertEqual(folderListing(out), [Array("2_cat".utf8), [0x72, 0xFF, 0x2E, 0x63, 0x73, 0x76]])
    }

    func testLeftoversOfAKilledExportAreRemovedByTheNextAndListed() throws {
        let s = try ExportScratchFolder()
        s.write("album/cat.jpg", "CAT")
        // A kill -9 mid-copy leaves the hidden temporary file: one of a dead
        // process, one of the older form (no process id, hours old), and one
        // of a process still running (another export writing it now).
        let dead = s.write("out/.curator-999999999-k3x.partial", "half a copy")
        let old = s.write("out/.curator-q1w2e3.partial", "half a copy", modified: 1_000_000)
        let running = s.write("out/.curator-\(getpid())-z9.partial", "being written")
        let report = try FolderExporter(destination: s.path("out")).export([exportEntry(s, "cat.jpg", index: 0)])
        XCTAssertEqual(report.exported, 1)
        XCTAssertEqual(report.removedLeftovers.map(\.bytes), [old.bytes, dead.bytes].sorted { $0.lexicographicallyPrecedes($1) })
        XCTAssertNil(fileBytes(dead))
        XCTAssertNil(fileBytes(old))
        XCTAssertEqual(fileBytes(running), Array("being written".utf8), "a live process's file is kept")
        // A dry run removes nothing.
        let again = s.write("out/.curator-999999998-a.partial", "x")
        XCTAssertEqual(try FolderExporter(destination: s.path("out"), options: ExportOptions(dryRun: true))
            .export([exportEntry(s, "cat.jpg", index: 0)]).removedLeftovers, [])
        XCTAssertNotNil(fileBytes(again))
    }

    func testReportEncodesAsReadableJSON() throws {
        let s = try ExportScratchFolder()
        s.write("album/cat.jpg", "CAT")
        let report = try FolderExporter(destination: s.path("out")).export([exportEntry(s, "cat.jpg", index: 0)])
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        XCTAssertTrue(json.contains("\"exported\":1"), json)
        XCTAssertTrue(json.contains("\"status\":\"exported\""), json)
        XCTAssertEqual(try JSONDecoder().decode(ExportReport.self, from: Data(json.utf8)), report)
    }

    // MARK: - Bad destinations

    func testADestinationThatIsAFileIsReportedAndNothingIsWritten() throws {
        let s = try ExportScratchFolder()
        s.write("album/cat.jpg", "CAT")
        let out = s.write("out", "I am a file")
        let report = try FolderExporter(destination: out).export([exportEntry(s, "cat.jpg", index: 0)])
        XCTAssertEqual(report.exported, 0)
        XCTAssertEqual(report.errors, [ExportFailure(path: out, reason: "is not a folder")])
        XCTAssertEqual(report.items.map(\.status), [.failed])
        XCTAssertEqual(report.items.first?.reason, "not exported: \(out.string): is not a folder")
        XCTAssertEqual(fileText(out), "I am a file")

        // A destination below a file fails the same way, without throwing.
        let below = try FolderExporter(destination: out.appending("sub")).export([exportEntry(s, "cat.jpg", index: 0)])
        XCTAssertEqual(below.exported, 0)
        XCTAssertEqual(below.errors.count, 1)
    }

    func testADestinationThatCannotBeWrittenFailsEveryImageWithTheReason() throws {
        // Tests run as root, which ignores permissions: the file system says EROFS instead.
        let s = try ExportScratchFolder()
        s.write("album/a.jpg", "A")
        s.write("album/b.jpg", "B")
        let out = s.path("out")
        s.makeFolders(out)
        let fs = ExportFaultyFileSystem()
        fs.createFailure = EROFS
        let report = try FolderExporter(destination: out, fileSystem: fs).export([exportEntry(s, "a.jpg", index: 0), exportEntry(s, "b.jpg", index: 1)])
        XCTAssertEqual(report.exported, 0)
        XCTAssertEqual(report.errors.count, 2)
        XCTAssertEqual(report.errors.first?.path, s.path("album/a.jpg"))
        XCTAssertEqual(report.errors.first?.reason, "copying to \(out.string)/a.jpg: create: Read-only file system")
        XCTAssertEqual(folderNames(out), [])

        // And a destination that does not exist and cannot be created.
        let missing = FolderExporter(destination: s.path("nowhere/out"), fileSystem: fs)
        let report2 = try missing.export([exportEntry(s, "a.jpg", index: 0)])
        XCTAssertEqual(report2.errors.map(\.description), ["\(s.path("nowhere").string): mkdir: Read-only file system"])
    }

    func testADestinationThatVanishesMidExportIsReportedPerImage() throws {
        let s = try ExportScratchFolder()
        for name in ["a", "b", "c"] { s.write("album/\(name).jpg", name.uppercased()) }
        let out = s.path("out")
        let fs = ExportFaultyFileSystem()
        var creates = 0
        fs.beforeCreate = { _ in
            creates += 1
            if creates == 2 {   // after the first image is in place
                _ = out.withCPath { o in s.path("moved").withCPath { m in rename(o, m) } }
            }
        }
        let report = try FolderExporter(destination: out, fileSystem: fs)
            .export(["a", "b", "c"].enumerated().map { exportEntry(s, "\($1).jpg", index: $0) })
        XCTAssertEqual(report.exported, 1)
        XCTAssertEqual(report.items.map(\.status), [.exported, .failed, .failed])
        XCTAssertEqual(report.errors.count, 2)
        XCTAssertTrue(report.errors.allSatisfy { $0.reason.hasSuffix("create: No such file or directory") }, "\(report.errors)")
        XCTAssertEqual(folderNames(s.path("moved")), ["a.jpg"])
        XCTAssertEqual(folderNames(out), [])
    }

    func testADiskThatFillsLeavesNoPartialFilesAndSaysWhatWasExported() throws {
        let s = try ExportScratchFolder()
        let big = [UInt8](repeating: 0xAB, count: 3 << 20)   // 3 MiB: several write calls each
        s.write(Array("album/a.jpg".utf8), big)
        s.write("album/a.txt", "caption a")
        s.write(Array("album/b.jpg".utf8), big)
        s.write("album/b.txt", "caption b")
        s.write(Array("album/c.jpg".utf8), Array("small".utf8))
        let out = s.path("out")
        let fs = ExportFaultyFileSystem()
        // Room for a (image and caption) and for b's image, but not b's caption.
        fs.capacity = big.count + 9 + big.count + 3
        let report = try FolderExporter(destination: out, fileSystem: fs)
            .export([exportEntry(s, "a.jpg", index: 0), exportEntry(s, "b.jpg", index: 1), exportEntry(s, "c.jpg", index: 2)])

        XCTAssertEqual(report.exported, 1)
        XCTAssertEqual(report.items.map(\.status), [.exported, .failed, .failed])
        XCTAssertEqual(report.errors.map(\.path), [s.path("album/b.txt"), s.path("album/c.jpg")])
        XCTAssertTrue(report.errors[0].reason.contains("write: No space left on device"), report.errors[0].reason)
        XCTAssertTrue(report.errors[0].reason.hasSuffix("(so its image was not exported)"), report.errors[0].reason)
        XCTAssertEqual(report.errors[1].reason, "copying to \(out.string)/c.jpg: write: No space left on device")
        XCTAssertEqual(folderNames(out), ["a.jpg", "a.txt"], "b's image is not left without its caption, and no partial file remains")
        XCTAssertEqual(fileBytes(out.appending("a.jpg")), big)
    }

    // MARK: - Bad sidecars

    func testACaptionThatIsASymlinkIsCopiedAsContent() throws {
        let s = try ExportScratchFolder()
        s.write("album/cat.jpg", "CAT")
        s.write("captions/cat-caption.txt", "linked caption")
        s.symlink("../captions/cat-caption.txt", at: "album/cat.txt")
        let out = s.path("out")
        let report = try FolderExporter(destination: out).export([exportEntry(s, "cat.jpg", index: 0)])
        XCTAssertEqual(report.errors, [])
        let copied = out.appending("cat.txt")
        XCTAssertEqual(exportEntryKind(copied), .regular, "a file, never a link")
        XCTAssertEqual(fileText(copied), "linked caption")
    }

    func testADanglingCaptionSymlinkIsAnErrorAndItsImageIsNotExported() throws {
        let s = try ExportScratchFolder()
        s.write("album/cat.jpg", "CAT")
        s.write("album/dog.jpg", "DOG")
        s.symlink("../nowhere.txt", at: "album/cat.txt")
        let out = s.path("out")
        let report = try FolderExporter(destination: out).export([exportEntry(s, "cat.jpg", index: 0), exportEntry(s, "dog.jpg", index: 1)])
        XCTAssertEqual(report.exported, 1)
        XCTAssertEqual(report.errors, [ExportFailure(path: s.path("album/cat.txt"),
                                                     reason: "open: No such file or directory (so its image was not exported)")])
        XCTAssertEqual(report.items.first?.reason,
                       "\(s.path("album/cat.txt").string): open: No such file or directory (so its image was not exported)")
        XCTAssertEqual(folderNames(out), ["dog.jpg"])
    }

    func testAnUnreadableCaptionIsAnError() throws {
        let s = try ExportScratchFolder()
        s.write("album/cat.jpg", "CAT")
        let caption = s.write("album/cat.caption", "secret")
        s.write("album/dog.jpg", "DOG")
        s.makeFolders(s.path("album/dog.txt"))   // a folder where a caption should be
        let fs = ExportFaultyFileSystem()
        fs.unreadable[caption] = EACCES           // root reads anything; the file system refuses instead
        let out = s.path("out")
        let report = try FolderExporter(destination: out, fileSystem: fs).export([exportEntry(s, "cat.jpg", index: 0), exportEntry(s, "dog.jpg", index: 1)])
        XCTAssertEqual(report.exported, 0)
        XCTAssertEqual(report.errors.map(\.path), [caption, s.path("album/dog.txt")])
        XCTAssertEqual(report.errors.map(\.reason), ["open: Permission denied (so its image was not exported)",
                                                     "is a folder, not a file (so its image was not exported)"])
        XCTAssertEqual(folderNames(out), [])
    }

    // MARK: - Races and cancellation

    func testANameTakenWhileCopyingIsNeverOverwritten() throws {
        let s = try ExportScratchFolder()
        s.write("album/pets/cat.jpg", "CAT")
        s.write("album/pets/cat.txt", "caption")
        let out = s.path("out")
        let fs = ExportFaultyFileSystem()
        var raced = false
        fs.beforePublish = { destination in
            // Another program creates cat.txt between planning and publishing.
            if !raced, destination.name == Array("cat.jpg".utf8) {
                raced = true
                s.write("out/cat.txt", "theirs")
            }
        }
        let report = try FolderExporter(destination: out, fileSystem: fs).export([exportEntry(s, "pets/cat.jpg", index: 0)])
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(report.items.first?.destination?.string, out.string + "/pets_cat.jpg")
        XCTAssertEqual(folderNames(out), ["cat.txt", "pets_cat.jpg", "pets_cat.txt"])
        XCTAssertEqual(fileText(out.appending("cat.txt")), "theirs")
        XCTAssertEqual(fileText(out.appending("pets_cat.txt")), "caption")
    }

    func testCancellingStopsBetweenImagesAndReportsWhatWasNotReached() throws {
        let s = try ExportScratchFolder()
        for name in ["a", "b", "c"] { s.write("album/\(name).jpg", name) }
        let out = s.path("out")
        let progress = ExportRecordingProgress()
        progress.cancelAfter = 1
        let report = try FolderExporter(destination: out)
            .export(["a", "b", "c"].enumerated().map { exportEntry(s, "\($1).jpg", index: $0) }, progress: progress)
        XCTAssertTrue(report.cancelled)
        XCTAssertEqual(report.items.map(\.status), [.exported, .notAttempted, .notAttempted])
        XCTAssertEqual(progress.updates.map { "\($0.0) \($0.1)/\($0.2)" }, ["export 1/3"])
        XCTAssertEqual(progress.finished, ["export"])
        XCTAssertEqual(folderNames(out), ["a.jpg"])
    }

    // MARK: - Naming rules

    func testCollisionCandidatesMatchPhotoMapAI() {
        func candidate(_ n: Int, _ name: String, _ parent: String) -> String {
            PathBytes.display(CollisionNaming.candidate(n, name: Array(name.utf8), parent: Array(parent.utf8)))
        }
        XCTAssertEqual(candidate(0, "cat.jpg", "pets"), "cat.jpg")
        XCTAssertEqual(candidate(1, "cat.jpg", "pets"), "pets_cat.jpg")
        XCTAssertEqual(candidate(2, "cat.jpg", "pets"), "pets_cat_1.jpg")
        XCTAssertEqual(candidate(11, "cat.tar.gz", "pets"), "pets_cat.tar_10.gz")
        XCTAssertEqual(candidate(2, ".hidden", "pets"), "pets_.hidden_1")
        XCTAssertEqual(PathBytes.display(CollisionNaming.sidecarName(forImageNamed: Array("pets_cat_1.jpg".utf8),
                                                                      fileExtension: Array(".txt".utf8))), "pets_cat_1.txt")
    }
}
