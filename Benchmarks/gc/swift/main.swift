// bench-gc: the GC workloads for `gort bench gc`, on GoGC or on Swift ARC classes.
//   bench-gc binary-trees DEPTH gogc|arc
//   bench-gc gcbench gogc|arc
// Output matches the C (Boehm) and Go versions line for line. GoGC's GC count and pauses come from
// GODEBUG=gctrace=1 (set by gort); ARC has no collector.
#if canImport(Glibc)
import Glibc
#endif
import GoGC

let args = Array(CommandLine.arguments.dropFirst())
func usage() -> Never {
    fputs("usage: bench-gc binary-trees DEPTH gogc|arc | bench-gc gcbench gogc|arc\n", stderr)
    exit(2)
}
guard let workload = args.first else { usage() }
switch (workload, args.count) {
case ("binary-trees", 3):
    guard let depth = Int(args[1]) else { usage() }
    switch args[2] {
    case "gogc": GoGCWorkloads.binaryTrees(depth)
    case "arc": ARCWorkloads.binaryTrees(depth)
    default: usage()
    }
case ("gcbench", 2):
    switch args[1] {
    case "gogc": GoGCWorkloads.gcbench()
    case "arc": ARCWorkloads.gcbench()
    default: usage()
    }
default:
    usage()
}
// GORT_BENCH_STATS=1: the collector's and the allocator's statistics on stderr at exit.
if getenv("GORT_BENCH_STATS") != nil, args.last == "gogc" {
    fputs(GC.shared.stats.text, stderr)
    fputs(GC.shared.heap.memStats.text, stderr)
}
