import ArgumentParser
import CLuaShims
import CuratorCore
import CuratorLua
import Foundation

/// The `curator` command: the REPL, a script, or `-e` code, in the Lua host.
@main
struct Curator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curator",
        abstract: "Pick a diverse or representative subset of an image album, from Lua.",
        usage: """
            curator                        start the REPL
            curator [options] SCRIPT.lua [args...]
            curator [options] WORKFLOW [args...]   a shipped workflow by name: clean, dedup, trainset
            curator [options] - [args...]  run the script on stdin
            curator [options] -e CODE [-e CODE...] [args...]
            curator [options] review ALBUM [--run ID] [--port N] [--host H] [--embed]   serve the live review page
            curator models [get NAME...]   list the CLIP and SigLIP models, download one
            """,
        discussion: """
            Arguments after the script go to it untouched (also ones starting with '-'), \
            as arg[1], arg[2], ... and as the chunk's '...'; arg[0] is the script and arg[-1], \
            arg[-2], ... the options before it, down to the program. With -e, the arguments \
            after the options go to the code the same way (arg[0] is "-e").

            A command (review, models, or a workflow run by its name) takes curator's options (below) \
            before or after its name, as git does: 'curator review ALBUM --no-plugins' is 'curator --no-plugins review ALBUM'. \
            Of them, review and models accept only --no-plugins (they run no Lua) and name any other.

            'curator models' lists the CLIP and SigLIP models curator knows and where each is installed; \
            'curator models get NAME' downloads one from the Hugging Face Hub ('curator models --help').

            A WORKFLOW is a script shipped with curator, run by its name from anywhere: \
            'curator clean ALBUM' cleans an album round by round, 'curator dedup ALBUM' excludes \
            near-duplicate copies group by group, 'curator trainset ALBUM --out DIR' \
            picks and exports a training set ('curator clean --help' for their options). \
            A file of that name in the current folder wins; ~/.config/curator/workflows/NAME.lua \
            adds or replaces one.

            Plugins load at start from the shipped plugins folder (<prefix>/share/curator/plugins \
            beside an installed binary, plugins/ beside a copied one or in the checkout it was \
            built from, or $CURATOR_HOME/plugins), each folder of $CURATOR_PLUGIN_PATH, and \
            ~/.config/curator/plugins. When none loads, curator says so at start.

            Exit status: 0 success, 1 script error (traceback on stderr), 2 usage error.
            """,
        version: "curator \(CuratorVersion.string) (Lua 5.4)"
    )

    @Option(name: .customShort("e"), help: ArgumentHelp("Run CODE (may be repeated).", valueName: "CODE"))
    var execute: [String] = []

    @Flag(name: .customShort("i"), help: "Enter the REPL after running the script or the -e code.")
    var interactive = false

    @Flag(help: "Run untrusted code: no io, os.execute/remove/rename/exit/getenv, package.loadlib, file loading, binary chunks, debug, or r:export/csv/report and m:plot (they write files); albums open read-only (runs stay in memory); --timeout 300 unless given.")
    var safe = false

    @Option(name: .customLong("max-memory"),
            help: ArgumentHelp("The most memory Lua may hold, e.g. 512M or 2G (default: a quarter of RAM; 0: no limit).", valueName: "SIZE"),
            transform: { text in
                guard let bytes = ByteCount.parse(text) else {
                    throw ValidationError("'\(text)' is not a size (e.g. 512M, 2G, or a number of bytes)")
                }
                return bytes
            })
    var maxMemory: Int?

    @Option(help: ArgumentHelp("Interrupt each script, -e code or REPL line after SECONDS of wall-clock time (default: 300 with --safe, else none; 0: none).", valueName: "SECONDS"))
    var timeout: Double?

    @Flag(name: .customLong("no-plugins"), help: "Start without loading plugins.")
    var noPlugins = false

    @Flag(name: .customLong("generate-manual"), help: .hidden)
    var generateManual = false

    @Argument(help: ArgumentHelp("The script (a file, a workflow's name, or '-' for stdin) and its arguments.",
                                 valueName: "script-and-args"),
              completion: .custom { _, _, prefix in Curator.scriptCompletions(prefix: prefix) })
    var script: [String] = []

    /// Completions for the script word: the commands, the workflows' names and
    /// the `.lua` files and folders of the current folder that start with `prefix`.
    static func scriptCompletions(prefix: String) -> [String] {
        var words = ["review", "models"] + Installation.workflowNames()
        let folder = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) + "/" : ""
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? [] where !entry.hasPrefix(".") {
            var isFolder: ObjCBool = false
            // An entry gone since the listing is neither.
            guard fm.fileExists(atPath: folder + entry, isDirectory: &isFolder) else { continue }
            if isFolder.boolValue { words.append(folder + entry + "/") } else if entry.hasSuffix(".lua") { words.append(folder + entry) }
        }
        return words.filter { $0.hasPrefix(prefix) }
    }

    /// The options whose value is the next word.
    static let optionsTakingValues: Set<String> = ["-e", "--max-memory", "--timeout"]

    /// Splits the command line as `lua` does: options up to the first word
    /// that is not one (or `-`, or after `--`); everything from there on is the
    /// script and its arguments, untouched even when they start with `-`.
    static func split(_ arguments: [String]) -> (options: [String], rest: [String]) {
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            if word == "--" { return (Array(arguments[..<i]), Array(arguments[(i + 1)...])) }
            guard word.hasPrefix("-"), word != "-" else { break }
            i += optionsTakingValues.contains(word) ? 2 : 1
        }
        i = min(i, arguments.count)
        return (Array(arguments[..<i]), Array(arguments[i...]))
    }

    /// The command for the everyday command lines — `-e CODE`, `-i`,
    /// `--safe`, `--no-plugins`, each flag at most once, then the script and
    /// its arguments — without ArgumentParser, whose parse (building the
    /// help and completion tables) was about 3 ms of a 20 ms start. Returns
    /// nil for anything else (help, version, errors, unusual spellings),
    /// which ArgumentParser handles as before.
    static func quickParse(options: [String], rest: [String], arguments: [[UInt8]]) -> Invocation? {
        var execute: [String] = []
        var interactive = false, safe = false, noPlugins = false
        var i = 0
        while i < options.count {
            switch options[i] {
            case "-e":
                // A code word starting with '-' is left to ArgumentParser's judgement.
                guard i + 1 < options.count, !options[i + 1].hasPrefix("-") else { return nil }
                execute.append(options[i + 1])
                i += 1
            case "-i" where !interactive: interactive = true
            case "--safe" where !safe: safe = true
            case "--no-plugins" where !noPlugins: noPlugins = true
            default: return nil
            }
            i += 1
        }
        // Not a `Curator`: initialising its property wrappers alone costs
        // half a millisecond of ArgumentParser's name tables.
        return Invocation(execute: execute, interactive: interactive, safe: safe, noPlugins: noPlugins, script: rest,
                          arguments: arguments)
    }

    static func main() {
        let command: Curator
        // A command's global options may follow its name; curator reads them
        // as if they stood before it (GlobalOptions). `arguments` keeps
        // argv's exact bytes in that order, for Lua's `arg`.
        let given = Array(CommandLine.arguments.dropFirst())
        let order = GlobalOptions.arranged(given)
        let words = order.map { given[$0] }
        let raw = rawArguments()
        let arguments = [raw[0]] + order.map { raw[$0 + 1] }
        let (options, rest) = split(words)
        // `curator [options] review ...` and `models ...` are commands of their
        // own (a script called "review" still runs as ./review or after --).
        switch GlobalOptions.command(in: words) {
        case "review": ReviewCommand.main(globals: options, arguments: Array(rest.dropFirst()))
        case "models": ModelsCommand.main(globals: options, arguments: Array(rest.dropFirst()))
        default: break
        }
        do {
            if let quick = quickParse(options: options, rest: rest, arguments: arguments) { terminate(quick.start()) }
            var parsed = try parseAsRoot(options + (rest.isEmpty ? [] : ["--"] + rest))
            guard let ours = parsed as? Curator else {
                // `--help` parses as the built-in help command.
                try parsed.run()
                terminate(0)
            }
            command = ours
            if command.generateManual {
                // scripts/install writes this to share/man/man1/curator.1.
                print(ManualPage.render(Curator.self), terminator: "")
                terminate(0)
            }
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                terminate(0)
            }
            writeError("curator: \(fullMessage(for: error))")
            terminate(2)
        }
        terminate(Invocation(execute: command.execute, interactive: command.interactive, safe: command.safe,
                             noPlugins: command.noPlugins, script: command.script, arguments: arguments,
                             maxMemory: command.maxMemory, timeout: command.timeout).start())
    }

    mutating func validate() throws {
        if let timeout, !(timeout >= 0 && timeout.isFinite) {
            throw ValidationError("--timeout: '\(timeout)' is not a number of seconds (0 for no limit)")
        }
    }

    static func writeError(_ text: String) {
        fflush(nil)
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// The process arguments as bytes, exactly as the shell passed them.
    static func rawArguments() -> [[UInt8]] {
        (0..<Int(CommandLine.argc)).map { i in
            guard let word = CommandLine.unsafeArgv[i] else { return [] }
            return Array(UnsafeBufferPointer(start: UnsafeRawPointer(word).assumingMemoryBound(to: UInt8.self),
                                             count: strlen(word)))
        }
    }

    /// Blanks a first line starting with `#` (a shebang), keeping line numbers.
    static func skippingShebang(_ source: [UInt8]) -> [UInt8] {
        guard source.first == UInt8(ascii: "#") else { return source }
        guard let newline = source.firstIndex(of: 10) else { return [] }
        return Array(source[newline...])
    }
}

