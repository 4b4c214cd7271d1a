import Foundation

/// Where curator's shipped files are: the `plugins/` and `workflows/` that
/// come with the executable.
///
/// The first of these that exists is the installation's folder:
/// 1. `$CURATOR_HOME`, when set;
/// 2. the source checkout the executable was built in (found by walking up
///    from the executable to the folder holding `Package.swift`);
/// 3. `<prefix>/share/curator` next to an installed `<prefix>/bin/curator`
///    (`scripts/install` lays it out so);
/// 4. the executable's own folder, when it holds `plugins/` or `workflows/`
///    (a binary copied together with them).
///
/// Symbolic links to the executable are followed first, so a link in
/// `~/bin` to a checkout's build finds that checkout.
public enum Installation {
    /// The installation's folder for this process, if one exists.
    public static func folder(environment: [String: String] = ProcessInfo.processInfo.environment,
                              executable: URL? = Bundle.main.executableURL) -> URL? {
        if let home = environment["CURATOR_HOME"], !home.isEmpty {
            // Said explicitly: taken as it is, even before it holds anything.
            return URL(fileURLWithPath: PluginLocations.expandTilde(home, environment: environment))
        }
        return candidates(environment: environment, executable: executable).first { isInstallation($0) }
    }

    /// The folders `folder` tries, in order (for messages that say where curator looked).
    public static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment,
                                  executable: URL? = Bundle.main.executableURL) -> [URL] {
        if let home = environment["CURATOR_HOME"], !home.isEmpty {
            return [URL(fileURLWithPath: PluginLocations.expandTilde(home, environment: environment))]
        }
        guard let executable else { return [] }
        let binFolder = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        var found: [URL] = []
        var folder = binFolder
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                found.append(folder)
                break
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        found.append(binFolder.deletingLastPathComponent().appendingPathComponent("share/curator"))
        found.append(binFolder)
        return found
    }

    private static func isInstallation(_ folder: URL) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: folder.appendingPathComponent("plugins").path)
            || fm.fileExists(atPath: folder.appendingPathComponent("workflows").path)
    }

    /// The folders holding workflows, in the order a name is looked up: the
    /// installation's `workflows/`, then `$XDG_CONFIG_HOME/curator/workflows`
    /// (default `~/.config/curator/workflows`), so a user's own workflow
    /// runs by name too (and one of the same name replaces the shipped one).
    public static func workflowFolders(environment: [String: String] = ProcessInfo.processInfo.environment,
                                       executable: URL? = Bundle.main.executableURL) -> [URL] {
        var folders: [URL] = []
        if let folder = folder(environment: environment, executable: executable) {
            folders.append(folder.appendingPathComponent("workflows"))
        }
        folders.append(PluginLocations.userFolder(environment: environment)
            .deletingLastPathComponent().appendingPathComponent("workflows"))
        return folders
    }

    /// Whether `word` can name a workflow: letters, digits, `-` and `_`,
    /// no path separator and no extension.
    public static func isWorkflowName(_ word: String) -> Bool {
        !word.isEmpty && !word.hasPrefix("-")
            && word.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }
    }

    /// The workflow file `name` runs (`NAME.lua` in the last of
    /// `workflowFolders` that has one), or nil.
    public static func workflow(named name: String,
                                environment: [String: String] = ProcessInfo.processInfo.environment,
                                executable: URL? = Bundle.main.executableURL) -> URL? {
        guard isWorkflowName(name) else { return nil }
        return workflowFolders(environment: environment, executable: executable).reversed()
            .map { $0.appendingPathComponent(name + ".lua") }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The names of every workflow found, sorted.
    public static func workflowNames(environment: [String: String] = ProcessInfo.processInfo.environment,
                                     executable: URL? = Bundle.main.executableURL) -> [String] {
        var names = Set<String>()
        for folder in workflowFolders(environment: environment, executable: executable) {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            where entry.hasSuffix(".lua") && !entry.hasPrefix(".") && !entry.hasPrefix("_") {
                names.insert(String(entry.dropLast(4)))
            }
        }
        return names.sorted()
    }
}
