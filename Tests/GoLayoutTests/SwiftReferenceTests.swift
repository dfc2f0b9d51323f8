import XCTest
@testable import GoLayout

// Compiled into this test, so `MemoryLayout` is the ground truth; `source` below repeats them.
private protocol RCP: AnyObject {}
private protocol RCP2: AnyObject {}
private protocol RP {}
private protocol RQ {}
private final class RK: RCP, RCP2 {}
private struct RW1 { weak var a: (any RCP)? }
private struct RW2 { weak var a: (any RCP & RCP2)? }
private struct RW3 { weak var x: AnyObject?; var b: Int8 }
private struct RU1 { unowned var a: any RCP }
private struct RU2 { unowned var a: any RCP & RCP2 }
private struct RU3 { unowned(unsafe) var a: any RCP }
private enum RE1 { case a(RW1), b(Int8) }
private enum RE2 { case a(RU1), b(Int8), c }
private struct RH { var e1: RE1; var e2: RE2; var w1: RW1?; var w1o: RW1??; var u1: RU1?; var u1o: RU1??; var k: Int8 }
private struct RPair<A, B> { var a: A; var b: B }
private struct RM1 { var a: Int8; var m: RP.Protocol; var b: Int8 }
private struct RM2 { var a: Int8; var m: (any RP).Type; var b: Int8 }
private struct RM3 { var a: Int8; var m: any Error.Type; var b: Int8 }
private struct RM4 { var a: Int8; var m: Error.Protocol; var b: Int8 }
private struct RM5 { var a: Int8; var m: RP.Type; var b: Int8 }
private struct RM6 { var a: Int8; var m: (any RP & RQ).Type; var b: Int8 }
private struct RM7 { var a: Int8; var m: RPair<RP.Protocol, Int8>; var b: Int8 }
private struct RM8 { var a: Int8; var m: (any Error.Type)?; var b: Int8 }
private struct RM9 { var a: Int8; var m: any (RP & Error).Type; var b: Int8 }

/// Weak and unowned class existentials, and metatypes of protocols and existentials.
final class SwiftReferenceTests: XCTestCase {
    static let source = """
    protocol RCP: AnyObject {}
    protocol RCP2: AnyObject {}
    protocol RP {}
    protocol RQ {}
    final class RK: RCP, RCP2 {}
    struct RW1 { weak var a: (any RCP)? }
    struct RW2 { weak var a: (any RCP & RCP2)? }
    struct RW3 { weak var x: AnyObject?; var b: Int8 }
    struct RU1 { unowned var a: any RCP }
    struct RU2 { unowned var a: any RCP & RCP2 }
    struct RU3 { unowned(unsafe) var a: any RCP }
    enum RE1 { case a(RW1), b(Int8) }
    enum RE2 { case a(RU1), b(Int8), c }
    struct RH { var e1: RE1; var e2: RE2; var w1: RW1?; var w1o: RW1??; var u1: RU1?; var u1o: RU1??; var k: Int8 }
    struct RPair<A, B> { var a: A; var b: B }
    struct RM1 { var a: Int8; var m: RP.Protocol; var b: Int8 }
    struct RM2 { var a: Int8; var m: (any RP).Type; var b: Int8 }
    struct RM3 { var a: Int8; var m: any Error.Type; var b: Int8 }
    struct RM4 { var a: Int8; var m: Error.Protocol; var b: Int8 }
    struct RM5 { var a: Int8; var m: RP.Type; var b: Int8 }
    struct RM6 { var a: Int8; var m: (any RP & RQ).Type; var b: Int8 }
    struct RM7 { var a: Int8; var m: RPair<RP.Protocol, Int8>; var b: Int8 }
    struct RM8 { var a: Int8; var m: (any Error.Type)?; var b: Int8 }
    struct RM9 { var a: Int8; var m: any (RP & Error).Type; var b: Int8 }
    """

