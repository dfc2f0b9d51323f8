import XCTest
@testable import GoLayout

// Declared here so that `MemoryLayout` in this test process is the ground truth; `source` below repeats them.
private final class GC {}
private struct GBox<T> { var a: Bool; var v: T }
private struct GPhantom<T> { var x: Int8 }
private enum GE<T> { case a(T), b(GC) }
private enum GE2<T, U> { case a(T), b(U) }
private enum GE10<T> { case a(GBox<T>), b(Bool) }
private enum GArr<T> { case a([T]), b(Bool) }
private enum GPh<T> { case a(GPhantom<T>), b(GC) }
private enum GFixed<T> { case a(Int8), b(Bool) }
private enum GEmpties<T> { case a(T), b(GC), e1, e2 }
private enum NonGeneric { case x(Result<Int8, any Error>), y(Int8) }
private struct S1 { var x: Result<Int8, any Error>; var y: AnyObject }

/// Swift lays out a generic multi-payload enum in its generic context: when a payload depends on a type
/// parameter, no spare bits are used and the tag takes an extra byte, whatever the type arguments.
final class GenericEnumTests: XCTestCase {
    static let source = """
    final class GC {}
    struct GBox<T> { var a: Bool; var v: T }
    struct GPhantom<T> { var x: Int8 }
    enum GE<T> { case a(T), b(GC) }
    enum GE2<T, U> { case a(T), b(U) }
    enum GE10<T> { case a(GBox<T>), b(Bool) }
    enum GArr<T> { case a([T]), b(Bool) }
    enum GPh<T> { case a(GPhantom<T>), b(GC) }
    enum GFixed<T> { case a(Int8), b(Bool) }
    enum GEmpties<T> { case a(T), b(GC), e1, e2 }
    enum NonGeneric { case x(Result<Int8, any Error>), y(Int8) }
    struct S1 { var x: Result<Int8, any Error>; var y: AnyObject }
    struct Probe {
        var r1: Result<Int8, any Error>
        var r2: Result<Bool, Never>
        var r3: Result<Int, Never>
        var g1: GE<GC>
        var g2: GE2<Bool, Bool>
        var g3: GE2<Void, Int>
        var g4: GE10<Bool>
        var g5: GArr<Int>
        var g6: GPh<Int>
        var g7: GFixed<Int>
        var g8: GEmpties<Bool>
        var g9: GE2<Bool, Bool>?
        var n1: NonGeneric
    }
    """

    func testGenericPayloadsGetNoSpareBits() throws {
        let decls = try SwiftFrontEnd.structs(files: [("g.swift", Self.source)], model: .x86_64Linux)
        let probe = try XCTUnwrap(decls.first { $0.name == "Probe" })
        let sizes = probe.fields.map { $0.resolved.layout?.size }
        let expected: [Int] = [
            MemoryLayout<Result<Int8, any Error>>.size, MemoryLayout<Result<Bool, Never>>.size,
            MemoryLayout<Result<Int, Never>>.size, MemoryLayout<GE<GC>>.size, MemoryLayout<GE2<Bool, Bool>>.size,
            MemoryLayout<GE2<Void, Int>>.size, MemoryLayout<GE10<Bool>>.size, MemoryLayout<GArr<Int>>.size,
            MemoryLayout<GPh<Int>>.size, MemoryLayout<GFixed<Int>>.size, MemoryLayout<GEmpties<Bool>>.size,
            MemoryLayout<GE2<Bool, Bool>?>.size, MemoryLayout<NonGeneric>.size,
        ]
        XCTAssertEqual(sizes, expected.map { Optional($0) }, "fields: \(probe.fields.map(\.name))")
        // The tester's figures, as swiftc 6.3 gives them on x86_64 Linux.
        XCTAssertEqual(expected.prefix(7), [9, 2, 9, 9, 2, 9, 3])
        let s1 = try XCTUnwrap(decls.first { $0.name == "S1" }.map(StructReport.init))
        XCTAssertEqual(s1.size, MemoryLayout<S1>.size)
        XCTAssertEqual(s1.stride, 24)
    }
}
