// Side-by-side benchmark machinery shared by `gort bench alloc|sched|gc`.
//
// A suite is a list of `BenchCase`s: (workload, variant, argv, environment). `BenchPlan.execute` runs them
// interleaved in rounds: round 1 runs every workload under every variant once (workload 1: A B C D E, then
// workload 2: A B C D E, ...), then round 2 does the same with the variants rotated by one (B C D E A), and so
// on. So slow drift of the machine (thermal state, other load, page cache) spreads over all variants instead of
// landing on one, and over all workloads too, which ratios between workloads need: `threads-2` against
// `threads-1` (thread scaling) measured minutes apart mostly measured the machine (one run of the old
// workload-by-workload order had threads-2 faster). The rotation cancels what a run's position in its group
// does to it: a fixed order had actor-ping-pong under GoSched 1.05-1.15x the default executor's time, which
// runs first, against 1.02x when the suite ran that workload alone (docs/sched-benchmarks.md, session 8).
// Each run is a child process reaped with wait4, which gives its wall time (CLOCK_MONOTONIC around
// fork..exit), its CPU time (user+sys, reaped children included) and its peak RSS (ru_maxrss, the largest of
// the process and its reaped descendants). The child is started through a
// tiny C helper so that its peak RSS is its own and not gort's (see `ProcessTimer`). `BenchReport` takes
// medians over the runs and prints them as a table with ratios to a baseline variant, as TSV for scripts,
// or as an SVG bar chart.
//
// A run that exits non-zero, dies on a signal or exceeds the timeout marks its case failed: the case is not
// run again, its cells print as FAILED (NA in TSV) with the reason and the tail of its output, and the
// rest of the suite goes on.
import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One thing to time: a workload run under one variant (an allocator, a scheduler, a GC setting).
struct BenchCase {
    var workload: String
    var variant: String
    /// argv[0] must be an absolute path (use `BenchTools.which` to resolve a command name).
    var argv: [String]
    /// Added to the inherited environment, replacing variables of the same name.
    var environment: [String: String] = [:]
    /// Removed from the inherited environment (for example LD_PRELOAD, so a baseline is really the baseline).
    var removedEnvironment: Set<String> = []
    /// Keep each run's output (stdout+stderr) in its RunSample, for suites that parse it (gort bench gc).
    var captureOutput = false
}

/// What one run of a case measured.
struct RunSample {
    var wallSeconds: Double
    var cpuSeconds: Double
    var peakRSSKiB: Int
    /// The run's stdout+stderr, when its case asked for it (`captureOutput`).
    var output: String? = nil
}

/// The runs of one case and, if it broke, why.
struct CaseResult {
    var benchCase: BenchCase
    var samples: [RunSample] = []
    var failure: String?

    var medianWall: Double? { median(samples.map(\.wallSeconds)) }
    var medianCPU: Double? { median(samples.map(\.cpuSeconds)) }
    var medianRSSKiB: Int? { median(samples.map { Double($0.peakRSSKiB) }).map { Int($0.rounded()) } }
    /// Usable in the report: at least one run and no failure.
    var isUsable: Bool { failure == nil && !samples.isEmpty }
}

/// Median of a list (mean of the middle two for an even count); nil for an empty list.
func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let s = values.sorted()
    let m = s.count / 2
    return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

/// Geometric mean of positive values; nil for an empty list.
func geometricMean(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    return exp(values.map { log($0) }.reduce(0, +) / Double(values.count))
}

// MARK: - Running

/// A suite ready to run.
struct BenchPlan {
    var cases: [BenchCase]
    /// Repetitions of each case (interleaved across variants).
    var runs: Int
    /// A run taking longer than this is killed and its case marked failed.
    var timeoutSeconds: Double = 600
    /// Where each case's stdout+stderr of its latest run is kept (`<workload>.<variant>.log`).
    var logDirectory: String
    /// The measuring helper (`ProcessTimer.helperPath(in:)`); nil builds it into `logDirectory` on first use.
    var helper: String? = nil

