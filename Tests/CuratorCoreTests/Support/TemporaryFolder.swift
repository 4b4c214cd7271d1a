import Foundation
@testable import CuratorCore

/// A temporary folder removed when the test ends.
final class TemporaryFolder {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "curator-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` at `relative` (creating folders), returning the absolute path.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) -> String {
        let full = (path as NSString).appendingPathComponent(relative)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        precondition(FileManager.default.createFile(atPath: full, contents: Data(bytes)), "cannot write \(full)")
        return full
    }

    /// Writes a small distinct image at `relative` (its format from the suffix).
    @discardableResult
    func writePNG(_ relative: String, size: Int = 8, seed: Int = 0) -> String {
        let full = (path as NSString).appendingPathComponent(relative)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        SyntheticImages.write(FileSystemPath(full), width: size, height: size, pixels: SyntheticImages.scene(seed, width: size, height: size).pixels)
        return full
    }
}
