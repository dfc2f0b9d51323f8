import Foundation
import XCTest
@testable import GoLayout

/// `--fix`: what it rewrites, what it refuses, and the re-parse that guards every write.
final class FieldReorderTests: XCTestCase {
    /// Plans and verifies a fix of one file, as `gort layout --fix --force` does.
    func fix(_ name: String, _ source: String, tamper: (inout FieldReorder.Outcome) -> Void = { _ in })
        throws -> (outcome: FieldReorder.Outcome, verified: Bool) {
        let dir = try makeTemporaryDirectory("fix")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        let analyzer = LayoutAnalyzer(model: .x86_64Linux)
        var outcome = try FieldReorder.plan(try analyzer.structs([path]), force: true)
        tamper(&outcome)
        let verified = FieldReorder.verify(&outcome) { try analyzer.structs([path], overrides: $0) }
        outcome.rewritten = Dictionary(uniqueKeysWithValues: outcome.rewritten.map { ((($0.key as NSString).lastPathComponent), $0.value) })
        return (outcome, verified)
    }

    func testBlankFieldsKeepTheirIdentity() throws {
        let source = "package p\n\ntype S struct {\n\ta bool\n\t_ [0]string\n\tb int64\n\tc bool\n\t_ int32\n}\n"
        let (outcome, verified) = try fix("blank.go", source)
        XCTAssertTrue(verified, "\(outcome.messages)")
        let text = try XCTUnwrap(outcome.rewritten["blank.go"])
        XCTAssertEqual(text.components(separatedBy: "_ [0]string").count, 2, text)
        XCTAssertEqual(text.components(separatedBy: "_ int32").count, 2, text)
        let decl = try XCTUnwrap(GoFrontEnd.structs(files: [("blank.go", source)]).first)
        XCTAssertEqual(StructReport(decl).optimalOrder, ["_#2", "b", "_#5", "a", "c"])
    }

    func testFieldsSharingALineAreRefused() throws {
        let cases = [
            ("oneline.go", "package p\n\ntype demo2 struct { a int8; c int32; b int16 }\n"),
            ("semicolon.go", "package p\ntype S struct {\n\ta int8; b int64\n\tc int8\n\td int64\n\te int8\n}\n"),
            ("brace.go", "package p\ntype S struct { a int8\n\tb int64\n\tc int8 }\n"),
            ("semicolon.swift", "struct S {\n    var a: Int8; var b: Int64\n    var c: Int8\n    var d: Int64\n    var e: Int8\n"
                + "    init() { a = 0; b = 0; c = 0; d = 0; e = 0 }\n}\n"),
            ("method.swift", "struct S {\n    var a: Int8; func f() {}\n    var b: Int64\n    var c: Int8\n    init() { a = 0; b = 0; c = 0 }\n}\n"),
        ]
        for (name, source) in cases {
            let (outcome, verified) = try fix(name, source)
            XCTAssertTrue(verified)
            XCTAssertEqual(outcome.changedStructs, 0, name)
            XCTAssertTrue(outcome.rewritten.isEmpty, name)
            XCTAssertTrue(outcome.messages.contains { $0.contains("not reordering") }, "\(name): \(outcome.messages)")
        }
    }

    func testGoBlockCommentsMoveWithTheirField() throws {
        let source = "package p\ntype S struct {\n\t/* a's comment */\n\ta int8\n\t/*\n\t * b's comment,\n\t * two lines\n\t */\n"
            + "\tb int64 /* trailing */\n\t// c's comment\n\tc int8\n}\n"
        let (go, goOK) = try fix("block.go", source)
        XCTAssertTrue(goOK, "\(go.messages)")
        XCTAssertEqual(go.rewritten["block.go"], "package p\ntype S struct {\n\t/*\n\t * b's comment,\n\t * two lines\n\t */\n"
            + "\tb int64 /* trailing */\n\t/* a's comment */\n\ta int8\n\t// c's comment\n\tc int8\n}\n")
        // A block comment that ends the previous field's line belongs to that field.
        let (tail, tailOK) = try fix("tail.go", "package p\ntype S struct {\n\ta int8 /* a */\n\tb int64\n\tc int8\n}\n")
        XCTAssertTrue(tailOK)
        XCTAssertEqual(tail.rewritten["tail.go"], "package p\ntype S struct {\n\tb int64\n\ta int8 /* a */\n\tc int8\n}\n")
    }

    func testOrdinaryStructsAreRewrittenAndVerified() throws {
        let (go, goOK) = try fix("ok.go", "package p\ntype S struct {\n\ta int8\n\tb int64\n\tc int8\n}\n")
        XCTAssertTrue(goOK)
        XCTAssertEqual(go.changedStructs, 1)
        XCTAssertEqual(go.rewritten["ok.go"], "package p\ntype S struct {\n\tb int64\n\ta int8\n\tc int8\n}\n")
        let (swift, swiftOK) = try fix("ok.swift", "struct S {\n    var a: Int8\n    var b: Int64\n    var c: Int8\n}\n")
        XCTAssertTrue(swiftOK)
        XCTAssertEqual(swift.rewritten["ok.swift"], "struct S {\n    var b: Int64\n    var a: Int8\n    var c: Int8\n}\n")
    }

    func testSafetyNetRefusesAWrongClaimOrUnparsableOutput() throws {
        let source = "package p\ntype S struct {\n\ta int8\n\tb int64\n\tc int8\n}\n"
        let (wrong, wrongOK) = try fix("claim.go", source) { $0.claims[0].stride += 8 }
        XCTAssertFalse(wrongOK)
        XCTAssertTrue(wrong.rewritten.isEmpty)
        XCTAssertEqual(wrong.changedStructs, 0)
        XCTAssertTrue(wrong.messages.contains { $0.contains("error: not writing") }, "\(wrong.messages)")
        let (broken, brokenOK) = try fix("broken.go", source) { o in
            for key in o.rewritten.keys { o.rewritten[key]! += "\n)\n" }
        }
        XCTAssertFalse(brokenOK)
        XCTAssertTrue(broken.rewritten.isEmpty)
    }
}
