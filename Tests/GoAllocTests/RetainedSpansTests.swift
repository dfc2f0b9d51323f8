import XCTest
import CGoRuntime
@testable import GoAlloc

/// RetainedSpans.swift: a cache keeps the spans it ran through, frees into them stay local, and refill reuses
/// them before MCentral and the heap.
final class RetainedSpansTests: XCTestCase {
    /// Fills one span of 256-byte objects and starts a second; returns the pointers of the first.
    private func fillOneSpan(_ c: Cache, _ spc: SpanClass) throws -> (UnsafeMutablePointer<MSpan>, [UnsafeMutableRawPointer]) {
        let first = c.allocate(byteCount: 256)!
        let s1 = try XCTUnwrap(c.cachedSpan(spc))
        var ptrs = [first]
        while ptrs.count < s1.objectCount { ptrs.append(c.allocate(byteCount: 256)!) }
        return (s1, ptrs)
    }

    /// The scan backoff (takeRetained) skips scans only for long lists of full spans, and a heap that grows,
    /// frees half of every object and grows again reuses the room: at most 15 new spans (one backoff period).
    func testScanBackoffDoesNotLoseRoom() throws {
        let heap = makeTestHeap(checks: false)
        let c = heap.makeCache()!
        var ptrs: [UnsafeMutableRawPointer] = []
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 256), noscan: true)
        // Grow: 200 spans' worth, every retained span full; the scans back off.
        let perSpan = try XCTUnwrap(c.allocate(byteCount: 256).map { p -> Int in ptrs.append(p); return heap.span(of: p)!.objectCount })
        while ptrs.count < 200 * perSpan { ptrs.append(c.allocate(byteCount: 256)!) }
        XCTAssertGreaterThan(c.raw.retainedCount(spc.index).pointee, retainedBackoffMinSpans)
        // Free every other object, then allocate as many again.
        var kept: [UnsafeMutableRawPointer] = []
        for (i, p) in ptrs.enumerated() { if i % 2 == 0 { c.deallocate(p) } else { kept.append(p) } }
        let spansBefore = heap.memStats.spansInUse
        for _ in 0..<(ptrs.count / 2) { kept.append(c.allocate(byteCount: 256)!) }
        let grown = Int(heap.memStats.spansInUse) - Int(spansBefore)
        XCTAssertLessThanOrEqual(grown, 16, "refills skipped retained spans with room")
        for p in kept { c.deallocate(p) }
        XCTAssertNil(heap.checkInvariants())
    }

    func testRunThroughSpanStaysOwnedAndFreesIntoItAreLocal() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 256), noscan: true)
        let m = heap.raw.central(spc)
        let (s1, ptrs) = try fillOneSpan(c, spc)
        let extra = c.allocate(byteCount: 256)!
        let s2 = try XCTUnwrap(c.cachedSpan(spc))
        XCTAssertNotEqual(s1, s2)
        // s1 is retained: still owned by the cache, in its list, not in any MCentral set.
        XCTAssertEqual(s1.pointee.owner, word(c.raw))
        XCTAssertEqual(c.raw.retainedCount(spc.index).pointee, 1)
        XCTAssertEqual(gort_load_relaxed(&m.pointee.nfull), 0)
        XCTAssertTrue(m.fullSwept(m.sweepgen).pointee.isEmpty)
        // Frees by the owner are local: allocBits change at once, nothing waits in freeBits.
        let nfree = s1.objectCount / 2
        for p in ptrs.prefix(nfree) { c.deallocate(p) }
        XCTAssertEqual(s1.allocatedCount, s1.objectCount - nfree)
        XCTAssertEqual(s1.pointee.hasRemoteFrees, 0)
        XCTAssertNil(heap.checkInvariants())
        // When s2 runs out, refill takes s1 back before asking MCentral or the heap for a span.
        let spansBefore = heap.memStats.spansInUse
        var more: [UnsafeMutableRawPointer] = [extra]
        while more.count < s2.objectCount { more.append(c.allocate(byteCount: 256)!) }
        let reused = c.allocate(byteCount: 256)!
        XCTAssertEqual(heap.span(of: reused), s1, "a retained span with room is reused first")
        XCTAssertEqual(heap.memStats.spansInUse, spansBefore)
        XCTAssertEqual(c.raw.retainedCount(spc.index).pointee, 1, "s2 is retained in turn")
        XCTAssertNil(heap.checkInvariants())
        c.deallocate(reused)
        for p in ptrs.suffix(s1.objectCount - nfree) + more { c.deallocate(p) }
        c.release()
        XCTAssertNil(heap.checkInvariants())
    }

    func testLocalFreeThatEmptiesARetainedSpanHandsItBack() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 256), noscan: true)
        let (s1, ptrs) = try fillOneSpan(c, spc)
        var ptrs2: [UnsafeMutableRawPointer] = []
        while ptrs2.count < s1.objectCount { ptrs2.append(c.allocate(byteCount: 256)!) }
        let s2 = try XCTUnwrap(heap.span(of: ptrs2[0]))
        let extra = c.allocate(byteCount: 256)!  // a third span is current; s1 and s2 are retained
        XCTAssertEqual(c.raw.retainedCount(spc.index).pointee, 2)
        // The first span emptied becomes the class's spare; the next goes back to the heap at once.
        for p in ptrs { c.deallocate(p) }
        XCTAssertEqual(c.raw.spareSpan(spc.index).pointee, s1)
        XCTAssertEqual(s1.state, .inUse)
        for p in ptrs2 { c.deallocate(p) }
        XCTAssertEqual(s2.state, .dead, "an emptied retained span beyond the spare goes back to the heap at once")
        XCTAssertEqual(c.raw.retainedCount(spc.index).pointee, 0)
        // The current span stays even when empty.
        let s3 = try XCTUnwrap(c.cachedSpan(spc))
        c.deallocate(extra)
        XCTAssertEqual(s3.state, .inUse)
        XCTAssertEqual(c.cachedSpan(spc), s3)
        XCTAssertNil(heap.checkInvariants())
        // Releasing the cache frees the spare too.
        c.flush()
        XCTAssertEqual(s1.state, .dead)
        XCTAssertEqual(heap.memStats.spansInUse, 0)
    }

    func testRemoteFreesIntoARetainedSpanAreFoundByTheOwnersRefill() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 256), noscan: true)
        let (s1, ptrs) = try fillOneSpan(c, spc)
        var more = [c.allocate(byteCount: 256)!]
        let s2 = try XCTUnwrap(c.cachedSpan(spc))
        // Another thread (no cache: heap.deallocate) frees half of s1: the remote path.
        let nfree = s1.objectCount / 2
        for p in ptrs.prefix(nfree) { heap.deallocate(p) }
        XCTAssertEqual(s1.pointee.hasRemoteFrees, 1)
        XCTAssertEqual(s1.allocatedCount, s1.objectCount, "remote frees wait in freeBits")
        while more.count < s2.objectCount { more.append(c.allocate(byteCount: 256)!) }
        let reused = c.allocate(byteCount: 256)!
        XCTAssertEqual(heap.span(of: reused), s1)
        XCTAssertEqual(s1.pointee.hasRemoteFrees, 0, "the owner's scan swept them in")
        XCTAssertEqual(s1.allocatedCount, s1.objectCount - nfree + 1)
        XCTAssertNil(heap.checkInvariants())
        c.deallocate(reused)
        for p in ptrs.suffix(s1.objectCount - nfree) + more { c.deallocate(p) }
    }

    /// RemoteHints.swift: another thread empties spans deep in a long retained list (the oldest ones stay
    /// full, as when a consumer takes a producer's batches last-in first-out). The owner's refills take those
    /// spans, posted to its hint ring, instead of growing the heap; without hints the scan meets only full spans
    /// at the list's head, backs off and takes fresh ones.
    func testSpansEmptiedDeepInALongListAreReusedThroughHints() throws {
        let heap = makeTestHeap(checks: false)
        let a = heap.makeCache()!, other = heap.makeCache()!
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 256), noscan: true)
        var bySpan: [[UnsafeMutableRawPointer]] = []
        var last: UnsafeMutablePointer<MSpan>? = nil
        for _ in 0..<(300 * 32) {
            let p = a.allocate(byteCount: 256)!
            let s = heap.span(of: p)
            if s != last { bySpan.append([]); last = s }
            bySpan[bySpan.count - 1].append(p)
        }
        XCTAssertGreaterThan(a.raw.retainedCount(spc.index).pointee, hintMinSpans)
        // `other` frees every object of ten spans in the middle: remote frees into a's retained spans.
        let emptied = bySpan[150..<160]
        for ptrs in emptied { for p in ptrs { other.deallocate(p) } }
        let before = heap.memStats.spansInUse
        // The refill after next takes the hints (they wait one refill: RemoteHints.swift): the emptied spans go
        // back to the heap (one kept as the spare, one perhaps taken as the new current span), not to the front
        // of the list to sit there empty. The first refill may take one fresh span.
        var again: [UnsafeMutableRawPointer] = []
        for _ in 0...32 { again.append(a.allocate(byteCount: 256)!) }
        XCTAssertLessThanOrEqual(heap.memStats.spansInUse, before - 7, "emptied spans kept after the hints were taken")
        for _ in 33..<(emptied.map(\.count).reduce(0, +)) { again.append(a.allocate(byteCount: 256)!) }
        let grown = Int(heap.memStats.spansInUse) - Int(before)
        XCTAssertLessThanOrEqual(grown, 2, "refills took fresh spans while ten emptied ones waited in the list")
        XCTAssertNil(heap.checkInvariants())
        for (i, ptrs) in bySpan.enumerated() where !(150..<160).contains(i) { for p in ptrs { a.deallocate(p) } }
        for p in again { a.deallocate(p) }
        other.release()
        XCTAssertNil(heap.checkInvariants())
    }

    func testHousekeepingReturnsSpansEmptiedByRemoteFrees() throws {
        // A cache fills spans, then stops allocating; another thread frees all its objects (remote frees). When
        // the first cache itself makes remote frees (it turned consumer), housekeeping sweeps its retained spans
        // and hands back the empty ones.
        let heap = makeTestHeap()
        let a = heap.makeCache()!, other = heap.makeCache()!
        var mine: [UnsafeMutableRawPointer] = []
        for _ in 0..<4000 { mine.append(a.allocate(byteCount: 256)!) }
        var theirs: [UnsafeMutableRawPointer] = []
        for _ in 0..<Int(housekeepEvery) { theirs.append(other.allocate(byteCount: 48)!) }
        let retained = a.raw.retainedSpans
        XCTAssertGreaterThan(retained, 10)
        for p in mine { heap.deallocate(p) }  // remote frees into a's retained spans
        let before = heap.memStats.spansInUse
        for p in theirs { a.deallocate(p) }   // a's own remote frees: the last one runs housekeeping
        XCTAssertLessThan(heap.memStats.spansInUse, before - 10, "emptied retained spans went back to the heap")
        XCTAssertLessThan(a.raw.retainedSpans, retained)
        XCTAssertNil(heap.checkInvariants())
    }

    func testSpansEmptiedByRemoteFreesAreSweptBeforeTheHeapGrows() throws {
        // Each round a short-lived cache fills 2 MiB of one size class and goes away (its spans go back to
        // MCentral), then another thread frees every object: remote frees into spans no cache holds. Each round
        // uses the next class, so no cacheSpan of an old class sweeps them, and this heap has no background
        // pass: allocSpan must sweep them before it grows the heap. It did not: the heap grew by a round's
        // worth each time, 136 MiB here for 2 MiB live (a helper's drift test: 901 MB for 20 MB live).
        let heap = makeTestHeap(checks: false)
        for sc in 1..<SizeClasses.count {
            let size = SizeClasses.size(sc)
            let c = heap.makeCache()!
            var ptrs: [UnsafeMutableRawPointer] = []
            for _ in 0..<((2 << 20) / size) { ptrs.append(c.allocate(byteCount: size)!) }
            c.release()
            for p in ptrs { heap.deallocate(p) }   // remote frees: this thread has no cache of `heap`
        }
        let ms = heap.memStats
        XCTAssertLessThanOrEqual(ms.heapSys, 64 << 20, "heapSys \(ms.heapSys >> 20) MiB, heapInuse \(ms.heapInuse >> 20) MiB for 2 MiB live")
        XCTAssertNil(heap.checkInvariants())
        heap.destroy()
    }

    func testIdleCacheHandsBackSparesAndEmptyCurrentSpans() throws {
        // A producer turned consumer: cache `a` fills spans of three classes, every object is freed elsewhere,
        // and `a` goes on making remote frees without allocating. The first housekeeping pass sees refills
        // since the last (none yet) and keeps the current spans; the next, with no refill in between, hands
        // back the spares and the current spans left empty (RetainedSpans.swift, releaseIfIdle).
        let heap = makeTestHeap()
        let a = heap.makeCache()!, other = heap.makeCache()!
        let sizes = [48, 256, 1024]
        var theirs: [UnsafeMutableRawPointer] = []
        for _ in 0..<(2 * Int(housekeepEvery)) { theirs.append(other.allocate(byteCount: 64)!) }
        let othersSpans = heap.memStats.spansInUse
        // Few enough retained spans (under housekeepSpans) that the first pass sweeps them all.
        var mine: [UnsafeMutableRawPointer] = []
        for i in 0..<900 { mine.append(a.allocate(byteCount: sizes[i % 3])!) }
        let classes = sizes.map { SpanClass(sizeclass: SizeClasses.classFor(size: $0), noscan: true) }
        for spc in classes { XCTAssertNotNil(a.cachedSpan(spc)) }
        XCTAssertGreaterThan(a.raw.retainedSpans, 3)
        XCTAssertLessThan(a.raw.retainedSpans, UInt64(housekeepSpans))
        for p in mine { heap.deallocate(p) }  // remote frees into a's spans
        for p in theirs.prefix(Int(housekeepEvery)) { a.deallocate(p) }  // first pass: not idle yet
        for spc in classes { XCTAssertNotNil(a.cachedSpan(spc), "released after one pass") }
        XCTAssertGreaterThan(a.raw.pointee.sparePages, 0, "housekeeping left spares to give back")
        for p in theirs.suffix(Int(housekeepEvery)) { a.deallocate(p) }  // second pass, no refill between
        for spc in classes { XCTAssertNil(a.cachedSpan(spc), "an idle cache kept an empty current span") }
        XCTAssertEqual(a.raw.pointee.sparePages, 0)
        XCTAssertEqual(a.raw.retainedSpans, 0)
        XCTAssertEqual(heap.memStats.spansInUse, othersSpans, "every span of a went back to the heap")
        XCTAssertNil(heap.checkInvariants())
        // The cache still works: the next malloc refills from MCentral.
        let p = try XCTUnwrap(a.allocate(byteCount: 256))
        a.deallocate(p)
        XCTAssertNil(heap.checkInvariants())
    }

    func testIdleReleaseLooksAgainAndBacksOffAfterAWrongGuess() throws {
        // An idle cache whose current span still holds a live object keeps it, and hands it back on a later idle
        // pass once the object is freed. A refill after a hand-back (the guess was wrong) doubles the passes
        // needed before the next guess (RetainedSpans.swift, releaseIfIdle).
        let heap = makeTestHeap()
        let a = heap.makeCache()!, other = heap.makeCache()!
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 256), noscan: true)
        var mine: [UnsafeMutableRawPointer] = []
        for _ in 0..<10 { mine.append(a.allocate(byteCount: 256)!) }
        var theirs: [UnsafeMutableRawPointer] = []
        for _ in 0..<(6 * Int(housekeepEvery)) { theirs.append(other.allocate(byteCount: 64)!) }
        let pass = { (k: Int) in for p in theirs[(k * Int(housekeepEvery))..<((k + 1) * Int(housekeepEvery))] { a.deallocate(p) } }
        for p in mine.dropFirst() { heap.deallocate(p) }  // one object stays live
        pass(0)  // a refilled since the cache was made: not idle yet
        pass(1)  // idle: the current span still holds an object, so it stays
        XCTAssertNotNil(a.cachedSpan(spc), "a span with a live object went back")
        heap.deallocate(mine[0])
        pass(2)  // idle again: now it is empty
        XCTAssertNil(a.cachedSpan(spc), "the emptied current span stayed on a later idle pass")
        XCTAssertEqual(a.raw.pointee.idlePassesNeeded, 1)
        let q = try XCTUnwrap(a.allocate(byteCount: 256))  // a refill: the guess was wrong
        pass(3)
        XCTAssertEqual(a.raw.pointee.idlePassesNeeded, 2, "a wrong guess did not double the passes needed")
        a.deallocate(q)
        pass(4)  // one idle pass: not enough any more
        XCTAssertNotNil(a.cachedSpan(spc), "released after one pass though two are needed")
        pass(5)
        XCTAssertNil(a.cachedSpan(spc))
        XCTAssertNil(heap.checkInvariants())
    }

    func testReleaseHandsRetainedSpansToTheirCentrals() throws {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        var ptrs: [UnsafeMutableRawPointer] = []
        for i in 0..<20_000 { ptrs.append(c.allocate(byteCount: 16 + (i % 7) * 48)!) }
        XCTAssertGreaterThan(c.raw.retainedSpans, 20)
        XCTAssertNil(heap.checkInvariants())
        c.flush()
        XCTAssertEqual(c.raw.retainedSpans, 0)
        // Every span is now in an MCentral: frees from any thread are remote, and a sweep empties the heap.
        for p in ptrs { heap.deallocate(p) }
        heap.releaseMemory()
        XCTAssertEqual(heap.memStats.spansInUse, 0)
        XCTAssertNil(heap.checkInvariants())
    }

    func testRetentionOffGivesGoBehaviour() throws {
        let heap = makeTestHeap(retainSpans: false)
        let c = heap.makeCache()!
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 256), noscan: true)
        let (s1, ptrs) = try fillOneSpan(c, spc)
        let extra = c.allocate(byteCount: 256)!
        XCTAssertEqual(s1.pointee.owner, 0)
        XCTAssertEqual(c.raw.retainedSpans, 0)
        c.deallocate(extra)
        for p in ptrs { c.deallocate(p) }
    }
}
