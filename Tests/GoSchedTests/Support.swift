import Foundation
import GoSched
import XCTest

/// Runs `body` as a task preferring `sched` and waits (on this thread) up to `timeout` seconds.
func runOn<T: Sendable>(_ sched: Scheduler, timeout: Double = 60, _ body: @escaping @Sendable () async -> T) -> T? {
    let box = ResultBox<T>()
    let sem = DispatchSemaphore(value: 0)
    Task(executorPreference: sched) {
        box.value = await body()
        sem.signal()
    }
    if sem.wait(timeout: .now() + timeout) == .timedOut { return nil }
    return box.value
}

final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// Thread-safe counter for tests (not a benchmark).
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int = 1) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// xorshift64*, fixed seeds for reproducible stress tests.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E3779B97F4A7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 2685821657736338717
    }
}

let soak = ProcessInfo.processInfo.environment["GORT_SOAK"] == "1"

/// Re-runs this test binary for one test with extra environment; returns (status, stdout+stderr).
func runChild(test: String, env: [String: String]) throws -> (Int32, String) {
    // A child that fails to recognise itself must not spawn again (that would fork without end).
    if let me = ProcessInfo.processInfo.environment["GOSCHED_CHILD"] {
        return (-1, "child \(me) tried to spawn \(test): isChild name mismatch")
    }
    var e: [String: String?] = env.mapValues { $0 }
    e["GOSCHED_CHILD"] = test
    return try runProcess(CommandLine.arguments[0], [test], env: e)
}

/// Runs `exe` with this process's environment plus `env` (a nil value removes a variable); returns
/// (status, stdout+stderr).
func runProcess(_ exe: String, _ args: [String], env: [String: String?] = [:]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    p.environment = e
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// True when this process is the child spawned for `test`.
func isChild(_ test: String) -> Bool { ProcessInfo.processInfo.environment["GOSCHED_CHILD"] == test }
