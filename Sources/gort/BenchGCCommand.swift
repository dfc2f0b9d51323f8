// `gort bench gc`: the garbage-collector workloads (Benchmarks/gc/) on GoGC, on Swift ARC classes, on C with
// the Boehm collector and in Go, interleaved by BenchSupport's BenchPlan, medians of --runs.
//
// Programs: `bench-gc` (built next to gort: GoGC and ARC), `bench-gc-boehm` (built here with cc -O2 -lgc from
// Benchmarks/gc/c/bench.c; libgc-dev is installed with apt-get when missing and gort runs as root) and
// `bench-gc-go` (built here with `go build` from Benchmarks/gc/go). All are single-threaded programs.
//
// Collector statistics come from each run's output: Go and GoGC run with GODEBUG=gctrace=1 and each
// `gc N @...: A+B+C ms clock` line is one cycle with two stop-the-world pauses, A (sweep termination) and C
// (mark termination); the Boehm program prints `bench-gc-pause NS` per collection (a Boehm collection stops
// the world from start to end) and `bench-gc-count N`. ARC has no collector: 0 GCs, no pauses. GC counts are
// medians over the runs; pause max, median and p99 are over every pause of every run.
import ArgumentParser
import Foundation

struct BenchGCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Run the GC workloads on GoGC, Swift ARC, C with Boehm GC and Go.")

    static let workloadList: [(name: String, summary: String)] = [
        ("binary-trees-18", "binary-trees (the benchmarks game), depth 18"),
        ("binary-trees-21", "binary-trees, depth 21 (the issue's bar)"),
        ("gcbench", "Hans Boehm's GCBench: a long-lived tree and array, short-lived trees of depth 4-16"),
    ]
    static let allWorkloads = workloadList.map(\.name)
    static let allVariants = ["gogc", "arc", "boehm", "go"]

    @Option(help: "Runs of each workload under each variant (median reported).")
    var runs: Int = 3
    @Option(help: "Comma-separated workloads (default: all; see --list): \(allWorkloads.joined(separator: ",")).")
    var workloads: String?
    @Option(help: "Comma-separated variants: \(allVariants.joined(separator: ",")).")
    var variants: String = allVariants.joined(separator: ",")
    @Option(help: "Variant the ratios are relative to.")
    var baseline: String = "go"
    @Option(help: "Output format: table or tsv.")
    var format: String = "table"
    @Option(help: "Kill a run (and mark it failed) after this many seconds.")
    var timeout: Double = 600
    @Flag(help: "List the workloads and exit.")
    var list = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard format == "table" || format == "tsv" else { throw ValidationError("--format must be table or tsv") }
        guard Self.allVariants.contains(baseline) else {
            throw ValidationError("--baseline must be one of \(Self.allVariants.joined(separator: ", "))")
        }
        _ = try benchSelection(workloads, from: Self.allWorkloads, option: "--workloads")
        _ = try benchSelection(variants, from: Self.allVariants, option: "--variants")
    }

    func run() throws {
        if list { return printBenchList(Self.workloadList) }
        let chosenW = try benchSelection(workloads, from: Self.allWorkloads, option: "--workloads")
        let chosenV = try benchSelection(variants, from: Self.allVariants, option: "--variants")
        let exeDir = BenchTools.executableDirectory()
        let programs = try buildPrograms(chosenV, exeDir)
        var cases: [BenchCase] = []
        for w in chosenW {
            // binary-trees-N -> ["binary-trees", "N"]; gcbench -> ["gcbench"]
            let wargs = w.hasPrefix("binary-trees-") ? ["binary-trees", String(w.dropFirst("binary-trees-".count))] : [w]
            for v in chosenV {
                var c: BenchCase
                switch v {
                case "gogc", "arc":
                    c = BenchCase(workload: w, variant: v, argv: [programs[v]!] + wargs + [v])
                default:
                    c = BenchCase(workload: w, variant: v, argv: [programs[v]!] + wargs)
                }
                // Each variant at its defaults (GOGC=100, no limit), the trace on for the two that have one.
                c.removedEnvironment = ["LD_PRELOAD", "GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GC_INITIAL_HEAP_SIZE"]
                if v == "gogc" || v == "go" { c.environment["GODEBUG"] = "gctrace=1" } else { c.removedEnvironment.insert("GODEBUG") }
                c.captureOutput = true
                cases.append(c)
            }
        }
        let logs = exeDir + "/bench-gc-logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let plan = BenchPlan(cases: cases, runs: runs, timeoutSeconds: timeout, logDirectory: logs)
        let results = plan.execute { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
        let report = BenchReport(title: "gort bench gc", results: results, runs: runs, baseline: baseline)
        print(format == "tsv" ? tsv(report) : report.table() + gcTable(report), terminator: "")
    }

    /// Paths of the programs for the chosen variants, building the C and Go ones.
    func buildPrograms(_ variants: [String], _ exeDir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        if variants.contains("gogc") || variants.contains("arc") {
            let p = exeDir + "/bench-gc"
            guard fm.isExecutableFile(atPath: p) else {
                throw GortError("\(p) not found: build it with `swift build -c release --product bench-gc`")
            }
            out["gogc"] = p
            out["arc"] = p
        }
        let needsSource = variants.contains("boehm") || variants.contains("go")
        let root = needsSource ? BenchTools.packageRoot(containing: "Benchmarks/gc/c/bench.c") : nil
        if needsSource && root == nil { throw GortError("Benchmarks/gc not found (run gort from the package)") }
        if variants.contains("boehm") {
            if !fm.fileExists(atPath: "/usr/include/gc.h") && !fm.fileExists(atPath: "/usr/include/gc/gc.h") {
                _ = BenchTools.aptInstall(["libgc-dev"]) { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
            }
            guard let cc = BenchTools.which("cc") ?? BenchTools.which("gcc") ?? BenchTools.which("clang") else {
                throw GortError("no C compiler found for the boehm variant")
            }
            let p = exeDir + "/bench-gc-boehm"
            guard BenchTools.runPassthrough([cc, "-O2", "-o", p, root! + "/Benchmarks/gc/c/bench.c", "-lgc"]) == 0 else {
                throw GortError("building the boehm variant failed (apt-get install -y libgc-dev, or leave boehm out of --variants)")
            }
            out["boehm"] = p
        }
        if variants.contains("go") {
            guard let go = BenchTools.which("go", preferring: ["/usr/bin/go", "/usr/lib/go/bin/go"]) else {
                throw GortError("go not found: apt-get install -y golang-go, or leave go out of --variants")
            }
            let p = exeDir + "/bench-gc-go"
            let cwd = fm.currentDirectoryPath
            guard fm.changeCurrentDirectoryPath(root! + "/Benchmarks/gc/go") else {
                throw GortError("cannot enter Benchmarks/gc/go")
            }
            let rc = BenchTools.runPassthrough([go, "build", "-o", p, "."])
            _ = fm.changeCurrentDirectoryPath(cwd)
            guard rc == 0 else { throw GortError("go build of Benchmarks/gc/go failed") }
            out["go"] = p
        }
        return out
    }

    /// The required TSV: the usual columns plus the collector's.
    func tsv(_ report: BenchReport) -> String {
        var out = "workload\tvariant\tmedian_s\tcpu_s\tpeak_rss_kib\truns\tgcs\tpause_max_ms\tpause_median_ms\tpause_p99_ms\n"
        for w in report.workloads {
            for v in report.variants {
                guard let r = report.result(w, v) else { continue }
                guard r.isUsable else { out += "\(w)\t\(v)\tNA\tNA\tNA\t\(r.samples.count)\tNA\tNA\tNA\tNA\n"; continue }
                let g = GCRunStats(r)
                out += "\(w)\t\(v)\t\(String(format: "%.4f", r.medianWall!))\t\(String(format: "%.4f", r.medianCPU!))"
                out += "\t\(r.medianRSSKiB!)\t\(r.samples.count)\t\(g.gcsText)\t\(g.ms(g.max))\t\(g.ms(g.median))\t\(g.ms(g.p99))\n"
            }
        }
        return out
    }

    /// GC counts and pauses, one line per workload and variant.
    func gcTable(_ report: BenchReport) -> String {
        var out = "\ncollections (median per run) and stop-the-world pauses (over all runs), ms; heap/live: the largest heap\n"
        out += "at a mark termination over the previous cycle's marked heap (gctrace, cycles after one of 16 MB or more)\n"
        out += "workload".padding(toLength: 18, withPad: " ", startingAt: 0) + "variant".padding(toLength: 8, withPad: " ", startingAt: 0)
        out += ["gcs", "pauses", "max", "median", "p99", "heap/live"].map { $0.leftPad(10) }.joined() + "\n"
        for w in report.workloads {
            for v in report.variants {
                guard let r = report.result(w, v), r.isUsable else { continue }
                let g = GCRunStats(r)
                out += w.padding(toLength: 18, withPad: " ", startingAt: 0) + v.padding(toLength: 8, withPad: " ", startingAt: 0)
                let hl = g.heapOverLive.map { String(format: "%.2f", $0) } ?? ""
                out += [g.gcsText, String(g.pauses.count), g.ms(g.max), g.ms(g.median), g.ms(g.p99), hl].map { $0.leftPad(10) }.joined() + "\n"
            }
        }
        return out
    }
}

/// The collector statistics of one case, parsed from its runs' output.
struct GCRunStats {
    /// GC count of each run (nil for a run whose output had no GC information).
    var gcsPerRun: [Int] = []
    /// Every pause of every run, nanoseconds, sorted.
    var pauses: [Double] = []
    /// The issue's "heap within 2.2x of live", from gctrace's `X->Y->Z MB`: the largest heap at a mark
    /// termination (Y) over the live heap the cycle before marked (its Z, Go's "live heap", which the goal
    /// was made from), over all runs. Only cycles after one that marked 16 MB or more: gctrace prints whole
    /// MB, and small heaps have the minimum goal. nil without such cycles (Boehm, ARC, small workloads).
    var heapOverLive: Double? = nil

    init(_ r: CaseResult) {
        for s in r.samples {
            guard let text = s.output else { continue }
            var count = 0, boehmCount: Int? = nil
            var lastMarked: Double? = nil
            for line in text.split(separator: "\n") {
                if let (a, c) = GCRunStats.gctracePauses(line) {
                    count += 1
                    pauses += [a * 1e6, c * 1e6]
                    if let (_, peak, marked) = GCRunStats.gctraceHeap(line) {
                        if let live = lastMarked, live >= 16 { heapOverLive = Swift.max(heapOverLive ?? 0, peak / live) }
                        lastMarked = marked
                    }
                } else if line.hasPrefix("bench-gc-pause "), let ns = Double(line.dropFirst("bench-gc-pause ".count)) {
                    pauses.append(ns)
                } else if line.hasPrefix("bench-gc-count "), let n = Int(line.dropFirst("bench-gc-count ".count)) {
                    boehmCount = n
                }
            }
            gcsPerRun.append(boehmCount ?? count)
        }
        pauses.sort()
    }

    /// The two stop-the-world pauses (ms) of a Go gctrace line: "gc N @Ts P%: A+B+C ms clock, ...".
    static func gctracePauses(_ line: Substring) -> (Double, Double)? {
        guard line.hasPrefix("gc "), let colon = line.firstIndex(of: ":") else { return nil }
        let rest = line[line.index(after: colon)...].drop(while: { $0 == " " })
        guard let clock = rest.range(of: " ms clock") else { return nil }
        let parts = rest[..<clock.lowerBound].split(separator: "+")
        guard parts.count == 3, let a = Double(parts[0]), let c = Double(parts[2]) else { return nil }
        return (a, c)
    }

    /// The heap sizes (MB) of a gctrace line: "..., X->Y->Z MB, ...".
    static func gctraceHeap(_ line: Substring) -> (Double, Double, Double)? {
        guard let mb = line.range(of: " MB, ") else { return nil }
        let head = line[..<mb.lowerBound]
        guard let space = head.lastIndex(of: " ") else { return nil }
        let parts = head[head.index(after: space)...].components(separatedBy: "->").compactMap(Double.init)
        return parts.count == 3 ? (parts[0], parts[1], parts[2]) : nil
    }

    var gcsText: String { medianOf(gcsPerRun.map(Double.init)).map { String(Int($0.rounded())) } ?? "NA" }
    var max: Double? { pauses.last }
    var median: Double? { medianOf(pauses) }
    var p99: Double? { pauses.isEmpty ? nil : pauses[Swift.min(pauses.count - 1, Int((Double(pauses.count) * 0.99).rounded(.up)) - 1)] }
    func ms(_ ns: Double?) -> String { ns.map { String(format: "%.3f", $0 / 1e6) } ?? "NA" }
}

/// The global `median` (shadowed inside GCRunStats by its property).
private func medianOf(_ values: [Double]) -> Double? { median(values) }

private extension String {
    func leftPad(_ n: Int) -> String { String(repeating: " ", count: Swift.max(0, n - count)) + self }
}
