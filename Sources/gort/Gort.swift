// gort: the front door to swift-go-runtime.
//
//   gort run [--stats] -- COMMAND...   run any program on libGoMalloc.so
//   gort heapmap DUMP.json -o heap.svg draw a heap dump
//   gort layout PATH...                struct layout, padding and the best field order
//   gort bench alloc|sched|gc          side-by-side benchmarks against the anchors
//   gort gctrace [FILE]                summary of GODEBUG=gctrace=1 output (Go or GoGC)
//   gort trace -o trace.json [-- CMD]  record a GoSched run as Chrome trace-event JSON
//
// Every error is one line on stderr and a non-zero exit: 1 for a command's own errors (GortError; `gort run`
// gives 126/127 when the program cannot run, as shells do), 64 (EX_USAGE)
// for a bad flag or argument, where ArgumentParser would add the usage text (`--help` prints that).
import ArgumentParser
import Glibc

@main
struct Gort: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gort",
        abstract: "Go's runtime in Swift: allocator, layout linter, scheduler, garbage collector and benchmarks.",
        subcommands: [RunCommand.self, HeapmapCommand.self, LayoutCommand.self, BenchCommand.self, GCTraceCommand.self,
                      TraceCommand.self]
    )

    /// ArgumentParser's main, with its errors cut to one line. Help, `ExitCode`s thrown by commands (a lint's
    /// findings) and clean exits keep ArgumentParser's handling.
    static func main() {
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            fail(error, usage: true)
        }
        do {
            var command = command
            try command.run()
        } catch {
            fail(error, usage: false)
        }
    }

    private static func fail(_ error: Error, usage: Bool) -> Never {
        if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
        let path = commandPath()
        let message = self.message(for: error).split(separator: "\n", omittingEmptySubsequences: true).first
            .map(String.init) ?? "\(error)"
        let hint = usage ? " (see '\(path) --help')" : ""
        fputs("\(path): error: \(message)\(hint)\n", stderr)
        Glibc.exit((error as? GortError)?.status ?? exitCode(for: error).rawValue)
    }

    /// "gort", or "gort bench alloc": the words of the command line that name (sub)commands.
    private static func commandPath() -> String {
        var path = ["gort"]
        var level: [ParsableCommand.Type] = configuration.subcommands
        for word in CommandLine.arguments.dropFirst() {
            guard let next = level.first(where: { $0._commandName == word }) else { break }
            path.append(word)
            level = next.configuration.subcommands
        }
        return path.joined(separator: " ")
    }
}

/// A one-line error for the user, with exit status 1 unless said otherwise (`gort run`'s 126 and 127, as
/// shells give). `Gort.main` prints "gort <subcommand>: error: <message>", so the message does not name the
/// subcommand.
struct GortError: Error, CustomStringConvertible {
    var description: String
    var status: Int32
    init(_ message: String, status: Int32 = 1) {
        description = message
        self.status = status
    }
}

/// The command of `gort run` and `gort trace`, from their passthrough argument. ArgumentParser's
/// captureForPassthrough also takes gort's own `--help` and misspelled options when they come first; those
/// get the subcommand's help, or a usage error, instead of being run as a program.
func passthroughCommand(_ words: [String], of command: ParsableCommand.Type) throws -> [String] {
    var argv = words
    if argv.first == "--" {
        argv.removeFirst()
        return argv
    }
    if let first = argv.first, first.hasPrefix("-") {
        if first == "-h" || first == "--help" { throw CleanExit.helpRequest(command) }
        throw ValidationError("unknown option '\(first)' (the command to run goes after --)")
    }
    return argv
}
