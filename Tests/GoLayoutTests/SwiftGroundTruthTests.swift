import Foundation
import XCTest
@testable import GoLayout

/// Random Swift declarations (structs, nested structs, C-like, single- and multi-payload enums, optionals,
/// existentials, generics, typealiases, property wrappers, lazy and weak properties, library types), compiled
/// once with swiftc; our offsets, sizes, alignments and strides must equal `MemoryLayout`'s.
final class SwiftGroundTruthTests: XCTestCase {
    static let structCount = 560
    /// GOLAYOUT_SEED=N runs another seed (for soak runs; CI uses the fixed one).
    static let seed: UInt64 = ProcessInfo.processInfo.environment["GOLAYOUT_SEED"].flatMap { UInt64($0) } ?? 0x5_1F7_1A70

    static let libraryTypes = [
        "Int", "UInt", "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64", "Float", "Double",
        "Bool", "String", "Character", "Substring", "Unicode.Scalar", "[Int]", "[String: Int]", "Set<Int>",
        "ContiguousArray<Int8>", "Range<Int>", "ClosedRange<Int32>", "UnsafeRawPointer", "UnsafeMutablePointer<Int>",
        "OpaquePointer", "ObjectIdentifier", "UnsafeBufferPointer<Int>", "UnsafeMutableRawBufferPointer",
        "Unmanaged<K>", "Duration", "StaticString", "Date", "UUID", "Data", "URL", "Decimal", "CGFloat",
        "AnyHashable", "Float16", "Int128", "UInt128", "Float80", "Result<Int, any Error>", "Never?",
        "SIMD2<Float>", "SIMD3<Float>", "SIMD4<Int32>", "SIMD8<UInt8>", "SIMD3<Double>", "SIMD16<UInt8>",
        "SIMD2<UInt8>", "SIMDMask<SIMD4<Int32>>", "InlineArray<3, Int8>", "[2 of Int]", "InlineArray<2, Bool>",
        "KeyPath<K, Int>", "UnsafeContinuation<Int, Never>", "CheckedContinuation<Int, Never>",
    ]
    static let referenceTypes = ["K", "any P", "any CP", "any P & Q", "Any", "AnyObject", "any Error", "() -> Void",
                                 "(Int) async throws -> String", "K.Type", "Any.Type", "S0.Type", "any P.Type",
                                 "any CP & P"]

    struct Generated { var source: String; var structs: [(name: String, fields: [String], offsettable: [Bool])] }

