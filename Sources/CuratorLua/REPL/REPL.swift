import CLuaShims
import CuratorCore
import Foundation

/// The host the readline completion callback asks. The REPL runs on one
/// thread and readline calls back on that thread, inside `curator_readline`.
nonisolated(unsafe) private var completionHost: CuratorHost?

private let completionCallback: @convention(c) (UnsafePointer<CChar>?) -> Void = { text in
    guard let text, let host = completionHost else { return }
    for candidate in Completer(state: host.state).candidates(for: String(cString: text)) {
        curator_completion_add(candidate)
    }
    curator_completion_suppress_append(1)
}

/// The read-eval-print loop, as `lua.c` runs it, and better.
///
/// Each line is first tried as `return <line>` so expressions print their
/// values (pretty-printed; `_` holds the first one; on a terminal a result
/// longer than the window shows its first and last lines, `ScreenfulResult`);
/// otherwise it runs as a statement, and while the chunk is incomplete
/// (`<eof>` in the syntax error) more lines are read with the `...> `
/// prompt. On a terminal it uses readline with persistent history and tab
/// completion; Ctrl-C at the prompt clears the line (on an empty line it
/// stops the review pages this session serves), during execution it
/// interrupts the chunk; Ctrl-D, `exit` or `quit` leave.
/// When stdin is not a terminal there are no prompts and no colours, and the
/// exit status is 1 when any chunk failed.
public final class REPL {
    let host: CuratorHost
    let interactive: Bool
    let colour: Bool
    let historyPath: String?
    private var input = LineReader(fd: 0)
    private var failures = 0

    /// Prepares a REPL on `host`. `interactive` defaults to whether stdin is a
    /// terminal; the history file defaults to `$XDG_DATA_HOME/curator/history`
    /// (`~/.local/share/curator/history`).
    public init(host: CuratorHost, interactive: Bool? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.host = host
        self.interactive = interactive ?? (isatty(0) != 0)
        colour = isatty(2) != 0 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        historyPath = REPL.historyFile(environment: environment)
    }