    /// Workloads in first-appearance order.
    var workloads: [String] { orderedUnique(cases.map(\.workload)) }
    /// Variants in first-appearance order.
    var variants: [String] { orderedUnique(cases.map(\.variant)) }

    /// Runs everything; `progress` receives one human-readable line per finished workload (for stderr).
    func execute(progress: (String) -> Void) -> [CaseResult] {
        var results = cases.map { CaseResult(benchCase: $0) }
        let helper: String
        do {
            helper = try self.helper ?? ProcessTimer.helperPath(in: logDirectory)
        } catch {
            for i in results.indices { results[i].failure = "cannot build the measuring helper: \(error)" }
            progress("cannot build the measuring helper: \(error)")
            return results
        }
        let workloadList = workloads
        let byWorkload = workloadList.map { w in results.indices.filter { results[$0].benchCase.workload == w } }
        loadWarning(progress)
        for round in 0..<runs {
            let start = clockSeconds()
            for indices in byWorkload {
                // Rotated: round r starts with the workload's variant r (mod the count), so each variant runs
                // first, second, ... equally often over a multiple of the variant count.
                let rotated = indices.indices.map { indices[($0 + round) % indices.count] }
                for i in rotated where results[i].failure == nil {
                    switch ProcessTimer.run(results[i].benchCase, helper: helper, timeoutSeconds: timeoutSeconds,
                                            logPath: logPath(results[i].benchCase)) {
                    case .success(let sample): results[i].samples.append(sample)
                    case .failure(let error): results[i].failure = error.description
                    }
                }
            }
            progress("round \(round + 1)/\(runs) done in \(formatSeconds(clockSeconds() - start))s")
        }
        for (wi, workload) in workloadList.enumerated() {
            let indices = byWorkload[wi]
            let cells = indices.map { i -> String in
                let r = results[i]
                if let f = r.failure { return "\(r.benchCase.variant) FAILED (\(f))" }
                return "\(r.benchCase.variant) \(formatSeconds(r.medianWall ?? 0))s"
            }
            progress("[\(wi + 1)/\(workloadList.count)] \(workload): " + cells.joined(separator: ", "))
        }
        return results
    }

    /// Warns when other processes compete for the CPUs before we start (1-minute load average above the CPU
    /// count; our own runs would raise it later, so only the start is checked): wall times, and thread scaling
    /// most of all, are then unreliable; ratios from interleaved runs less so.
    func loadWarning(_ progress: (String) -> Void) {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let load = text.split(separator: " ").first.flatMap({ Double($0) }) else { return }
        let cpus = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if load > Double(cpus) {
            progress("warning: load average \(String(format: "%.2f", load)) on \(cpus) CPUs before the first run: other "
                     + "processes compete; wall times, and thread scaling most, are unreliable")
        }
    }

    func logPath(_ c: BenchCase) -> String {
        let safe = { (s: String) in String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }) }
        return "\(logDirectory)/\(safe(c.workload)).\(safe(c.variant)).log"
    }
}

/// A run that did not produce a measurement.
struct RunFailure: Error, CustomStringConvertible {
    var description: String
}

