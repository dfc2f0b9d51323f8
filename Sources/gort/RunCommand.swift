// gort run: any program on libGoMalloc.so.
//
// libGoMalloc.so writes each process's MemStats (GOMALLOC_STATS) and heap dump (GOMALLOC_HEAPDUMP) at its exit,
// to the variable's path with `%p` replaced by the pid. Every descendant inherits the preload and the
// variables, so gort points both at `%p` patterns in a private temporary directory and, once the program has
// exited, picks the program's own files by its pid. Invariants:
// - --heapdump F and --stats-file F are checked before anything runs; F then holds this run's report or
//   nothing (a stale F is removed first), and never another process's heap dump or a mix of several.
// - The MemStats are the program's own process; its children's only when it left none.
// - After the run gort exits with the program's status: a report that cannot be made is one warning line.
// - The temporary directory is removed on every exit path (signals sent to gort go to the program: Spawn).
import ArgumentParser
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a program with libGoMalloc.so as its malloc (LD_PRELOAD).",
        discussion: """
        libGoMalloc.so is found next to the gort executable (build both with `swift build -c release`). \
        Child processes inherit the preload. GODEBUG (madvdontneed, scavtrace, allocchecks) passes through. \
        The MemStats and the heap dump are those of the program's own process (for `make` or the `gcc` driver, \
        theirs, not the compilers they start). When the program leaves no MemStats (it exited with _exit, as \
        dash does, or by a signal) but its child processes did, theirs are reported instead: as text, or with \
        --json as one JSON array of their objects, each with its "Pid". For every process's own file, set \
        GOMALLOC_STATS or GOMALLOC_HEAPDUMP to a path with %p (the pid) and run with plain `gort run`. \
        gort exits with the program's status (128 + N for signal N; 127 if not found, 126 if not executable).
        """
    )

    @Flag(help: "Print the allocator's MemStats summary for the program when it exits (on stderr).")
    var stats = false

    @Option(help: "Write the program's own heap dump (JSON, for `gort heapmap`) to this file, replacing it (a literal name: no %p).")
    var heapdump: String?

    @Flag(help: "Print MemStats as JSON, like runtime.MemStats (an array of per-process objects with \"Pid\" when only child processes left MemStats); implies --stats.")
    var json = false

    @Option(name: .customLong("stats-file"), help: "Write the MemStats there instead of to stderr (where the program's own stderr goes too), replacing it; not created when there are none; implies --stats.")
    var statsFile: String?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    func validate() throws {
        if let h = heapdump {
            try OutputFile.validate(h, option: "--heapdump")
            guard !h.contains("%p") else {
                throw ValidationError("--heapdump names one file, the program's own dump, and does not expand %p (for one dump per process: GOMALLOC_HEAPDUMP='\(h)' gort run -- ...)")
            }
        }
        if let f = statsFile { try OutputFile.validate(f, option: "--stats-file") }
        if let h = heapdump, let f = statsFile, URL(fileURLWithPath: h).standardized == URL(fileURLWithPath: f).standardized {
            throw ValidationError("--heapdump and --stats-file name the same file")
        }
    }

    func run() throws {
        let argv = try passthroughCommand(command, of: Self.self)
        guard !argv.isEmpty else { throw ValidationError("no command given (usage: gort run [--stats] -- COMMAND [ARGS...])") }
        let lib = try GoMallocLibrary.path()
        let heapFile = heapdump.map(OutputFile.init)
        let statsOut = statsFile.map(OutputFile.init)
        try heapFile?.removeStale()
        try statsOut?.removeStale()

        var env = ProcessInfo.processInfo.environment
        env["LD_PRELOAD"] = [lib, env["LD_PRELOAD"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
        let wantStats = stats || json || statsFile != nil
        let dir = wantStats || heapFile != nil ? try RunDirectory() : nil
        defer { dir?.remove() }
        if let dir, wantStats { env["GOMALLOC_STATS"] = dir.pattern(RunDirectory.stats) }
        if let dir, heapFile != nil { env["GOMALLOC_HEAPDUMP"] = dir.pattern(RunDirectory.heap) }

        let (pid, end) = try Spawn.runAndWait(argv, environment: env)

        if let dir, wantStats {
            let left = dir.files(RunDirectory.stats, of: pid)
            let report = statsReport(left, program: argv[0], pid: pid, end: end)
            if let note = report.note { FileIO.note(note) }
            if let body = report.body { deliver(body, to: statsOut) }
        }
        if let dir, let heapFile {
            deliverHeapDump(dir.files(RunDirectory.heap, of: pid), to: heapFile, program: argv[0], end: end)
        }
        throw ExitCode(end.shellStatus)
    }

    /// Why a process left no MemStats or heap dump.
    private func absence(_ end: Termination) -> String {
        if let sig = end.signalDescription { return "it was killed by \(sig)" }
        return "it never called malloc, or exited without running exit handlers"
    }

    /// The MemStats report: `body` (the text or JSON) goes to --stats-file or stderr; `note` (none were left,
    /// or only the children's) only ever to stderr. Unreadable JSON becomes a note, never an error.
    private func statsReport(_ left: ProcessFiles, program: String, pid: pid_t, end: Termination) -> (body: Data?, note: String?) {
        if let path = left.own {
            let own = (try? FileIO.read(path)) ?? Data()
            if json { return (own, nil) }
            guard let summary = try? StatsSummary(json: own) else {
                return (nil, "gort: the MemStats of \(program) (pid \(pid)) are not valid JSON")
            }
            var text = "\n--- libGoMalloc.so MemStats for \(program) (pid \(pid)) ---\n" + summary.text
            if !left.children.isEmpty { text += "(\(left.children.count) child process(es) also ran on libGoMalloc.so; not counted above)\n" }
            return (Data(text.utf8), nil)
        }
        var note = "gort: \(program) left no MemStats (\(absence(end)))"
        guard !left.children.isEmpty else { return (nil, note) }
        note += "; \(left.children.count) of its child processes did, reported instead"
        if json {
            // One JSON document: an array of the children's objects, each with the pid it came from.
            let objects: [[String: Any]] = left.children.compactMap { child in
                guard let data = try? FileIO.read(child.path),
                      var obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
                obj["Pid"] = Int(child.pid)
                return obj
            }
            guard let body = try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys]) else { return (nil, note) }
            return (body + Data("\n".utf8), note)
        }
        var text = ""
        for child in left.children.prefix(8) {
            guard let data = try? FileIO.read(child.path), let summary = try? StatsSummary(json: data) else { continue }
            text += "\n--- libGoMalloc.so MemStats for a child of \(program) (pid \(child.pid)) ---\n" + summary.text
        }
        if left.children.count > 8 { text += "(and \(left.children.count - 8) more)\n" }
        return (Data(text.utf8), note)
    }

    /// The report to --stats-file, or stderr. A failure is a warning: the program's status still stands.
    private func deliver(_ body: Data, to file: OutputFile?) {
        guard let file else {
            FileIO.note(String(decoding: body, as: UTF8.self))
            return
        }
        do { try FileIO.write(body, to: file.path) } catch { FileIO.note("gort: \(error)") }
    }

    /// The program's own dump to F. Without one, its children's (if any) are kept beside F as STEM.PID.EXT,
    /// never in F, and one line says so.
    private func deliverHeapDump(_ left: ProcessFiles, to file: OutputFile, program: String, end: Termination) {
        if let own = left.own {
            do { try file.take(own) } catch { FileIO.note("gort: \(error)") }
            return
        }
        var note = "gort: \(program) left no heap dump (\(absence(end)))"
        if !left.children.isEmpty && file.isSpecial {
            note += "; \(left.children.count) of its child processes did (not kept: \(file.path) is not a regular file)"
        } else if !left.children.isEmpty {
            let url = URL(fileURLWithPath: file.path)
            let ext = url.pathExtension.isEmpty ? "" : "." + url.pathExtension
            let stem = url.deletingPathExtension().path
            var kept: [String] = []
            for child in left.children {
                let dest = OutputFile(path: "\(stem).\(child.pid)\(ext)")
                if (try? dest.take(child.path)) != nil { kept.append(String(child.pid)) }
            }
            let name = URL(fileURLWithPath: stem).lastPathComponent + ".PID" + ext
            note += "; \(left.children.count) of its child processes did: kept as \(name) beside \(file.path), not in it"
            note += " (PID " + kept.prefix(5).joined(separator: ", ") + (kept.count > 5 ? ", ...)" : ")")
        }
        FileIO.note(note)
    }
}