    func reports() throws -> [String: StructReport] {
        let decls = try SwiftFrontEnd.structs(files: [("t.swift", Self.source)], model: .x86_64Linux)
        return Dictionary(uniqueKeysWithValues: decls.map { ($0.name, StructReport($0)) })
    }

    func check<T>(_ r: [String: StructReport], _ name: String, _ type: T.Type, offsets: [Int?], file: StaticString = #filePath,
                  line: UInt = #line) {
        XCTAssertEqual(r[name]?.size, MemoryLayout<T>.size, name, file: file, line: line)
        XCTAssertEqual(r[name]?.alignment, MemoryLayout<T>.alignment, name, file: file, line: line)
        XCTAssertEqual(r[name]?.fields.map(\.offset), offsets, name, file: file, line: line)
    }

    func testWeakAndUnownedClassExistentialsKeepTheirWitnessTables() throws {
        let r = try reports()
        XCTAssertEqual(MemoryLayout<RW1>.size, 16)
        check(r, "RW1", RW1.self, offsets: [0])
        check(r, "RW2", RW2.self, offsets: [0])
        check(r, "RW3", RW3.self, offsets: [0, MemoryLayout.offset(of: \RW3.b)])
        check(r, "RU1", RU1.self, offsets: [0])
        check(r, "RU2", RU2.self, offsets: [0])
        check(r, "RU3", RU3.self, offsets: [0])
        check(r, "RH", RH.self, offsets: [0, MemoryLayout.offset(of: \RH.e2), MemoryLayout.offset(of: \RH.w1),
                                          MemoryLayout.offset(of: \RH.w1o), MemoryLayout.offset(of: \RH.u1),
                                          MemoryLayout.offset(of: \RH.u1o), MemoryLayout.offset(of: \RH.k)])
    }

    func testProtocolAndExistentialMetatypes() throws {
        let r = try reports()
        XCTAssertEqual(MemoryLayout<RM3>.size, 25)
        check(r, "RM1", RM1.self, offsets: [0, 0, MemoryLayout.offset(of: \RM1.b)])
        check(r, "RM2", RM2.self, offsets: [0, 0, MemoryLayout.offset(of: \RM2.b)])
        check(r, "RM3", RM3.self, offsets: [0, 8, MemoryLayout.offset(of: \RM3.b)])
        check(r, "RM4", RM4.self, offsets: [0, 0, MemoryLayout.offset(of: \RM4.b)])
        check(r, "RM5", RM5.self, offsets: [0, 8, MemoryLayout.offset(of: \RM5.b)])
        check(r, "RM6", RM6.self, offsets: [0, 0, MemoryLayout.offset(of: \RM6.b)])
        check(r, "RM7", RM7.self, offsets: [0, 8, MemoryLayout.offset(of: \RM7.b)])
        check(r, "RM8", RM8.self, offsets: [0, 8, MemoryLayout.offset(of: \RM8.b)])
        check(r, "RM9", RM9.self, offsets: [0, 8, MemoryLayout.offset(of: \RM9.b)])
    }
}

// Name lookup inside an extension of a nested type: the extended type's members, then file scope.
private struct LInner { var a: Int8 }
private enum LNS {
    struct LInner { var q: Int64 }
    struct User {}
    struct Lex { struct Deep { var y: LInner } }
}
extension LNS.User { fileprivate struct Deep { var y: LInner } }
extension LNS.User { fileprivate struct Own { var z: Int32 } }
extension LNS.User { fileprivate struct UsesOwn { var o: Own } }
extension LNS { fileprivate struct Ext { var y: LInner } }

