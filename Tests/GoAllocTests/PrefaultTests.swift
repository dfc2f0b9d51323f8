import Foundation
import XCTest
@testable import GoAlloc

/// Prefault.swift: windows of fresh pages faulted in ahead of a growing heap.
final class PrefaultTests: XCTestCase {
    /// Heap pages (8 KiB) of [p, p + n heap pages) whose OS pages are all resident (mincore).
    private func residentPages(_ p: UInt, _ n: Int) -> Int {
        let osPage = Int(sysconf(Int32(_SC_PAGESIZE)))
        let perPage = pageSize / osPage
        var vec = [UInt8](repeating: 0, count: n * perPage)
        XCTAssertEqual(mincore(UnsafeMutableRawPointer(bitPattern: p)!, n * pageSize, &vec), 0)
        return (0..<n).filter { i in (0..<perPage).allSatisfy { vec[i * perPage + $0] & 1 != 0 } }.count
    }

    private func locked<T>(_ h: Heap, _ body: () -> T) -> T {
        h.raw.lockHeap()
        defer { h.raw.unlockHeap() }
        return body()
    }

    /// A test heap (no background thread) with one small object allocated: its cache, the object, its span's
    /// start and end. The arena after the span is fresh.
    private func heapWithOneSpan() -> (heap: Heap, c: Cache, p: UnsafeMutableRawPointer, start: UInt, end: UInt) {
        let heap = makeTestHeap()
        let c = heap.makeCache()!
        let p = c.allocate(byteCount: 64)!
        let s = heap.span(of: p)!
        return (heap, c, p, s.pointee.startAddr, s.pointee.startAddr + UInt(s.pointee.npages) * UInt(pageSize))
    }

    /// The mechanism, step by step on a heap without the background thread: a span from fresh pages asks for
    /// the window after it; populating makes it resident, and the accounting moves it out of "released".
    func testWindowAfterAFreshSpanIsFaultedIn() throws {
        let (heap, c, p, _, end) = heapWithOneSpan()
        let released0 = locked(heap) { heap.raw.pointee.stats.releasedPages }
        XCTAssertTrue(locked(heap) { heap.raw.prefaultAheadLocked(end: end, tookFresh: true) })
        let (base, n) = locked(heap) { (heap.raw.pointee.prefault.base, heap.raw.pointee.prefault.npages) }
        XCTAssertEqual(base, end, "the window starts where the span ends")
        XCTAssertEqual(n, PrefaultState.minWindowPages, "a small heap gets the smallest window")
        XCTAssertEqual(locked(heap) { heap.raw.pointee.stats.releasedPages }, released0 - n)
        XCTAssertEqual(residentPages(base, n), 0, "fresh pages are not resident before")
        // Busy: no second request until the first is done.
        XCTAssertFalse(locked(heap) { heap.raw.prefaultAheadLocked(end: end, tookFresh: true) })
        heap.raw.runPrefault()
        if locked(heap, { heap.raw.pointee.prefault.unsupported }) {
            XCTAssertEqual(locked(heap) { heap.raw.pointee.stats.releasedPages }, released0,
                           "a failed window is given back")
            throw XCTSkip("this kernel has no MADV_POPULATE_WRITE (Linux 5.14+)")
        }
        XCTAssertEqual(residentPages(base, n), n, "every page of the window is resident after")
        XCTAssertEqual(locked(heap) { heap.raw.pointee.prefault.windows }, 1)
        XCTAssertNil(heap.checkInvariants())
        // Spans carved from the window still read as zero (populated pages are zero pages).
        let q = c.allocate(byteCount: 4096, zeroed: true)!
        XCTAssertTrue(check(q, 4096, 0))
        c.deallocate(q)
        c.deallocate(p)
        c.release()
    }

