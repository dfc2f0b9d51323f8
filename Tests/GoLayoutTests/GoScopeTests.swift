import XCTest
@testable import GoLayout

/// Go names declared in functions, and `type T [N * M]E`. Expected values measured with Go 1.19 on
/// linux/amd64 (`unsafe.Sizeof`, `Alignof`, `Offsetof`: `go run` of the same source with a main printing them).
final class GoScopeTests: XCTestCase {
    func reports(_ source: String) throws -> [StructReport] {
        try GoFrontEnd.structs(files: [("s.go", source)]).map(StructReport.init)
    }

    /// Local types and constants resolved at package scope: `L` took the package's `B` (int64) and `n` (4),
    /// and the second `args` of the table-test pattern was the first one.
    func testTypesAndConstantsDeclaredInFunctionsAreLocal() throws {
        let r = try reports("""
        package main
        const n = 4
        type B struct{ x int64 }
        func f() {
            const n = 8
            type B struct{ x int8 }
            type L struct {
                a [n]byte
                b B
            }
        }
        func g() {
            type args struct {
                a int8
                b int8
            }
            type M struct {
                x args
                y int8
            }
        }
        func h() {
            type args struct {
                a int64
                b int64
            }
            type N struct {
                x args
                y int8
            }
        }
        type P struct {
            a [n]byte
            b B
        }
        """)
        func layout(_ name: String) -> [Int?] {
            guard let s = r.first(where: { $0.name == name }) else { return [] }
            return [s.size, s.alignment] + s.fields.map(\.offset)
        }
        XCTAssertEqual(layout("L"), [9, 1, 0, 8])     // go: L 9 1 8
        XCTAssertEqual(layout("M"), [3, 1, 0, 2])     // go: M 3 1 2
        XCTAssertEqual(layout("N"), [24, 8, 0, 16])   // go: N 24 8 16
        XCTAssertEqual(layout("P"), [16, 8, 0, 8])    // package scope: n = 4, B = struct{ int64 }
    }

    /// A local type is visible from its declaration on; before it, the package's is meant.
    func testLocalTypeShadowsThePackagesFromItsDeclarationOn() throws {
        let r = try reports("""
        package main
        type B struct{ x int64 }
        func main() {
            type Before struct {
                a byte
                b B
            }
            type B struct{ x int8 }
            type L struct {
                a byte
                b B
                c byte
            }
        }
        """)
        XCTAssertEqual(r.first { $0.name == "L" }.map { [$0.size, $0.alignment] }, [3, 1])        // go: L 3 1
        XCTAssertEqual(r.first { $0.name == "Before" }.map { [$0.size, $0.alignment] }, [16, 8])
    }

    /// `type Buf [N * M]int8` is an array (go/parser's extractName), not a generic type with parameter N.
    func testProductArrayLengthIsNotATypeParameterList() throws {
        let r = try reports("""
        package main
        const N = 2
        const M = 3
        type Buf [N * M]int8
        type Packet struct {
            buf  Buf
            kind int8
        }
        type G[P *C, C any] struct {
            p P
            c C
        }
        type H[P *[]int] struct{ p P }
        type UsesG struct {
            g G[*int8, int8]
            h H[*[]int]
        }
        """)
        XCTAssertEqual(r.first { $0.name == "Packet" }?.size, 7)   // go: Sizeof(Buf{}) 6, Sizeof(Packet{}) 7
        XCTAssertEqual(r.first { $0.name == "UsesG" }?.size, 24)
    }
}
