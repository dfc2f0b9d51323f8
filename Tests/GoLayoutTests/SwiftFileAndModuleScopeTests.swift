import Foundation
import XCTest
@testable import GoLayout

/// Which declaration a Swift name means when several files or modules declare it. Expected values measured
/// with swiftc 6.3.1 (`MemoryLayout` in a program built from the same files; for modules, Lib built as a
/// library and App compiled against it).
final class SwiftFileAndModuleScopeTests: XCTestCase {
    /// Each file's `private struct Entry` is its own: BUser took A.swift's 16-byte Entry (25 bytes, swiftc: 3).
    func testPrivateTypesResolveInTheirOwnFileFirst() throws {
        let a = """
        private struct Entry {
            var a: Int64
            var b: Int64
        }
        struct AUser {
            fileprivate var e: Entry
            var flag: Int8
        }
        """
        let b = """
        private struct Entry {
            var a: Int8
        }
        struct BUser {
            var flag: Int8
            fileprivate var e: Entry
            var flag2: Int8
        }
        """
        let decls = try SwiftFrontEnd.structs(files: [("A.swift", a), ("B.swift", b)], model: .x86_64Linux)
        let r = Dictionary(decls.map { ($0.name, StructReport($0)) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual([r["AUser"]?.size, r["AUser"]?.alignment], [17, 8])   // swiftc: AUser 17 8
        XCTAssertEqual([r["BUser"]?.size, r["BUser"]?.alignment], [3, 1])    // swiftc: BUser 3 1
    }

    /// `Lib.Storage` names the Storage of Sources/Lib when it is among the analyzed files.
    func testModuleQualifiedNameResolvesToThatModulesType() throws {
        let dir = try makeTemporaryDirectory("modq")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for m in ["App", "Lib", "Aaa"] {
            try fm.createDirectory(at: dir.appendingPathComponent("Sources/\(m)"), withIntermediateDirectories: true)
        }
        try """
        import Lib
        struct Message {
            var flag: Int8
            var storage: Lib.Storage
        }
        struct Message2 {
            var flag: Int8
            var storage: Storage
        }
        """.write(to: dir.appendingPathComponent("Sources/App/Message.swift"), atomically: true, encoding: .utf8)
        try "public struct Storage {\n    public var a: Int64\n    public var b: Int8\n}\n"
            .write(to: dir.appendingPathComponent("Sources/Lib/Storage.swift"), atomically: true, encoding: .utf8)
        // Another module's Storage, first in path order: not the one Lib.Storage means.
        try "public struct Storage { public var a: Int8 }\n"
            .write(to: dir.appendingPathComponent("Sources/Aaa/Storage.swift"), atomically: true, encoding: .utf8)
        let reports = try LayoutAnalyzer(model: .x86_64Linux).analyze([dir.path])
        let message = reports.first { $0.name == "Message" }
        XCTAssertEqual([message?.size, message?.alignment], [17, 8])   // swiftc: Message 17 8
        XCTAssertEqual(SwiftDeclarations.moduleName(of: "x/Sources/Lib/Sub/a.swift"), "Lib")
        XCTAssertNil(SwiftDeclarations.moduleName(of: "x/Sources/a.swift"))
    }
}
