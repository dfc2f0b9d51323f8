import ArgumentParser

// PLACEHOLDER: replaced by the owner of this subcommand.
struct HeapmapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "heapmap")
    func run() throws { throw GortError("heapmap: not built yet") }
}
