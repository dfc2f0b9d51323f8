// Test support for GoMallocTests: these tests see libGoMalloc.so only from the outside, as a program sees it.
// They run child processes (C programs compiled here, python3, gcc, git, sqlite3, swift build) with
// LD_PRELOAD=<absolute path>/libGoMalloc.so and check what the children print, how they exit, and what the
// library writes (GOMALLOC_STATS).
//
// The C programs live in Tests/GoMallocTests/c/ with a .h extension: SwiftPM rejects .c files in a Swift test
// target ("mixed language source files") and warns about unknown extensions, but leaves .h files alone. They
// are compiled here with `gcc -x c -O1 -fno-builtin`, once per test process, into a temporary directory.
import Foundation
import XCTest

/// How a child process ended, and what it printed.
struct ChildResult {
    var exitCode: Int32?     // nil if killed by a signal
    var signal: Int32?       // the signal that killed it, if any
    var stdout: String
    var stderr: String
    var timedOut: Bool
    var pid: Int32

    var succeeded: Bool { exitCode == 0 && !timedOut }

    /// A few lines for failure messages: status and the ends of both streams.
    var summary: String {
        let status = timedOut ? "timed out" : signal.map { "killed by signal \($0)" } ?? "exit \(exitCode ?? -1)"
        return "\(status)\n--- stdout (tail) ---\n\(String(stdout.suffix(3000)))\n--- stderr (tail) ---\n\(String(stderr.suffix(3000)))"
    }
}

enum GoMallocTestError: Error, CustomStringConvertible {
    case missing(String)
    case compile(String)
    var description: String {
        switch self {
        case .missing(let s), .compile(let s): return s
        }
    }
}

enum Child {
    /// Runs `executable` with `arguments`. The environment is this process's, minus any LD_PRELOAD, plus `env`;
    /// with `preload`, LD_PRELOAD names libGoMalloc.so. Output goes to files (no pipe can fill up and block the
    /// child). A child still running after `timeout` seconds is killed (SIGKILL) and reported as timed out.
    static func run(_ executable: String, _ arguments: [String], preload: Bool, env: [String: String] = [:],
                    cwd: String? = nil, timeout: TimeInterval = 120) throws -> ChildResult {
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = nil
        environment["GOMALLOC_STATS"] = nil
        environment["GOMALLOC_HEAPDUMP"] = nil
        for (k, v) in env { environment[k] = v }
        if preload { environment["LD_PRELOAD"] = try GoMallocLibrary.path() }

        let dir = try TempDir.make("child")
        defer { dir.remove() }
        let outPath = dir.path + "/stdout", errPath = dir.path + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))

        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = environment
        if let cwd = cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = out
        p.standardError = err
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
            done.wait()
        }
        try? out.close()
        try? err.close()
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let bySignal = p.terminationReason == .uncaughtSignal
        return ChildResult(exitCode: bySignal ? nil : p.terminationStatus, signal: bySignal ? p.terminationStatus : nil,
                           stdout: stdout, stderr: stderr, timedOut: timedOut, pid: p.processIdentifier)
    }

    /// The absolute path of `name` on PATH, or nil.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// libGoMalloc.so, found in the directory of the running test binary (`.build/<triple>/<config>/`), where
/// `swift build` and `swift test` put it.
enum GoMallocLibrary {
    private static let lock = NSLock()
    private static var cached: String?

    static func path() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let p = cached { return p }
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let dir = (exe as NSString).deletingLastPathComponent
        let lib = dir + "/libGoMalloc.so"
        guard FileManager.default.fileExists(atPath: lib) else {
            throw GoMallocTestError.missing("""
                libGoMalloc.so is not in \(dir) (the test binary's directory). Build it with the same scratch \
                path and configuration as the tests, e.g. `swift build --product GoMalloc`, then rerun.
                """)
        }
        cached = lib
        return lib
    }
}

/// The C programs in Tests/GoMallocTests/c/, compiled on first use.
enum CProgram {
    static let sourceDir: String = {
        let here = URL(fileURLWithPath: #filePath)  // .../Tests/GoMallocTests/Support/ChildProcess.swift
        return here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("c").path
    }()

    private static let lock = NSLock()
    private static var built: [String: String] = [:]
    private static let buildDir: TempDir = {
        let d = try! TempDir.make("cprog")
        cprogDirPath = strdup(d.path)
        atexit { if let p = cprogDirPath { _ = try? FileManager.default.removeItem(atPath: String(cString: p)) } }
        return d
    }()

    /// Compiles c/<name>.h with `gcc -O1 -fno-builtin` (as C) and returns the executable's path.
    static func path(_ name: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let p = built[name] { return p }
        guard let gcc = Child.which("gcc") else { throw GoMallocTestError.missing("gcc is not on PATH") }
        let exe = buildDir.path + "/" + name
        let r = try Child.run(gcc, ["-x", "c", "-O1", "-fno-builtin", "-g", "-o", exe, sourceDir + "/\(name).h",
                                    "-x", "none", "-lpthread", "-ldl"], preload: false)
        guard r.succeeded else { throw GoMallocTestError.compile("gcc failed on c/\(name).h:\n\(r.summary)") }
        built[name] = exe
        return exe
    }
}

/// The compiled C programs' directory, for the exit handler that removes it (a C function pointer captures
/// nothing).
private nonisolated(unsafe) var cprogDirPath: UnsafeMutablePointer<CChar>?

/// A temporary directory, removed by `remove()`.
struct TempDir {
    let path: String

    static func make(_ tag: String) throws -> TempDir {
        let base = NSTemporaryDirectory() + "gomalloc-tests-\(tag)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        return TempDir(path: base)
    }

    func write(_ name: String, _ text: String) throws {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// GORT_SOAK=1 makes stress tests ten times longer.
var soakFactor: Int { ProcessInfo.processInfo.environment["GORT_SOAK"] == "1" ? 10 : 1 }
