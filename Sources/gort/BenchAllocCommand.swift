// `gort bench alloc`: every allocator workload under glibc, jemalloc, tcmalloc, mimalloc and libGoMalloc.so,
// interleaved, as medians with ratios to mimalloc (see docs/alloc-benchmarks.md).
//
// The workloads live in Benchmarks/alloc/ (found from the current directory or from this executable):
// C programs compiled here with `gcc -O2 -pthread` and cached by content hash in <build dir>/bench-alloc/,
// the Swift program `bench-swift-alloc` built next to gort, and real programs (python3, sqlite3, gcc).
// Each allocator is the same binary with LD_PRELOAD set (glibc: LD_PRELOAD removed). Missing Debian
// allocators are installed with apt-get when running as root; otherwise they are skipped with a note.
import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct BenchAllocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alloc",
        abstract: "Run the allocator workloads under glibc, jemalloc, tcmalloc, mimalloc and libGoMalloc.so.",
        discussion: """
        Runs interleave in rounds: each round runs every workload under every variant once (A B C D E for \
        each workload, rotated by one each round: B C D E A next), --runs rounds in all. Reports the median wall time, CPU time and peak RSS of each, \
        with ratios to the baseline (mimalloc). See docs/alloc-benchmarks.md.
        """
    )

    @Option(help: "Runs of each workload under each allocator (median reported).")
    var runs: Int = 5

    @Option(help: "Comma-separated workloads to run (default: all; see --list).")
    var workloads: String?

    @Option(help: "Comma-separated allocators: \(AllocVariant.all.map(\.name).joined(separator: ",")).")
    var variants: String = AllocVariant.all.map(\.name).joined(separator: ",")

    @Option(help: "Variant the ratios are relative to.")
    var baseline: String = "mimalloc"

    @Option(help: "Output format: table or tsv.")
    var format: OutputFormat = .table

    @Option(help: "Also write an SVG chart of the ratios to this file.")
    var chart: String?

    @Option(help: "Kill a run (and mark it failed) after this many seconds.")
    var timeout: Double = 300

    @Flag(help: "List the workloads and exit.")
    var list = false

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, tsv
    }

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard AllocVariant.all.contains(where: { $0.name == baseline }) else {
            throw ValidationError("--baseline must be one of \(AllocVariant.all.map(\.name).joined(separator: ", "))")
        }
        _ = try pick(workloads, from: AllocWorkload.all, kind: "workload")
        _ = try pick(variants, from: AllocVariant.all, kind: "allocator")
    }

    func run() throws {
        if list {
            let width = AllocWorkload.all.map(\.name.count).max()! + 2
            for w in AllocWorkload.all {
                print(w.name.padding(toLength: width, withPad: " ", startingAt: 0) + w.summary)
            }
            return
        }
        let chosenWorkloads = try pick(workloads, from: AllocWorkload.all, kind: "workload")
        let chosenVariants = try pick(variants, from: AllocVariant.all, kind: "allocator")
        let note: (String) -> Void = { FileHandle.standardError.write(("gort bench alloc: " + $0 + "\n").data(using: .utf8)!) }

        guard let root = BenchTools.packageRoot(containing: "Benchmarks/alloc/c/common.h") else {
            throw GortError("cannot find Benchmarks/alloc: run gort from inside the swift-go-runtime checkout")
        }
        let exeDir = BenchTools.executableDirectory()
        let cacheDir = try writableCacheDirectory(exeDir: exeDir, root: root)
        let env = SuiteEnvironment(root: root, executableDirectory: exeDir, cacheDirectory: cacheDir)

        let variantsToRun = try resolveVariants(chosenVariants, env: env, note: note)
        guard !variantsToRun.isEmpty else { throw GortError("no allocator left to run") }

        var cases: [BenchCase] = []
        for workload in chosenWorkloads {
            let argv: [String]
            do {
                argv = try workload.command(env, note)
            } catch let skip as SkipWorkload {
                note("skipping \(workload.name): \(skip.reason)")
                continue
            }
            for (variant, library) in variantsToRun {
                var c = BenchCase(workload: workload.name, variant: variant.name, argv: argv,
                                  removedEnvironment: ["LD_PRELOAD"])
                if let library { c.environment["LD_PRELOAD"] = library }
                cases.append(c)
            }
        }
        guard !cases.isEmpty else { throw GortError("no workload left to run") }

        let plan = BenchPlan(cases: cases, runs: runs, timeoutSeconds: timeout, logDirectory: cacheDir + "/logs",
                             helper: try ProcessTimer.helperPath(in: cacheDir))
        try FileManager.default.createDirectory(atPath: plan.logDirectory, withIntermediateDirectories: true)
        note("\(plan.workloads.count) workloads x \(plan.variants.count) allocators x \(runs) runs, interleaved")
        let results = plan.execute(progress: note)

        let report = BenchReport(title: "gort bench alloc", results: results, runs: runs, baseline: baseline,
                                 palette: AllocVariant.palette)
        if !report.hasBaseline { note("baseline \(baseline) did not run; showing absolute values only") }
        switch format {
        case .table:
            print(report.table(), terminator: "")
            if let scaling = threadScaling(report) { print("\n" + scaling) }
        case .tsv: print(report.tsv(), terminator: "")
        }
        if let chart {
            do {
                try report.svg().write(toFile: chart, atomically: true, encoding: .utf8)
            } catch {
                throw GortError("cannot write chart \(chart): \(error.localizedDescription)")
            }
            note("chart written to \(chart)")
        }
    }

    /// The issue's scaling bar: threads-2 (two threads, same work each) over threads-1 wall time, per
    /// allocator; 1.00x is perfect scaling on two idle cores.
    private func threadScaling(_ report: BenchReport) -> String? {
        let cells = report.variants.compactMap { v -> String? in
            guard let one = report.result("threads-1", v), one.isUsable, let t1 = one.medianWall,
                  let two = report.result("threads-2", v), two.isUsable, let t2 = two.medianWall else { return nil }
            return "\(v) \(String(format: "%.2f", t2 / t1))x"
        }
        guard !cells.isEmpty else { return nil }
        return "thread scaling (threads-2 / threads-1 wall time, 1.00x = perfect): " + cells.joined(separator: ", ")
    }

    /// Resolves a comma-separated selection against a named list, keeping the list's order. A bad name is a
    /// usage error (exit 64).
    private func pick<T: Named>(_ selection: String?, from all: [T], kind: String) throws -> [T] {
        guard let selection else { return all }
        let names = selection.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for n in names where !all.contains(where: { $0.name == n }) {
            throw ValidationError("unknown \(kind) '\(n)' (choose from: \(all.map(\.name).joined(separator: ", ")))")
        }
        guard !names.isEmpty else { throw ValidationError("empty \(kind) list") }
        return all.filter { names.contains($0.name) }
    }

    /// `<build dir>/bench-alloc`, or `<root>/.build/bench-alloc` if the build directory is not writable.
    private func writableCacheDirectory(exeDir: String, root: String) throws -> String {
        for dir in [exeDir + "/bench-alloc", root + "/.build/bench-alloc"] {
            if (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil,
               access(dir, W_OK) == 0 { return dir }
        }
        throw GortError("cannot create a cache directory in \(exeDir) or \(root)/.build")
    }

    /// Each requested variant with its LD_PRELOAD library (nil for glibc). Installs missing Debian allocators
    /// when it can; skips (with a note) those still missing; gomalloc missing is an error.
    private func resolveVariants(_ chosen: [AllocVariant], env: SuiteEnvironment,
                                 note: (String) -> Void) throws -> [(AllocVariant, String?)] {
        let missing = chosen.filter { v in v.debianPackage != nil && !FileManager.default.fileExists(atPath: v.library(env)!) }
        if !missing.isEmpty, !BenchTools.aptInstall(missing.compactMap(\.debianPackage), log: note) {
            note("could not install \(missing.compactMap(\.debianPackage).joined(separator: " ")) "
                + "(run: apt-get install -y \(missing.compactMap(\.debianPackage).joined(separator: " ")))")
        }
        var out: [(AllocVariant, String?)] = []
        for v in chosen {
            guard let lib = v.library(env) else {
                out.append((v, nil))
                continue
            }
            if FileManager.default.fileExists(atPath: lib) {
                out.append((v, lib))
            } else if v.name == "gomalloc" {
                throw GortError("libGoMalloc.so not found next to gort (\(env.executableDirectory)): build it with "
                    + "`swift build -c release`, or leave gomalloc out of --variants")
            } else {
                note("skipping \(v.name): \(lib) is missing (Debian package \(v.debianPackage!))")
            }
        }
        return out
    }
}

