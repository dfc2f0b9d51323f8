import Foundation
import XCTest
@testable import GoLayout

// Compiled into this test: the branches `compiler(...)` and `swift(...)` take here are the ground truth.
#if compiler(>=99)
private struct VC1 { var a: Int64 }
#else
private struct VC1 { var a: Int8 }
#endif
#if compiler(<6.0)
private struct VC2 { var a: Int64 }
#else
private struct VC2 { var a: Int16 }
#endif
#if swift(>=5.9)
private struct VC3 { var a: Int32 }
#else
private struct VC3 { var a: Int8 }
#endif
private struct VCUser { var a: Int8; var v1: VC1; var v2: VC2; var v3: VC3 }

/// `#if compiler(>=X)` and `swift(>=X)` are decided against the compiler the tool was built with, and a branch
/// they disable need not parse (swiftc does not parse it); a file that does not parse is skipped with its
/// error instead of ending the run.
final class SwiftVersionCheckTests: XCTestCase {
    func testVersionChecksAreDecided() throws {
        let source = """
        #if compiler(>=99)
        struct VC1 { var a: Int64 }
        #else
        struct VC1 { var a: Int8 }
        #endif
        #if compiler(<6.0)
        struct VC2 { var a: Int64 }
        #else
        struct VC2 { var a: Int16 }
        #endif
        #if swift(>=5.9)
        struct VC3 { var a: Int32 }
        #else
        struct VC3 { var a: Int8 }
        #endif
        struct VCUser { var a: Int8; var v1: VC1; var v2: VC2; var v3: VC3 }
        #if swift(>=6.0)
        struct VC4 { var a: Int64 }
        #else
        struct VC4 { var a: Int8 }
        #endif
        struct VC4User { var v: VC4 }
        """
        let decls = try SwiftFrontEnd.structs(files: [("v.swift", source)], model: .x86_64Linux)
        let user = decls.first { $0.name == "VCUser" }.map(StructReport.init)
        XCTAssertEqual(user?.size, MemoryLayout<VCUser>.size)
        XCTAssertEqual(user?.fields.map(\.offset), [0, MemoryLayout.offset(of: \VCUser.v1), MemoryLayout.offset(of: \VCUser.v2),
                                                    MemoryLayout.offset(of: \VCUser.v3)])
        XCTAssertEqual(SwiftIfConfig.versionCheck(">=6.3.1", against: [6, 3, 1]), true)
        XCTAssertEqual(SwiftIfConfig.versionCheck(">= 6.4", against: [6, 3, 1]), false)
        XCTAssertEqual(SwiftIfConfig.versionCheck("<6", against: [6, 3, 1]), false)
        // Language mode 5 or 6: unknowable, so VC4 is ambiguous.
        XCTAssertNil(decls.first { $0.name == "VC4User" }.map(StructReport.init)?.size)
    }

    /// swift-collections' UniqueBox.swift has `borrow`/`mutate` accessors under `#if compiler(>=6.4)`: swiftc
    /// 6.3 accepts the file, the tool stopped the whole run at it.
    func testSyntaxInADisabledVersionBranchNeedNotParse() throws {
        let source = """
        struct Point {
            var x: Int8
            var y: Int64
            var z: Int8
        }
        struct Box {
            var storage: Int
        #if compiler(>=99)
            var value: Int {
                borrow { storage }
                mutate { &storage }
            }
        #else
            var value: Int { storage }
        #endif
        }
        #if compiler(>=99)
        this is not Swift at all {
        #endif
        """
        let decls = try SwiftFrontEnd.structs(files: [("g.swift", source)], model: .x86_64Linux)
        XCTAssertEqual(decls.map(\.name), ["Point", "Box"])
        XCTAssertThrowsError(try SwiftFrontEnd.structs(files: [("g.swift", "#if compiler(>=1)\nthis is not Swift {\n#endif\n")],
                                                       model: .x86_64Linux))
    }

    func testUnparsableFileIsSkippedNotFatal() throws {
        let dir = try makeTemporaryDirectory("skip")
        defer { try? FileManager.default.removeItem(at: dir) }
        try "struct Good { var a: Int8 }\n".write(to: dir.appendingPathComponent("a.swift"), atomically: true, encoding: .utf8)
        try "struct Bad {\n  var x: = \n".write(to: dir.appendingPathComponent("b.swift"), atomically: true, encoding: .utf8)
        try "package p\ntype S struct {\n".write(to: dir.appendingPathComponent("c.go"), atomically: true, encoding: .utf8)
        try "package p\ntype T struct{ a int8 }\n".write(to: dir.appendingPathComponent("d.go"), atomically: true, encoding: .utf8)
        let analyzer = LayoutAnalyzer(model: .x86_64Linux)
        let result = try analyzer.structsSkippingUnparsable([dir.path])
        XCTAssertEqual(result.structs.map(\.name), ["Good", "T"])
        XCTAssertEqual(result.skipped.map { ($0.file as NSString).lastPathComponent }, ["b.swift", "c.go"])
        XCTAssertThrowsError(try analyzer.structs([dir.path]))
    }
}
