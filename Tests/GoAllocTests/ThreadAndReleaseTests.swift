import XCTest
import Foundation
import CGoRuntime
@testable import GoAlloc

final class ThreadAndReleaseTests: XCTestCase {
    /// 1,000 threads each allocate through their own thread cache of the default heap and exit; the thread
    /// exit hook hands every span back, so heap in use returns to the baseline.
    func testThreadChurnReturnsToBaseline() {
        let heap = Heap.default
        // Warm up this thread's cache so it is part of the baseline.
        heap.deallocate(heap.allocate(byteCount: 8)!)
        heap.releaseMemory()
        let base = heap.memStats
        for round in 0..<(10 * soakFactor) {
            var threads: [pthread_t] = []
            for _ in 0..<100 {
                var t = pthread_t()
                pthread_create(&t, nil, { arg in
                    var ptrs: [UnsafeMutableRawPointer] = []
                    let h = Heap.default
                    for i in 0..<200 { ptrs.append(h.allocate(byteCount: 1 + (i * 37) % 3000)!) }
                    for p in ptrs { h.deallocate(p) }
                    _ = h.allocate(byteCount: 64).map { h.deallocate($0) }
                    return nil
                }, nil)
                threads.append(t)
            }
            for t in threads { pthread_join(t, nil) }
            _ = round
        }
        heap.releaseMemory()
        let after = heap.memStats
        XCTAssertEqual(after.caches, base.caches, "every thread's cache was released")
        XCTAssertEqual(after.heapObjects, base.heapObjects)
        XCTAssertLessThanOrEqual(after.heapInuse, base.heapInuse + UInt64(4 * pageSize))
        XCTAssertEqual(after.heapSys, after.heapInuse + after.heapIdle)
    }

    /// The scavenger releases pages without MHeap.lock (it claims them first): two threads allocate, fill, check
    /// and free large blocks and batches of small ones while a third releases memory in a loop. A page released
    /// under a live block would read back as zeros; the heap's invariants (claimed pages included) are checked
    /// on every slow path and at the end. Fixed seeds. Run again under a GOMEMLIMIT of 2 MiB, so the allocating
    /// threads release pages themselves too (several passes at once, each dropping the lock mid-arena).
    func testScavengingRacesAllocation() {
        scavengingRacesAllocation(memoryLimit: .max)
        scavengingRacesAllocation(memoryLimit: 2 << 20)
    }

