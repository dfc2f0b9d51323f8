import Foundation
import XCTest

/// SplitMix64: a tiny deterministic generator so every run builds the same random structs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Full path of an executable on PATH, or nil.
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs a program, failing the test with its stderr if it exits non-zero. Returns stdout.
func runProgram(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                environment: [String: String] = [:]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { _, new in new }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting, so a chatty compiler cannot fill one and deadlock.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let errThread = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    errThread.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errThread.isFinished { usleep(1000) }
    let errData = errBox.data
    guard process.terminationStatus == 0 else {
        throw ProgramFailed(
            command: ([executable] + arguments).joined(separator: " "),
            stderr: String(decoding: errData, as: UTF8.self))
    }
    return String(decoding: outData, as: UTF8.self)
}

struct ProgramFailed: Error, CustomStringConvertible {
    var command: String
    var stderr: String
    var description: String { "\(command) failed:\n\(stderr.prefix(4000))" }
}

func makeTemporaryDirectory(_ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golayout-\(name)-\(getpid())")
    try? FileManager.default.removeItem(at: dir)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Parses "NAME size alignment stride off0 off1 ..." lines printed by the generated programs.
struct CompilerFacts {
    var size: Int, alignment: Int, stride: Int, offsets: [Int]
}

func parseFacts(_ output: String) -> [String: CompilerFacts] {
    var facts: [String: CompilerFacts] = [:]
    for line in output.split(separator: "\n") {
        let parts = line.split(separator: " ")
        guard parts.count >= 4 else { continue }
        let nums = parts.dropFirst().compactMap { Int($0) }
        facts[String(parts[0])] = CompilerFacts(size: nums[0], alignment: nums[1], stride: nums[2],
                                                offsets: Array(nums.dropFirst(3)))
    }
    return facts
}
