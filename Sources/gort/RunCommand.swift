import ArgumentParser

// PLACEHOLDER: replaced by the owner of this subcommand.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run")
    func run() throws { throw GortError("run: not built yet") }
}