// MARK: - Allocators

protocol Named { var name: String { get } }

/// One allocator the workloads run under.
struct AllocVariant: Named {
    var name: String
    /// The shared object for LD_PRELOAD: nil means glibc's own malloc.
    var library: (SuiteEnvironment) -> String?
    /// Debian package providing it, if any.
    var debianPackage: String?

    #if arch(arm64)
    static let libDir = "/usr/lib/aarch64-linux-gnu"
    #else
    static let libDir = "/usr/lib/x86_64-linux-gnu"
    #endif

    /// Chart colours (gomalloc in Go's blue).
    static let palette = ["glibc": "#7f7f7f", "jemalloc": "#f28e2b", "tcmalloc": "#59a14f", "mimalloc": "#b07aa1",
                          "gomalloc": "#00add8"]

    static let all: [AllocVariant] = [
        AllocVariant(name: "glibc", library: { _ in nil }, debianPackage: nil),
        AllocVariant(name: "jemalloc", library: { _ in libDir + "/libjemalloc.so.2" }, debianPackage: "libjemalloc2"),
        AllocVariant(name: "tcmalloc", library: { _ in libDir + "/libtcmalloc_minimal.so.4" },
                     debianPackage: "libtcmalloc-minimal4"),
        AllocVariant(name: "mimalloc", library: { _ in libDir + "/libmimalloc.so.2" }, debianPackage: "libmimalloc2.0"),
        AllocVariant(name: "gomalloc", library: { $0.executableDirectory + "/libGoMalloc.so" }, debianPackage: nil),
    ]
}

