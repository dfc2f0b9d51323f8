import XCTest

/// Runs the Scheme interpreter (the `gort-scheme` executable, GoGC's real client) on every program in
/// Examples/Scheme/tests and compares its output with NAME.out (and NAME.err, whose presence means the program
/// must fail with status 1). Collections are made frequent (GOGC=25) and each one is checked
/// (GODEBUG=gccheckmark=1 aborts if a live object was not marked).
final class SchemeProgramTests: XCTestCase {
    /// The built interpreter: next to this test bundle in the build directory, or $GORT_SCHEME.
    func interpreter() throws -> URL {
        if let p = ProcessInfo.processInfo.environment["GORT_SCHEME"] { return URL(fileURLWithPath: p) }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [bundle.deletingLastPathComponent(), Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        for dir in candidates {
            let exe = dir.appendingPathComponent("gort-scheme")
            if FileManager.default.isExecutableFile(atPath: exe.path) { return exe }
        }
        XCTFail("gort-scheme was not found next to the test bundle (\(bundle.path)); build it with `swift build` first")
        throw CocoaError(.fileNoSuchFile)
    }

    var programsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/Scheme/tests")
    }

    /// GODEBUG=gctrace=1 on a garbage-heavy program: one line per cycle, each in Go's exact format.
    func testGctraceLinesHaveGoFormat() throws {
        let exe = try interpreter()
        let r = try run(exe, programsDirectory.appendingPathComponent("gc.scm"), godebug: "gctrace=1")
        XCTAssertEqual(r.status, 0)
        let lines = r.err.split(separator: "\n").map(String.init)
        XCTAssertGreaterThan(lines.count, 3, "collections must have run")
        for (i, line) in lines.enumerated() {
            XCTAssertTrue(ObservabilityTests.matchesGoFormat(line), "not Go's gctrace format: \(line)")
            XCTAssertTrue(line.hasPrefix("gc \(i + 1) @"), "cycles are numbered from 1: \(line)")
        }
    }

    func run(_ exe: URL, _ program: URL, godebug: String = "gccheckmark=1") throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = exe
        p.arguments = [program.path]
        var env = ProcessInfo.processInfo.environment
        env["GOGC"] = "25"
        env["GODEBUG"] = godebug
        p.environment = env
        // stderr goes to a file and stdout to a pipe read to the end, so a large output cannot block the child.
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("gort-scheme-\(getpid())-\(program.lastPathComponent).err")
        _ = FileManager.default.createFile(atPath: errPath.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errPath) }
        let errHandle = try FileHandle(forWritingTo: errPath)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = errHandle
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try errHandle.close()
        let errData = try Data(contentsOf: errPath)
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    func testProgramsProduceTheirExpectedOutput() throws {
        let exe = try interpreter()
        let files = try FileManager.default.contentsOfDirectory(atPath: programsDirectory.path).filter { $0.hasSuffix(".scm") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 6, "the test programs are missing")
        for f in files {
            let program = programsDirectory.appendingPathComponent(f)
            let base = program.deletingPathExtension()
            let expectedOut = try String(contentsOf: base.appendingPathExtension("out"), encoding: .utf8)
            let expectedErr = try? String(contentsOf: base.appendingPathExtension("err"), encoding: .utf8)
            let r = try run(exe, program)
            XCTAssertEqual(r.out, expectedOut, "\(f): standard output")
            if let e = expectedErr {
                XCTAssertEqual(r.status, 1, "\(f): exit status")
                XCTAssertEqual(r.err, e, "\(f): standard error")
            } else {
                XCTAssertEqual(r.status, 0, "\(f): exit status; stderr: \(r.err)")
                XCTAssertEqual(r.err, "", "\(f): standard error")
            }
        }
    }
}
