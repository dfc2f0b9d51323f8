import XCTest
import CGoRuntime
@testable import GoAlloc

/// Span records and out-of-line bitmaps come from blocks of the cache that grew the span (CacheMetadata.swift).
final class CacheMetadataTests: XCTestCase {
    /// Two caches growing spans in turn: no 4 KiB page holds metadata of both, and what is carved is accounted.
    func testCachesGrowSpansInPagesOfTheirOwn() throws {
        let heap = makeTestHeap()
        let a = try XCTUnwrap(heap.makeCache()), b = try XCTUnwrap(heap.makeCache())
        // 1 KiB objects (8 to a span: a new record every 8) and 16-byte objects (512 to a span: bitmaps of
        // 8 words, out of line) alternately from both caches.
        var pages: [UInt: UnsafeMutablePointer<MCache>] = [:]
        var live: [(Cache, UnsafeMutableRawPointer)] = []
        func note(_ c: Cache, _ p: UnsafeMutableRawPointer) throws {
            live.append((c, p))
            let s = try XCTUnwrap(heap.span(of: p))
            for addr in [UInt(bitPattern: s), UInt(bitPattern: s.pointee.allocBits), UInt(bitPattern: s.pointee.freeBits)] {
                let page = addr & ~UInt(metaBlockBytes - 1)
                if let owner = pages[page] {
                    XCTAssertEqual(owner, c.raw, "metadata of two caches' spans in one page")
                } else {
                    pages[page] = c.raw
                }
            }
        }
        for _ in 0..<40 {
            for c in [a, b] {
                for _ in 0..<8 { try note(c, try XCTUnwrap(c.allocate(byteCount: 1024))) }
                for _ in 0..<512 { try note(c, try XCTUnwrap(c.allocate(byteCount: 16))) }
            }
        }
        XCTAssertGreaterThan(Set(pages.values).count, 1)
        XCTAssertGreaterThanOrEqual(heap.raw.pointee.metaCarved, 80 * MSpan.stride)
        XCTAssertLessThanOrEqual(heap.raw.pointee.metaCarved + heap.raw.pointee.metaDropped
                                 + a.raw.pointee.metaLeft + b.raw.pointee.metaLeft, heap.raw.pointee.metaBlocks.sys)
        let ms = heap.memStats
        XCTAssertGreaterThanOrEqual(ms.mspanSys, ms.mspanInuse)
        XCTAssertEqual(ms.sys, ms.heapSys + ms.mspanSys + ms.mcacheSys + ms.otherSys)
        XCTAssertNil(heap.checkInvariants())
        for (c, p) in live { c.deallocate(p) }
    }

    /// A freed cache leaves the rest of its block to the next new cache, zeroed; nothing is carved twice.
    func testFreedCacheRemainderGoesToTheNextCache() throws {
        let heap = makeTestHeap()
        let a = try XCTUnwrap(heap.makeCache())
        let p = try XCTUnwrap(a.allocate(byteCount: 1024))
        let left = a.raw.pointee.metaLeft
        let next = try XCTUnwrap(a.raw.pointee.metaNext)
        XCTAssertGreaterThan(left, 0)
        a.deallocate(p)
        a.release()
        XCTAssertNotNil(heap.raw.pointee.metaSpare)
        let b = try XCTUnwrap(heap.makeCache())
        XCTAssertNil(heap.raw.pointee.metaSpare)
        XCTAssertEqual(b.raw.pointee.metaNext, next)
        XCTAssertEqual(b.raw.pointee.metaLeft, left)
        XCTAssertTrue(UnsafeRawBufferPointer(start: next, count: left).allSatisfy { $0 == 0 })
        // Three spans: the first may be a's old one (from MCentral) or reuse its record; the others carve.
        var ptrs: [UnsafeMutableRawPointer] = []
        for _ in 0..<24 { ptrs.append(try XCTUnwrap(b.allocate(byteCount: 1024))) }
        XCTAssertLessThan(b.raw.pointee.metaLeft, left)
        XCTAssertNil(heap.checkInvariants())
        for q in ptrs { b.deallocate(q) }
    }
}
