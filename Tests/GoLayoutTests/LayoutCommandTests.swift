import Foundation
import XCTest
@testable import GoLayout

/// Inputs and output modes of `gort layout`: paths named twice, and `--check --format json` (run through the
/// built `gort` binary when it is next to the test bundle; skipped otherwise).
final class LayoutCommandTests: XCTestCase {
    func testSamePathTwiceIsAnalyzedOnce() throws {
        let dir = try makeTemporaryDirectory("dedupe")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a.go")
        try "package p\ntype S struct { a int8 }\n".write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.go").path,
                                                   withDestinationPath: file.path)
        let analyzer = LayoutAnalyzer(model: .x86_64Linux)
        let paths = [file.path, dir.path + "/./a.go", dir.path, dir.appendingPathComponent("link.go").path]
        XCTAssertEqual(try analyzer.sourceFiles(paths), [file.path])
        XCTAssertEqual(try analyzer.analyze(paths).count, 1)
    }

    func testSymlinkedDirectoryOnTheCommandLineIsSearched() throws {
        let dir = try makeTemporaryDirectory("symdir")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let real = dir.appendingPathComponent("real")
        try fm.createDirectory(at: real, withIntermediateDirectories: true)
        try "package p\ntype S struct { a int8 }\n".write(to: real.appendingPathComponent("a.go"), atomically: true, encoding: .utf8)
        // A cycle inside the walk: not followed, so it neither hangs nor lists a.go twice.
        try fm.createSymbolicLink(atPath: real.appendingPathComponent("loop").path, withDestinationPath: real.path)
        let link = dir.appendingPathComponent("link").path
        try fm.createSymbolicLink(atPath: link, withDestinationPath: real.path)
        let analyzer = LayoutAnalyzer(model: .x86_64Linux)
        XCTAssertEqual(try analyzer.sourceFiles([link]), [link + "/a.go"])
        XCTAssertEqual(try analyzer.analyze([link]).map(\.name), ["S"])
        XCTAssertEqual(try analyzer.analyze([link + "/"]).map(\.name), ["S"])
    }

    func testDirectoryNamedLikeASourceFileIsWalked() throws {
        let dir = try makeTemporaryDirectory("dirnamedgo")
        defer { try? FileManager.default.removeItem(at: dir) }
        let odd = dir.appendingPathComponent("not_a_file.go")
        try FileManager.default.createDirectory(at: odd.appendingPathComponent("x.swift"), withIntermediateDirectories: true)
        try "package p\ntype S struct { a int8 }\n".write(to: odd.appendingPathComponent("b.go"), atomically: true, encoding: .utf8)
        let reports = try LayoutAnalyzer(model: .x86_64Linux).analyze([dir.path])
        XCTAssertEqual(reports.map(\.name), ["S"])
    }

    /// Go files under testdata/ and _-prefixed directories are not read (the go command ignores them; Go's own
    /// tree keeps deliberately unparsable files there, which aborted a run over GOROOT/src); Swift files there are.
    func testGoTestdataAndUnderscoreDirectoriesAreSkipped() throws {
        let dir = try makeTemporaryDirectory("testdata")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for sub in ["testdata", "_old", "_Shims"] {
            try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try "package p\ntype Good struct { a int8 }\n".write(to: dir.appendingPathComponent("a.go"), atomically: true, encoding: .utf8)
        try "package p\ntype Broken struct {\n".write(to: dir.appendingPathComponent("testdata/bad.go"), atomically: true, encoding: .utf8)
        try "package p\ntype Old struct { a int8 }\n".write(to: dir.appendingPathComponent("_old/o.go"), atomically: true, encoding: .utf8)
        try "struct Shim { var a: Int8 }\n".write(to: dir.appendingPathComponent("_Shims/s.swift"), atomically: true, encoding: .utf8)
        let reports = try LayoutAnalyzer(model: .x86_64Linux).analyze([dir.path])
        XCTAssertEqual(Set(reports.map(\.name)), ["Good", "Shim"])
    }

    /// The built `gort` next to the test bundle, or skip.
    func gortBinary() throws -> String {
        let gort = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("gort").path
        // The xctest bundle runs from .build/<config>/; on Linux arguments[0] is the bundle's path.
        let candidates = [gort, URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build/debug/gort").standardized.path]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("gort is not built")
        }
        return binary
    }

    /// Runs gort; returns its exit status and stderr.
    func gort(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try gortBinary())
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testBadOptionsAreOneClearLineAndParseErrorsOneWarning() throws {
        let dir = try makeTemporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("g.go").path
        try "package p\ntype S struct { a int8 }\n".write(toFile: good, atomically: true, encoding: .utf8)
        let bad = dir.appendingPathComponent("f.swift").path
        try "struct S { var a: }\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let negative = try gort(["layout", "--min-waste", "-3", good])
        XCTAssertNotEqual(negative.status, 0)
        XCTAssertTrue(negative.stderr.contains("--min-waste must be 0 or more"), negative.stderr)
        let fixJSON = try gort(["layout", "--fix", "--format", "json", good])
        XCTAssertNotEqual(fixJSON.status, 0)
        XCTAssertTrue(fixJSON.stderr.contains("--fix does not support --format json"), fixJSON.stderr)
        let forceAlone = try gort(["layout", "--force", good])
        XCTAssertNotEqual(forceAlone.status, 0)
        XCTAssertTrue(forceAlone.stderr.contains("--force only applies to --fix"), forceAlone.stderr)
        // `@frozen` structs are never reordered: not a --check finding.
        let frozen = dir.appendingPathComponent("z.swift").path
        try "@frozen public struct Fz { public var a: Int8; public var b: Int64; public var c: Int8 }\n"
            .write(toFile: frozen, atomically: true, encoding: .utf8)
        XCTAssertEqual(try gort(["layout", "--check", frozen]).status, 0)
        // A file that does not parse is one warning; the run goes on with the others, exit status unchanged.
        let parse = try gort(["layout", "--check", bad, good])
        XCTAssertEqual(parse.status, 0)
        XCTAssertTrue(parse.stderr.hasPrefix("gort layout: warning: \(bad):1:"), parse.stderr)
        XCTAssertTrue(parse.stderr.hasSuffix("; file skipped\n"), parse.stderr)
        XCTAssertEqual(parse.stderr.filter { $0 == "\n" }.count, 1)
    }

    func testCheckHonorsJSONFormat() throws {
        let binary = try gortBinary()
        let dir = try makeTemporaryDirectory("checkjson")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("d.go").path
        try "package p\ntype S struct {\n\ta int8\n\tb int64\n\tc int8\n}\n".write(toFile: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["layout", "--check", "--format", "json", file]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, "findings keep exit status 1")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any],
                                 String(decoding: data, as: UTF8.self))
        let structs = try XCTUnwrap(json["structs"] as? [[String: Any]])
        XCTAssertEqual(structs.map { $0["name"] as? String }, ["S"])
        XCTAssertEqual(structs.first?["wastedBytes"] as? Int, 8)
    }
}