/// gort run's private temporary directory (mkdtemp, so never another run's or a stale one), where every
/// process on the preload leaves KIND.PID.json.
struct RunDirectory {
    static let stats = "stats", heap = "heap"
    let path: String

    /// In $TMPDIR, else in /tmp (also when $TMPDIR is too long: the library writes paths of up to 4,070 bytes).
    init() throws {
        let tmpdir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { (1..<3900).contains($0.utf8.count) ? $0 : nil }
        for parent in [tmpdir, "/tmp"].compactMap({ $0 }) {
            var template = Array((parent.hasSuffix("/") ? parent : parent + "/").utf8CString.dropLast())
                + Array("gort-run-XXXXXX".utf8CString)
            if let made = mkdtemp(&template) {
                path = String(cString: made)
                return
            }
        }
        throw GortError("cannot create a temporary directory in /tmp: \(String(cString: strerror(errno)))")
    }

    func pattern(_ kind: String) -> String { "\(path)/\(kind).%p.json" }

    /// The files of one kind: the program's (pid's) and its children's, by pid. Empty files do not count.
    func files(_ kind: String, of pid: pid_t) -> ProcessFiles {
        var result = ProcessFiles()
        let prefix = kind + ".", suffix = ".json"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            let file = path + "/" + name
            var st = stat()
            guard let p = Int32(name.dropFirst(prefix.count).dropLast(suffix.count)),
                  stat(file, &st) == 0, st.st_size > 0 else { continue }
            if p == pid { result.own = file } else { result.children.append((p, file)) }
        }
        result.children.sort { $0.pid < $1.pid }
        return result
    }

    /// Removes the directory and whatever the processes left in it.
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// What the processes of one run left of one kind.
struct ProcessFiles {
    /// The program's own file.
    var own: String?
    /// Its descendants' files, by pid.
    var children: [(pid: Int32, path: String)] = []
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
