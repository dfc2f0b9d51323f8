import Foundation
import XCTest
@testable import GoLayout

// Compiled into this test, so `MemoryLayout` is the ground truth; each test's source repeats them.

// A generic type naming itself through a pointer, a class, a key path: one word whatever the arguments.
private struct GNode<T> { var value: T; var next: UnsafeMutablePointer<GNode<T>>? }
private struct GList { var head: GNode<Int>; var count: Int8 }
private final class GBox<T> { var value: T; init(_ value: T) { self.value = value } }
private struct GList2<T> { var head: T; var tail: GBox<GList2<T>>? }
private struct GUser { var list: GList2<Int>; var flag: Int8 }
private final class GRef<T> {}
private struct GG<T> { var t: T; var g: GRef<GG<GG<T>>> }
private struct GR6 { var g: GG<Int8>; var a: Int8 }
private struct GK<T> { var t: T; var k: KeyPath<GK<GK<T>>, Int>? }
private struct GKUser { var k: GK<Int8>; var a: Int8 }

// Nested declarations see the enclosing type's generic parameters (which shadow a file-scope type).
private struct OValue { var a: Int64; var b: Int64 }
private struct OCache<OValue> {
    struct Entry { var value: OValue; var hits: Int8 }
    typealias Stored = OValue
    var first: Entry
    var last: Stored
}
private struct OUser { var cache: OCache<Int8>; var flag: Int8 }
private struct OUser2 { var e: OCache<Int16>.Entry; var flag: Int8 }
private struct OKinds<T> { enum Kind { case a(T), b }; var kind: Self.Kind; var x: Int8 }
private struct OKindsUser { var k: OKinds<Bool>; var j: OKinds<Int32>; var x: Int8 }
private struct OSelf { enum Kind: UInt8 { case a, b }; var kind: Self.Kind; var x: Int64 }

final class SwiftGenericScopeTests: XCTestCase {
    func reports(_ source: String) throws -> [String: StructReport] {
        let decls = try SwiftFrontEnd.structs(files: [("t.swift", source)], model: .x86_64Linux)
        return Dictionary(decls.map { ($0.name, StructReport($0)) }, uniquingKeysWith: { a, _ in a })
    }

    func check<T>(_ r: [String: StructReport], _ name: String, _ type: T.Type, file: StaticString = #filePath,
                  line: UInt = #line) {
        XCTAssertEqual(r[name]?.size, MemoryLayout<T>.size, name, file: file, line: line)
        XCTAssertEqual(r[name]?.alignment, MemoryLayout<T>.alignment, name, file: file, line: line)
        XCTAssertEqual(r[name]?.stride, MemoryLayout<T>.stride, name, file: file, line: line)
    }

    /// These crashed a debug build (stack overflow) and ran for minutes in a release one: every argument
    /// was resolved, classes' and pointers' included, and `Ref<G<G<T>>>` instantiates without end.
    func testGenericSelfReferenceThroughPointerClassOrKeyPath() throws {
        let start = Date()
        let r = try reports("""
        struct GNode<T> { var value: T; var next: UnsafeMutablePointer<GNode<T>>? }
        struct GList { var head: GNode<Int>; var count: Int8 }
        final class GBox<T> { var value: T; init(_ value: T) { self.value = value } }
        struct GList2<T> { var head: T; var tail: GBox<GList2<T>>? }
        struct GUser { var list: GList2<Int>; var flag: Int8 }
        final class GRef<T> {}
        struct GG<T> { var t: T; var g: GRef<GG<GG<T>>> }
        struct GR6 { var g: GG<Int8>; var a: Int8 }
        struct GK<T> { var t: T; var k: KeyPath<GK<GK<T>>, Int>? }
        struct GKUser { var k: GK<Int8>; var a: Int8 }
        """)
        XCTAssertEqual(MemoryLayout<GList>.size, 17)
        check(r, "GList", GList.self)
        check(r, "GUser", GUser.self)
        check(r, "GR6", GR6.self)
        check(r, "GKUser", GKUser.self)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    /// A type holding itself by value through its own instantiation is infinite for the compiler: a clear
    /// unknown here, quickly.
    func testUnboundedInstantiationIsUnknown() throws {
        let r = try reports("""
        struct Bad<T> { var t: T; var b: Bad<Bad<T>>? }
        struct UsesBad { var b: Bad<Int8>; var a: Int8 }
        """)
        XCTAssertNil(r["UsesBad"]?.size)
        XCTAssertTrue(r["UsesBad"]?.fields.first?.unknown?.contains("recursive generic instantiation of Bad") == true,
                      "\(String(describing: r["UsesBad"]?.fields.first?.unknown))")
    }

    /// `Entry` inside `Cache<Value>` named `Value` the file-scope struct (17 bytes, where swiftc says 2), or
    /// "type T is not declared" without one.
    func testNestedTypesSeeTheEnclosingGenericParameters() throws {
        let r = try reports("""
        struct OValue { var a: Int64; var b: Int64 }
        struct OCache<OValue> {
            struct Entry { var value: OValue; var hits: Int8 }
            typealias Stored = OValue
            var first: Entry
            var last: Stored
        }
        struct OUser { var cache: OCache<Int8>; var flag: Int8 }
        struct OUser2 { var e: OCache<Int16>.Entry; var flag: Int8 }
        struct OKinds<T> { enum Kind { case a(T), b }; var kind: Self.Kind; var x: Int8 }
        struct OKindsUser { var k: OKinds<Bool>; var j: OKinds<Int32>; var x: Int8 }
        struct OSelf { enum Kind: UInt8 { case a, b }; var kind: Self.Kind; var x: Int64 }
        """)
        XCTAssertEqual(MemoryLayout<OCache<Int8>.Entry>.size, 2)
        check(r, "OUser", OUser.self)
        check(r, "OUser2", OUser2.self)
        check(r, "OKindsUser", OKindsUser.self)
        check(r, "OSelf", OSelf.self)
        XCTAssertTrue(r["OCache.Entry"]?.fields.first?.unknown?.contains("generic parameter OValue") == true)
    }

    /// `any WritableKeyPath<...>` named a standard library class a protocol.
    func testKeyPathInAnExistentialIsNotCalledAProtocol() throws {
        let r = try reports("struct S { var a: Int }\nstruct K { var k: any WritableKeyPath<S, Int> }")
        XCTAssertEqual(r["K"]?.fields.first?.unknown, "WritableKeyPath is a class of the standard library, not a protocol")
    }
}
