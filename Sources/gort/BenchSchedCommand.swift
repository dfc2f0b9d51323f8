// `gort bench sched`: the scheduler workloads (Benchmarks/sched/) on Swift's default executor, on GoSched,
// on GoSched + libGoMalloc.so (LD_PRELOAD), and in Go 1.19, interleaved by BenchSupport's BenchPlan,
// medians of --runs. The Swift side is `bench-sched` (built next to gort); the Go side is built here with
// `go build` from Benchmarks/sched/go into <build dir>/bench-sched-go. See docs/sched-benchmarks.md.
import ArgumentParser
import Foundation

struct BenchSchedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sched",
        abstract: "Run the scheduler workloads on the default executor, GoSched, GoSched+libGoMalloc.so and Go.")

    static let workloadList: [(name: String, summary: String)] = [
        ("skynet", "1M leaves, 10-ary tree of task groups"),
        ("spawn-join", "1M tasks spawned and joined"),
        ("ping-pong", "1M round trips over unbuffered channels"),
        ("yield-fanout", "10k tasks x 100 yields"),
        ("actor-ping-pong", "1M calls between two actors"),
        ("parallel-map", "64 chunks x 4M xorshift rounds"),
    ]
    static let allWorkloads = workloadList.map(\.name)
    static let allVariants = ["default", "gosched", "gosched+gomalloc", "go"]

    @Option(help: "Runs of each workload under each variant (median reported).")
    var runs: Int = 5
    @Option(help: "Comma-separated workloads (default: all; see --list): \(allWorkloads.joined(separator: ",")).")
    var workloads: String?
    @Option(help: "Comma-separated variants: \(allVariants.joined(separator: ",")).")
    var variants: String = allVariants.joined(separator: ",")
    @Option(help: "Variant the ratios are relative to.")
    var baseline: String = "default"
    @Option(help: "Output format: table or tsv.")
    var format: String = "table"
    @Option(help: "Work scale (1 = the issue's sizes).")
    var scale: Double = 1
    @Option(help: "Kill a run (and mark it failed) after this many seconds.")
    var timeout: Double = 300
    @Flag(help: "List the workloads and exit.")
    var list = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard format == "table" || format == "tsv" else { throw ValidationError("--format must be table or tsv") }
        guard Self.allVariants.contains(baseline) else {
            throw ValidationError("--baseline must be one of \(Self.allVariants.joined(separator: ", "))")
        }
        guard scale > 0 else { throw ValidationError("--scale must be positive") }
        _ = try benchSelection(workloads, from: Self.allWorkloads, option: "--workloads")
        _ = try benchSelection(variants, from: Self.allVariants, option: "--variants")
    }

    func run() throws {
        if list { return printBenchList(Self.workloadList) }
        let chosenW = try benchSelection(workloads, from: Self.allWorkloads, option: "--workloads")
        let chosenV = try benchSelection(variants, from: Self.allVariants, option: "--variants")
        let exeDir = BenchTools.executableDirectory()
        let swiftBench = exeDir + "/bench-sched"
        guard FileManager.default.isExecutableFile(atPath: swiftBench) else {
            throw GortError("\(swiftBench) not found: build it with `swift build -c release --product bench-sched`")
        }
        var goBench: String?
        if chosenV.contains("go") {
            guard let root = BenchTools.packageRoot(containing: "Benchmarks/sched/go/main.go") else {
                throw GortError("Benchmarks/sched/go not found (run from the package)")
            }
            guard let go = BenchTools.which("go", preferring: ["/usr/bin/go", "/usr/lib/go/bin/go"]) else {
                throw GortError("go not found: apt-get install -y golang-go, or leave go out of --variants")
            }
            let out = exeDir + "/bench-sched-go"
            let cwd = FileManager.default.currentDirectoryPath
            guard FileManager.default.changeCurrentDirectoryPath(root + "/Benchmarks/sched/go") else {
                throw GortError("cannot enter Benchmarks/sched/go")
            }
            let rc = BenchTools.runPassthrough([go, "build", "-o", out, "."])
            _ = FileManager.default.changeCurrentDirectoryPath(cwd)
            guard rc == 0 else { throw GortError("go build of Benchmarks/sched/go failed") }
            goBench = out
        }
        let gomalloc = exeDir + "/libGoMalloc.so"
        var cases: [BenchCase] = []
        for w in chosenW {
            for v in chosenV {
                switch v {
                case "default":
                    cases.append(BenchCase(workload: w, variant: v, argv: [swiftBench, w, "default", "\(scale)"],
                                           removedEnvironment: ["LD_PRELOAD", "GOSCHED"]))
                case "gosched":
                    cases.append(BenchCase(workload: w, variant: v, argv: [swiftBench, w, "gosched", "\(scale)"],
                                           removedEnvironment: ["LD_PRELOAD", "GOSCHED"]))
                case "gosched+gomalloc":
                    guard FileManager.default.fileExists(atPath: gomalloc) else {
                        FileHandle.standardError.write("skipping gosched+gomalloc: \(gomalloc) missing\n".data(using: .utf8)!)
                        continue
                    }
                    cases.append(BenchCase(workload: w, variant: v, argv: [swiftBench, w, "gosched", "\(scale)"],
                                           environment: ["LD_PRELOAD": gomalloc], removedEnvironment: ["GOSCHED"]))
                default:
                    cases.append(BenchCase(workload: w, variant: v, argv: [goBench!, w, "\(scale)"]))
                }
            }
        }
        let logs = exeDir + "/bench-sched-logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let plan = BenchPlan(cases: cases, runs: runs, timeoutSeconds: timeout, logDirectory: logs)
        let results = plan.execute { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
        let report = BenchReport(title: "gort bench sched", results: results, runs: runs, baseline: baseline)
        print(format == "tsv" ? report.tsv() : report.table(), terminator: "")
    }
}
