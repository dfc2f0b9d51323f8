import Foundation
import XCTest
@testable import GoAlloc

/// Re-derives the size-class table with our generator, compares it with the checked-in SizeClasses.swift and
/// with Go's published table, checks Go's waste bounds and verifies every division magic by brute force.
final class SizeClassTests: XCTestCase {
    /// Go 1.19's class_to_size (runtime/sizeclasses.go), a fact our generator must reproduce.
    let goSizes = [0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352,
                   384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688,
                   3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288,
                   13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768]

    func testGeneratorReproducesGoTable() {
        let classes = SizeClassGenerator.makeClasses()
        XCTAssertEqual(classes.count, 68)
        XCTAssertEqual(classes.map(\.size), goSizes)
        XCTAssertEqual(numSpanClasses, 136)
    }

    /// Rule 5 (not Go): spans of classes up to 4 KiB hold at least 16 objects; larger classes keep Go's pages.
    func testMinimumObjectsPerSpan() {
        for c in 1..<numSizeClasses where SizeClasses.size(c) <= SizeClassGenerator.minObjectsMaxSize {
            XCTAssertGreaterThanOrEqual(SizeClasses.nelems(c), SizeClassGenerator.minObjectsPerSpan, "class \(c)")
        }
        XCTAssertEqual(SizeClasses.npages(numSizeClasses - 1), 4, "32 KiB objects keep Go's 4-page spans")
    }

    func testCheckedInTableIsGeneratorOutput() throws {
        try checkGenerated("Sources/GoAlloc/SizeClasses.swift", SizeClassGenerator.render())
    }

    func testCheckedInMallocClassTableIsGeneratorOutput() throws {
        try checkGenerated("Sources/CGoRuntime/malloc_class.c", SizeClassGenerator.renderMallocClassC())
    }

    /// The checked-in file at `relativePath` (from the package root) is `generated`; GORT_WRITE_SIZECLASSES=1
    /// rewrites it first.
    private func checkGenerated(_ relativePath: String, _ generated: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../" + relativePath).standardized.path
        if ProcessInfo.processInfo.environment["GORT_WRITE_SIZECLASSES"] == "1" {
            try generated.write(toFile: path, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), generated,
                       "\(relativePath) is stale: GORT_WRITE_SIZECLASSES=1 swift test --filter SizeClassTests")
    }

    func testWasteBounds() {
        let classes = SizeClassGenerator.makeClasses()
        for c in 1..<classes.count {
            let r = classes[c]
            XCTAssertLessThanOrEqual(r.tailWaste * 8, r.npages * pageSize, "class \(c) tail waste over 1/8")
            XCTAssertEqual(r.size % (r.size >= 32 ? 16 : 8), 0)
            XCTAssertEqual(SizeClasses.size(c), r.size)
            XCTAssertEqual(SizeClasses.npages(c), r.npages)
            XCTAssertEqual(SizeClasses.nelems(c), r.nelems)
            // Max waste (smallest object in every slot) stays under Go's 87.5% worst case.
            XCTAssertLessThanOrEqual(r.maxWasteBasisPoints(previousSize: classes[c - 1].size), 8750)
        }
    }

    func testDivMagicByBruteForce() {
        for c in 1..<numSizeClasses {
            let size = SizeClasses.size(c), span = SizeClasses.npages(c) * pageSize
            let m = UInt64(SizeClasses.divMagic(c))
            for off in stride(from: 0, to: span, by: 1) where off % 8 == 0 || off < 64 {
                XCTAssertEqual(Int((UInt64(off) * m) >> 32), off / size, "class \(c) offset \(off)")
            }
        }
    }

    /// free's fast path tells an object's start from an interior pointer by the low 32 bits of the same product
    /// (MSpan.objIndexExact): below divMagic exactly at multiples of the size. Every byte offset of every class's
    /// objects (free checks the span's limit first, so offsets past the last object never get here).
    func testObjectStartTestByBruteForce() {
        for c in 1..<numSizeClasses {
            let size = SizeClasses.size(c), m = SizeClasses.divMagic(c)
            var wrong = 0
            for off in 0..<(SizeClasses.nelems(c) * size) {
                let prod = UInt64(off) * UInt64(m)
                if (UInt32(truncatingIfNeeded: prod) < m) != (off % size == 0) { wrong += 1 }
            }
            XCTAssertEqual(wrong, 0, "class \(c)")
        }
    }

    func testSizeToClassIsSmallestFit() {
        for size in 1...maxSmallSize {
            let c = SizeClasses.classFor(size: size)
            XCTAssertGreaterThanOrEqual(SizeClasses.size(c), size)
            if c > 1 { XCTAssertLessThan(SizeClasses.size(c - 1), size) }
            let cc = SizeClasses.classFor(size: size, cAligned: true)
            XCTAssertGreaterThanOrEqual(SizeClasses.size(cc), size)
            if size >= 16 { XCTAssertEqual(SizeClasses.size(cc) % 16, 0, "C alignment for \(size)") }
        }
    }

    func testSpanClassEncoding() {
        let s = SpanClass(sizeclass: 5, noscan: true)
        XCTAssertEqual(s.raw, 11)
        XCTAssertEqual(s.sizeclass, 5)
        XCTAssertTrue(s.noscan)
        XCTAssertFalse(SpanClass(sizeclass: 67, noscan: false).noscan)
        XCTAssertEqual(SpanClass(sizeclass: 67, noscan: true).index, 135)
    }
}