final class SwiftExtensionScopeTests: XCTestCase {
    func testExtensionOfNestedTypeDoesNotSeeTheParentsMembers() throws {
        let source = """
        struct LInner { var a: Int8 }
        enum LNS {
            struct LInner { var q: Int64 }
            struct User {}
            struct Lex { struct Deep { var y: LInner } }
        }
        extension LNS.User { struct Deep { var y: LInner } }
        extension LNS.User { struct Own { var z: Int32 } }
        extension LNS.User { struct UsesOwn { var o: Own } }
        extension LNS { struct Ext { var y: LInner } }
        """
        let decls = try SwiftFrontEnd.structs(files: [("t.swift", source)], model: .x86_64Linux)
        let r = Dictionary(uniqueKeysWithValues: decls.map { ($0.name, StructReport($0)) })
        XCTAssertEqual(MemoryLayout<LNS.User.Deep>.size, 1)
        XCTAssertEqual(r["LNS.User.Deep"]?.size, MemoryLayout<LNS.User.Deep>.size)
        XCTAssertEqual(r["LNS.Lex.Deep"]?.size, MemoryLayout<LNS.Lex.Deep>.size)
        XCTAssertEqual(r["LNS.User.UsesOwn"]?.size, MemoryLayout<LNS.User.UsesOwn>.size)
        XCTAssertEqual(r["LNS.Ext"]?.size, MemoryLayout<LNS.Ext>.size)
    }
}

// InlineArray (both spellings), SIMD vectors and their masks, in enums whose tags go in spare bits or padding.
private final class VK {}
private struct VW { var x: Int32; var y: Int8 }
private enum VX1 { case a(InlineArray<2, Bool>), b(Bool) }
private enum VX2 { case a(InlineArray<2, VK>), b(VK) }
private enum VX4 { case a([2 of Int8]), b(Int8) }
private enum VX5 { case a(InlineArray<2, VW>), b(Int8) }
private struct VS { var a: Int8; var ia: InlineArray<2, VW>; var o: [3 of Bool]?; var v3: SIMD3<Float>; var m: SIMDMask<SIMD2<Int64>>
                    var e1: VX1; var e2: VX2; var e4: VX4; var e5: VX5; var z: [0 of Int]; var v2: SIMD2<UInt8>; var k: Int8 }

final class SwiftVectorTests: XCTestCase {
    func testInlineArraysAndSIMDVectors() throws {
        let source = """
        final class VK {}
        struct VW { var x: Int32; var y: Int8 }
        enum VX1 { case a(InlineArray<2, Bool>), b(Bool) }
        enum VX2 { case a(InlineArray<2, VK>), b(VK) }
        enum VX4 { case a([2 of Int8]), b(Int8) }
        enum VX5 { case a(InlineArray<2, VW>), b(Int8) }
        struct VS { var a: Int8; var ia: InlineArray<2, VW>; var o: [3 of Bool]?; var v3: SIMD3<Float>; var m: SIMDMask<SIMD2<Int64>>
                    var e1: VX1; var e2: VX2; var e4: VX4; var e5: VX5; var z: [0 of Int]; var v2: SIMD2<UInt8>; var k: Int8 }
        """
        let decls = try SwiftFrontEnd.structs(files: [("t.swift", source)], model: .x86_64Linux)
        let r = try XCTUnwrap(decls.map(StructReport.init).first { $0.name == "VS" })
        XCTAssertEqual(r.size, MemoryLayout<VS>.size)
        XCTAssertEqual(r.alignment, MemoryLayout<VS>.alignment)
        XCTAssertEqual(r.fields.map(\.offset), [0, MemoryLayout.offset(of: \VS.ia), MemoryLayout.offset(of: \VS.o),
                                                MemoryLayout.offset(of: \VS.v3), MemoryLayout.offset(of: \VS.m),
                                                MemoryLayout.offset(of: \VS.e1), MemoryLayout.offset(of: \VS.e2),
                                                MemoryLayout.offset(of: \VS.e4), MemoryLayout.offset(of: \VS.e5),
                                                MemoryLayout.offset(of: \VS.z), MemoryLayout.offset(of: \VS.v2),
                                                MemoryLayout.offset(of: \VS.k)])
        XCTAssertEqual(r.fields.map(\.size), [1, 16, 3, 16, 16, 2, 16, 3, 16, 0, 2, 1])
    }
}
