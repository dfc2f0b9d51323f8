import XCTest
@testable import GoLayout

// Compiled into this test, so `MemoryLayout` is the ground truth; the sources below repeat them.
private struct Multi {
    var a: Int8 = 0, b: Int64 = 0
    var c, d: Int8
    var (e, f): (Int8, Int32) = (1, 2)
    var (_, g): (Int8, Int16) = (1, 2)
    var (h, (i, j)): (Int8, (Int64, Int8)) = (1, (2, 3))
}
private struct E { var a: Int8; var e: (); var b: Int64; var z: (Int.Type, ()) }

/// Stored properties declared by tuple patterns, and empty fields.
final class SwiftPatternTests: XCTestCase {
    func report(_ source: String, _ name: String) throws -> StructReport {
        let decls = try SwiftFrontEnd.structs(files: [("t.swift", source)], model: .x86_64Linux)
        return try XCTUnwrap(decls.first { $0.name == name }.map(StructReport.init))
    }

    func testTuplePatternDeclaresOneFieldPerName() throws {
        let r = try report("""
        struct Multi {
            var a: Int8 = 0, b: Int64 = 0
            var c, d: Int8
            var (e, f): (Int8, Int32) = (1, 2)
            var (_, g): (Int8, Int16) = (1, 2)
            var (h, (i, j)): (Int8, (Int64, Int8)) = (1, (2, 3))
        }
        """, "Multi")
        XCTAssertEqual(r.fields.map(\.name), ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
        let m = MemoryLayout<Multi>.self
        XCTAssertEqual(r.fields.map(\.offset), [
            m.offset(of: \.a), m.offset(of: \.b), m.offset(of: \.c), m.offset(of: \.d), m.offset(of: \.e),
            m.offset(of: \.f), m.offset(of: \.g), m.offset(of: \.h), m.offset(of: \.i), m.offset(of: \.j),
        ])
        XCTAssertEqual(r.size, m.size)
        XCTAssertEqual(r.stride, m.stride)
    }

    func testTuplePatternWithoutAnnotationInfersEachElement() throws {
        let r = try report("struct T { var (a, b) = (1, true); var c: Int8 = 0 }", "T")
        XCTAssertEqual(r.fields.map(\.name), ["a", "b", "c"])
        XCTAssertEqual(r.fields.map(\.offset), [0, 8, 9])
    }

    func testEmptyFieldsNeitherMoveTheEndNorInventPadding() throws {
        let r = try report("struct E { var a: Int8; var e: (); var b: Int64; var z: (Int.Type, ()) }", "E")
        let m = MemoryLayout<E>.self
        // MemoryLayout gives no offset for z (an empty tuple of thin metatypes); IRGen puts empty fields at 0.
        XCTAssertEqual(r.fields.map(\.offset), [m.offset(of: \.a), m.offset(of: \.e), m.offset(of: \.b), 0])
        XCTAssertEqual(r.fields.map(\.paddingBefore), [0, 0, 7, 0])
        XCTAssertEqual([r.size, r.stride, r.trailingPadding, r.paddingBytes], [m.size, m.stride, 0, 7])
        let text = TextReport.table(r)
        XCTAssertFalse(text.contains("tail padding"), text)
        XCTAssertEqual(text.components(separatedBy: "hole").count - 1, 1, text)
    }
}
