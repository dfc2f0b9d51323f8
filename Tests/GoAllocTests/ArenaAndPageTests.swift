import XCTest
@testable import GoAlloc

final class ArenaAndPageTests: XCTestCase {
    func testArenaIndexMapsOurAddressesAndNoneOfOthers() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let p = c.allocate(byteCount: 100)!
        let a = try XCTUnwrap(heap.arena(of: p))
        XCTAssertEqual(a.pointee.base & UInt(heapArenaBytes - 1), 0, "arenas are 64 MiB aligned")
        XCTAssertTrue(UInt(bitPattern: p) >= a.pointee.base && UInt(bitPattern: p) < a.pointee.base + UInt(heapArenaBytes))
        // Addresses that are not ours: stack, another heap, kernel half, null page, top of user space.
        var local = 0
        withUnsafePointer(to: &local) { XCTAssertNil(heap.arena(of: $0)) }
        let other = makeTestHeap().makeCache()!.allocate(byteCount: 100)!
        XCTAssertNil(heap.arena(of: other))
        XCTAssertNil(heap.arena(of: UnsafeRawPointer(bitPattern: UInt(1) << 63)!))
        XCTAssertNil(heap.arena(of: UnsafeRawPointer(bitPattern: 4096)!))
        XCTAssertNil(heap.arena(of: UnsafeRawPointer(bitPattern: (UInt(1) << 48) - 8)!))
        XCTAssertFalse(heap.owns(other))
        XCTAssertTrue(heap.owns(p))
        XCTAssertEqual(arenaL1Bits + arenaL2Bits + logHeapArenaBytes, 48)
        c.deallocate(p)
    }

    func testHeapArenaBitmapIsSizedOneBitPerWord() {
        XCTAssertEqual(heapArenaBitmapWords * 64 * 8, heapArenaBytes)
        XCTAssertEqual(pagesPerArena, 8192)
    }

    /// The word-parallel first fit for runs of 2...64 pages against a bit-by-bit scan, on random bitmaps (runs
    /// across word boundaries, at the arena's end, none at all) and from random start words.
    func testRunOfAtMost64MatchesBitByBitFirstFit() {
        let words = UnsafeMutablePointer<UInt64>.allocate(capacity: pageWordsPerArena)
        defer { words.deallocate() }
        var rng = SeededRandom(seed: 11)
        func bit(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
        for round in 0..<300 {
            for w in 0..<pageWordsPerArena {
                switch rng.below(4) {
                case 0: words[w] = 0
                case 1: words[w] = ~0
                default: words[w] = round % 2 == 0 ? rng.next() | rng.next() : rng.next() & rng.next() | rng.next()
                }
            }
            let n = 2 + rng.below(63)
            let from = rng.below(pageWordsPerArena)
            var expected: Int? = nil
            var run = 0
            for i in (from << 6)..<pagesPerArena {
                run = bit(i) ? run + 1 : 0
                if run == n { expected = i - n + 1; break }
            }
            XCTAssertEqual(PageBitmap.firstRunOfAtMost64(words, n, fromWord: from), expected, "round \(round) n \(n)")
            XCTAssertEqual(PageBitmap.findRun(words, n, align: 1, fromPage: from << 6), expected)
        }
    }

    func testPageBitmapRuns() {
        let words = UnsafeMutablePointer<UInt64>.allocate(capacity: 128)
        defer { words.deallocate() }
        words.initialize(repeating: 0, count: 128)
        PageBitmap.set(words, 3, 5)        // 3..7
        PageBitmap.set(words, 60, 10)      // 60..69, crosses a word
        PageBitmap.set(words, 200, 300)    // 200..499
        var runs: [[Int]] = []
        PageBitmap.forEachRun(words) { runs.append([$0, $1]) }
        XCTAssertEqual(runs, [[3, 5], [60, 10], [200, 300]])
        XCTAssertEqual(PageBitmap.longestRun(words), 300)
        XCTAssertEqual(PageBitmap.findRun(words, 6, align: 1), 60)
        XCTAssertEqual(PageBitmap.findRun(words, 5, align: 1), 3)
        XCTAssertEqual(PageBitmap.findRun(words, 10, align: 64), 256)
        XCTAssertNil(PageBitmap.findRun(words, 301, align: 1))
        XCTAssertEqual(PageBitmap.count(words, 0, 8192), 315)
        XCTAssertEqual(PageBitmap.runContaining(words, 62, 2), 10)
        XCTAssertEqual(PageBitmap.runContaining(words, 3, 1), 5)
        XCTAssertEqual(PageBitmap.runContaining(words, 256, 64), 300)
        XCTAssertEqual(PageBitmap.findRun(words, 5, align: 1, fromPage: 128), 200)
        XCTAssertEqual(PageBitmap.findRun(words, 1, align: 1), 3)
        XCTAssertEqual(PageBitmap.findRun(words, 1, align: 1, fromPage: 64), 64)
        XCTAssertEqual(PageBitmap.findRun(words, 1, align: 8), 64)
        // runContaining against a bit-by-bit count, on random bitmaps (edges of words and of the arena).
        var rng = SeededRandom(seed: 7)
        for _ in 0..<200 {
            for w in 0..<128 { words[w] = rng.below(3) == 0 ? ~0 : rng.next() | rng.next() }
            let first = rng.below(8192)
            let n = 1 + rng.below(min(40, 8192 - first))
            PageBitmap.set(words, first, n)
            func isSet(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
            var lo = first, hi = first + n
            while lo > 0 && isSet(lo - 1) { lo -= 1 }
            while hi < 8192 && isSet(hi) { hi += 1 }
            XCTAssertEqual(PageBitmap.runContaining(words, first, n, maxWords: 200), hi - lo)
            XCTAssertGreaterThanOrEqual(PageBitmap.runContaining(words, first, n), hi - lo, "capped scans over-estimate")
        }
        words.initialize(repeating: 0, count: 128)
        PageBitmap.set(words, 0, 8192)
        XCTAssertEqual(PageBitmap.longestRun(words), 8192)
    }

    func testPageAllocatorCoalescesOnFree() throws {
        let heap = makeTestHeap()
        let h = heap.raw
        // Three adjacent large spans, freed out of order: the pages coalesce back into one run.
        let c = heap.makeCache()!
        let a = c.allocate(byteCount: 40 * pageSize)!
        let b = c.allocate(byteCount: 40 * pageSize)!
        let d = c.allocate(byteCount: 40 * pageSize)!
        XCTAssertEqual(UInt(bitPattern: b), UInt(bitPattern: a) + UInt(40 * pageSize), "first fit is contiguous")
        XCTAssertEqual(UInt(bitPattern: d), UInt(bitPattern: b) + UInt(40 * pageSize))
        let arena = heap.arena(of: a)!
        let before = arena.longestFreeRun
        c.deallocate(b)
        c.deallocate(a)
        c.deallocate(d)
        XCTAssertGreaterThanOrEqual(arena.longestFreeRun, before + 120)
        XCTAssertNil(heap.checkInvariants())
        // And the space is reused for one 120-page span at the same address.
        let e = c.allocate(byteCount: 120 * pageSize)!
        XCTAssertEqual(e, a)
        c.deallocate(e)
        _ = h
    }

    func testHeapGrowsByWholeArenasAndHugeSpansSpanArenas() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let big = c.allocate(byteCount: 100 << 20)!   // 100 MiB: two arenas
        XCTAssertEqual(heap.memStats.heapSys % UInt64(heapArenaBytes), 0)
        XCTAssertGreaterThanOrEqual(heap.memStats.arenas, 2)
        XCTAssertEqual(heap.span(of: big.advanced(by: 90 << 20))?.base, UInt(bitPattern: big), "page->span map covers both arenas")
        fill(big, 100 << 20, 7)
        XCTAssertTrue(check(big, 100 << 20, 7))
        c.deallocate(big)
        XCTAssertNil(heap.checkInvariants())
        // The freed arenas serve a second huge request.
        let again = c.allocate(byteCount: 100 << 20)!
        XCTAssertEqual(again, big)
        c.deallocate(again)
    }

    func testAlignedLargeAllocation() {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        for shift in [13, 14, 16, 20, 22] {
            let p = c.allocate(byteCount: 100, alignment: 1 << shift)!
            XCTAssertEqual(UInt(bitPattern: p) & ((1 << UInt(shift)) - 1), 0, "alignment 2^\(shift)")
            c.deallocate(p)
        }
        for align in [32, 64, 128, 512, 4096] {
            var ps: [UnsafeMutableRawPointer] = []
            for size in [1, 24, 100, 1000, 5000] {
                let p = c.allocate(byteCount: size, alignment: align)!
                XCTAssertEqual(Int(bitPattern: p) % align, 0, "size \(size) align \(align)")
                XCTAssertGreaterThanOrEqual(heap.usableSize(p), size)
                ps.append(p)
            }
            ps.forEach(c.deallocate)
        }
        XCTAssertNil(heap.checkInvariants())
    }
}