    /// A window the kernel could not populate is given back: its pages count as released again, and the
    /// heap's accounting checks out.
    func testFailedWindowIsGivenBack() {
        let (heap, c, p, _, end) = heapWithOneSpan()
        let released0 = locked(heap) { heap.raw.pointee.stats.releasedPages }
        XCTAssertTrue(locked(heap) { heap.raw.prefaultAheadLocked(end: end, tookFresh: true) })
        XCTAssertLessThan(locked(heap) { heap.raw.pointee.stats.releasedPages }, released0)
        locked(heap) {
            heap.raw.unmarkWindowLocked(heap.raw.pointee.prefault.base, heap.raw.pointee.prefault.npages)
            heap.raw.pointee.prefault.npages = 0
            heap.raw.pointee.prefault.busy = false
        }
        XCTAssertEqual(locked(heap) { heap.raw.pointee.stats.releasedPages }, released0)
        XCTAssertNil(heap.checkInvariants())
        c.deallocate(p)
        c.release()
    }

    /// The frontier: a span well inside the last window asks for nothing; one within half a window of its end
    /// asks for the next window; a span from pages that were resident already (not fresh) asks for nothing.
    func testNextWindowOnlyNearTheFrontier() {
        let (heap, c, p, start, end) = heapWithOneSpan()
        XCTAssertTrue(locked(heap) { heap.raw.prefaultAheadLocked(end: end, tookFresh: true) })
        heap.raw.runPrefault()
        let window = UInt(PrefaultState.minWindowPages * pageSize)
        let frontier = locked(heap) { heap.raw.pointee.prefault.end }
        XCTAssertEqual(frontier, end + window)
        XCTAssertFalse(locked(heap) { heap.raw.prefaultAheadLocked(end: end + window / 4, tookFresh: false) })
        XCTAssertFalse(locked(heap) { heap.raw.prefaultAheadLocked(end: end + window / 4, tookFresh: true) },
                       "inside the window, a fresh span does not restart it")
        XCTAssertTrue(locked(heap) { heap.raw.prefaultAheadLocked(end: end + window * 3 / 4, tookFresh: false) })
        XCTAssertEqual(locked(heap) { heap.raw.pointee.prefault.base }, frontier, "the next window follows")
        heap.raw.runPrefault()
        // Far below the frontier (reused memory): nothing.
        XCTAssertFalse(locked(heap) { heap.raw.prefaultAheadLocked(end: start, tookFresh: false) })
        XCTAssertNil(heap.checkInvariants())
        c.deallocate(p)
        c.release()
    }

    /// With the background thread: a heap growing past the scavenger's start prefaults windows; with
    /// GODEBUG=prefault=0 (HeapConfig.prefault) it does not. Accounting stays exact either way.
    func testGrowingHeapPrefaultsUnlessOff() {
        for on in [true, false] {
            var cfg = HeapConfig()
            cfg.prefault = on
            let heap = Heap.create(config: cfg)!
            let c = heap.makeCache()!
            var ptrs: [UnsafeMutableRawPointer] = []
            for i in 0..<(48 << 20) / 256 {
                let p = c.allocate(byteCount: 256)!
                p.storeBytes(of: UInt64(i), as: UInt64.self)
                ptrs.append(p)
            }
            let deadline = Date().addingTimeInterval(5)
            while on && locked(heap, { heap.raw.pointee.prefault.windows == 0 || heap.raw.pointee.prefault.busy })
                && Date() < deadline {
                usleep(10_000)
            }
            let windows = locked(heap) { heap.raw.pointee.prefault.windows }
            let unsupported = locked(heap) { heap.raw.pointee.prefault.unsupported }
            if !on { XCTAssertEqual(windows, 0) } else if !unsupported { XCTAssertGreaterThan(windows, 0) }
            for (i, p) in ptrs.enumerated() { XCTAssertEqual(p.load(as: UInt64.self), UInt64(i)) }
            for p in ptrs { c.deallocate(p) }
            c.release()
            XCTAssertNil(heap.checkInvariants())
        }
    }
}
