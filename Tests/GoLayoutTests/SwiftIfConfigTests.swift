import XCTest
@testable import GoLayout

/// `#if` at file scope and inside types: the branch the target takes when the tool can decide, every possible
/// branch (with unknowns where it matters) when it cannot.
final class SwiftIfConfigTests: XCTestCase {
    static let source = """
    #if os(Linux)
    struct A { var x: Int64 }
    #else
    struct A { var x: Int8 }
    #endif
    struct UsesA { var a: Int8; var b: A }
    #if canImport(Foo)
    struct B { var x: Int64 }
    #else
    struct B { var x: Int8 }
    #endif
    struct UsesB { var b: B }
    #if DEBUG
    struct C { var c: Int32 }
    #endif
    struct UsesC { var c: C }
    #if arch(arm64) && !os(Windows)
    struct D { var d: Int16 }
    #elseif (arch(x86_64) || false) && _endian(little)
    struct D { var d: Int32 }
    #endif
    struct F {
        var a: Int8
        #if os(Linux)
        var l: Int64
        #else
        var m: Int32
        #endif
    }
    struct G {
        var a: Int8
        #if DEBUG
        var dbg: Int8
        #endif
        #if os(Linux)
        struct Nested { var n: Int16 }
        #endif
    }
    enum H {
        case a
        #if DEBUG
        case b(Int64)
        #endif
    }
    struct UsesH { var h: H }
    """

    func reports(_ model: DataModel) throws -> [String: [StructReport]] {
        let decls = try SwiftFrontEnd.structs(files: [("t.swift", Self.source)], model: model)
        return Dictionary(grouping: decls.map(StructReport.init), by: \.name)
    }

    func testDecidableBranchesAreTakenAtFileScopeAndInTypes() throws {
        let r = try reports(.x86_64Linux)
        XCTAssertEqual(r["A"]?.map(\.size), [8])
        XCTAssertEqual(r["UsesA"]?.first?.size, 16)
        XCTAssertEqual(r["D"]?.map(\.size), [4])
        XCTAssertEqual(r["F"]?.first?.fields.map(\.name), ["a", "l"])
        XCTAssertEqual(r["F"]?.first?.size, 16)
        XCTAssertEqual(r["G.Nested"]?.first?.size, 2)
        let arm = try reports(.arm64Linux)
        XCTAssertEqual(arm["D"]?.map(\.size), [2])
        let darwin = try reports(.x86_64Darwin)
        XCTAssertEqual(darwin["A"]?.map(\.size), [1])
        XCTAssertEqual(darwin["UsesA"]?.first?.size, 2)
        XCTAssertNil(darwin["G.Nested"])
    }

    func testUndecidableBranchesAreReportedAndNeverGuessed() throws {
        let r = try reports(.x86_64Linux)
        XCTAssertEqual(r["B"]?.map(\.size), [8, 1])
        XCTAssertNil(r["UsesB"]?.first?.size)
        XCTAssertTrue(r["UsesB"]?.first?.unknown?.contains("several branches of a #if") == true)
        XCTAssertEqual(r["C"]?.map(\.size), [4])
        XCTAssertEqual(r["UsesC"]?.first?.size, 4)
        XCTAssertNil(r["G"]?.first?.size)
        XCTAssertTrue(r["G"]?.first?.fields.last?.unknown?.contains("#if") == true)
        XCTAssertNil(r["UsesH"]?.first?.size)
    }
}
