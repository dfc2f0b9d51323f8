import ArgumentParser

// PLACEHOLDER: replaced by the owner of this subcommand.
struct BenchAllocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alloc")
    func run() throws { throw GortError("alloc: not built yet") }
}
