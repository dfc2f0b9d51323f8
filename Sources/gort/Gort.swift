// gort: the front door to swift-go-runtime.
//
//   gort run [--stats] -- COMMAND...   run any program on libGoMalloc.so
//   gort heapmap DUMP.json -o heap.svg draw a heap dump
//   gort layout PATH...                struct layout, padding and the best field order
//   gort bench alloc|sched|gc          side-by-side benchmarks against the anchors
//   gort gctrace [FILE]                summary of GODEBUG=gctrace=1 output (Go or GoGC)
//   gort trace -o trace.json [-- CMD]  record a GoSched run as Chrome trace-event JSON
import ArgumentParser

@main
struct Gort: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gort",
        abstract: "Go's runtime in Swift: allocator, layout linter, scheduler and benchmarks.",
        subcommands: [RunCommand.self, HeapmapCommand.self, LayoutCommand.self, BenchCommand.self, GCTraceCommand.self,
                      TraceCommand.self]
    )
}

/// A one-line error for the user, with a non-zero exit (ArgumentParser prints "Error: <message>").
struct GortError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
