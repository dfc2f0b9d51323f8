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

    @Flag(help: "Print the allocator's MemStats summary for the program when it exits.")
    var stats = false

    @Option(help: "Write the program's heap dump (JSON, for `gort heapmap`) to this file at exit.")
    var heapdump: String?

    @Flag(help: "With --stats, print MemStats as JSON instead of text.")
    var json = false

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    func run() throws {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        guard !argv.isEmpty else { throw GortError("no command given (usage: gort run [--stats] -- COMMAND [ARGS...])") }
        let lib = try GoMallocLibrary.path()

        var env = ProcessInfo.processInfo.environment
        env["LD_PRELOAD"] = [lib, env["LD_PRELOAD"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
        let statsDir = stats ? FileManager.default.temporaryDirectory.appendingPathComponent("gort-run-\(getpid())") : nil
        if let d = statsDir {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            env["GOMALLOC_STATS"] = d.appendingPathComponent("stats.%p.json").path
        }
        if let h = heapdump {
            env["GOMALLOC_HEAPDUMP"] = URL(fileURLWithPath: h).path
        }
        defer { if let d = statsDir { try? FileManager.default.removeItem(at: d) } }

        let (pid, status) = try Spawn.runAndWait(argv, environment: env)

        if let d = statsDir {
            let file = d.appendingPathComponent("stats.\(pid).json")
            let others = ((try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []).count - 1
            if let data = try? Data(contentsOf: file) {
                if json {
                    FileHandle.standardError.write(data)
                } else {
                    let summary = try StatsSummary(json: data)
                    var text = "\n--- libGoMalloc.so MemStats for \(argv[0]) (pid \(pid)) ---\n" + summary.text
                    if others > 0 { text += "(\(others) child process(es) also ran on libGoMalloc.so)\n" }
                    FileHandle.standardError.write(text.data(using: .utf8)!)
                }
            } else {
                FileHandle.standardError.write("gort: \(argv[0]) left no MemStats (it never called malloc, or exited without running exit handlers)\n".data(using: .utf8)!)
            }
        }
        throw ExitCode(status)
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

/// posix_spawnp and wait, forwarding the exit status (a signal death becomes 128 + signal, as shells do).
enum Spawn {
    static func runAndWait(_ argv: [String], environment: [String: String]) throws -> (pid_t, Int32) {
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        let rc = posix_spawnp(&pid, argv[0], nil, nil, cArgs, cEnv)
        guard rc == 0 else { throw GortError("cannot run \(argv[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (pid, code)
    }
}
