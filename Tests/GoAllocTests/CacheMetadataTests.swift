import XCTest
import CGoRuntime
@testable import GoAlloc

/// Span records and out-of-line bitmaps come from blocks of the cache that grew the span (CacheMetadata.swift).
final class CacheMetadataTests: XCTestCase {
    /// Two caches growing spans in turn: no 4 KiB page holds metadata of both, and what is carved is accounted.
    func testCachesGrowSpansInPagesOfTheirOwn() throws {
        let heap = makeTestHeap()
        let a = try XCTUnwrap(heap.makeCache()), b = try XCTUnwrap(heap.makeCache())
        // 1 KiB objects (16 to a span) and 16-byte objects (512 to a span: bitmaps of 8 words, out of line)
        // alternately from both caches.
        var pages: [UInt: UnsafeMutablePointer<MCache>] = [:]
        var spans = Set<UnsafeMutablePointer<MSpan>>()
        var live: [(Cache, UnsafeMutableRawPointer)] = []
        func note(_ c: Cache, _ p: UnsafeMutableRawPointer) throws {
            live.append((c, p))
            let s = try XCTUnwrap(heap.span(of: p))
            spans.insert(s)
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
        XCTAssertEqual(Set(pages.values).count, 2)
        // A record for every span, and a 128-byte pair of bitmaps (2^3 words each) for each 16-byte span.
        let h = heap.raw.pointee
        let small = spans.filter { $0.objectCount > 128 }.count
        XCTAssertEqual(small, 80)
        XCTAssertEqual(h.spanalloc.carved, spans.count * MSpan.stride)
        XCTAssertEqual(h.bitsAlloc.3.carved, small * 128)
        XCTAssertEqual(h.metaCarved, h.spanalloc.carved + h.bitsAlloc.3.carved)
        // Every byte of the blocks is carved, dropped or still ahead of a cache (the invariant check's sum).
        XCTAssertEqual(h.metaCarved + h.metaDropped + a.raw.pointee.metaLeft + b.raw.pointee.metaLeft, h.metaBlocks.inuse)
        let ms = heap.memStats
        XCTAssertGreaterThanOrEqual(ms.mspanSys, UInt64(h.spanalloc.carved))
        XCTAssertGreaterThanOrEqual(ms.otherSys, UInt64(h.metaBlocks.sys - h.metaCarved))
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

    /// Records of dead spans and freed bitmaps are reused before anything is carved; the big bitmaps of
    /// garbage-collected heaps (8-page spans: 2 KiB for 8-byte objects) stay in the shared bitsAlloc.
    func testReuseFirstAndBigBitmapsShared() throws {
        var cfg = HeapConfig()
        cfg.backgroundScavenger = false
        cfg.checkInvariants = true
        cfg.retainSpans = false
        cfg.minSmallSpanPages = 64  // clamped to 8
        let heap = try XCTUnwrap(Heap.create(config: cfg))
        let c = try XCTUnwrap(heap.makeCache())
        let p = try XCTUnwrap(c.allocate(byteCount: 8))
        let s = try XCTUnwrap(heap.span(of: p))
        XCTAssertEqual(s.pageCount, 8)
        XCTAssertEqual(s.objectCount, 8 * pageSize / 8)
        let h = heap.raw
        XCTAssertEqual(h.pointee.bitsAlloc.7.inuse, 2048)  // the span's pair of 2^7-word bitmaps, shared
        XCTAssertEqual(h.pointee.bitsAlloc.7.carved, 0)
        XCTAssertEqual(h.pointee.spanalloc.carved, MSpan.stride)  // its record, carved
        // Free the span (its only object, then the cache: nothing retains it) and grow another.
        c.deallocate(p)
        c.release()
        _ = h.central(s.pointee.spanclass).sweepAll(h)
        let carved = h.pointee.metaCarved
        let c2 = try XCTUnwrap(heap.makeCache())
        let q = try XCTUnwrap(c2.allocate(byteCount: 8))
        XCTAssertEqual(heap.span(of: q), s, "the dead span's record is reused")
        XCTAssertEqual(h.pointee.metaCarved, carved, "nothing carved when a dead record is there")
        XCTAssertEqual(h.pointee.bitsAlloc.7.inuse, 2048)
        XCTAssertNil(heap.checkInvariants())
        c2.deallocate(q)
    }
}
