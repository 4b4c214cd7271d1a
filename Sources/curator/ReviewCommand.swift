import ArgumentParser
import CuratorCore
import CuratorReview
import Dispatch
import Foundation

/// `curator review ALBUM [--run ID] [--port N] [--host H]`: serves the
/// review page of an album (or one of its runs) until Ctrl-C or the page's
/// Done button, without a REPL.
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curator review",
        abstract: "Serve the live review page of an album or run (click to exclude, map with lasso).",
        discussion: """
            The album is rescanned (new and changed files). It is not embedded unless --embed \
            says so: the grid needs no embeddings, the map does, and curator says when images \
            lack them (curator.open(path) or a:embed() in the REPL computes them too). \
            The page opens on the run given, \
            else the newest run, else the whole album, and follows new runs made meanwhile \
            in a REPL on the same album. Ctrl-C or the page's Done button stops the server.
            """
    )

    @Argument(help: ArgumentHelp("The album folder, or the embeddings file of an index-only album.", valueName: "album"))
    var album: String

    @Option(name: .customLong("run"), help: ArgumentHelp("The run to open on (default: the newest).", valueName: "id"))
    var runID: Int64?

    @Option(help: ArgumentHelp("The port (default: the first free one from \(ReviewServer.firstPort)).", valueName: "n"))
    var port: Int?

    @Option(help: ArgumentHelp("The address to bind (default 127.0.0.1; anything else is reachable from other machines).", valueName: "address"))
    var host: String = "127.0.0.1"

    @Flag(help: "Compute the embeddings images lack before serving (as curator.open does), so the map shows every image, and the statistics the quality flags read (a:measure()).")
    var embed = false

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be from 1 to 65535 (got \(port))") }
        if let runID, runID < 1 { throw ValidationError("--run must be a run id (1, 2, ...; got \(runID))") }
    }

    func run() throws {
        let opened: Album
        do {
            opened = try Album.open(album, options: Album.OpenOptions(scan: true, embed: false))
        } catch {
            throw CommandFailure("curator review: cannot open \(album): \(error)")
        }
        if embed, !opened.isIndexOnly {
            Curator.writeError("curator review: computing the embeddings the album lacks (for the map)…")
            do {
                // The REPL's bar on a terminal; elsewhere a line at the end says what was done.
                let bar = TerminalProgressBar()
                bar.keepsFinalLine = true
                let started = DispatchTime.now().uptimeNanoseconds
                let report = try opened.embed(progress: bar)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                Curator.writeError("curator review: \(report) (\(String(format: "%.1f", seconds)) s)")
                if !report.failed.isEmpty {
                    Curator.writeError("curator review: \(report.failed.count) image\(report.failed.count == 1 ? "" : "s") could not be embedded (first: \(report.failed[0].path.string): \(report.failed[0].reason))")
                }
                // The page's quality flags read each image's statistics: a PhotoMapAI album has none until measured.
                let measured = try opened.measureMissingStatistics(progress: bar)
                if measured > 0 { Curator.writeError("curator review: measured \(measured) images for the quality flags") }
            } catch {
                throw CommandFailure("curator review: cannot embed \(album): \(error)")
            }
        } else if let note = try Self.missingEmbeddings(opened, location: album) {
            Curator.writeError(note)
        }
        if let runID, try opened.run(id: runID) == nil {
            let known = try opened.runIDs()
            throw CommandFailure("curator review: no run #\(runID) in album \"\(opened.name)\""
                + (known.isEmpty ? " (it has no runs yet)" : " (runs: \(known.map(String.init).joined(separator: ", ")))"))
        }
        let server: ReviewServer
        do {
            server = try ReviewServer.start(album: opened, options: .init(host: host, port: port, run: runID))
        } catch {
            throw CommandFailure("curator review: \(error)")
        }
        if server.isExposed {
            Curator.writeError("curator review: warning: serving on \(host), not only this machine: anyone who can reach "
                + "port \(server.port) and has the link can see the album and change its exclusions")
        }
        print("review: \(server.url)   (Ctrl-C or Done on the page stops it)")
        fflush(nil)

        // Ctrl-C ends the wait; the server then closes cleanly.
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let stop = DispatchSemaphore(value: 0)
        interrupt.setEventHandler { stop.signal() }
        interrupt.resume()
        while stop.wait(timeout: .now() + 0.2) == .timedOut {
            if server.session.waitUntilDone(timeout: 0) { break }
        }
        server.close()
        print("review: stopped")
    }
}

extension ReviewCommand {
    /// Runs `curator [globals] review [arguments]` and ends the process.
    /// `globals` are curator's options given before `review` or after it
    /// (GlobalOptions moved them): `--no-plugins` means nothing here and is
    /// accepted, `-h`/`--help` and `--version` answer, the options for Lua
    /// code are refused by name, and anything else goes to the parse, which
    /// names it.
    static func main(globals: [String], arguments: [String]) -> Never {
        var unknown: [String] = []
        var i = 0
        while i < globals.count {
            let word = globals[i]
            let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            switch name {
            case "--no-plugins": break
            case "-h", "--help":
                print(helpMessage())
                terminate(0)
            case "--version":
                print(Curator.configuration.version)
                terminate(0)
            case "--safe":
                refuse("--safe is for running untrusted Lua code: review runs none, and its page changes the album's exclusions")
            case "-i":
                refuse("-i enters the REPL after a script: review has no REPL (a:review() in the REPL serves the page from there)")
            case "--timeout", "--max-memory":
                refuse("\(name) limits Lua code: review runs none (Ctrl-C or the page's Done button stops it)")
            default:
                unknown.append(word)
            }
            i += 1
        }
        runAndExit(unknown + arguments)
    }

    /// A usage error naming the option, as ArgumentParser's are (status 2).
    private static func refuse(_ reason: String) -> Never {
        Curator.writeError("curator review: \(reason)\nUsage: curator [--no-plugins] review <album> [--run <id>] [--port <n>] [--host <address>] [--embed]\n  See 'curator review --help' for more information.")
        terminate(2)
    }

    /// What to say when images have no vector of the album's embedder (the
    /// map leaves them out), or nil when every image has one or failed it.
    static func missingEmbeddings(_ album: Album, location: String) throws -> String? {
        guard !album.isIndexOnly, !album.images.isEmpty else { return nil }
        let how = "`curator review --embed \(location)` computes them first, as curator.open does in the REPL"
        let none = "curator review: the album has no embeddings yet, so the page shows the images but no map; \(how)"
        guard let embedder = album.embedder else { return none }
        let (embedded, failed) = try album.embeddingStore.counts(embedder: embedder)
        if embedded == 0 { return none }
        let missing = album.images.count - embedded - failed
        guard missing > 0 else { return nil }
        return "curator review: \(missing) of \(album.images.count) images have no '\(embedder)' embedding yet, so the map leaves them out; \(how)"
    }
}