    private func scavengingRacesAllocation(memoryLimit: UInt64) {
        let heap = makeTestHeap(checks: true, memoryLimit: memoryLimit)
        let stop = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        stop.initialize(to: 0)
        defer { stop.deallocate() }
        let releaser = Thread {
            while gort_load_relaxed(UnsafeMutableRawPointer(stop).assumingMemoryBound(to: UInt64.self)) == 0 {
                heap.releaseMemory()
            }
        }
        releaser.start()
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            var rng = SeededRandom(seed: 41 &+ UInt64(t))
            let c = heap.makeCache()!
            for _ in 0..<(2000 * soakFactor) {
                var blocks: [(UnsafeMutablePointer<UInt64>, Int, UInt64)] = []
                for _ in 0..<(1 + rng.below(8)) {
                    let words = rng.below(2) == 0 ? 8 + rng.below(64) : 1024 * (1 + rng.below(64))
                    let p = c.allocate(byteCount: words * 8)!.assumingMemoryBound(to: UInt64.self)
                    let tag = rng.next() | 1
                    for i in stride(from: 0, to: words, by: 512) { p[i] = tag &+ UInt64(i) }
                    p[words - 1] = tag
                    blocks.append((p, words, tag))
                }
                for (p, words, tag) in blocks {
                    for i in stride(from: 0, to: words, by: 512) where p[i] != tag &+ UInt64(i) {
                        XCTFail("word \(i) of a live block changed: its page was released under it")
                        break
                    }
                    XCTAssertEqual(p[words - 1], tag)
                    c.deallocate(UnsafeMutableRawPointer(p))
                }
            }
            c.release()
        }
        gort_store_relaxed(UnsafeMutableRawPointer(stop).assumingMemoryBound(to: UInt64.self), 1)
        while !releaser.isFinished { usleep(1000) }
        XCTAssertNil(heap.checkInvariants())
    }

    /// 1 GiB in small objects, all freed, then releaseMemory(): RSS falls to within 64 MiB of the start.
    func testReleaseMemoryReturnsRSS() {
        var cfg = HeapConfig()
        cfg.backgroundScavenger = false
        let heap = Heap.create(config: cfg)!
        let c = heap.makeCache()!
        let start = residentBytes()
        let ptrs = allocateGiB(c)
        XCTAssertGreaterThan(residentBytes(), start + (900 << 20))
        for p in ptrs { c.deallocate(p) }
        c.release()
        let released = heap.releaseMemory()
        XCTAssertGreaterThan(released, 900 << 20)
        XCTAssertLessThan(residentBytes(), start + (64 << 20), "RSS back within 64 MiB of the start")
        let st = heap.memStats
        XCTAssertEqual(st.heapObjects, 0)
        XCTAssertGreaterThan(st.heapReleased, 900 << 20)
    }

    /// Without the call, the background scavenger gets RSS there within a few seconds.
    func testBackgroundScavengerReturnsRSS() {
        var cfg = HeapConfig()
        cfg.scavengePeriodMs = 100
        let heap = Heap.create(config: cfg)!
        let c = heap.makeCache()!
        let start = residentBytes()
        let ptrs = allocateGiB(c)
        for p in ptrs { c.deallocate(p) }
        c.release()
        var rss = residentBytes()
        let deadline = Date().addingTimeInterval(8)
        while rss >= start + (64 << 20) && Date() < deadline {
            usleep(100_000)
            rss = residentBytes()
        }
        XCTAssertLessThan(rss, start + (64 << 20), "scavenger released the freed GiB")
    }

    /// Bulk release: a heap that frees most of 1 GiB releases it within a second even with a 10 s scavenger
    /// period (the aging alone would wait 10-20 s); with HeapConfig.bulkRelease off it stays resident.
    func testBulkReleaseAfterABigHeapShrinks() {
        for bulk in [true, false] {
            var cfg = HeapConfig()
            cfg.scavengePeriodMs = 10_000
            cfg.prefault = false
            cfg.bulkRelease = bulk
            let heap = Heap.create(config: cfg)!
            let c = heap.makeCache()!
            let ptrs = allocateGiB(c)
            for p in ptrs { c.deallocate(p) }
            c.release()
            var released: UInt64 = 0
            let deadline = Date().addingTimeInterval(1)
            repeat {
                usleep(20_000)
                released = heap.memStats.heapReleased
            } while released < 384 << 20 && Date() < deadline
            if bulk {
                // One bulk release (at most one a second), asked for when half the GiB was free.
                XCTAssertGreaterThan(released, 384 << 20, "a bulk release followed the shrink")
            } else {
                XCTAssertLessThan(released, 256 << 20, "without bulk release only the 10 s aging releases")
            }
            XCTAssertNil(heap.checkInvariants())
        }
    }

    /// A heap that shrinks and regrows by half a GiB three times within a second gets one bulk release, not three
    /// (each would be faulted in again by the regrowth).
    func testBulkReleaseAtMostOnceASecond() {
        var cfg = HeapConfig()
        cfg.scavengePeriodMs = 10_000
        cfg.prefault = false
        let heap = Heap.create(config: cfg)!
        let start = Date()
        let c = heap.makeCache()!
        for _ in 0..<3 {  // 600 blocks of 1 MiB (large spans: quick even in a debug build), then all freed
            let ptrs = (0..<600).map { _ in c.allocate(byteCount: 1 << 20)! }
            for p in ptrs { c.deallocate(p) }
        }
        heap.raw.lockHeap()
        let bulks = heap.raw.pointee.scav.bulkReleases
        heap.raw.unlockHeap()
        if Date().timeIntervalSince(start) < 1 {
            XCTAssertEqual(bulks, 1, "one bulk release a second")
        } else {
            XCTAssertGreaterThanOrEqual(bulks, 1)  // a slow machine: the cycles spanned more than a second
        }
        XCTAssertNil(heap.checkInvariants())
    }

    /// With MADV_FREE (GODEBUG=madvdontneed=0) pages are released lazily; accounting is the same.
    func testMadvFreeModeAccounting() {
        var cfg = HeapConfig()
        cfg.backgroundScavenger = false
        cfg.madvDontNeed = false
        let heap = Heap.create(config: cfg)!
        let c = heap.makeCache()!
        let p = c.allocate(byteCount: 8 << 20)!
        fill(p, 8 << 20, 1)
        c.deallocate(p)
        XCTAssertGreaterThanOrEqual(heap.releaseMemory(), 8 << 20)
        // Released-with-MADV_FREE pages may hold old data: calloc-style allocation must zero them.
        let q = c.allocate(byteCount: 8 << 20, zeroed: true)!
        XCTAssertTrue(check(q, 8 << 20, 0))
        c.deallocate(q)
    }

    /// GOMEMLIMIT's syntax is Go's: bytes with an optional B/KiB/MiB/GiB/TiB suffix, or off.
    func testMemoryLimitParsing() {
        func parse(_ s: String) -> UInt64? { s.withCString { HeapConfig.parseMemoryLimit($0) } }
        XCTAssertEqual(parse("off"), .max)
        XCTAssertEqual(parse(""), .max)
        XCTAssertEqual(parse("123"), 123)
        XCTAssertEqual(parse("5B"), 5)
        XCTAssertEqual(parse("10KiB"), 10 << 10)
        XCTAssertEqual(parse("64MiB"), 64 << 20)
        XCTAssertEqual(parse("3GiB"), 3 << 30)
        XCTAssertEqual(parse("2TiB"), 2 << 40)
        for bad in ["12MB", "1.5GiB", "-1", "abc", "GiB", "64 MiB", "64Mi", "64MiBx", "9223372036854775808",
                    "8388608TiB", "99999999999999999999", "Off"] {
            XCTAssertNil(parse(bad), bad)
        }
        setenv("GOMEMLIMIT", "48MiB", 1)
        defer { unsetenv("GOMEMLIMIT") }
        XCTAssertEqual(HeapConfig.fromEnvironment().memoryLimit, 48 << 20)
    }

    /// Under GOMEMLIMIT the next span allocation releases free pages down to the limit (no background thread
    /// here), and memory in use above the limit is still handed out (the limit is soft). Without a limit the same
    /// free pages stay resident, as they would until the scavenger found them aged.
    func testMemoryLimitReturnsRSS() {
        for limited in [false, true] {
            var cfg = HeapConfig()
            cfg.backgroundScavenger = false
            if limited { cfg.memoryLimit = 32 << 20 }
            let heap = Heap.create(config: cfg)!
            let c = heap.makeCache()!
            var blocks: [UnsafeMutableRawPointer] = []
            for i in 0..<96 {  // 96 MiB in use: three times the limit
                let p = c.allocate(byteCount: 1 << 20)!
                fill(p, 1 << 20, UInt8(truncatingIfNeeded: i))
                blocks.append(p)
            }
            var st = heap.memStats
            XCTAssertGreaterThanOrEqual(st.heapInuse, 96 << 20)
            let before = residentBytes()
            for p in blocks { c.deallocate(p) }
            let q = c.allocate(byteCount: 64)!  // a span allocation: the limit is checked here
            st = heap.memStats
            let retained = st.heapSys - st.heapReleased
            if limited {
                XCTAssertLessThanOrEqual(retained, 32 << 20, "retained pages over GOMEMLIMIT after an allocation")
                XCTAssertLessThan(residentBytes(), before - (48 << 20), "RSS fell with the released pages")
            } else {
                XCTAssertGreaterThan(retained, 90 << 20, "without a limit the freed pages wait for the scavenger")
            }
            c.deallocate(q)
            XCTAssertNil(heap.checkInvariants())
        }
    }

    func testGODEBUGParsing() {
        var seen: [UInt64: Int] = [:]
        "madvdontneed=0,scavtrace=1,foo,allocchecks=12".withCString { GODEBUG.forEach($0) { seen[$0] = $1 } }
        XCTAssertEqual(seen[GODEBUG.key("madvdontneed")], 0)
        XCTAssertEqual(seen[GODEBUG.key("scavtrace")], 1)
        XCTAssertEqual(seen[GODEBUG.key("allocchecks")], 12)
        XCTAssertNil(seen[GODEBUG.key("foo")], "no '=': skipped, as Go does")
        // Go's atoi32: a value that is not a whole int32 leaves the earlier setting (checked against Go 1.19).
        seen = [:]
        "gctrace=1,gctrace,gctrace=abc,gctrace=1x,gctrace=,gctrace=+2,gctrace=4294967297,gctrace=2147483648".withCString {
            GODEBUG.forEach($0) { seen[$0] = $1 }
        }
        XCTAssertEqual(seen[GODEBUG.key("gctrace")], 1)
        seen = [:]
        "madvdontneed=-1,x=2147483647,y=-2147483648".withCString { GODEBUG.forEach($0) { seen[$0] = $1 } }
        XCTAssertEqual(seen[GODEBUG.key("madvdontneed")], -1)
        XCTAssertEqual(seen[GODEBUG.key("x")], 2147483647)
        XCTAssertEqual(seen[GODEBUG.key("y")], -2147483648)
    }

    private func allocateGiB(_ c: Cache) -> [UnsafeMutableRawPointer] {
        var ptrs: [UnsafeMutableRawPointer] = []
        ptrs.reserveCapacity(1 << 21)
        var total = 0
        var i = 0
        while total < 1 << 30 {
            let size = [64, 256, 512, 1024, 4096][i % 5]
            let p = c.allocate(byteCount: size)!
            p.storeBytes(of: UInt64(i), as: UInt64.self)
            (p + size - 8).storeBytes(of: UInt64(i), as: UInt64.self)
            ptrs.append(p)
            total += size
            i += 1
        }
        return ptrs
    }
}
