// gort trace: record a GoSched run as Chrome trace-event JSON (one track per M), for Perfetto.
import ArgumentParser
import Dispatch
import Foundation
import GoSched

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Record a GoSched run as Chrome trace-event JSON (one track per M; open it in Perfetto).",
        discussion: """
        Without a command, runs a built-in workload on a tracing scheduler in this process:
          gort trace -o trace.json --workload skynet --procs 2
        With a command, runs it with GOSCHED_TRACE set; the program must call GoSched.install(), which then
        writes the trace when the program exits:
          gort trace -o trace.json -- .build/release/bench-sched ping-pong gosched 0.01
        Either way the JSON is loaded back and summarised. Each job is a slice on its M's track, named by the P
        it ran on ("P1 job"); parks, `blocking {}` regions and steals are shown too.
        Open the file at https://ui.perfetto.dev (or chrome://tracing).
        """
    )

    @Option(name: .shortAndLong, help: "Where to write the trace.")
    var output = "trace.json"

    @Option(help: "Built-in workload: skynet, spawn-join, ping-pong or blocking.")
    var workload = "skynet"

    @Option(help: "Workload size relative to the benchmark's (skynet 1M leaves, spawn-join 1M, ping-pong 1M).")
    var scale = 0.01

    @Option(help: "GOMAXPROCS for the run, 1 to 1024 (default: the environment's, else the usable CPUs).")
    var procs: Int?

    @Argument(parsing: .captureForPassthrough, help: "A program that calls GoSched.install(), and its arguments (after --).")
    var command: [String] = []

    static let workloads = ["skynet", "spawn-join", "ping-pong", "blocking"]

    /// Usage errors (exit 64), before anything runs.
    func validate() throws {
        guard scale > 0 else { throw ValidationError("--scale must be positive") }
        if let p = procs, p < 1 || p > Procs.maxProcs {
            throw ValidationError("--procs must be between 1 and \(Procs.maxProcs) (GoSched's cap on GOMAXPROCS)")
        }
        guard Self.workloads.contains(workload) else {
            throw ValidationError("unknown workload \(workload) (choose from: \(Self.workloads.joined(separator: ", ")))")
        }
    }

    func run() throws {
        let argv = try passthroughCommand(command, of: Self.self)
        let path = URL(fileURLWithPath: output).path
        if argv.isEmpty {
            try runWorkload(path)
        } else {
            try? FileManager.default.removeItem(atPath: path)
            var env = ProcessInfo.processInfo.environment
            env["GOSCHED_TRACE"] = path
            if let p = procs { env["GOMAXPROCS"] = String(p) }
            let status = try Spawn.runAndWait(argv, environment: env).1.shellStatus
            guard FileManager.default.fileExists(atPath: path) else {
                throw GortError("\(argv[0]) wrote no trace (exit status \(status)); it must call GoSched.install() and exit normally")
            }
            if status != 0 { FileHandle.standardError.write("gort: \(argv[0]) exited with status \(status)\n".data(using: .utf8)!) }
        }
        let summary = try TraceSummary(contentsOf: path)
        print(summary.text(path: path))
    }

    private func runWorkload(_ path: String) throws {
        let sched = Scheduler(procs: procs, trace: true)
        let n = max(1, Int(1_000_000 * scale))
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        let w = workload
        Task(executorPreference: sched) {
            switch w {
            case "skynet": box.value = await TraceWorkloads.skynet(0, TraceWorkloads.roundToPowerOf10(n))
            case "spawn-join": box.value = await TraceWorkloads.spawnJoin(n)
            case "ping-pong": box.value = await TraceWorkloads.pingPong(n)
            default: box.value = await TraceWorkloads.blockingMix(sched, max(1, n / 100))
            }
            done.signal()
        }
        done.wait()
        sched.shutdown()
        guard sched.writeTrace(to: path) else { throw GortError("cannot write \(path)") }
    }
}

final class ResultBox: @unchecked Sendable { var value = 0 }

/// The built-in workloads (the benchmark's shapes at a small size).
enum TraceWorkloads {
    static func roundToPowerOf10(_ n: Int) -> Int {
        var p = 1
        while p * 10 <= n { p *= 10 }
        return p
    }

    static func skynet(_ num: Int, _ size: Int) async -> Int {
        if size == 1 { return num }
        let div = size / 10
        return await withTaskGroup(of: Int.self) { g in
            for i in 0..<10 { g.addTask { await skynet(num + i * div, div) } }
            var s = 0
            for await v in g { s += v }
            return s
        }
    }

    static func spawnJoin(_ n: Int) async -> Int {
        await withTaskGroup(of: Int.self) { g in
            for i in 0..<n { g.addTask { i & 1 } }
            var s = 0
            for await v in g { s += v }
            return s
        }
    }

    static func pingPong(_ n: Int) async -> Int {
        let ping = Chan<Int>(), pong = Chan<Int>()
        async let echo: Void = { for _ in 0..<n { let v = await ping.receive()!; await pong.send(v + 1) } }()
        var x = 0
        for _ in 0..<n { await ping.send(x); x = await pong.receive()! }
        await echo
        return x
    }

    /// Short jobs alongside jobs that block in `blocking {}` for 2 ms: shows sysmon lending a spare P.
    static func blockingMix(_ sched: Scheduler, _ n: Int) async -> Int {
        await withTaskGroup(of: Int.self) { g in
            for i in 0..<n {
                g.addTask {
                    if i % 10 == 0 { blocking { usleep(2000) } }
                    return 1
                }
            }
            var s = 0
            for await v in g { s += v }
            return s
        }
    }
}

/// A trace loaded back from its JSON, with the checks a viewer relies on.
struct TraceSummary {
    var events = 0
    var jobs = 0
    var parks = 0
    var steals = 0
    var blockingRegions = 0
    var threads = Set<Int>()
    var procs = Set<Int>()
    var dropped = 0
    var spanUS = 0.0

    init(contentsOf path: String) throws {
        let data = try FileIO.read(path)
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = root["traceEvents"] as? [[String: Any]]
        else { throw GortError("\(path) is not trace-event JSON (no traceEvents array)") }
        dropped = ((root["otherData"] as? [String: Any])?["droppedEvents"] as? Int) ?? 0
        var first = Double.infinity, last = 0.0
        for e in list {
            guard let ph = e["ph"] as? String else { throw GortError("an event without ph in \(path)") }
            if ph == "M" { continue }
            events += 1
            if let tid = e["tid"] as? Int { threads.insert(tid) }
            let ts = (e["ts"] as? Double) ?? 0
            let dur = (e["dur"] as? Double) ?? 0
            first = min(first, ts)
            last = max(last, ts + dur)
            switch e["cat"] as? String {
            case "job":
                jobs += 1
                if let p = (e["args"] as? [String: Any])?["p"] as? Int { procs.insert(p) }
            case "park": parks += 1
            case "steal": steals += 1
            case "blocking": blockingRegions += 1
            default: break
            }
        }
        if events > 0 { spanUS = last - first }
    }

    func text(path: String) -> String {
        var s = "\(path): \(events) events over \(String(format: "%.1f", spanUS / 1000)) ms on \(threads.count) M track(s): "
        s += "\(jobs) jobs on \(procs.count) P(s), \(parks) parks, \(steals) steals, \(blockingRegions) blocking regions"
        if dropped > 0 { s += " (\(dropped) events dropped past the recording cap)" }
        return s + "\nOpen it at https://ui.perfetto.dev (or chrome://tracing)."
    }
}
