import XCTest
import CGoRuntime
@testable import GoAlloc

/// The sentinels that stand for "no arena", "no span" and "no cache" on the fast paths (Sentinels.swift).
final class SentinelTests: XCTestCase {
    /// CGoRuntime's constants describe MCache, MSpan and HeapArena as Swift lays them out.
    func testCLayoutMatchesSwift() {
        XCTAssertNil(sentinelLayoutProblem().map { "\($0)" })
    }

    /// A thread that never allocated holds the empty MCache; allocating gives it a real one.
    func testNewThreadStartsWithTheEmptyCache() {
        var t = pthread_t()
        var seen: (empty: Bool, nilCache: Bool, afterAlloc: Bool) = (false, false, false)
        pthread_create(&t, nil, { arg in
            let out = arg!.assumingMemoryBound(to: (empty: Bool, nilCache: Bool, afterAlloc: Bool).self)
            out.pointee.empty = threadCacheOrEmpty() == emptyCacheAddress
            out.pointee.nilCache = currentThreadCache() == nil
            let h = Heap.default
            h.deallocate(h.allocate(byteCount: 24)!)
            out.pointee.afterAlloc = currentThreadCache() != nil && threadCacheOrEmpty() != emptyCacheAddress
            return nil
        }, &seen)
        pthread_join(t, nil)
        XCTAssertTrue(seen.empty)
        XCTAssertTrue(seen.nilCache)
        XCTAssertTrue(seen.afterAlloc)
    }

    /// Arena and span entries decode to nil when empty and to what was stored otherwise; the fast decoding gives
    /// the sentinel region for an empty entry, which reads as a span nobody holds, with no room and limit 0.
    func testEntriesDecode() throws {
        let heap = makeTestHeap()
        let h = heap.raw
        let c = try XCTUnwrap(h.allocCache())
        let p = c.allocSmall(3, noscan: true)
        XCTAssertNotEqual(p, 0)
        let s = try XCTUnwrap(h.spanOf(p))
        XCTAssertEqual(s.pointee.startAddr <= p && p < s.pointee.limit, true)
        let a = try XCTUnwrap(h.pointee.index.arena(of: p))
        XCTAssertEqual(a.span(at: a.pageIndex(p)), s)
        XCTAssertNil(h.spanOf(a.pointee.base + UInt(heapArenaBytes) - 8), "last page of the arena holds no span")
        XCTAssertNil(h.pointee.index.arena(of: 0x1000))
        let fast = ArenaIndex.lookupFlatMasked(c.pointee.arenaFlat, 0x1000, mask: c.pointee.arenaMask, bias: c.pointee.sentinel)
        XCTAssertEqual(UInt(bitPattern: fast), sentinelAddress)
        let sentinelSpan = sentinelDecodeFast(0, bias: c.pointee.sentinel, to: MSpan.self)
        XCTAssertEqual(sentinelSpan.pointee.owner, 0)
        XCTAssertEqual(sentinelSpan.pointee.limit, 0)
        XCTAssertEqual(sentinelSpan.pointee.allocCache, 0)
        c.free(p, call: "free")
        h.freeCache(c)
    }

    /// Nothing ever writes the sentinel region.
    func testSentinelRegionStaysZero() {
        let h = Heap.default
        var ps: [UnsafeMutableRawPointer] = []
        for i in 0..<10_000 { ps.append(h.allocate(byteCount: 1 + i % 5000)!) }
        for p in ps { h.deallocate(p) }
        let z = gort_sentinel_address().assumingMemoryBound(to: UInt64.self)
        var nonzero = 0
        for i in 0..<(Int(GORT_SENTINEL_BYTES) / 8) where z[i] != 0 { nonzero += 1 }
        XCTAssertEqual(nonzero, 0)
    }
}
