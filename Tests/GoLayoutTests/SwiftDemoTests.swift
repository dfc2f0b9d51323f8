import XCTest
@testable import GoLayout

/// The seed's demo in Swift: the same fields, two orders, 8 and 12 bytes. The Swift front end must agree with
/// the compiler that built this test (the structs below are compiled here, so `MemoryLayout` is ground truth).
final class SwiftDemoTests: XCTestCase {
    struct Demo1 { var a: Int8; var b: Int8; var c: Int16; var d: Int32 }
    struct Demo2 { var a: Int8; var c: Int16; var b: Int8; var d: Int32 }

    func testDemo1IsEightAndDemo2IsTwelve() throws {
        let source = """
        struct Demo1 { var a: Int8; var b: Int8; var c: Int16; var d: Int32 }
        struct Demo2 { var a: Int8; var c: Int16; var b: Int8; var d: Int32 }
        """
        let reports = try SwiftFrontEnd.structs(files: [("demo.swift", source)], model: .x86_64Linux)
            .map(StructReport.init)
        let byName = Dictionary(uniqueKeysWithValues: reports.map { ($0.name, $0) })
        XCTAssertEqual(byName["Demo1"]?.size, MemoryLayout<Demo1>.size)
        XCTAssertEqual(byName["Demo2"]?.size, MemoryLayout<Demo2>.size)
        XCTAssertEqual(byName["Demo1"]?.stride, 8)
        XCTAssertEqual(byName["Demo2"]?.stride, 12)
        XCTAssertEqual(byName["Demo2"]?.fields.map { $0.offset }, [
            MemoryLayout<Demo2>.offset(of: \.a), MemoryLayout<Demo2>.offset(of: \.c),
            MemoryLayout<Demo2>.offset(of: \.b), MemoryLayout<Demo2>.offset(of: \.d),
        ])
        XCTAssertEqual(byName["Demo2"]?.optimalStride, 8, "reordering Demo2 gives Demo1's 8 bytes")
    }
}
