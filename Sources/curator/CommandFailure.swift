import ArgumentParser

/// A failure a command that runs no Lua (`review`, `models`) reports as it
/// is, with its exit status: 1, or 130 when the user interrupted it.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    let status: Int32
    init(_ description: String, status: Int32 = 1) {
        self.description = description
        self.status = status
    }
}

extension ParsableCommand {
    /// Parses `arguments` as this command, runs it and ends the process: 0,
    /// a `CommandFailure`'s own status with its message, or 2 for a usage
    /// error (help and version print and end with 0).
    static func runAndExit(_ arguments: [String]) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            terminate(0)
        } catch let failure as CommandFailure {
            Curator.writeError(failure.description)
            terminate(failure.status)
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                terminate(0)
            }
            Curator.writeError(fullMessage(for: error))
            terminate(2)
        }
    }
}
