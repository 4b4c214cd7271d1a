#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a whole file so that readers see either the old file or the
/// complete new one, never a part: a temporary file beside it, flushed, then
/// renamed into place.
public enum AtomicFile {
    /// Writes `bytes` to `path`. Without `overwrite`, an existing file is
    /// left alone and `ExportError.fileExists` thrown — also when one appears
    /// while writing. With `creatingFolders` the folders missing on the way
    /// to `path` are created first (`mkdir -p`); otherwise its folder must exist.
    public static func write(_ bytes: [UInt8], to path: FileSystemPath, overwrite: Bool = false, creatingFolders: Bool = false,
                             fileSystem: any ExportFileSystem = POSIXFileSystem()) throws {
        do {
            if let status = try fileSystem.status(of: path, followingLinks: true) {
                if status.kind == .directory { throw ExportError.isADirectory(path) }
                if !overwrite { throw ExportError.fileExists(path) }
            } else if creatingFolders {
                try fileSystem.makeFolders(path.parent)
            }
        } catch let error as SystemCallError {
            // A file where one of the folders should be: name it, not the file asked for.
            if creatingFolders && error.code == ENOTDIR { try fileSystem.makeFolders(path.parent) }
            throw ExportError.system(error)
        }

        let staged: StagedFile
        do {
            staged = try StagedFile.write(bytes, into: path.parent, fileSystem: fileSystem)
        } catch {
            switch error {
            case let .destination(systemError): throw ExportError.system(systemError)
            case let .source(_, reason): throw ExportError.system(SystemCallError(reason, path: path, code: EIO))
            }
        }
        do {
            if overwrite {
                try staged.publishReplacing(path, fileSystem: fileSystem)
            } else {
                try staged.publish(as: path, fileSystem: fileSystem)
            }
        } catch let error as SystemCallError {
            staged.discard(fileSystem: fileSystem)
            throw error.code == EEXIST ? ExportError.fileExists(path) : ExportError.system(error)
        } catch {
            staged.discard(fileSystem: fileSystem)
            throw error
        }
        fileSystem.synchronizeDirectory(path.parent)
    }
}
