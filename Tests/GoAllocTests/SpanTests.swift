import XCTest
import CGoRuntime
@testable import GoAlloc

final class SpanTests: XCTestCase {
    /// FixAlloc (where span records live): zeroed objects, free-list reuse, and chunks that double with what
    /// it has mapped up to maxChunkBytes, so a fast-growing heap makes few mmap calls (FixAlloc.swift).
    func testFixAllocChunksGrowAndObjectsReuse() throws {
        var f = FixAlloc(size: 100)
        XCTAssertEqual(f.size, 112)
        var chunks: [Int] = []
        var objects: [UnsafeMutableRawPointer] = []
        for _ in 0..<200_000 {
            let before = f.sys
            let p = try XCTUnwrap(f.alloc())
            if f.sys != before { chunks.append(f.sys - before) }
            XCTAssertEqual(p.load(as: UInt64.self), 0)
            p.storeBytes(of: UInt64.max, as: UInt64.self)
            objects.append(p)
        }
        XCTAssertEqual(f.inuse, 200_000 * 112)
        XCTAssertEqual(chunks.first, FixAlloc.chunkBytes)
        for (i, n) in chunks.enumerated().dropFirst() {
            XCTAssertEqual(n, min(max(FixAlloc.chunkBytes, chunks[..<i].reduce(0, +)), FixAlloc.maxChunkBytes))
        }
        // 22.4 MB of records: 64K, 64K, 128K, 256K, 512K, then 1 MiB chunks (the old fixed 64 KiB chunks: 342).
        XCTAssertEqual(Array(chunks.prefix(6)), [64 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20])
        XCTAssertLessThan(chunks.count, 30)
        XCTAssertLessThanOrEqual(f.sys - f.inuse, FixAlloc.maxChunkBytes + chunks.count * f.size)
        // Freed objects come back last-freed-first, zeroed again.
        f.free(objects[7])
        f.free(objects[3])
        XCTAssertEqual(f.alloc(), objects[3])
        XCTAssertEqual(objects[3].load(as: UInt64.self), 0)
        XCTAssertEqual(f.alloc(), objects[7])
        let sys = f.sys
        _ = f.alloc()
        XCTAssertEqual(f.inuse, 200_001 * 112)
        XCTAssertGreaterThanOrEqual(f.sys, sys)
    }

