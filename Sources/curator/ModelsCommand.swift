import ArgumentParser
import CuratorCore
import Dispatch
import Foundation

/// `curator models [get NAME...]`: lists the CLIP and SigLIP models curator
/// knows, where each is installed, and downloads them from the Hugging Face
/// Hub into the folder curator looks in.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curator models",
        abstract: "List the CLIP and SigLIP models curator knows, and download them.",
        discussion: """
            Without a subcommand, lists each model: its name, where it is installed (or that it is not) \
            and its Hugging Face repository. 'curator models get NAME' downloads one into \
            $CURATOR_MODELS/NAME, else ~/.cache/curator/models/NAME, where curator.open and the text \
            search find it. Files already there are kept; an interrupted download resumes where it stopped. \
            HF_ENDPOINT names a mirror of the Hub and HF_TOKEN an access token (private or gated repositories; else the one \
            'huggingface-cli login' saved).
            """,
        subcommands: [ModelsList.self, ModelsGet.self],
        defaultSubcommand: ModelsList.self
    )
}

/// `curator models list`: the known models and where each is installed.
struct ModelsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the known models and where each is installed.")

    func run() throws {
        let locator = CLIPModelLocator()
        let home = NSHomeDirectory()
        let rows: [(String, String, String)] = CLIPKnownModel.all.map { model in
            let found = try? locator.folder(named: model.folder)
            var place = found?.path ?? "-"
            if place.hasPrefix(home + "/") { place = "~" + place.dropFirst(home.count) }
            return (model.folder, place, model.repository)
        }
        let nameWidth = max(5, rows.map(\.0.count).max() ?? 0)
        let placeWidth = max(9, rows.map(\.1.count).max() ?? 0)
        func line(_ a: String, _ b: String, _ c: String) -> String {
            a.padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0) + b.padding(toLength: placeWidth + 2, withPad: " ", startingAt: 0) + c
        }
        print(line("model", "installed", "repository"))
        for row in rows { print(line(row.0, row.1, row.2)) }
        let installed = rows.filter { $0.1 != "-" }.count
        print("\(installed) of \(rows.count) installed. 'curator models get NAME' downloads one into \(locator.roots[0].path)/NAME.")
        if let used = CLIPModelLocator.defaultFolder() {
            print("Albums without a PhotoMapAI index are embedded with \(used.lastPathComponent) (CURATOR_CLIP_MODEL names another).")
        } else {
            print("With none, albums are embedded with 'pixels' (colour and layout, not meaning): "
                + "'curator models get \(CLIPModelLocator.defaultModelName)' installs OpenAI's ViT-B/32 (about 600 MB).")
        }
    }
}

/// `curator models get NAME...`: downloads models from the Hub.
struct ModelsGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Download models from the Hugging Face Hub (files already there are kept).")

    @Argument(help: ArgumentHelp("A model's name (as 'curator models' lists it) or its repository.", valueName: "name"))
    var names: [String] = []

    func validate() throws {
        if names.isEmpty {
            throw ValidationError("name the model to download, e.g. \(CLIPModelLocator.defaultModelName) (OpenAI's ViT-B/32, about 600 MB); "
                + "'curator models' lists all \(CLIPKnownModel.all.count)")
        }
    }

    func run() throws {
        // Every name is checked before anything is fetched.
        let models: [CLIPKnownModel]
        do {
            models = try names.map { name throws(DownloadError) in try ModelDownload.model(named: name) }
        } catch {
            throw CommandFailure("curator models get: \(error)")
        }
        // Ctrl-C stops the transfer; what arrived stays, to be resumed.
        let interrupted = Interruption()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { interrupted.set() }
        source.resume()
        defer { source.cancel(); signal(SIGINT, SIG_DFL) }

        for model in models {
            let download = ModelDownload(model: model)
            print("\(model.folder): from \(download.source.endpoint)/\(model.repository) into \(download.folder.path)")
            fflush(nil)
            let meter = ByteMeter()
            do {
                let results = try download.run { file, received, total in
                    meter.show(file, received, total)
                    return !interrupted.isSet
                }
                meter.clear()
                for (file, result) in results {
                    switch result {
                    case .downloaded(let bytes): print("  \(file)  \(ByteMeter.size(bytes))")
                    case .present: print("  \(file)  already there, kept")
                    case .absent: print("  \(file)  not in the repository (optional)")
                    }
                }
                if CLIPModelLocator.isModelFolder(download.folder) {
                    print("\(model.folder): ready")
                } else {
                    throw CommandFailure("curator models get: \(download.folder.path) still lacks the model's weights or config")
                }
            } catch let error as DownloadError {
                meter.clear()
                if error.kind == .cancelled {
                    throw CommandFailure("curator models get: interrupted; 'curator models get \(model.folder)' again resumes where it stopped", status: 130)
                }
                throw CommandFailure("curator models get: \(model.folder): \(error)")
            }
        }
    }
}

/// A flag set from the signal handler's queue and read by the transfer.
private final class Interruption: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// The one-line progress of a file's bytes on a terminal's stderr
/// (`model.safetensors  [████····]  120.5 / 605.1 MB  8.2 MB/s`), at most
/// about 15 times a second; nothing elsewhere.
private final class ByteMeter {
    private let drawsBar = isatty(2) != 0
    private var file = ""
    private var started: UInt64 = 0
    private var startBytes: Int64 = 0
    private var lastDraw: UInt64 = 0
    private var drawn = false

    func show(_ file: String, _ received: Int64, _ total: Int64?) {
        guard drawsBar else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if file != self.file { self.file = file; started = now; startBytes = received }
        guard now - lastDraw > 66_000_000 else { return }
        lastDraw = now
        var text = "  \(file)  "
        if let total, total > 0 {
            let filled = Int(min(1, Double(received) / Double(total)) * 30)
            text += "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled) + "]  "
            text += "\(Self.size(received)) / \(Self.size(total))"
        } else {
            text += Self.size(received)
        }
        let seconds = Double(now - started) / 1e9
        if seconds > 0.5 { text += "  \(Self.size(Int64(Double(received - startBytes) / seconds)))/s" }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        drawn = true
    }

    func clear() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    /// `605.1 MB`, `2.3 kB`, `412 bytes` (decimal units, as the Hub shows sizes).
    static func size(_ bytes: Int64) -> String {
        let value = Double(bytes)
        if value >= 1e9 { return String(format: "%.2f GB", value / 1e9) }
        if value >= 1e6 { return String(format: "%.1f MB", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f kB", value / 1e3) }
        return "\(bytes) bytes"
    }
}

extension ModelsCommand {
    /// Runs `curator [globals] models [arguments]` and ends the process.
    /// Like review, it runs no Lua: `--no-plugins` is accepted, the options
    /// for Lua code are refused by name.
    static func main(globals: [String], arguments: [String]) -> Never {
        var passed: [String] = []
        for word in globals {
            let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            switch name {
            case "--no-plugins": break
            case "--version":
                print(Curator.configuration.version)
                terminate(0)
            case "--safe", "-i", "--timeout", "--max-memory":
                Curator.writeError("curator models: \(name) is for Lua code: models runs none\nUsage: curator models [get <name>...]\n  See 'curator models --help' for more information.")
                terminate(2)
            default: passed.append(word)
            }
        }
        runAndExit(passed + arguments)
    }
}
