// gort run: any program on libGoMalloc.so.
import ArgumentParser
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a program with libGoMalloc.so as its malloc (LD_PRELOAD).",
        discussion: """
        libGoMalloc.so is found next to the gort executable (build both with `swift build -c release`).
        Child processes inherit the preload. GODEBUG (madvdontneed, scavtrace, allocchecks) passes through.
        """
    )

    @Flag(help: "Print the allocator's MemStats summary for the program when it exits (on stderr).")
    var stats = false

    @Option(help: "Write the program's heap dump (JSON, for `gort heapmap`) to this file at exit.")
    var heapdump: String?

    @Flag(help: "Print MemStats as JSON (libGoMalloc.so's, like runtime.MemStats) instead of text; implies --stats.")
    var json = false

    @Option(name: .customLong("stats-file"), help: "Write the MemStats there instead of to stderr (where the program's own stderr goes too); implies --stats.")
    var statsFile: String?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    func run() throws {
        let argv = try passthroughCommand(command, of: Self.self)
        guard !argv.isEmpty else { throw GortError("no command given (usage: gort run [--stats] -- COMMAND [ARGS...])") }
        let lib = try GoMallocLibrary.path()

        var env = ProcessInfo.processInfo.environment
        env["LD_PRELOAD"] = [lib, env["LD_PRELOAD"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
        let wantStats = stats || json || statsFile != nil
        let statsDir = wantStats ? FileManager.default.temporaryDirectory.appendingPathComponent("gort-run-\(getpid())") : nil
        if let d = statsDir {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            env["GOMALLOC_STATS"] = d.appendingPathComponent("stats.%p.json").path
        }
        if let h = heapdump {
            let url = URL(fileURLWithPath: h)
            guard FileManager.default.isWritableFile(atPath: url.deletingLastPathComponent().path) else {
                throw GortError("cannot write the heap dump to \(h): its directory does not exist or is not writable")
            }
            env["GOMALLOC_HEAPDUMP"] = url.path
        }
        defer { if let d = statsDir { try? FileManager.default.removeItem(at: d) } }

        let (pid, end) = try Spawn.runAndWait(argv, environment: env)
        let status = end.shellStatus

        if let d = statsDir {
            let report = try statsReport(dir: d, pid: pid, program: argv[0])
            if let f = statsFile {
                do { try report.write(to: URL(fileURLWithPath: f)) } catch {
                    throw GortError("cannot write the MemStats to \(f): \(error.localizedDescription)")
                }
            } else {
                FileHandle.standardError.write(report)
            }
        }
        if let h = heapdump, !FileManager.default.fileExists(atPath: h) {
            FileHandle.standardError.write("gort: \(argv[0]) left no heap dump (it never called malloc, or exited without running exit handlers)\n".data(using: .utf8)!)
        }
        throw ExitCode(status)
    }

    /// The MemStats the program left (one JSON file per process, named by pid), as text or JSON. When the
    /// program itself left none (it exited with _exit, as dash does, or never called malloc), those of the
    /// child processes that ran on libGoMalloc.so.
    private func statsReport(dir: URL, pid: Int32, program: String) throws -> Data {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        let mine = "stats.\(pid).json"
        let others = names.filter { $0 != mine && $0.hasPrefix("stats.") && $0.hasSuffix(".json") }
        func pidOf(_ name: String) -> String { String(name.dropFirst(6).dropLast(5)) }
        if let data = try? Data(contentsOf: dir.appendingPathComponent(mine)) {
            if json { return data }
            var text = "\n--- libGoMalloc.so MemStats for \(program) (pid \(pid)) ---\n" + (try StatsSummary(json: data)).text
            if !others.isEmpty { text += "(\(others.count) child process(es) also ran on libGoMalloc.so)\n" }
            return Data(text.utf8)
        }
        var text = "gort: \(program) left no MemStats (it never called malloc, or exited without running exit handlers)"
        if others.isEmpty { return Data((text + "\n").utf8) }
        text += "; \(others.count) child process(es) did"
        if json {
            // One JSON object per line, each with the pid it came from.
            var out = Data()
            for name in others {
                guard let data = try? Data(contentsOf: dir.appendingPathComponent(name)),
                      var obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { continue }
                obj["Pid"] = Int(pidOf(name))
                out.append(try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]))
                out.append(10)
            }
            FileHandle.standardError.write(Data((text + "\n").utf8))
            return out
        }
        for name in others.prefix(8) {
            guard let data = try? Data(contentsOf: dir.appendingPathComponent(name)) else { continue }
            text += "\n\n--- libGoMalloc.so MemStats for a child of \(program) (pid \(pidOf(name))) ---\n" + (try StatsSummary(json: data)).text
        }
        if others.count > 8 { text += "(and \(others.count - 8) more)\n" }
        return Data(text.utf8)
    }
}

/// Locates libGoMalloc.so beside the running gort.
enum GoMallocLibrary {
    static func path() throws -> String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let lib = exe.deletingLastPathComponent().appendingPathComponent("libGoMalloc.so").path
        guard FileManager.default.fileExists(atPath: lib) else {
            throw GortError("libGoMalloc.so not found next to gort (\(lib)); build it with `swift build -c release` (or without -c release for a debug gort)")
        }
        return lib
    }
}

/// MemStats JSON (as written by libGoMalloc.so) to text.
struct StatsSummary {
    var fields: [String: UInt64] = [:]
    var bySize: [(size: UInt64, mallocs: UInt64, frees: UInt64)] = []

    init(json: Data) throws {
        guard let obj = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw GortError("MemStats file is not a JSON object")
        }
        for (k, v) in obj { if let n = v as? NSNumber { fields[k] = n.uint64Value } }
        for row in obj["BySize"] as? [[String: NSNumber]] ?? [] {
            bySize.append((row["Size"]?.uint64Value ?? 0, row["Mallocs"]?.uint64Value ?? 0, row["Frees"]?.uint64Value ?? 0))
        }
    }

    var text: String {
        func f(_ k: String) -> UInt64 { fields[k] ?? 0 }
        func mib(_ x: UInt64) -> String { String(format: "%.1f MiB", Double(x) / 1048576) }
        var s = ""
        s += "HeapAlloc    \(mib(f("HeapAlloc")))   live objects \(f("HeapObjects"))\n"
        s += "TotalAlloc   \(mib(f("TotalAlloc")))   mallocs \(f("Mallocs")), frees \(f("Frees")), large \(f("LargeAllocs"))\n"
        s += "HeapSys      \(mib(f("HeapSys"))) = HeapInuse \(mib(f("HeapInuse"))) + HeapIdle \(mib(f("HeapIdle")))\n"
        s += "HeapReleased \(mib(f("HeapReleased")))   (idle pages returned to the OS)\n"
        s += "Metadata     spans \(mib(f("MSpanSys"))), caches \(mib(f("MCacheSys"))), other \(mib(f("OtherSys")))\n"
        s += "Arenas \(f("Arenas")), spans in use \(f("SpansInUse")), thread caches \(f("Caches"))\n"
        let top = bySize.filter { $0.mallocs > 0 }.sorted { $0.mallocs > $1.mallocs }.prefix(6)
        if !top.isEmpty {
            s += "Busiest size classes: " + top.map { "\($0.size)B x\($0.mallocs)" }.joined(separator: ", ") + "\n"
        }
        return s
    }
}
