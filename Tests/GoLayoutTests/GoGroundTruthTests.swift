import Foundation
import XCTest
@testable import GoLayout

/// Random Go structs, compiled once with the Go toolchain; our offsets, sizes and alignments must match
/// `unsafe.Offsetof`, `unsafe.Sizeof` and `unsafe.Alignof` exactly.
final class GoGroundTruthTests: XCTestCase {
    static let structCount = 300
    static let seed: UInt64 = 0x60_1A_70_01

    /// Builds a Go file declaring S0...S(n-1); each may hold earlier ones (nested, embedded, in arrays).
    static func generate(count: Int, seed: UInt64) -> (source: String, fields: [[String]]) {
        var rng = SplitMix64(seed: seed)
        let scalars = ["bool", "int8", "uint8", "byte", "int16", "uint16", "int32", "uint32", "rune", "float32",
                       "int", "uint", "int64", "uint64", "uintptr", "float64", "complex64", "complex128", "string"]
        let references = ["*int", "[]byte", "map[string]int", "chan int", "func(int) error", "interface{}", "error",
                          "any", "unsafe.Pointer", "[]*S0", "<-chan string"]
        func scalarOrReference() -> String {
            Int.random(in: 0..<4, using: &rng) == 0 ? references.randomElement(using: &rng)!
                : scalars.randomElement(using: &rng)!
        }
        var source = "package main\n\nimport (\n\t\"fmt\"\n\t\"unsafe\"\n)\n\nconst four = 4\n\n"
        var fieldNames: [[String]] = []
        for s in 0..<count {
            var names: [String] = []
            var lines: [String] = []
            var embedded = Set<Int>()
            for f in 0..<Int.random(in: 0...9, using: &rng) {
                let roll = Int.random(in: 0..<20, using: &rng)
                let name = "f\(f)"
                if roll == 0 && s > 0 {
                    let e = Int.random(in: 0..<s, using: &rng)
                    if embedded.insert(e).inserted { names.append("S\(e)"); lines.append("\tS\(e)"); continue }
                }
                let type: String
                switch roll {
                case 1...3 where s > 0: type = "S\(Int.random(in: 0..<s, using: &rng))"
                case 4: type = "[\(Int.random(in: 0...3, using: &rng))]\(scalarOrReference())"
                case 5 where s > 0: type = "[\(Int.random(in: 0...2, using: &rng))]S\(Int.random(in: 0..<s, using: &rng))"
                case 6: type = "struct{}"
                case 7: type = "struct { a \(scalarOrReference()); b \(scalarOrReference()) }"
                case 8: type = "[four]\(scalars.randomElement(using: &rng)!)"
                default: type = scalarOrReference()
                }
                names.append(name)
                lines.append("\t\(name) \(type) // field \(f)")
            }
            fieldNames.append(names)
            source += "type S\(s) struct {\n\(lines.joined(separator: "\n"))\n}\n\n"
        }
        source += "func main() {\n"
        for (s, names) in fieldNames.enumerated() {
            let offs = names.map { ", unsafe.Offsetof(v\(s).\($0))" }.joined()
            source += "\tvar v\(s) S\(s)\n\tfmt.Println(\"S\(s)\", unsafe.Sizeof(v\(s)), unsafe.Alignof(v\(s)), unsafe.Sizeof(v\(s))\(offs))\n"
        }
        source += "}\n"
        return (source, fieldNames)
    }

    func compileAndRun(_ source: String, name: String) throws -> String {
        guard let go = findExecutable("go") else { throw XCTSkip("go is not installed (apt-get install golang-go)") }
        let dir = try makeTemporaryDirectory(name)
        defer { try? FileManager.default.removeItem(at: dir) }
        try source.write(to: dir.appendingPathComponent("main.go"), atomically: true, encoding: .utf8)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("golayout-gocache").path
        return try runProgram(go, ["run", "main.go"], in: dir,
                              environment: ["GO111MODULE": "off", "GOCACHE": home, "GOFLAGS": ""])
    }

    func testRandomStructsMatchGoCompiler() throws {
        let (source, _) = Self.generate(count: Self.structCount, seed: Self.seed)
        let facts = parseFacts(try compileAndRun(source, name: "go-random"))
        XCTAssertEqual(facts.count, Self.structCount)
        let reports = try GoFrontEnd.structs(files: [("main.go", source)]).map(StructReport.init)
        XCTAssertEqual(reports.count, Self.structCount)
        var mismatches: [String] = []
        for r in reports {
            guard let truth = facts[r.name] else { mismatches.append("\(r.name): not printed"); continue }
            let ours = "size \(r.size ?? -1) align \(r.alignment ?? -1) offsets \(r.fields.map { $0.offset ?? -1 })"
            let theirs = "size \(truth.size) align \(truth.alignment) offsets \(truth.offsets)"
            if ours != theirs { mismatches.append("\(r.name): ours \(ours), go \(theirs) [\(r.unknown ?? "")]") }
            // The suggested order must never be worse, and must be as good as Go's lower bound.
            if let size = r.size, let best = r.optimalSize { XCTAssertLessThanOrEqual(best, size, r.name) }
        }
        XCTAssertEqual(mismatches, [], "\(mismatches.count) of \(reports.count) structs differ from the Go compiler")
    }

    func testSeedDemosInGo() throws {
        let source = """
        package main

        import (
        \t"fmt"
        \t"unsafe"
        )

        type demo1 struct {
        \ta int8
        \tb int16
        \tc int32
        }

        type demo2 struct {
        \ta int8
        \tc int32
        \tb int16
        }

        func main() {
        \tvar d1 demo1
        \tvar d2 demo2
        \tfmt.Println("demo1", unsafe.Sizeof(d1), unsafe.Alignof(d1), unsafe.Sizeof(d1), unsafe.Offsetof(d1.a), unsafe.Offsetof(d1.b), unsafe.Offsetof(d1.c))
        \tfmt.Println("demo2", unsafe.Sizeof(d2), unsafe.Alignof(d2), unsafe.Sizeof(d2), unsafe.Offsetof(d2.a), unsafe.Offsetof(d2.c), unsafe.Offsetof(d2.b))
        }

        """
        let reports = try GoFrontEnd.structs(files: [("demo.go", source)]).map(StructReport.init)
        XCTAssertEqual(reports.map(\.size), [8, 12])
        XCTAssertEqual(reports[0].wastedBytes, 0)
        XCTAssertEqual(reports[1].wastedBytes, 4)
        XCTAssertEqual(reports[1].optimalStride, 8)
        XCTAssertEqual(reports[1].optimalOrder, ["c", "b", "a"])
        let facts = parseFacts(try compileAndRun(source, name: "go-demo"))
        XCTAssertEqual(facts["demo1"]?.size, 8)
        XCTAssertEqual(facts["demo2"]?.size, 12)
        XCTAssertEqual(facts["demo2"]?.offsets, reports[1].fields.map { $0.offset! })
    }
}
