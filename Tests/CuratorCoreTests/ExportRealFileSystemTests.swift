import Foundation
import XCTest
@testable import CuratorCore

/// The same failures as in ExportFolderTests, on real small file systems
/// (tmpfs), which also puts the destination on another device than the
/// album. Needs the right to mount (root in a container with CAP_SYS_ADMIN);
/// skipped otherwise.
final class ExportRealFileSystemTests: XCTestCase {
    private var mounts: [String] = []
    /// Kept until the mounts are gone, so the scratch folder can be removed.
    private var scratch: ExportScratchFolder?

    override func tearDown() {
        for point in mounts.reversed() { _ = Self.run("/bin/umount", [point]) }
        mounts = []
        scratch = nil
        super.tearDown()
    }

    private func mountTmpfs(at point: FileSystemPath, options: String) throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let path = point.string
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path]) else {
            throw XCTSkip("cannot mount a tmpfs here")
        }
        mounts.append(path)
    }

    private static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    func testAFullDiskOnAnotherDeviceKeepsEveryImageWholeAndLeavesNoPartialFile() throws {
        let s = try ExportScratchFolder()
        scratch = s
        let image = [UInt8](repeating: 0x5A, count: 100 * 1024)
        for name in ["a", "b", "c", "d"] {
            s.write(Array("album/\(name).jpg".utf8), image)
            s.write("album/\(name).txt", "caption \(name)")
        }
        let out = s.path("disk")
        s.makeFolders(out)
        try mountTmpfs(at: out, options: "size=256k")

        let report = try FolderExporter(destination: out).export(["a", "b", "c", "d"].enumerated().map { exportEntry(s, "\($1).jpg", index: $0) })

        XCTAssertGreaterThan(report.exported, 0)
        XCTAssertLessThan(report.exported, 4)
        XCTAssertEqual(report.errors.count, 4 - report.exported)
        XCTAssertTrue(report.errors.allSatisfy { $0.reason.contains("No space left on device") }, "\(report.errors)")
        var expected: [String] = []
        for item in report.items where item.status == .exported {
            let name = String(item.destination!.string.split(separator: "/").last!)
            expected += [name, name.replacingOccurrences(of: ".jpg", with: ".txt")]
            XCTAssertEqual(fileBytes(item.destination!), image)
        }
        XCTAssertEqual(folderNames(out), expected.sorted())
    }

    func testAReadOnlyDestinationIsReportedForEveryImage() throws {
        let s = try ExportScratchFolder()
        scratch = s
        s.write("album/a.jpg", "A")
        s.write("album/b.jpg", "B")
        let out = s.path("ro")
        s.makeFolders(out)
        try mountTmpfs(at: out, options: "ro,size=64k")

        let report = try FolderExporter(destination: out).export([exportEntry(s, "a.jpg", index: 0), exportEntry(s, "b.jpg", index: 1)])

        XCTAssertEqual(report.exported, 0)
        XCTAssertEqual(report.errors.map(\.reason), [
            "copying to \(out.string)/a.jpg: create: Read-only file system",
            "copying to \(out.string)/b.jpg: create: Read-only file system",
        ])
        XCTAssertThrowsError(try CurationCSV.write([], to: out.appending("c.csv"))) {
            XCTAssertTrue("\($0)".hasSuffix("create: Read-only file system"), "\($0)")
        }
    }
}
