import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What may leave the album in an export or a report: only image files under
/// the album's root.
///
/// Albums, PhotoMapAI indexes and embeddings files get shared, so an image's
/// path may be someone else's choice: an index-only album built from a
/// stranger's `.npz` can name `../../../../etc/hostname`, `/etc/passwd` or
/// `~/.bashrc`, and those must never land in a dataset a user publishes. A
/// file is copied (or shown as a thumbnail) only when its path stays under the
/// root (no `..`, not absolute), it is a regular file (a FIFO would block),
/// and libvips reads its header as an image, as the index's scan does.
extension Album {
    /// Why the image of `entry` must not be read for an export, or nil when it
    /// may (or when it is simply missing: the exporter reports that itself).
    /// With `probe`, the file must also be one libvips reads as an image.
    public func exportRefusal(_ entry: CurationEntry, probe decoder: ImageDecoder?) -> String? {
        if entry.path.leavesRoot {
            return "its path leads out of the album (it is absolute or has '..'), so it is not read"
        }
        var info = stat()
        guard entry.absolutePath.withCPath({ stat($0, &info) }) == 0 else { return nil }
        if let kind = RegularFile.kindName(info.st_mode) { return "is \(kind), not an image file, so it is not read" }
        if let decoder {
            do { _ = try decoder.probe(path: entry.absolutePath) } catch {
                return "is not an image libvips can read (\(error)), so it is not copied"
            }
        }
        return nil
    }

    /// Splits `entries` into those whose files may be exported and failures
    /// for the rest (excluded entries are kept: the exporter counts them).
    public func screenForExport(_ entries: [CurationEntry]) throws -> (kept: [CurationEntry], refused: [ExportFailure]) {
        if let reason = Libvips.unavailableReason {
            throw IndexError.libraryUnavailable(purpose: "check that the files are images before copying them", reason: reason)
        }
        let decoder = ImageDecoder()
        var kept: [CurationEntry] = [], refused: [ExportFailure] = []
        for entry in entries {
            if !entry.excluded, let reason = exportRefusal(entry, probe: decoder) {
                refused.append(ExportFailure(path: entry.absolutePath, reason: reason))
            } else {
                kept.append(entry)
            }
        }
        return (kept, refused)
    }

    /// Throws unless `destination` (made absolute) may receive an export:
    /// not empty, and not inside a folder album unless `intoAlbum`, where
    /// the copies would join the album at its next scan.
    func checkExportDestination(_ destination: String, intoAlbum: Bool) throws -> String {
        guard !destination.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ExportError.invalidOption(name: "destination", reason: "is empty; give the folder to export into")
        }
        let path = Self.absolutePath(destination)
        let root = rootPath
        if !isIndexOnly, !intoAlbum, path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/") {
            throw ExportError.invalidOption(name: "destination", reason: "\(path) is inside the album \(root): the copies would join the album at its next scan; pass into_album=true to export there anyway")
        }
        return path
    }
}