/// Spawns one case and measures it.
///
/// Why a helper process: Linux charges a process's peak RSS (ru_maxrss) with the RSS of the address space
/// it replaced at exec. posix_spawn (vfork) from gort would give every workload gort's own ~20 MiB as a
/// floor, and fork() copies the counters too. So gort starts `bench-measure`, a tiny C helper, which forks
/// the workload from its own small address space, reaps it with wait4 and reports the status, wall time,
/// user+sys time and ru_maxrss on fd 3. The floor becomes the helper's ~1 MiB.
enum ProcessTimer {
    static func run(_ c: BenchCase, helper: String, timeoutSeconds: Double, logPath: String) -> Result<RunSample, RunFailure> {
        precondition(!c.argv.isEmpty && c.argv[0].hasPrefix("/"), "BenchCase argv[0] must be an absolute path")
        var env = ProcessInfo.processInfo.environment
        for k in c.removedEnvironment { env[k] = nil }
        for (k, v) in c.environment { env[k] = v }
        // The helper itself must not run under the allocator being measured: it re-installs LD_PRELOAD in
        // the child only.
        if let preload = env.removeValue(forKey: "LD_PRELOAD") { env["GORT_BENCH_LD_PRELOAD"] = preload }

        var cArgv = ([helper, "3"] + c.argv).map { strdup($0) } + [nil]
        var cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return .failure(RunFailure(description: "pipe: \(String(cString: strerror(errno)))")) }
        // Close-on-exec: the helper gets the write end only as its fd 3 (dup2 clears the flag there).
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own process group, so a timeout can kill the whole tree (helper -> gcc -> cc1 -> as).
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, helper, &actions, &attr, &cArgv, &cEnv)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            return .failure(RunFailure(description: "cannot start \(helper): \(String(cString: strerror(rc)))"))
        }

        // Watchdog: kills the group if the run outlives the timeout. It only kills while the helper is
        // unreaped (we reap it below, after `exited` is set), so the group id cannot have been reused.
        let watch = Watch()
        let watchdog = DispatchWorkItem { [pid] in
            watch.lock.lock()
            if !watch.exited {
                watch.timedOut = true
                kill(-pid, SIGKILL)
            }
            watch.lock.unlock()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: watchdog)

        // The helper writes one line and exits; EOF means it is gone (or was killed).
        var report = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 256)
        while true {
            let n = read(fds[0], &buf, buf.count)
            if n > 0 { report += buf[0..<n] } else if n == 0 || errno != EINTR { break }
        }
        close(fds[0])
        watch.lock.lock()
        watch.exited = true
        let timedOut = watch.timedOut
        watch.lock.unlock()
        watchdog.cancel()
        var helperStatus: Int32 = 0
        while waitpid(pid, &helperStatus, 0) < 0 && errno == EINTR {}

        if timedOut { return .failure(RunFailure(description: "timed out after \(Int(timeoutSeconds)) s" + tail(logPath))) }
        // "<wait status> <wall ns> <user+sys us> <maxrss KiB>"
        let fields = String(decoding: report, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 4, let status = Int32(fields[0]), let wallNs = Int64(fields[1]),
              let cpuUs = Int64(fields[2]), let maxrss = Int(fields[3]) else {
            return .failure(RunFailure(description: "no measurement from \(helper)" + tail(logPath)))
        }
        let termSignal = status & 0x7f
        let exitCode = (status >> 8) & 0xff
        if termSignal != 0 {
            let name = strsignal(termSignal).map { String(cString: $0) } ?? "signal \(termSignal)"
            return .failure(RunFailure(description: "killed by \(name)" + tail(logPath)))
        }
        if exitCode != 0 { return .failure(RunFailure(description: "exit status \(exitCode)" + tail(logPath))) }
        var sample = RunSample(wallSeconds: Double(wallNs) / 1e9, cpuSeconds: Double(cpuUs) / 1e6, peakRSSKiB: maxrss)
        if c.captureOutput { sample.output = try? String(contentsOfFile: logPath, encoding: .utf8) }
        return .success(sample)
    }

    /// Shared between the waiting thread and the watchdog; both fields are guarded by `lock`.
    private final class Watch: @unchecked Sendable {
        let lock = NSLock()
        var exited = false
        var timedOut = false
    }

    /// The last non-empty line of a run's output, for failure messages.
    static func tail(_ path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let last = text.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        else { return "" }
        return ": " + String(last.prefix(160)) + " [log: \(path)]"
    }

    /// The measuring helper's C source (compiled once into the suite's cache directory by `helperPath`).
    static let helperSource = #"""
    // bench-measure: run PROGRAM in a fresh small process; print "<wait status> <wall ns> <user+sys us>
    // <maxrss KiB>" on RESULT_FD. Written by gort (Sources/gort/BenchSupport.swift); do not edit.
    #define _GNU_SOURCE
    #include <errno.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/resource.h>
    #include <sys/wait.h>
    #include <time.h>
    #include <unistd.h>

    int main(int argc, char **argv) {
        if (argc < 3) { fputs("usage: bench-measure RESULT_FD PROGRAM [ARG...]\n", stderr); return 2; }
        int fd = atoi(argv[1]);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid_t pid = fork();
        if (pid < 0) { perror("bench-measure: fork"); return 2; }
        if (pid == 0) {
            const char *preload = getenv("GORT_BENCH_LD_PRELOAD");
            close(fd);
            if (preload) setenv("LD_PRELOAD", preload, 1);
            unsetenv("GORT_BENCH_LD_PRELOAD");
            execv(argv[2], argv + 2);
            fprintf(stderr, "bench-measure: cannot run %s: %s\n", argv[2], strerror(errno));
            _exit(127);
        }
        int status;
        struct rusage ru;
        while (wait4(pid, &status, 0, &ru) < 0)
            if (errno != EINTR) { perror("bench-measure: wait4"); return 2; }
        clock_gettime(CLOCK_MONOTONIC, &b);
        long long ns = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
        long long us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL
                       + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
        dprintf(fd, "%d %lld %lld %ld\n", status, ns, us, ru.ru_maxrss);
        return 0;
    }
    """#

    /// Path of the compiled helper in `directory`, compiling it (cc -O2) when missing or out of date.
    static func helperPath(in directory: String) throws -> String {
        let path = "\(directory)/bench-measure-\(BenchTools.fingerprint([helperSource]))"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        guard let cc = BenchTools.which("cc") ?? BenchTools.which("gcc") ?? BenchTools.which("clang") else {
            throw GortError("no C compiler (cc) found: gort bench needs one to build its measuring helper")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let source = path + ".c"
        try helperSource.write(toFile: source, atomically: true, encoding: .utf8)
        guard BenchTools.runPassthrough([cc, "-O2", "-o", path + ".tmp", source]) == 0, rename(path + ".tmp", path) == 0 else {
            throw GortError("\(cc) failed to build \(source)")
        }
        return path
    }
}

func orderedUnique(_ xs: [String]) -> [String] {
    var seen = Set<String>()
    return xs.filter { seen.insert($0).inserted }
}

/// A comma-separated `--workloads` or `--variants` value, in the order given, repeats dropped (nil: all).
/// A name not in `all`, or an empty list, is a usage error (exit 64) naming the valid choices.
func benchSelection(_ value: String?, from all: [String], option: String) throws -> [String] {
    guard let value else { return all }
    let names = orderedUnique(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    let choices = "choose from: \(all.joined(separator: ", "))"
    for n in names where !all.contains(n) { throw ValidationError("\(option): unknown '\(n)' (\(choices))") }
    guard !names.isEmpty else { throw ValidationError("\(option) is empty (\(choices))") }
    return names
}

/// `--list`: one line per workload, its name and what it does.
func printBenchList(_ workloads: [(name: String, summary: String)]) {
    let width = workloads.map(\.name.count).max()! + 2
    for w in workloads { print(w.name.padding(toLength: width, withPad: " ", startingAt: 0) + w.summary) }
}

/// CLOCK_MONOTONIC in seconds.
func clockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func formatSeconds(_ s: Double) -> String { String(format: s < 10 ? "%.3f" : "%.2f", s) }

// MARK: - Reporting

/// Medians of a finished suite, as a table, TSV or SVG.
struct BenchReport {
    var title: String
    var results: [CaseResult]
    var runs: Int
    /// Ratios are to this variant. If it is not in the results, ratios are omitted.
    var baseline: String
    /// Fixed chart colours by variant name, so a variant keeps its colour whatever else runs.
    var palette: [String: String] = [:]

    var workloads: [String] { orderedUnique(results.map(\.benchCase.workload)) }
    var variants: [String] { orderedUnique(results.map(\.benchCase.variant)) }
    var hasBaseline: Bool { variants.contains(baseline) }

    func result(_ workload: String, _ variant: String) -> CaseResult? {
        results.first { $0.benchCase.workload == workload && $0.benchCase.variant == variant }
    }

    /// Ratio of a metric to the baseline's for one workload, if both ran.
    func ratio(_ workload: String, _ variant: String, _ metric: (CaseResult) -> Double?) -> Double? {
        guard let r = result(workload, variant), r.isUsable, let v = metric(r),
              let b = result(workload, baseline), b.isUsable, let bv = metric(b), bv > 0 else { return nil }
        return v / bv
    }

    /// Geometric mean of a variant's ratios over the workloads where it and the baseline both ran.
    func geomeanRatio(_ variant: String, _ metric: (CaseResult) -> Double?) -> Double? {
        geometricMean(workloads.compactMap { ratio($0, variant, metric) })
    }

    static let wall: (CaseResult) -> Double? = { $0.medianWall }
    static let cpu: (CaseResult) -> Double? = { $0.medianCPU }
    static let rss: (CaseResult) -> Double? = { $0.medianRSSKiB.map(Double.init) }

    /// `workload variant median_s cpu_s peak_rss_kib runs`, one row per case; failed cases print NA.
    func tsv() -> String {
        var out = "workload\tvariant\tmedian_s\tcpu_s\tpeak_rss_kib\truns\n"
        for w in workloads {
            for v in variants {
                guard let r = result(w, v) else { continue }
                if r.isUsable {
                    out += "\(w)\t\(v)\t\(String(format: "%.4f", r.medianWall!))\t\(String(format: "%.4f", r.medianCPU!))"
                    out += "\t\(r.medianRSSKiB!)\t\(r.samples.count)\n"
                } else {
                    out += "\(w)\t\(v)\tNA\tNA\tNA\t\(r.samples.count)\n"
                }
            }
        }
        return out
    }

    /// Three sections (wall time, CPU time, peak RSS), each a workload x variant grid of medians with ratios
    /// to the baseline and a geometric-mean row; failures listed at the end.
    func table() -> String {
        let ratioNote = hasBaseline ? " (ratio to \(baseline))" : ""
        var out = "\(title)\nmedian of \(runs) interleaved run\(runs == 1 ? "" : "s") per cell\(ratioNote)\n"
        out += section("wall time, s", Self.wall) { formatSeconds($0) }
        out += section("CPU time (user+sys), s", Self.cpu) { formatSeconds($0) }
        out += section("peak RSS, MiB", Self.rss) { String(format: $0 < 100 * 1024 ? "%.1f" : "%.0f", $0 / 1024) }
        let failures = results.filter { $0.failure != nil }
        if !failures.isEmpty {
            out += "\nfailed:\n"
            for f in failures { out += "  \(f.benchCase.workload) / \(f.benchCase.variant): \(f.failure!)\n" }
        }
        return out
    }

    private func section(_ heading: String, _ metric: (CaseResult) -> Double?, _ fmt: (Double) -> String) -> String {
        let nameWidth = max(8, workloads.map(\.count).max() ?? 0) + 2
        var cells: [[String]] = workloads.map { w in
            variants.map { v in
                guard let r = result(w, v) else { return "-" }
                guard r.isUsable, let value = metric(r) else { return "FAILED" }
                guard let q = ratio(w, v, metric) else { return fmt(value) }
                return "\(fmt(value)) (\(String(format: "%.2f", q))x)"
            }
        }
        if hasBaseline {
            cells.append(variants.map { v in geomeanRatio(v, metric).map { String(format: "%.2fx", $0) } ?? "-" })
        }
        let colWidth = max(14, (cells.flatMap { $0 } + variants).map(\.count).max() ?? 0) + 2
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, n - s.count))
            return left ? fill + s : s + fill
        }
        var out = "\n\(heading)\n" + pad("workload", nameWidth) + variants.map { pad($0, colWidth, left: true) }.joined() + "\n"
        let rowNames = workloads + (hasBaseline ? ["geomean"] : [])
        for (name, row) in zip(rowNames, cells) {
            out += pad(name, nameWidth) + row.map { pad($0, colWidth, left: true) }.joined() + "\n"
        }
        return out
    }

    /// A grouped bar chart: one panel for time, one for peak RSS, each bar a ratio to the baseline on a
    /// log2 axis (1.0 = baseline; lower is better). Without a baseline in the results, ratios are to the
    /// fastest/smallest variant of each workload.
    func svg() -> String {
        let panels: [(String, (CaseResult) -> Double?)] = [
            ("wall time", Self.wall), ("peak RSS", Self.rss),
        ]
        let colors = ["#4e79a7", "#f28e2b", "#59a14f", "#9c755f", "#e15759", "#b07aa1", "#76b7b2", "#edc948"]
        let barW = 12.0, groupGap = 18.0, left = 64.0, right = 20.0, panelH = 260.0, top = 70.0, labelH = 90.0
        let groupW = Double(variants.count) * barW + groupGap
        let width = left + right + max(Double(workloads.count) * groupW, 560)
        let height = top + Double(panels.count) * (panelH + labelH) + 20
        func color(_ variant: String, _ index: Int) -> String { palette[variant] ?? colors[index % colors.count] }
        let (lo, hi) = (0.125, 16.0)  // axis range; bars beyond are clipped and marked
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        var o = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        font-family="Helvetica, Arial, sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="22" font-size="15" font-weight="bold">\(esc(title))</text>
        <text x="\(left)" y="40">ratio to \(esc(hasBaseline ? baseline : "the best variant")) (log scale, \
        lower is better); median of \(runs) interleaved runs; hover a bar for values</text>

        """
        // Legend.
        for (i, v) in variants.enumerated() {
            let x = left + Double(i) * 95
            o += "<rect x=\"\(x)\" y=\"50\" width=\"10\" height=\"10\" fill=\"\(color(v, i))\"/>"
            o += "<text x=\"\(x + 14)\" y=\"59\">\(esc(v))</text>\n"
        }
        for (p, (name, metric)) in panels.enumerated() {
            let y0 = top + Double(p) * (panelH + labelH) + 10
            func y(_ r: Double) -> Double { y0 + panelH * (1 - (log2(min(max(r, lo), hi)) - log2(lo)) / (log2(hi) - log2(lo))) }
            o += "<text x=\"\(left)\" y=\"\(y0 - 2)\" font-weight=\"bold\">\(esc(name))</text>\n"
            var tick = lo
            while tick <= hi {
                let ty = y(tick)
                let label = tick < 1 ? "1/\(Int(1 / tick))" : "\(Int(tick))x"
                o += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(ty)\" y2=\"\(ty)\" stroke=\"\(tick == 1 ? "#333" : "#ddd")\"/>"
                o += "<text x=\"\(left - 6)\" y=\"\(ty + 4)\" text-anchor=\"end\">\(label)</text>\n"
                tick *= 2
            }
            for (wi, w) in workloads.enumerated() {
                let gx = left + Double(wi) * groupW + groupGap / 2
                let best = variants.compactMap { v in result(w, v).flatMap { $0.isUsable ? metric($0) : nil } }.min()
                for (vi, v) in variants.enumerated() {
                    let x = gx + Double(vi) * barW
                    guard let r = result(w, v) else { continue }
                    guard r.isUsable, let value = metric(r) else {
                        o += "<text x=\"\(x + barW / 2)\" y=\"\(y(1) - 3)\" text-anchor=\"middle\" fill=\"#c00\" font-weight=\"bold\">×<title>\(esc("\(w) / \(v): failed"))</title></text>\n"
                        continue
                    }
                    let q = hasBaseline ? ratio(w, v, metric) : best.map { value / $0 }
                    guard let q else { continue }
                    let (ya, yb) = (min(y(q), y(1)), max(y(q), y(1)))
                    let shown = name == "peak RSS" ? String(format: "%.1f MiB", value / 1024) : String(format: "%.3f s", value)
                    o += "<rect x=\"\(x)\" y=\"\(ya)\" width=\"\(barW - 2)\" height=\"\(max(yb - ya, 1))\" fill=\"\(color(v, vi))\">"
                    o += "<title>\(esc("\(w) / \(v): \(shown), \(String(format: "%.2f", q))x"))</title></rect>\n"
                    if q > hi || q < lo {
                        // Clipped bar: its value written inside it, vertically, at the clipped end.
                        let (tx, ty) = (x + barW / 2 - 4, q > hi ? y(hi) + 3 : y(lo) - 3)
                        o += "<text x=\"\(tx)\" y=\"\(ty)\" transform=\"rotate(90 \(tx) \(ty))\" text-anchor=\"\(q > hi ? "start" : "end")\" "
                        o += "font-size=\"8\" fill=\"white\">\(String(format: "%.3g", q))x</text>\n"
                    }
                }
                let lx = gx + Double(variants.count) * barW / 2, ly = y0 + panelH + 8
                o += "<text x=\"\(lx)\" y=\"\(ly)\" transform=\"rotate(40 \(lx) \(ly))\">\(esc(w))</text>\n"
            }
        }
        return o + "</svg>\n"
    }
}

