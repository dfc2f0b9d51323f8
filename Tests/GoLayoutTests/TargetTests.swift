import XCTest
@testable import GoLayout

/// What `--target` changes. Float80 exists only on x86_64 (on arm64 `long double` is not an 80-bit type and
/// Swift has no Float80), so there it must be unknown rather than 16 bytes.
final class TargetTests: XCTestCase {
    func layout(_ source: String, _ model: DataModel) throws -> StructReport {
        try XCTUnwrap(SwiftFrontEnd.structs(files: [("t.swift", source)], model: model).first.map(StructReport.init))
    }

    func testFloat80OnlyOnX86() throws {
        let source = "struct Big { var a: Int8; var f: Float80 }"
        #if arch(x86_64)
        XCTAssertEqual(try layout(source, .x86_64Linux).size, MemoryLayout<(Int8, Float80)>.size)
        #endif
        XCTAssertEqual(try layout(source, .x86_64Darwin).stride, 32)
        for model in [DataModel.arm64Linux, .arm64Darwin] {
            let r = try layout(source, model)
            XCTAssertNil(r.size, model.name)
            XCTAssertTrue(r.unknown?.contains("Float80 does not exist") == true, "\(model.name): \(r.unknown ?? "")")
        }
    }

    func testDarwinFoundationTypesAreUnknown() throws {
        let source = "struct U { var u: URL; var d: Date }"
        XCTAssertEqual(try layout(source, .x86_64Linux).size, 24)
        XCTAssertNil(try layout(source, .arm64Darwin).size)
        XCTAssertNil(try layout("struct H { var h: Float16 }", .x86_64Darwin).size)
        XCTAssertEqual(try layout("struct H { var h: Float16 }", .arm64Darwin).size, 2)
    }
}