// MARK: - Workloads

/// Paths the workloads are built from and into.
struct SuiteEnvironment {
    var root: String
    var executableDirectory: String
    var cacheDirectory: String
    var benchDir: String { root + "/Benchmarks/alloc" }
}

/// A workload that cannot run here (a tool is missing); the suite goes on without it.
struct SkipWorkload: Error {
    var reason: String
}

/// One workload: a name, what it models, and how to get its command line.
struct AllocWorkload: Named {
    var name: String
    var summary: String
    /// The argv (argv[0] absolute) to time; compiles or locates what it needs first.
    var command: (SuiteEnvironment, (String) -> Void) throws -> [String]

    /// A C workload from Benchmarks/alloc/c/<source>.c, compiled once per content hash.
    static func c(_ name: String, _ source: String, _ args: [String], _ summary: String) -> AllocWorkload {
        AllocWorkload(name: name, summary: summary) { env, note in
            [try compileC(source, env, note)] + args
        }
    }

    static let all: [AllocWorkload] = [
        .c("sizeclass", "sizeclass", [], "single-thread malloc/free pairs, 120k per Go size class (8 B-32 KiB)"),
        .c("batch", "batch", [], "20k allocations then 20k frees (FIFO, LIFO, shuffled), 16 B-4 KiB"),
        .c("churn", "churn", [], "random sizes and lifetimes, most die young (compiler/interpreter churn)"),
        .c("prodcons", "prodcons", [], "producer/consumer threads freeing each other's blocks"),
        .c("threads-1", "threads", ["1"], "1 thread with a private working set (scaling baseline)"),
        .c("threads-2", "threads", ["2"], "2 threads, same work each, private working sets (scaling)"),
        .c("server", "server", [], "acceptor hands requests to 2 workers; long-lived cache replaced slowly"),
        .c("realloc", "realloc", [], "64 buffers grown by realloc in 1-256 B steps up to 256 KiB"),
        .c("large", "large", [], "blocks of 64 KiB-64 MiB, every page touched"),
        .c("falseshare", "falseshare", [], "8-byte blocks from 2 threads written hard (active + passive)"),
        AllocWorkload(name: "swift", summary: "Swift concurrency: short tasks, closures, class instances, arrays") { env, _ in
            let exe = env.executableDirectory + "/bench-swift-alloc"
            guard FileManager.default.isExecutableFile(atPath: exe) else {
                throw SkipWorkload(reason: "\(exe) not built (swift build -c release builds it)")
            }
            return [exe]
        },
        AllocWorkload(name: "python-json", summary: "python3: json.dumps/loads of 4k records, 5 rounds") { env, _ in
            guard let py = BenchTools.which("python3", preferring: ["/usr/bin/python3"]) else {
                throw SkipWorkload(reason: "python3 not found")
            }
            return [py, env.benchDir + "/python/json_workload.py"]
        },
        AllocWorkload(name: "sqlite-insert", summary: "sqlite3 CLI: 100k-row bulk insert with 2 indexes, in memory") { env, note in
            var sqlite = BenchTools.which("sqlite3")
            if sqlite == nil, BenchTools.aptInstall(["sqlite3"], log: note) { sqlite = BenchTools.which("sqlite3") }
            guard let sqlite else { throw SkipWorkload(reason: "sqlite3 not found (apt-get install -y sqlite3)") }
            return [sqlite, "-bail", ":memory:", ".read '\(env.benchDir)/sqlite/bulk_insert.sql'"]
        },
        AllocWorkload(name: "gcc", summary: "gcc -O2 -c of a 2,000-line generated C file (cc1's allocations)") { env, _ in
            guard let gcc = BenchTools.which("gcc") else { throw SkipWorkload(reason: "gcc not found") }
            return [gcc, "-O2", "-c", env.benchDir + "/gcc/unit.c", "-o", env.cacheDirectory + "/unit.o"]
        },
    ]

