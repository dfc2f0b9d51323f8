import Foundation
import XCTest
@testable import GoLayout

/// Go inputs at the edges: zero-size types, huge arrays, deep nesting and files that are not Go. Expected
/// values were measured with Go 1.19 (`unsafe.Sizeof`, `Alignof`, `Offsetof`) on linux/amd64.
final class GoEdgeCaseTests: XCTestCase {
    func reports(_ source: String) throws -> [String: StructReport] {
        let decls = try GoFrontEnd.structs(files: [("z.go", source)])
        return Dictionary(uniqueKeysWithValues: decls.map { ($0.name, StructReport($0)) })
    }

    func testZeroSizeFields() throws {
        let r = try reports("""
        package p
        type Z struct{}
        type Z2 struct {
            a struct{}
            b [0]int
        }
        type Z3 struct {
            a int64
            b struct{}
        }
        type Z4 struct {
            a int8
            b [0]int64
            c int8
        }
        """)
        // Go: Sizeof(Z) = 0, and an array of Z takes no room: the stride is 0, with no tail padding.
        XCTAssertEqual([r["Z"]?.size, r["Z"]?.stride, r["Z"]?.trailingPadding, r["Z"]?.paddingBytes], [0, 0, 0, 0])
        XCTAssertEqual([r["Z2"]?.size, r["Z2"]?.alignment, r["Z2"]?.stride], [0, 8, 0])
        XCTAssertEqual(r["Z2"]?.fields.map(\.offset), [0, 0])
        // A zero-size final field gets a byte so that its address stays inside the value: 8 + 1, rounded to 16.
        XCTAssertEqual([r["Z3"]?.size, r["Z3"]?.stride, r["Z3"]?.trailingPadding], [16, 16, 8])
        XCTAssertEqual(r["Z3"]?.fields.map(\.offset), [0, 8])
        XCTAssertEqual(r["Z4"]?.fields.map(\.offset), [0, 8, 8])
        XCTAssertEqual(r["Z4"]?.fields.map(\.paddingBefore), [0, 7, 0])
        XCTAssertEqual([r["Z4"]?.size, r["Z4"]?.trailingPadding], [16, 7])
        for report in r.values {
            XCTAssertTrue(report.fields.allSatisfy { ($0.paddingBefore ?? 0) >= 0 }, report.name)
            XCTAssertEqual((report.stride ?? 0) % (report.alignment ?? 1), 0, report.name)
        }
        XCTAssertFalse(TextReport.table(r["Z"]!).contains("tail padding"))
    }