/// What the command line asked for, however it was parsed.
struct Invocation {
    var execute: [String]
    var interactive: Bool
    var safe: Bool
    var noPlugins: Bool
    var script: [String]
    /// argv's exact bytes, program first, in the order curator read them.
    var arguments: [[UInt8]]
    var maxMemory: Int? = nil
    var timeout: Double? = nil

    /// Sets the host up, runs what was asked, and returns the exit status.
    func start() -> Int32 {
        let host: CuratorHost
        do {
            host = try CuratorHost(options: .init(safe: safe, memoryLimit: maxMemory, timeout: timeout))
            if !noPlugins {
                let reports = host.loadPlugins(from: PluginLocations.standard())
                for report in reports {
                    if let error = report.error {
                        Curator.writeError("curator: plugin '\(report.name)' failed to load: \(error)")
                    }
                }
                if !reports.contains(where: { $0.error == nil }) {
                    // A copied binary without its plugins would otherwise run
                    // workflows that quietly lose what the plugins add.
                    let looked = Installation.candidates().map(\.path).joined(separator: ", ")
                    Curator.writeError("curator: no plugins loaded (looked for plugins/ in \(looked), " +
                                       "and in $CURATOR_PLUGIN_PATH and ~/.config/curator/plugins; " +
                                       "scripts/install puts them beside the binary; --no-plugins silences this)")
                }
            }
            try host.seal()
        } catch {
            Curator.writeError("curator: \(error.message)")
            return 1
        }

        // Arguments reach Lua as the exact bytes of argv (file names need not be UTF-8).
        let argv = arguments
        let positional = Array(argv.suffix(script.count))
        let options = Array(argv.dropLast(script.count)) // argv[0] and the options, as arg[-n...-1]
        if !execute.isEmpty {
            host.setArguments(interpreter: options, script: Array("-e".utf8), arguments: positional)
            for (n, code) in execute.enumerated() {
                let name = execute.count == 1 ? "=(command line)" : "=(command line \(n + 1))"
                guard run(Array(code.utf8), name: name, arguments: positional, in: host) else { return 1 }
            }
        } else if let file = script.first {
            let arguments = Array(positional.dropFirst())
            host.setArguments(interpreter: options, script: positional[0], arguments: arguments)
            let source: [UInt8]
            let name: String
            if file == "-" {
                source = Array(FileHandle.standardInput.readDataToEndOfFile())
                name = "=stdin"
            } else if let data = FileManager.default.contents(atPath: file) {
                source = Array(data)
                name = "@" + file
            } else if let workflow = Installation.workflow(named: file),
                      let data = FileManager.default.contents(atPath: workflow.path) {
                source = Array(data)
                name = "@" + workflow.path
            } else {
                var message = "curator: cannot open \(file)"
                if Installation.isWorkflowName(file) {
                    let names = Installation.workflowNames()
                    message += names.isEmpty
                        ? " (no such file, and no workflows were found: see scripts/install)"
                        : " (no such file or workflow; workflows: \(names.joined(separator: ", ")))"
                }
                Curator.writeError(message)
                return 1
            }
            guard run(Curator.skippingShebang(source), name: name, arguments: arguments, in: host) else { return 1 }
        } else {
            return REPL(host: host).run()
        }
        if interactive {
            return REPL(host: host).run()
        }
        return 0
    }

    /// Runs a chunk with a traceback on error; Ctrl-C interrupts it.
    func run(_ source: [UInt8], name: String, arguments: [[UInt8]], in host: CuratorHost) -> Bool {
        let state = host.state
        let lua = state.stack
        let top = lua.top
        defer { lua.top = top }
        curator_install_sigint(state.L)
        defer { curator_install_sigint(nil) }
        do {
            try lua.load(source, name: name)
            guard lua.ensureSpace(Int32(clamping: arguments.count + 1)) else {
                Curator.writeError("curator: too many arguments")
                return false
            }
            for argument in arguments { lua.push(bytes: argument) }
            try host.runChunk { () throws(LuaError) in
                try lua.call(arguments: Int32(arguments.count), results: 0, traceback: true)
            }
            fflush(nil)
            return true
        } catch {
            Curator.writeError("curator: \(error.message)")
            return false
        }
    }

}

/// Ends the process (the command's own `exit` methods shadow the C function).
func terminate(_ status: Int32) -> Never {
    fflush(nil)
    exit(status)
}
