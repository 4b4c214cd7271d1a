import ArgumentParser
import CuratorCore

@main
struct Curator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curator",
        abstract: "Pick a diverse or representative subset of an image album.",
        version: CuratorVersion.string
    )

    mutating func run() throws {
        print("curator \(CuratorVersion.string)")
    }
}