    static func generate(count: Int, seed: UInt64) -> Generated {
        var rng = SplitMix64(seed: seed)
        func chance(_ n: Int) -> Bool { Int.random(in: 0..<n, using: &rng) == 0 }
        var src = """
        import Foundation
        final class K {}
        protocol P {}
        protocol Q {}
        protocol CP: AnyObject {}
        @propertyWrapper struct Clamp<V> { var wrappedValue: V; var low: Int8 = 0 }
        @propertyWrapper struct Flag { var wrappedValue: Bool; var touched = false }
        struct Box<T> { var tag: Int8; var value: T; var small: Int16 }
        struct Pair<A, B> { var first: A; var second: B }
        enum Shape { case circle(Double), square(Int32), empty }
        typealias Word = UInt64

        """
        // Each pool type carries its weight: the number of leaf fields it flattens to. Only light types join the
        // pool, so nesting stays shallow; otherwise each generation embeds the last and the flattened field count
        // grows exponentially, and swiftc's IRGen runs out of memory on the copies (seen: 16 GB at 560 structs).
        var pool: [(String, Int)] = (libraryTypes + referenceTypes + ["Shape", "Word", "Box<Bool>", "Pair<Int8, Int>"])
            .map { ($0, 1) }
        let maxWeight = 24
        func pick() -> (String, Int) {
            var (t, w) = pool.randomElement(using: &rng)!
            func optional(_ t: String) -> String { t.contains(" ") || t.contains(".Type") ? "(\(t))?" : "\(t)?" }
            if chance(4) { t = optional(t) }
            if chance(12) { t = optional(t) }
            if chance(15) { let (u, v) = pool.randomElement(using: &rng)!; t = "(\(t), \(u))"; w += v }
            if chance(30) { t = "Box<\(t)>"; w += 2 } else if chance(30) {
                let (u, v) = pool.randomElement(using: &rng)!; t = "Pair<\(t), \(u)>"; w += v
            }
            return (t, w)
        }
        var structs: [(String, [String], [Bool])] = []
        var enumIndex = 0
        for s in 0..<count {
            // An enum now and then, added to the pool.
            if chance(3) {
                let name = "E\(enumIndex)"; enumIndex += 1
                var cases: [String] = []
                let kind = Int.random(in: 0..<4, using: &rng)
                let payloads = kind == 0 ? 0 : kind == 1 ? 1 : Int.random(in: 2...4, using: &rng)
                var weight = 1
                for c in 0..<payloads {
                    let n = chance(3) ? 2 : 1
                    let picked = (0..<n).map { _ in pick() }
                    weight = max(weight, picked.reduce(0) { $0 + $1.1 })
                    cases.append("case p\(c)(" + picked.map(\.0).joined(separator: ", ") + ")")
                }
                let empties = kind == 0 ? [1, 2, 3, 5, 17, 255, 256, 257].randomElement(using: &rng)!
                    : chance(6) ? Int.random(in: 4...40, using: &rng) : Int.random(in: 0...3, using: &rng)
                if empties > 0 { cases.append("case " + (0..<empties).map { "e\($0)" }.joined(separator: ", ")) }
                let indirect = payloads > 0 && chance(10) ? "indirect " : ""
                let raw = payloads == 0 && chance(3) ? ": UInt16" : ""
                src += "\(indirect)enum \(name)\(raw) { \(cases.joined(separator: "; ")) }\n"
                if weight <= maxWeight { pool.append((name, weight)) }
            }
            var weight = 0
            var fields: [String] = []
            var offsettable: [Bool] = []
            var lines: [String] = []
            for f in 0..<Int.random(in: 0...8, using: &rng) {
                let name = "f\(f)"
                fields.append(name)
                switch Int.random(in: 0..<40, using: &rng) {
                case 0: lines.append("lazy var \(name): Int = 0"); offsettable.append(false)
                case 1: let (t, w) = pick(); weight += w + 1; lines.append("@Clamp var \(name): \(t)"); offsettable.append(false)
                case 2: lines.append("@Flag var \(name): Bool"); offsettable.append(false)
                case 3: lines.append("weak var \(name): K?"); offsettable.append(true)
                case 4: lines.append("var \(name) = \(["0", "1.5", "true", "\"s\"", "[Int]()", "[1, 2]"].randomElement(using: &rng)!)")
                    offsettable.append(true)
                case 5: lines.append("unowned var \(name): K"); offsettable.append(true)
                default: let (t, w) = pick(); weight += w; lines.append("var \(name): \(t)"); offsettable.append(true)
                }
            }
            let body = lines.joined(separator: "; ")
            if s % 10 == 7 {
                src += "struct N\(s) { struct Inner { \(body) } }\n"
                structs.append(("N\(s).Inner", fields, offsettable))
                if weight <= maxWeight { pool.append(("N\(s).Inner", weight)) }
            } else {
                src += "struct S\(s) { \(body) }\n"
                structs.append(("S\(s)", fields, offsettable))
                if weight <= maxWeight { pool.append(("S\(s)", weight)) }
            }
            if s % 25 == 3 { let (t, w) = pool.last!; src += "typealias A\(s) = \(t)?\n"; pool.append(("A\(s)", w)) }
        }
        // One small function per struct: top-level statements in main.swift type-check far more slowly.
        src += "\nfunc off<T, V>(_ k: KeyPath<T, V>) -> Int { MemoryLayout<T>.offset(of: k) ?? -1 }\n"
        for (i, (name, fields, ok)) in structs.enumerated() {
            let offs = zip(fields, ok).map { $1 ? ", off(\\\(name).\($0))" : ", -1" }.joined()
            src += "func p\(i)() { print(\"\(name)\", MemoryLayout<\(name)>.size, MemoryLayout<\(name)>.alignment, "
            src += "MemoryLayout<\(name)>.stride\(offs)) }\n"
        }
        src += (0..<structs.count).map { "p\($0)()\n" }.joined()
        return Generated(source: src, structs: structs)
    }

    func compileAndRun(_ source: String, name: String) throws -> String {
        guard let swiftc = findExecutable("swiftc") else { throw XCTSkip("swiftc is not on PATH") }
        let dir = try makeTemporaryDirectory(name)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("main.swift")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let exe = dir.appendingPathComponent("facts").path
        _ = try runProgram(swiftc, ["-Onone", "-suppress-warnings", file.path, "-o", exe], in: dir)
        return try runProgram(exe, [])
    }

    func testRandomStructsMatchSwiftCompiler() throws {
        let generated = Self.generate(count: Self.structCount, seed: Self.seed)
        let facts = parseFacts(try compileAndRun(generated.source, name: "swift-random"))
        XCTAssertEqual(facts.count, Self.structCount)
        let reports = try SwiftFrontEnd.structs(files: [("main.swift", generated.source)], model: .x86_64Linux)
            .map(StructReport.init)
        let byName = Dictionary(reports.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var mismatches: [String] = []
        var compared = 0
        var unknown: [String] = []
        for (name, _, _) in generated.structs {
            guard let r = byName[name], let truth = facts[name] else { mismatches.append("\(name): missing"); continue }
            guard let size = r.size else { unknown.append("\(name): \(r.unknown ?? "")"); continue }
            compared += 1
            let ours = r.fields.map { $0.offset ?? -1 }
            let offsetsAgree = zip(ours, truth.offsets).allSatisfy { $1 == -1 || $0 == $1 }
            if size != truth.size || r.alignment != truth.alignment || r.stride != truth.stride || !offsetsAgree {
                mismatches.append("\(name): ours \(size)/\(r.alignment!)/\(r.stride!) \(ours), swiftc \(truth.size)/\(truth.alignment)/\(truth.stride) \(truth.offsets)")
            }
            if let best = r.optimalStride { XCTAssertLessThanOrEqual(best, r.stride!, name) }
        }
        if !mismatches.isEmpty || compared < 500 {
            let kept = FileManager.default.temporaryDirectory.appendingPathComponent("golayout-swift-random.swift")
            try? generated.source.write(to: kept, atomically: true, encoding: .utf8)
            print("SwiftGroundTruth: the generated source is kept at \(kept.path)")
        }
        XCTAssertEqual(mismatches, [], "\(mismatches.count) of \(compared) structs differ from swiftc")
        XCTAssertGreaterThanOrEqual(compared, 500, "too few structs with a known layout; unknown: \(unknown.prefix(20))")
        print("SwiftGroundTruth: \(compared) structs compared, \(unknown.count) reported unknown")
    }
}
