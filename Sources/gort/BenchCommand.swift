import ArgumentParser

/// `gort bench alloc|sched|gc`: each runs one side-by-side suite (see BENCHMARKS.md).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark suite side by side with its anchors.",
        subcommands: [BenchAllocCommand.self, BenchSchedCommand.self, BenchGCCommand.self]
    )
}