    /// The history file for `environment`.
    public static func historyFile(environment: [String: String]) -> String? {
        let base: String
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            base = data
        } else if let home = environment["HOME"] {
            base = home + "/.local/share"
        } else {
            return nil
        }
        return base + "/curator/history"
    }

    /// The banner printed when the REPL starts on a terminal.
    public static var banner: String {
        "curator \(CuratorVersion.string) (Lua 5.4) — help() for help; exit, quit or Ctrl-D to leave"
    }

    /// Whether `line` asks to leave: `exit` or `quit`, bare or called, when
    /// no global of that name says otherwise (Lua has neither; Python's
    /// REPL taught everyone to type them).
    func isLeaveCommand(_ line: [UInt8]) -> Bool {
        let word = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let name = ["exit", "quit", "exit()", "quit()"].first(where: { $0 == word }).map({ String($0.prefix(4)) })
        else { return false }
        let lua = host.state.stack
        lua.pushGlobals()
        defer { lua.pop(2) }
        return lua.rawGet(-1, name) == .nil
    }

    /// Runs until end of input; returns the exit status.
    public func run() -> Int32 {
        let L = host.state.L
        curator_install_sigint(L)
        defer { curator_install_sigint(nil) }
        if interactive {
            completionHost = host
            curator_readline_setup(completionCallback)
            if let historyPath {
                try? FileManager.default.createDirectory(atPath: (historyPath as NSString).deletingLastPathComponent,
                                                         withIntermediateDirectories: true)
                _ = curator_history_load(historyPath)
            }
            print(REPL.banner)
        }
        loop: while true {
            switch readChunk() {
            case .end: break loop
            case .skip: continue
            case .ready: execute()
            }
        }
        if interactive { print("") }
        completionHost = nil
        return interactive || failures == 0 ? 0 : 1
    }

    // MARK: Reading

    /// One line, or nil at end of input; `.some(nil)` when Ctrl-C cleared it.
    /// Ctrl-C on an empty line of the first prompt (`stopsReviews`) also stops
    /// the review pages this session serves, as their address line says.
    private func readLine(prompt: String, stopsReviews: Bool = false) -> [UInt8]?? {
        if interactive {
            fflush(nil)
            var interrupted: Int32 = 0
            guard let line = curator_readline(prompt, &interrupted) else {
                if interrupted != 0 {
                    curator_clear_interrupt(host.state.L)
                    if interrupted == 1, stopsReviews { stopReviews() }
                    return .some(nil)
                }
                return nil
            }
            defer { free(line) }
            return .some(Array(UnsafeBufferPointer(start: UnsafeRawPointer(line).assumingMemoryBound(to: UInt8.self),
                                                   count: strlen(line))))
        }
        guard let line = input.next() else { return nil }
        return .some(line)
    }

    private enum ChunkRead {
        /// End of input.
        case end
        /// Nothing to run: an empty line, Ctrl-C, or a syntax error (reported).
        case skip
        /// The compiled chunk is on top of the stack.
        case ready
    }

    /// Reads lines until they form a complete chunk and compiles it.
    private func readChunk() -> ChunkRead {
        let lua = host.state.stack
        guard let first = readLine(prompt: "curator> ", stopsReviews: true) else { return .end }
        guard var buffer = first else { return .skip }
        if buffer.allSatisfy({ $0 == 32 || $0 == 9 }) { return .skip }
        if isLeaveCommand(buffer) { return .end }

        // An expression? Then print its value.
        if (try? lua.load(Array("return ".utf8) + buffer, name: "=stdin")) != nil {
            addHistory(buffer)
            return .ready
        }
        while true {
            do {
                try lua.load(buffer, name: "=stdin")
                addHistory(buffer)
                return .ready
            } catch where error.kind == .incomplete {
                guard let more = readLine(prompt: "...> ") else {
                    report(error.message)
                    return .end
                }
                guard let line = more else { return .skip }
                buffer += [10] + line
            } catch {
                addHistory(buffer)
                report(error.message)
                return .skip
            }
        }
    }

    /// Stops every review page this session serves, saying which.
    private func stopReviews() {
        for port in host.closeReviews() {
            print("review: stopped the page on port \(port) (Ctrl-C)")
        }
    }

    private func addHistory(_ line: [UInt8]) {
        guard interactive else { return }
        (line + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                curator_history_add(chars.baseAddress, historyPath, 1000)
            }
        }
    }

    // MARK: Running

    /// Runs the function on top of the stack and prints what it returned.
    private func execute() {
        let state = host.state
        let lua = state.stack
        let base = lua.top - 1
        do {
            try host.runChunk { () throws(LuaError) in
                try lua.call(arguments: 0, results: LUA_MULTRET, traceback: true)
            }
        } catch {
            report(error.message)
            lua.top = base
            return
        }
        let count = lua.top - base
        guard count > 0 else { return }
        var shown: [String] = []
        for i in 0..<count {
            shown.append(host.pretty(at: base + 1 + i))
        }
        // `_` holds the first result.
        lua.pushGlobals()
        lua.pushValue(at: base + 1)
        lua.rawSet(-2, "_")
        lua.pop()
        lua.top = base
        let text = shown.joined(separator: "\t")
        if let screen = screenLimit {
            print(screen.fitted(text, hint: count == 1 ? "print(curator.pretty(_)) shows them all" : nil))
        } else {
            print(text)
        }
        fflush(nil)
    }

    /// How long a result may be on this terminal (nil: piped, or output not
    /// a terminal, where everything is printed). Read for every result, so a
    /// resized window counts.
    private var screenLimit: ScreenfulResult? {
        guard interactive else { return nil }
        let terminal = TerminalDisplay.detect(fd: 1, environment: [:])
        guard terminal.isTerminal else { return nil }
        return ScreenfulResult(terminalRows: terminal.rows, columns: terminal.columns)
    }

    private func report(_ message: String) {
        failures += 1
        fflush(nil)
        let text = colour ? "\u{1B}[31m\(message)\u{1B}[0m\n" : message + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Reads lines from a file descriptor as bytes (source text may hold any
/// bytes; no decoding happens here).
struct LineReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(fd: Int32) { self.fd = fd }

    /// The next line without its newline, or nil at end of input.
    mutating func next() -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 10) {
                var line = Array(buffer[start..<newline])
                if line.last == 13 { line.removeLast() }
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n < 0 {
                if errno == EINTR { continue }
                atEnd = true
            } else if n == 0 {
                atEnd = true
            } else {
                buffer += chunk[0..<n]
            }
        }
    }
}
