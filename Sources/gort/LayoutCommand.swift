import ArgumentParser

// PLACEHOLDER: replaced by the owner of this subcommand.
struct LayoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "layout")
    func run() throws { throw GortError("layout: not built yet") }
}
