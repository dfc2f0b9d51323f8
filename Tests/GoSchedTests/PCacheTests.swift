import Foundation
import GoAlloc
@_spi(Testing) import GoSched
import XCTest

/// Each P owns an MCache; the M running a P allocates from it (Go: p.mcache). Under libGoMalloc.so the caches
/// come from the library's heap, and no second heap appears in the process.
final class PCacheTests: XCTestCase {
    /// What a job saw: the malloc cache of its thread, and whether GoAlloc's own thread-cache API agrees.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var caches: [UInt] = []
        private var mismatches = 0
        func record(_ c: UnsafeMutableRawPointer?, apiAgrees: Bool) {
            lock.lock()
            caches.append(UInt(bitPattern: c))
            if !apiAgrees { mismatches += 1 }
            lock.unlock()
        }
        var snapshot: ([UInt], Int) { lock.lock(); defer { lock.unlock() }; return (caches, mismatches) }
    }

    /// Jobs allocate and free through whatever cache their thread has, and record it.
    static func work(_ sched: Scheduler, seen: Seen, jobs: Int, checkGoAllocAPI: Bool) -> Bool? {
        runOn(sched, timeout: 60) { () -> Bool in
            await withTaskGroup(of: Void.self) { g in
                for i in 0..<jobs {
                    g.addTask {
                        let c = Scheduler.currentMallocCache
                        var agrees = true
                        if checkGoAllocAPI {
                            // In-process: GoAlloc's thread cache *is* the P's cache, and allocates from it.
                            agrees = Heap.threadCache?.raw == c?.assumingMemoryBound(to: MCache.self)
                            if let p = Heap.default.allocate(byteCount: 16 + i % 500) { Heap.default.deallocate(p) }
                        }
                        let p = malloc(24 + i % 1000)  // whatever the process malloc is
                        free(p)
                        seen.record(c, apiAgrees: agrees)
                        if i % 7 == 0 { await Task.yield() }  // move between Ps
                    }
                }
            }
            return true
        }
    }

    func testEachPOwnsACacheBoundWhileItsMRunsJobs() {
        if ProcessInfo.processInfo.environment["LD_PRELOAD"] == nil {
            XCTAssertEqual(Scheduler.pCacheSource, .inProcess)
        }
        let outside = Scheduler.currentMallocCache
        let sched = Scheduler(procs: 2)
        let seen = Seen()
        XCTAssertEqual(PCacheTests.work(sched, seen: seen, jobs: 2000, checkGoAllocAPI: true), true)
        let pcs = sched.pCaches.compactMap { $0.map { UInt(bitPattern: $0) } }
        let (caches, mismatches) = seen.snapshot
        XCTAssertEqual(caches.count, 2000)
        XCTAssertEqual(mismatches, 0, "GoAlloc's thread cache differed from the P's inside a job")
        XCTAssertFalse(pcs.isEmpty)
        XCTAssertEqual(Set(pcs).count, pcs.count, "two Ps share a cache")
        for c in caches { XCTAssertTrue(pcs.contains(c), "a job ran with cache \(c), not a P's (\(pcs))") }
        // The test thread is no M: its cache is its own, never a P's.
        XCTAssertEqual(Scheduler.currentMallocCache, outside)
        if let o = outside { XCTAssertFalse(pcs.contains(UInt(bitPattern: o))) }
        sched.shutdown()
        XCTAssertTrue(sched.pCaches.allSatisfy { $0 == nil }, "caches not returned at shutdown")
        XCTAssertNil(Heap.default.checkInvariants())
    }

    func testPsBindToLibGoMallocWhenItIsTheProcessMalloc() throws {
        let name = "GoSchedTests.PCacheTests/testPsBindToLibGoMallocWhenItIsTheProcessMalloc"
        if isChild(name) {
            let sched = Scheduler(procs: 2)
            let seen = Seen()
            let ok = PCacheTests.work(sched, seen: seen, jobs: 3000, checkGoAllocAPI: false) == true
            let pcs = sched.pCaches.compactMap { $0.map { UInt(bitPattern: $0) } }
            let (caches, _) = seen.snapshot
            let allPs = !caches.isEmpty && caches.allSatisfy { pcs.contains($0) }
            sched.shutdown()
            // GoAlloc's default heap in this image was never started: the Ps used the library's.
            print("RESULT source=\(Scheduler.pCacheSource) ok=\(ok) jobsOnPCaches=\(allPs) "
                  + "distinct=\(Set(pcs).count == pcs.count) secondHeap=\(Heap.existingDefault != nil)")
            return
        }
        if dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil {
            throw XCTSkip("a malloc replacement cannot be preloaded under Thread Sanitizer")
        }
        let lib = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/libGoMalloc.so"
        guard FileManager.default.fileExists(atPath: lib) else {
            XCTFail("\(lib) missing: build with `swift build --build-tests` (it builds libGoMalloc.so)")
            return
        }
        let (status, out) = try runChild(test: name, env: ["LD_PRELOAD": lib])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("RESULT source=goMalloc ok=true jobsOnPCaches=true distinct=true secondHeap=false"), out)
    }
}