    func testSpanFieldsAndBitmaps() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let sc = SizeClasses.classFor(size: 48)
        var ptrs: [UnsafeMutableRawPointer] = []
        let p0 = c.allocate(byteCount: 48)!
        ptrs.append(p0)
        let s = try XCTUnwrap(heap.span(of: p0))
        XCTAssertEqual(s.objectSize, 48)
        XCTAssertEqual(s.objectCount, SizeClasses.nelems(sc))
        XCTAssertEqual(s.pageCount, SizeClasses.npages(sc))
        XCTAssertEqual(s.spanClass, SpanClass(sizeclass: sc, noscan: true))
        XCTAssertEqual(s.state, .inUse)
        for _ in 1..<s.objectCount { ptrs.append(c.allocate(byteCount: 48)!) }
        // Objects are handed out in address order from a fresh span; object index comes from divMagic.
        for (i, p) in ptrs.enumerated() {
            XCTAssertEqual(heap.span(of: p), s)
            XCTAssertEqual(s.objectIndex(p), i)
            XCTAssertEqual(UInt(bitPattern: p), s.base + UInt(i * 48))
            XCTAssertTrue(s.isAllocated(i))
        }
        XCTAssertEqual(s.allocatedCount, s.objectCount)
        XCTAssertNil(s.invariantViolation)
        // Owner frees clear bits; once 1/8 of the span is free, the next allocations reuse exactly those slots.
        let freed = Array(stride(from: 3, to: s.objectCount, by: 8))
        for i in freed { c.deallocate(ptrs[i]); XCTAssertFalse(s.isAllocated(i)) }
        XCTAssertEqual(s.allocatedCount, s.objectCount - freed.count)
        XCTAssertNil(s.invariantViolation)
        var reused = Set<UnsafeMutableRawPointer>()
        for _ in freed { reused.insert(c.allocate(byteCount: 48)!) }
        XCTAssertEqual(reused, Set(freed.map { ptrs[$0] }))
    }

    func testCursorRewindAndAllocCacheReuse() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        var ptrs: [UnsafeMutableRawPointer] = []
        let first = c.allocate(byteCount: 16)!
        let s = try XCTUnwrap(heap.span(of: first))
        ptrs.append(first)
        while ptrs.count < s.objectCount { ptrs.append(c.allocate(byteCount: 16)!) }
        // Free the even objects of word 0 and 68 objects of word 2: at least 1/8 of the span, so the cache
        // rewinds onto this span instead of taking a new one.
        let freed = Array(stride(from: 0, to: 64, by: 2)) + Array(128..<196)
        for i in freed { c.deallocate(ptrs[i]) }
        XCTAssertEqual(c.allocate(byteCount: 16)!, ptrs[0], "rewound to the first free slot")
        // Object 1 is allocated and just ahead of the cursor in the same word: freeing it sets its
        // allocCache bit, so the fast path hands it out next.
        c.deallocate(ptrs[1])
        XCTAssertEqual(c.allocate(byteCount: 16)!, ptrs[1])
        c.deallocate(ptrs[33])
        var order: [Int] = []
        for _ in 0..<17 { order.append(s.objectIndex(c.allocate(byteCount: 16)!)) }
        XCTAssertEqual(order, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 33])
        XCTAssertNil(s.invariantViolation)
    }

    func testHotMetadataLayout() {
        // MSpan: three whole cache lines; the fast-path fields in the first. MHeap: the lock alone on its line.
        XCTAssertEqual(MemoryLayout<MSpan>.stride, 192)
        XCTAssertLessThan(MemoryLayout<MSpan>.offset(of: \MSpan.owner)!, 64)
        XCTAssertLessThan(MemoryLayout<MSpan>.offset(of: \MSpan.allocCount)!, 64)
        XCTAssertEqual(MemoryLayout<MHeap>.offset(of: \MHeap.index), 64)
        XCTAssertEqual(MemoryLayout<MSpan>.offset(of: \MSpan.inlineBits), MSpan.inlineBitsOffset)
        XCTAssertEqual(MemoryLayout<MSpan>.offset(of: \MSpan.next), MSpan.nextOffset)
        XCTAssertLessThan(MemoryLayout<MSpan>.offset(of: \MSpan.cacheWord)!, 64, "free reads it with allocCache")
        XCTAssertLessThanOrEqual(MSpan.inlineBitsOffset + 32, 128, "inline bitmaps in line 2")
        XCTAssertLessThan(MemoryLayout<MSpan>.offset(of: \MSpan.divMul)!, 128)
        XCTAssertLessThan(MemoryLayout<MSpan>.offset(of: \MSpan.limit)!, 128)
        XCTAssertLessThan(MemoryLayout<MSpan>.offset(of: \MSpan.hasRemoteFrees)!, 128, "free reads it with limit")
        XCTAssertEqual(MCache.totalBytes % 64, 0)
        // The young caches: a line each (MHeap is page-aligned), so one's lock never shares a line with another's.
        XCTAssertEqual(MemoryLayout<YoungCache>.stride, 64)
        XCTAssertEqual(MemoryLayout<MHeap>.offset(of: \MHeap.young)! % 64, 0, "young caches start a line")
    }

    func testRemoteFreesAreSweptIn() throws {
        let heap = makeTestHeap()
        let owner = heap.makeCache()!
        let p = owner.allocate(byteCount: 64)!
        let q = owner.allocate(byteCount: 64)!
        let s = try XCTUnwrap(heap.span(of: p))
        // A free without the owner's cache is remote: it lands in freeBits until a sweep.
        heap.deallocate(q)
        XCTAssertTrue(s.isAllocated(1), "remote free waits in freeBits")
        XCTAssertEqual(s.sweepRemoteFrees(), 1)
        XCTAssertFalse(s.isAllocated(1))
        XCTAssertNil(s.invariantViolation)
        owner.deallocate(p)
    }

    func testSpanSetPushPopAndConcurrency() {
        let heap = makeTestHeap()
        let set = UnsafeMutablePointer<SpanSet>.allocate(capacity: 1)
        set.initialize(to: SpanSet())
        defer { set.deallocate() }
        var spans: [UnsafeMutablePointer<MSpan>] = []
        for _ in 0..<64 {
            spans.append(heap.raw.allocSpan(npages: 1, spanclass: SpanClass(sizeclass: 1, noscan: true), alignPages: 1)!)
        }
        for s in spans { set.push(s) }
        XCTAssertFalse(set.pointee.isEmpty)
        XCTAssertEqual(set.pop(), spans.last, "LIFO")
        set.push(spans.last!)
        // 4 threads pop and push concurrently; every span survives exactly once.
        let rounds = 20000 * soakFactor
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<rounds {
                if let s = set.pop() { set.push(s) }
            }
        }
        var seen = Set<UnsafeMutablePointer<MSpan>>()
        while let s = set.pop() { XCTAssertTrue(seen.insert(s).inserted, "span popped twice") }
        XCTAssertEqual(seen, Set(spans))
        for s in spans { heap.raw.freeSpan(s) }
        XCTAssertNil(heap.checkInvariants())
    }

    /// Slots loaded into the cache word are reserved (allocBits set, counted in allocCount) and malloc/free pairs
    /// in that word touch only allocCache: the span's live count, isAllocated and MemStats must still be exact.
    func testLocalFreeCountsSurviveFreedSpans() {
        // Frees into a span its cache holds count in the span (MSpan.localFrees); emptied spans go back to the
        // heap, which folds their counts into the class's before reusing the struct.
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let before = heap.memStats
        for _ in 0..<3 {
            var ps: [UnsafeMutableRawPointer] = []
            for _ in 0..<20_000 { ps.append(c.allocate(byteCount: 48)!) }
            for p in ps { c.deallocate(p) }
        }
        let after = heap.memStats
        XCTAssertEqual(after.mallocs - before.mallocs, 60_000)
        XCTAssertEqual(after.frees - before.frees, 60_000)
        XCTAssertEqual(after.heapObjects, before.heapObjects)
        XCTAssertLessThan(after.spansInUse, 40, "the emptied spans went back to the heap")
    }

    func testCacheWordReservationIsInvisible() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let first = c.allocate(byteCount: 32)!
        let s = try XCTUnwrap(heap.span(of: first))
        XCTAssertEqual(s.allocatedCount, 1, "reserved slots are not live")
        XCTAssertFalse(s.isAllocated(1))
        let before = heap.memStats
        for _ in 0..<1000 {
            let p = c.allocate(byteCount: 32)!
            XCTAssertTrue(s.isAllocated(s.objectIndex(p)))
            c.deallocate(p)
            XCTAssertFalse(s.isAllocated(s.objectIndex(p)))
        }
        let after = heap.memStats
        XCTAssertEqual(after.mallocs - before.mallocs, 1000)
        XCTAssertEqual(after.frees - before.frees, 1000)
        XCTAssertEqual(after.heapObjects, before.heapObjects)
        XCTAssertEqual(s.allocatedCount, 1)
        XCTAssertNil(s.invariantViolation)
        // A remote free of an object that sits free in the owner's cache word is a double free; the fresh object
        // the owner takes next is the same slot, allocated again.
        let q = c.allocate(byteCount: 32)!
        c.deallocate(q)
        XCTAssertTrue(s.isFreeInCacheWord(UInt64(s.objectIndex(q) / 64), 1 << UInt64(s.objectIndex(q) % 64)))
        XCTAssertEqual(c.allocate(byteCount: 32)!, q)
        c.deallocate(first)
    }

    /// Every cache's unused slots point at the heap's one empty sentinel span; threads read it on their first
    /// malloc of each class and must never write it (that would be a data race and a shared hot line).
    func testEmptySentinelIsNeverWritten() {
        let heap = makeTestHeap()
        let e = heap.raw.pointee.emptySpan
        let before = Array(UnsafeRawBufferPointer(start: e, count: MSpan.stride))
        let c1 = heap.makeCache()!, c2 = heap.makeCache()!
        var ptrs: [(Cache, UnsafeMutableRawPointer)] = []
        for size in stride(from: 8, through: 32768, by: 504) {
            ptrs.append((c1, c1.allocate(byteCount: size)!))
            ptrs.append((c2, c2.allocate(byteCount: size)!))
        }
        for (c, p) in ptrs { c.deallocate(p) }
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: e, count: MSpan.stride)), before)
    }
}