// MARK: - Locating things

enum BenchTools {
    /// Directory of the running executable (/proc/self/exe, symlinks resolved).
    static func executableDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        let path = n > 0 ? String(cString: buf) : CommandLine.arguments[0]
        return (path as NSString).deletingLastPathComponent
    }

    /// The package root that holds `marker` (a relative path such as "Benchmarks/alloc"): searched upward
    /// from the current directory, then upward from the executable (which lives in .build/<config>/).
    static func packageRoot(containing marker: String) -> String? {
        let fm = FileManager.default
        for start in [fm.currentDirectoryPath, executableDirectory()] {
            var dir = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
                   fm.fileExists(atPath: dir.appendingPathComponent(marker).path) { return dir.path }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        return nil
    }

    /// Absolute path of a command found in PATH (or `preferred` paths first), or nil.
    static func which(_ name: String, preferring preferred: [String] = []) -> String? {
        let fm = FileManager.default
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for candidate in preferred + path.split(separator: ":").map({ "\($0)/\(name)" })
        where fm.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// Runs a helper command to completion with stdout/stderr passed through to our stderr; returns its
    /// exit status (or -1 if it could not start).
    @discardableResult
    static func runPassthrough(_ argv: [String]) -> Int32 {
        guard let exe = argv.first.flatMap({ $0.hasPrefix("/") ? $0 : which($0) }) else { return -1 }
        var cArgv = ([exe] + argv.dropFirst()).map { strdup($0) } + [nil]
        defer { cArgv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        var pid: pid_t = 0
        guard posix_spawn(&pid, exe, &actions, nil, &cArgv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }

    /// Installs Debian packages with apt-get when running as root (after an `apt-get update` if the first
    /// attempt fails). Returns whether apt-get reported success; the caller re-checks the files it needs.
    static func aptInstall(_ packages: [String], log: (String) -> Void) -> Bool {
        guard !packages.isEmpty else { return true }
        guard geteuid() == 0, which("apt-get") != nil else { return false }
        log("installing \(packages.joined(separator: " ")) with apt-get")
        if runPassthrough(["apt-get", "install", "-y", "-q"] + packages) == 0 { return true }
        _ = runPassthrough(["apt-get", "update", "-q"])
        return runPassthrough(["apt-get", "install", "-y", "-q"] + packages) == 0
    }

    /// FNV-1a of some strings, as 16 hex digits (cache keys for compiled workloads).
    static func fingerprint(_ parts: [String]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for b in part.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0xff) &* 0x100_0000_01b3
        }
        return String(format: "%016llx", h)
    }
}
