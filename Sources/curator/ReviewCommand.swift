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
            The album is rescanned (new and changed files), not embedded: the map needs the \
            embeddings curator.open(path) or a:embed() made. The page opens on the run given, \
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

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be from 1 to 65535 (got \(port))") }
        if let runID, runID < 1 { throw ValidationError("--run must be a run id (1, 2, ...; got \(runID))") }
    }

    func run() throws {
        let opened: Album
        do {
            opened = try Album.open(album, options: Album.OpenOptions(scan: true, embed: false))
        } catch {
            throw ReviewFailure("curator review: cannot open \(album): \(error)")
        }
        if let runID, try opened.run(id: runID) == nil {
            let known = try opened.runIDs()
            throw ReviewFailure("curator review: no run #\(runID) in album \"\(opened.name)\""
                + (known.isEmpty ? " (it has no runs yet)" : " (runs: \(known.map(String.init).joined(separator: ", ")))"))
        }
        let server: ReviewServer
        do {
            server = try ReviewServer.start(album: opened, options: .init(host: host, port: port, run: runID))
        } catch {
            throw ReviewFailure("curator review: \(error)")
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

/// A failure `curator review` reports as it is (exit status 1).
struct ReviewFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
