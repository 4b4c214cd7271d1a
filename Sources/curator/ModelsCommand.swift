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
            // Bytes so far, the file's size and the rate, erased when the file is done.
            let bar = TerminalProgressBar(cancelled: { interrupted.isSet })
            bar.countsBytes = true
            do {
                let results = try download.run(progress: bar)
                for (file, result) in results {
                    switch result {
                    case .downloaded(let bytes): print("  \(file)  \(ByteCount.describe(Int(bytes)))")
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
                bar.finish(label: model.folder)  // a bar cut short by the failure is erased before the message
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
