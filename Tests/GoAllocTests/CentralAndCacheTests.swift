import XCTest
import CGoRuntime
@testable import GoAlloc

final class CentralAndCacheTests: XCTestCase {
    func testRefillUncacheAndCentralSets() throws {
        // Go's flow, without retention: spans a cache runs through go back to their MCentral.
        let heap = makeTestHeap(retainSpans: false)
        let c = heap.makeCache()!
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 256), noscan: true)
        let m = heap.raw.central(spc)
        let first = c.allocate(byteCount: 256)!
        let s1 = try XCTUnwrap(c.cachedSpan(spc))
        var ptrs = [first]
        while ptrs.count < s1.objectCount { ptrs.append(c.allocate(byteCount: 256)!) }
        // The next allocation refills: s1 (full) goes to the central's full set, a new span is cached.
        let next = c.allocate(byteCount: 256)!
        let s2 = try XCTUnwrap(c.cachedSpan(spc))
        XCTAssertNotEqual(s1, s2)
        XCTAssertEqual(gort_load_relaxed(&m.pointee.nfull), 1)
        XCTAssertEqual(s1.pointee.inFull, 1)
        XCTAssertEqual(m.fullSwept(m.sweepgen).pointee.head & SpanSet.addrMask, UInt64(UInt(bitPattern: s1)))
        // Remote frees into the full span: it is pending, and a flip makes it allocatable again.
        for p in ptrs.prefix(s1.objectCount / 2) { heap.deallocate(p) }
        XCTAssertEqual(gort_load_relaxed(&m.pointee.pendingFull), 1)
        let got = try XCTUnwrap(m.cacheSpan(heap.raw, spanclass: spc))
        XCTAssertEqual(got, s1, "a full span that gained free slots is reused before the heap grows")
        XCTAssertEqual(got.allocatedCount, s1.objectCount - s1.objectCount / 2)
        XCTAssertNil(got.invariantViolation)
        m.uncacheSpan(heap.raw, got)
        c.deallocate(next)
        for p in ptrs.suffix(s1.objectCount - s1.objectCount / 2) { heap.deallocate(p) }
        // Now s1 is empty but uncached: a sweep of the central returns it to the heap.
        XCTAssertEqual(m.sweepAll(heap.raw), 1)
        XCTAssertEqual(s1.state, .dead)
        XCTAssertNil(heap.checkInvariants())
    }

    /// C's malloc reads the span class from a table indexed by the size itself (gort_malloc_class, generated):
    /// every small size maps to the smallest C-aligned class that fits, noscan.
    func testMallocClassTableIsSmallestFit() {
        let table = gort_malloc_class_table()!
        for size in 0...maxSmallSize {
            let spc = SpanClass(table[size])
            XCTAssertEqual(spc.sizeclass, sizeToClass(UInt(max(size, 1)), cAligned: true), "size \(size)")
            XCTAssertTrue(spc.noscan, "C's malloc takes noscan classes")
            XCTAssertGreaterThanOrEqual(sizeClassSize(spc.sizeclass), max(size, 1), "size \(size)")
            if size >= 16 { XCTAssertEqual(sizeClassSize(spc.sizeclass) % 16, 0, "C's 16-byte alignment") }
        }
    }

    /// The prefetch stride (MCache.prefetchStride): the object size while the cached span was empty when it
    /// was cached (it fills slot after slot), 0 once refill reuses a span's scattered free slots.
    func testPrefetchStrideFollowsFreshSpans() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 256), noscan: true)
        var ptrs1 = [c.allocate(byteCount: 256)!]
        let s1 = try XCTUnwrap(c.cachedSpan(spc))
        XCTAssertEqual(c.raw.prefetchStride(Int(spc.raw)).pointee, 256, "a fresh span: the next slot")
        while ptrs1.count < s1.objectCount { ptrs1.append(c.allocate(byteCount: 256)!) }
        var ptrs2 = [c.allocate(byteCount: 256)!]
        let s2 = try XCTUnwrap(c.cachedSpan(spc))
        XCTAssertNotEqual(s1, s2)
        XCTAssertEqual(c.raw.prefetchStride(Int(spc.raw)).pointee, 256, "the next fresh span: the next slot")
        // Half of s1 (retained now) freed; once s2 is full, refill goes back to s1's scattered free slots.
        for (i, p) in ptrs1.enumerated() where i % 2 == 0 { c.deallocate(p) }
        while ptrs2.count < s2.objectCount { ptrs2.append(c.allocate(byteCount: 256)!) }
        let again = c.allocate(byteCount: 256)!
        XCTAssertEqual(try XCTUnwrap(c.cachedSpan(spc)), s1, "the retained span with room is reused")
        XCTAssertEqual(c.raw.prefetchStride(Int(spc.raw)).pointee, 0, "a reused span: no stride")
        c.deallocate(again)
        for (i, p) in ptrs1.enumerated() where i % 2 == 1 { c.deallocate(p) }
        for p in ptrs2 { c.deallocate(p) }
        XCTAssertNil(heap.checkInvariants())
        c.release()
    }

    func testCacheReleaseHandsEverySpanBack() {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        var ptrs: [UnsafeMutableRawPointer] = []
        for size in stride(from: 8, through: 32768, by: 200) { ptrs.append(c.allocate(byteCount: size)!) }
        let inuseBefore = heap.memStats.spansInUse
        XCTAssertGreaterThan(inuseBefore, 50)
        let other = heap.makeCache()!
        for p in ptrs { other.deallocate(p) }   // remote frees
        c.release()
        other.release()
        heap.releaseMemory()
        let st = heap.memStats
        XCTAssertEqual(st.spansInUse, 0, "no span lost: every span went back and was freed")
        XCTAssertEqual(st.heapInuse, 0)
        XCTAssertEqual(st.heapObjects, 0)
        XCTAssertEqual(st.caches, 0)
        XCTAssertNil(heap.checkInvariants())
    }

    func testTinyAllocatorPacksSmallNoscanObjects() {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let a = c.allocateTiny(byteCount: 4)!
        let b = c.allocateTiny(byteCount: 4)!
        let d = c.allocateTiny(byteCount: 8)!
        XCTAssertEqual(UInt(bitPattern: b), UInt(bitPattern: a) + 4, "packed into one 16-byte block")
        XCTAssertEqual(UInt(bitPattern: d), UInt(bitPattern: a) + 8, "8-byte aligned")
        let e = c.allocateTiny(byteCount: 2)!
        XCTAssertNotEqual(UInt(bitPattern: e) & ~15, UInt(bitPattern: a) & ~15, "block full: a new block")
        XCTAssertEqual(heap.span(of: e)?.objectSize, 16)
        XCTAssertEqual(heap.memStats.tinyAllocs, 2)  // counted on release; the live cache counts too
    }

    func testLargeObjectGrowsInPlaceOverFreePages() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let p = c.allocate(byteCount: 64 << 10)!
        fill(p, 64 << 10, 0x5A)
        let s = try XCTUnwrap(heap.span(of: p))
        let allocBytes = heap.memStats.totalAlloc
        // A fresh heap: the pages behind the object are free, so it grows where it is.
        XCTAssertTrue(heap.raw.growLargeInPlace(UInt(bitPattern: p), to: 100 << 10))
        XCTAssertEqual(s.pageCount, (100 << 10) / pageSize + 1)
        XCTAssertEqual(heap.usableSize(p), s.pageCount * pageSize)
        XCTAssertEqual(heap.span(of: p + (100 << 10) - 1), s, "the new pages map to the span")
        XCTAssertEqual(heap.memStats.totalAlloc, allocBytes + UInt64((s.pageCount - 8) * pageSize))
        XCTAssertTrue(check(p, 64 << 10, 0x5A), "the old bytes stay")
        XCTAssertNil(heap.checkInvariants())
        // A neighbour right behind it: no room, the object stays as it was.
        let q = c.allocate(byteCount: 40 << 10)!
        XCTAssertEqual(UInt(bitPattern: q), s.base + UInt(s.pageCount * pageSize))
        let pages = s.pageCount
        XCTAssertFalse(heap.raw.growLargeInPlace(UInt(bitPattern: p), to: UInt(pages * pageSize + 1)))
        XCTAssertEqual(s.pageCount, pages)
        c.deallocate(q)
        c.deallocate(p)
        XCTAssertEqual(heap.memStats.spansInUse, 0)
        XCTAssertNil(heap.checkInvariants())
    }

    func testLargeObjectsAreTheirOwnSpans() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        for size in [32769, 65536, 1 << 20, 5 << 20, 64 << 20] {
            let p = c.allocate(byteCount: size, zeroed: true)!
            let s = try XCTUnwrap(heap.span(of: p))
            XCTAssertEqual(s.spanClass.sizeclass, 0)
            XCTAssertEqual(s.base, UInt(bitPattern: p))
            XCTAssertEqual(s.pageCount, (size + pageSize - 1) / pageSize)
            XCTAssertEqual(heap.span(of: p + size - 1), s, "every page maps to the span")
            XCTAssertEqual(p.load(fromByteOffset: (size - 8) & ~7, as: UInt64.self), 0)
            fill(p, size, 0xAB)
            XCTAssertTrue(check(p, size, 0xAB))
            let before = heap.memStats.largeFrees
            c.deallocate(p)
            XCTAssertEqual(heap.memStats.largeFrees, before + 1)
            XCTAssertNil(heap.span(of: p))
        }
        // calloc semantics after reuse: recycled pages are zeroed.
        let p = c.allocate(byteCount: 1 << 20)!
        fill(p, 1 << 20, 0xFF)
        c.deallocate(p)
        let q = c.allocate(byteCount: 1 << 20, zeroed: true)!
        XCTAssertEqual(q, p)
        XCTAssertTrue(check(q, 1 << 20, 0))
        c.deallocate(q)
        XCTAssertNil(heap.checkInvariants())
    }

    func testMemStatsAddUp() {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        var rng = SeededRandom(seed: 42)
        var live: [UnsafeMutableRawPointer] = []
        var liveBytes: UInt64 = 0
        for _ in 0..<20000 {
            if live.isEmpty || rng.below(3) != 0 {
                let size = rng.below(8) == 0 ? 33000 + rng.below(100000) : 1 + rng.below(2000)
                let p = c.allocate(byteCount: size)!
                live.append(p)
                liveBytes += UInt64(heap.usableSize(p))
            } else {
                live.swapAt(rng.below(live.count), live.count - 1)
                let p = live.removeLast()
                liveBytes -= UInt64(heap.usableSize(p))
                c.deallocate(p)
            }
        }
        let st = heap.memStats
        XCTAssertEqual(st.heapSys, st.heapInuse + st.heapIdle)
        XCTAssertEqual(st.mallocs - st.frees, UInt64(live.count))
        XCTAssertEqual(st.heapObjects, UInt64(live.count))
        XCTAssertEqual(st.heapAlloc, liveBytes)
        XCTAssertLessThanOrEqual(st.heapAlloc, st.heapInuse)
        XCTAssertLessThanOrEqual(st.heapReleased, st.heapIdle)
        XCTAssertEqual(st.bySize.count, 67)
        XCTAssertEqual(st.bySize.reduce(0) { $0 + $1.mallocs } + st.largeAllocs, st.mallocs)
        XCTAssertTrue(st.text.contains("HeapAlloc"))
        // The dump is valid JSON and lists every in-use span.
        let dump = heap.heapDump
        let obj = try? JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any]
        XCTAssertEqual((obj?["spans"] as? [Any])?.count, Int(st.spansInUse))
        XCTAssertNotNil(obj?["stats"] as? [String: Any])
        // Half freed by another cache: remote frees, pending until a sweep. The dump's spans count them as free,
        // as MemStats does (they showed as live: a heap map drew emptied spans as full).
        let other = heap.makeCache()!
        let half = live.count / 2
        for p in live[..<half] { other.deallocate(p) }
        let dump2 = try? JSONSerialization.jsonObject(with: Data(heap.heapDump.utf8)) as? [String: Any]
        let spans = (dump2?["spans"] as? [[String: Any]]) ?? []
        let inuse = spans.reduce(0) { $0 + (($1["inuse"] as? Int) ?? 0) }
        XCTAssertEqual(inuse, live.count - half)
        XCTAssertEqual(heap.memStats.heapObjects, UInt64(live.count - half))
        for p in live[half...] { c.deallocate(p) }
        XCTAssertEqual(heap.memStats.heapObjects, 0)
    }
}
