import XCTest
@testable import GoLayout

// The tester's 22-field struct, in the order gort now suggests; MemoryLayout confirms its stride.
private struct H2Best {
    var f3: Int64; var f9: Int64; var f4: Int??; var f14: Int16; var f12: Int32; var f1: (Int64, Int64, Int8)
    var f15: (Int8, Int8, Int8, Int8, Int8, Int8, Int8); var f21: String?; var f0: (Int32, Int16, Int8)
    var f10: (Int32, Int16, Int8); var f19: (Int32, Int16, Int8); var f5: Int??; var f6: (Int16, Int16, Int8)
    var f13: Int??; var f20: (Int8, Int8, Int8, Int8, Int8); var f11: Int32??; var f18: (Int64, Int64, Int8)
    var f2: Int32?; var f7: Int16?; var f8: (Int16, Int8); var f16: Int16?; var f17: (Int64, Int32, Int8)
}

/// The exact search covers structs of 20-26 varied fields, where the greedy order missed 8 bytes.
final class OptimalOrderTests: XCTestCase {
    static let h2 = """
    struct H2 {
        var f0: (Int32, Int16, Int8)
        var f1: (Int64, Int64, Int8)
        var f2: Int32?
        var f3: Int64
        var f4: Int??
        var f5: Int??
        var f6: (Int16, Int16, Int8)
        var f7: Int16?
        var f8: (Int16, Int8)
        var f9: Int64
        var f10: (Int32, Int16, Int8)
        var f11: Int32??
        var f12: Int32
        var f13: Int??
        var f14: Int16
        var f15: (Int8,Int8,Int8,Int8,Int8,Int8,Int8)
        var f16: Int16?
        var f17: (Int64, Int32, Int8)
        var f18: (Int64, Int64, Int8)
        var f19: (Int32, Int16, Int8)
        var f20: (Int8, Int8, Int8, Int8, Int8)
        var f21: String?
    }
    """

    func testTwentyTwoVariedFieldsAreSearchedExactly() throws {
        let r = try XCTUnwrap(SwiftFrontEnd.structs(files: [("h.swift", Self.h2)], model: .x86_64Linux).first.map(StructReport.init))
        XCTAssertEqual(r.optimalExact, true)
        XCTAssertEqual(r.optimalStride, MemoryLayout<H2Best>.stride)
        XCTAssertEqual(r.optimalSize, MemoryLayout<H2Best>.size)
        XCTAssertEqual(r.optimalStride, 192, "the greedy order gave 200")
        XCTAssertEqual(r.optimalOrder, ["f3", "f9", "f4", "f14", "f12", "f1", "f15", "f21", "f0", "f10", "f19", "f5", "f6",
                                        "f13", "f20", "f11", "f18", "f2", "f7", "f8", "f16", "f17"])
    }

    func testGreedyBeyondTheLimitIsLabelledHeuristic() {
        // 24 fields of 24 kinds: 2^24 states, above the limit.
        let ragged = (1...24).map { TypeLayout.plain(8 * $0 + 1, 8) }
        XCTAssertFalse(OptimalOrder.best(ragged, language: .swift).exact)
        // Without padding nothing can beat the greedy order, so it is exact even there.
        let dense = (1...24).map { TypeLayout.plain(8 * $0, 8) }
        XCTAssertTrue(OptimalOrder.best(dense, language: .swift).exact)
    }
}