    func testHugeArrayIsConstantTimeAndSpace() throws {
        let start = Date()
        let r = try reports("package p\ntype H struct { a [1099511627776]byte; b bool; p *int }\n")
        XCTAssertEqual(r["H"]?.size, 1_099_511_627_792)
        XCTAssertEqual(r["H"]?.fields.map(\.offset), [0, 1_099_511_627_776, 1_099_511_627_784])
        XCTAssertEqual(r["H"]?.pointerBytes, 1_099_511_627_792)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "array layout must not touch every byte")
    }

    func testArrayLargerThanAddressSpaceIsAnError() throws {
        // Go: "type [2305843009213693952]int64 larger than address space"; its limit is 1 << 50 bytes.
        for source in ["package p\ntype S struct { a [2305843009213693952]int64; b bool }\n",
                       "package p\ntype S struct { a [1125899906842624]byte }\n",
                       "package p\ntype S struct { a [99999999999999999999]byte }\n",
                       "package p\ntype S struct { a [562949953421312]byte; b [562949953421312]byte; c [562949953421312]byte }\n"] {
            XCTAssertThrowsError(try reports(source), source) { error in
                XCTAssertTrue("\(error)".contains("larger than address space"), "\(error)")
                XCTAssertTrue("\(error)".hasPrefix("z.go:2:"), "\(error)")
            }
        }
        XCTAssertEqual(try reports("package p\ntype S struct { a [1125899906842623]byte }\n")["S"]?.size,
                       1_125_899_906_842_623)
    }

    func testDeepNestingDoesNotOverflowTheStack() throws {
        let dir = try makeTemporaryDirectory("deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 20_000
        var go = "package p\n"
        for i in 0..<n { go += "type T\(i) struct { a T\(i + 1); b bool }\n" }
        go += "type T\(n) struct { b bool }\n"
        go += "type P struct { p \(String(repeating: "*", count: 50_000))int; b bool }\n"
        try go.write(to: dir.appendingPathComponent("deep.go"), atomically: true, encoding: .utf8)
        var swift = ""
        for i in 0..<6_000 { swift += "struct W\(i) { var a: W\(i + 1); var b: Bool }\n" }
        swift += "struct W6000 { var b: Bool }\n"
        try swift.write(to: dir.appendingPathComponent("deep.swift"), atomically: true, encoding: .utf8)
        let reports = try LayoutAnalyzer(model: .x86_64Linux).analyze([dir.path])
        let byName = Dictionary(uniqueKeysWithValues: reports.map { ($0.name, $0) })
        XCTAssertEqual(byName["T0"]?.size, n + 1)
        XCTAssertEqual(byName["P"]?.size, 16)
        XCTAssertEqual(byName["W0"]?.size, 6_001)
    }

    func testAbsurdDepthIsAnError() throws {
        // Beyond GoResolver.maxDepth levels the answer is an error, not a stack overflow (1M '*'s crashed even on
        // the large stack). This touches about 600 MB of stack in a debug build.
        let dir = try makeTemporaryDirectory("absurd")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("stars.go")
        try "package p\ntype P struct { p \(String(repeating: "*", count: GoResolver.maxDepth + 1))int }\n"
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LayoutAnalyzer(model: .x86_64Linux).analyze([file.path])) { error in
            XCTAssertTrue("\(error)".contains("nested more than \(GoResolver.maxDepth) levels deep"), "\(error)")
        }
    }

    func testGarbageIsASyntaxError() {
        let cases: [(String, String)] = [
            ("package p\nfunc {{{ ) type\n", "z.go:2:6:"),
            ("this is not go at all\n", "z.go:1:1:"),
            ("package p\ntype S struct { a int }\n)\n", "z.go:3:1:"),
            ("package p\nfunc f() {\n", "z.go:3:1:"),
            ("package p\nx := 1\n", "z.go:2:1:"),
        ]
        for (source, position) in cases {
            XCTAssertThrowsError(try reports(source), source) { error in
                XCTAssertTrue("\(error)".hasPrefix(position) && "\(error)".contains("syntax error"), "\(error)")
            }
        }
    }

    func testConstantExpressionArrayLengths() throws {
        let r = try reports(#"""
        package p

        const N = 3
        const M = N * 2
        const (
        	A = iota
        	B
        	C
        	_
        	E
        )
        const (
        	KB = 1 << (10 * (iota + 1))
        	MB
        )
        const T uint8 = 5
        const S = "abcd"
        const (
        	X, Y = iota + 1, iota * 10
        	Z, W
        )

        type K struct {
        	a [M]int8
        	b [N + 1]int16
        	c [len("abc")]byte
        	d [1 << 4]byte
        	e [E]byte
        	f [MB / KB]byte
        	g [T]byte
        	h [len(S)]byte
        	i [(N + 1) * 2 % 5]byte
        	j [0x10 &^ 0x4]byte
        	k [W]byte
        	l ['a' - 'A' - 30]byte
        	m [len("é\n\x41\u00e9")]byte
        	n [uintptr(2) | 1]byte
        	o [^-3]byte
        	p [C >> 1]byte
        }
        type Unknown struct {
            a [unsafe.Sizeof(x)]byte
            b [1 << 70]byte
        }
        """#)
        // Go 1.19: Sizeof(K) = 1114, and these offsets.
        XCTAssertEqual(r["K"]?.size, 1114)
        XCTAssertEqual(r["K"]?.fields.map(\.offset),
                       [0, 6, 14, 17, 33, 37, 1061, 1066, 1070, 1073, 1089, 1099, 1101, 1107, 1110, 1112])
        XCTAssertNil(r["Unknown"]?.size)
        XCTAssertEqual(r["Unknown"]?.fields.first?.unknown,
                       "array length 'unsafe.Sizeof(x)' is not a constant expression the tool evaluates")
    }

    func testValidShapesStillParse() throws {
        let r = try reports("""
        package p

        import (
            "fmt"
            u "unsafe"
        )
        import . "strings"

        var _ = fmt.Sprint
        var x, y = func() int { return 1 }(), u.Sizeof(0)
        const (
            a = iota
            b
        )
        type S struct { a int8 }
        func (s *S) M() interface{} { return nil }
        func g[T any](v T) (r struct{ x int }) { return }
        func h() map[string]interface{ M() } { return nil }
        func asm(x int) int
        func k() { type Local struct { z int16 }; _ = Local{} }
        """)
        XCTAssertEqual(Set(r.keys), ["S", "Local"])
    }
}
