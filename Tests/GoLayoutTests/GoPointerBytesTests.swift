import XCTest
@testable import GoLayout

/// fieldalignment's second finding: an order of the same size in which the GC scans fewer bytes.
final class GoPointerBytesTests: XCTestCase {
    func reports(_ source: String) throws -> [String: StructReport] {
        let decls = try GoFrontEnd.structs(files: [("z.go", source)])
        return Dictionary(uniqueKeysWithValues: decls.map { ($0.name, StructReport($0)) })
    }

    func testSameSizeFewerPointerBytesIsAFinding() throws {
        let r = try reports("""
        package p
        type T2 struct {
            a bool
            x int64
            b bool
            s []int
            p *int
        }
        type U struct {
            s string
            x bool
            n [4]int64
            q *int
        }
        type Fine struct {
            p *int
            x int64
        }
        """)
        let t2 = try XCTUnwrap(r["T2"])
        XCTAssertEqual(t2.optimalOrder, ["p", "s", "x", "a", "b"])
        XCTAssertEqual([t2.size, t2.optimalSize, t2.optimalPointerBytes], [56, 48, 16])
        let u = try XCTUnwrap(r["U"])
        XCTAssertEqual(u.wastedBytes, 0)
        XCTAssertEqual(u.pointerBytes, 64)
        XCTAssertEqual(u.optimalPointerBytes, 16)  // q at 0, s's data pointer at 8
        XCTAssertEqual(u.optimalOrder, ["q", "s", "n", "x"])
        XCTAssertTrue(u.isFinding && !u.canShrink)
        XCTAssertEqual(TextReport.diagnostic(u), "z.go:9:6: warning: struct U with 64 pointer bytes could have 16; reorder fields: q, s, n, x")
        XCTAssertTrue(TextReport.table(u).contains("pointer bytes 16"))
        XCTAssertFalse(r["Fine"]!.isFinding)
        XCTAssertEqual(r["Fine"]?.optimalOrder, ["p", "x"])
    }

    func testSwiftHasNoPointerBytesFinding() throws {
        let decls = try SwiftFrontEnd.structs(files: [("t.swift", "final class K {}\nstruct S { var x: Int; var k: K }\n")],
                                              model: .x86_64Linux)
        let r = StructReport(decls[0])
        XCTAssertNil(r.pointerBytes)
        XCTAssertFalse(r.isFinding)
        XCTAssertEqual(r.optimalOrder, ["x", "k"])
    }

    func testTheOrderNeverGrowsAndScansNoMore() {
        var rng = SplitMix64(seed: 42)
        let kinds: [TypeLayout] = [
            TypeLayout(size: 1, alignment: 1), TypeLayout(size: 2, alignment: 2), TypeLayout(size: 4, alignment: 4),
            TypeLayout(size: 8, alignment: 8), TypeLayout(size: 8, alignment: 8, pointerBytes: 8),
            TypeLayout(size: 16, alignment: 8, pointerBytes: 8), TypeLayout(size: 24, alignment: 8, pointerBytes: 8),
            TypeLayout(size: 16, alignment: 8, pointerBytes: 16), TypeLayout(size: 0, alignment: 8),
            TypeLayout(size: 40, alignment: 8, pointerBytes: 24), TypeLayout(size: 12, alignment: 4),
        ]
        for _ in 0..<2000 {
            let fields = (0..<Int.random(in: 1...9, using: &rng)).map { _ in kinds.randomElement(using: &rng)! }
            let best = OptimalOrder.best(fields, language: .go)
            // The size-only optimum: zero-size first, then alignment descending.
            let bySize = fields.indices.sorted { (fields[$0].size == 0 ? 1 : 0, fields[$0].alignment, -$0) > (fields[$1].size == 0 ? 1 : 0, fields[$1].alignment, -$1) }
            XCTAssertEqual(best.placement.size, min(Language.go.place(fields).size, Language.go.place(bySize.map { fields[$0] }).size))
            XCTAssertLessThanOrEqual(Language.go.aggregate(best.order.map { fields[$0] }).pointerBytes,
                                     Language.go.aggregate(fields).pointerBytes)
            XCTAssertEqual(best.order.sorted(), Array(fields.indices))
        }
    }
}
