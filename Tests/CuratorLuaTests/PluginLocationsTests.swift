import Foundation
import XCTest
@testable import CuratorLua

final class PluginLocationsTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("curator-plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(at: root) }

    func write(_ relative: String, _ text: String = "return {}") throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func testFoldersInOrderShippedThenPathThenUser() {
        let env = ["CURATOR_HOME": "/opt/curator", "CURATOR_PLUGIN_PATH": "/a:~/b::/c", "HOME": "/home/u"]
        XCTAssertEqual(PluginLocations.standard(environment: env, executable: nil).map(\.path),
                       ["/opt/curator/plugins", "/a", "/home/u/b", "/c", "/home/u/.config/curator/plugins"])
        let xdg = ["XDG_CONFIG_HOME": "/cfg", "HOME": "/home/u"]
        XCTAssertEqual(PluginLocations.standard(environment: xdg, executable: nil).map(\.path), ["/cfg/curator/plugins"])
    }

    func testTheShippedFolderIsFoundFromABuildInsideTheCheckout() throws {
        try write("Package.swift", "// swift-tools-version:6.0")
        try write("plugins/quality.lua")
        try write(".build/x86_64-unknown-linux-gnu/release/curator", "")
        let executable = root.appendingPathComponent(".build/x86_64-unknown-linux-gnu/release/curator")
        XCTAssertEqual(PluginLocations.shippedFolder(environment: [:], executable: executable)?.standardizedFileURL.path,
                       root.appendingPathComponent("plugins").standardizedFileURL.path)
    }

    func testTheShippedFolderOfAnInstallIsShareCuratorPlugins() throws {
        try write("prefix/bin/curator", "")
        try write("prefix/share/curator/plugins/x.lua")
        let executable = root.appendingPathComponent("prefix/bin/curator")
        XCTAssertEqual(PluginLocations.shippedFolder(environment: [:], executable: executable)?.standardizedFileURL.path,
                       root.appendingPathComponent("prefix/share/curator/plugins").standardizedFileURL.path)
    }

    func testACopiedBinaryFindsThePluginsBesideIt() throws {
        try write("copied/curator", "")
        try write("copied/plugins/x.lua")
        let executable = root.appendingPathComponent("copied/curator")
        XCTAssertEqual(PluginLocations.shippedFolder(environment: [:], executable: executable)?.standardizedFileURL.path,
                       root.appendingPathComponent("copied/plugins").standardizedFileURL.path)
        try write("lonely/curator", "")
        XCTAssertNil(PluginLocations.shippedFolder(environment: [:], executable: root.appendingPathComponent("lonely/curator")))
    }

    func testWorkflowsAreFoundByNameInTheInstallationThenTheUsersFolder() throws {
        try write("prefix/bin/curator", "")
        try write("prefix/share/curator/workflows/clean.lua")
        try write("prefix/share/curator/workflows/trainset.lua")
        try write("config/curator/workflows/trainset.lua")
        try write("config/curator/workflows/mine.lua")
        let executable = root.appendingPathComponent("prefix/bin/curator")
        let env = ["XDG_CONFIG_HOME": root.appendingPathComponent("config").path, "HOME": "/nonexistent"]
        XCTAssertEqual(Installation.workflow(named: "clean", environment: env, executable: executable)?.standardizedFileURL.path,
                       root.appendingPathComponent("prefix/share/curator/workflows/clean.lua").standardizedFileURL.path)
        // The user's own replaces the shipped one of the same name.
        XCTAssertEqual(Installation.workflow(named: "trainset", environment: env, executable: executable)?.standardizedFileURL.path,
                       root.appendingPathComponent("config/curator/workflows/trainset.lua").standardizedFileURL.path)
        XCTAssertEqual(Installation.workflowNames(environment: env, executable: executable), ["clean", "mine", "trainset"])
        XCTAssertNil(Installation.workflow(named: "../clean", environment: env, executable: executable))
        XCTAssertNil(Installation.workflow(named: "missing", environment: env, executable: executable))
    }

    func testPluginsAreFilesOrFoldersWithInitAndLaterFoldersWin() throws {
        try write("one/b.lua")
        try write("one/a/init.lua")
        try write("one/_private.lua")
        try write("one/.hidden.lua")
        try write("one/readme.md")
        try write("one/empty/other.lua")
        try write("two/b.lua")
        let found = PluginLocations.plugins(in: [root.appendingPathComponent("one"), root.appendingPathComponent("two"),
                                                 root.appendingPathComponent("missing")])
        XCTAssertEqual(found.map(\.name), ["a", "b"])
        XCTAssertEqual(found.map { $0.file.lastPathComponent }, ["init.lua", "b.lua"])
        XCTAssertTrue(found[1].file.path.contains("/two/"), "the later folder's b.lua replaces the earlier one")
    }

    func testLoadingReportsBrokenPluginsAndKeepsEnvironmentsApart() throws {
        try write("p/ok.lua", "shared = 'ok'\nreturn {description = 'fine'}")
        try write("p/syntax.lua", "return {")
        try write("p/reads.lua", "return {description = tostring(shared)}")
        let host = try CuratorHost()
        let reports = host.loadPlugins(from: [root.appendingPathComponent("p")])
        XCTAssertEqual(reports.map(\.name), ["ok", "reads", "syntax"])
        XCTAssertNil(reports[0].error)
        XCTAssertNil(reports[1].error)
        XCTAssertTrue(reports[2].error?.hasSuffix("syntax.lua:1: unexpected symbol near <eof>") ?? false, reports[2].error ?? "")
        XCTAssertEqual(try host.state.evaluate("return tostring(shared)"), "nil", "a plugin's globals stay its own")
        XCTAssertEqual(try host.state.evaluate("return curator.plugins[2].description"), "nil",
                       "one plugin does not see another's globals")
        XCTAssertEqual(try host.state.evaluate("return #curator.plugins"), "2")
    }
}
