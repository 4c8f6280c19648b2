import ArgumentParser
import Foundation

@main
struct LodeWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lode-worker",
        abstract: "Lodestone's worker service: consumes events, keeps the zone's figures, sends notifications.",
        discussion: "Not built yet: the worker arrives with its own issue. Until then `lodectl ping` checks the broker.")

    func run() throws {
        FileHandle.standardError.write(Data("lode-worker: not built yet; see README.md (until then: lodectl ping)\n".utf8))
        throw ExitCode(70)
    }
}