    /// Compiles Benchmarks/alloc/c/<source>.c with gcc -O2 -pthread into the cache, keyed by the hash of the
    /// source, the shared headers and the flags, so an edit rebuilds and nothing else does.
    static func compileC(_ source: String, _ env: SuiteEnvironment, _ note: (String) -> Void) throws -> String {
        guard let gcc = BenchTools.which("gcc") else { throw GortError("gcc not found: the C workloads need it (apt-get install -y gcc)") }
        let dir = env.benchDir + "/c"
        let flags = ["-O2", "-pthread"]
        guard let text = try? String(contentsOfFile: "\(dir)/\(source).c", encoding: .utf8) else {
            throw GortError("cannot read \(dir)/\(source).c")
        }
        let headers = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".h") }.sorted()
        let headerText = headers.map { (try? String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8)) ?? "" }
        let key = BenchTools.fingerprint([text] + headerText + flags)
        let out = "\(env.cacheDirectory)/\(source)-\(key)"
        if FileManager.default.isExecutableFile(atPath: out) { return out }
        note("compiling \(source).c")
        let tmp = out + ".tmp"
        guard BenchTools.runPassthrough([gcc] + flags + ["-o", tmp, "\(dir)/\(source).c"]) == 0,
              rename(tmp, out) == 0 else {
            throw GortError("gcc failed on \(dir)/\(source).c")
        }
        return out
    }
}
