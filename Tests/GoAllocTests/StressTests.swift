import XCTest
import Foundation
@testable import GoAlloc

/// Multi-threaded stress with fixed seeds (not a benchmark): 4 threads allocate sizes from 0 to several MiB,
/// fill every block with a pattern, hand a share of blocks to other threads through mailboxes (cross-thread
/// frees), grow blocks through realloc-style chains, and check each pattern before freeing.
final class StressTests: XCTestCase {
    final class Mailbox: @unchecked Sendable {
        let lock = NSLock()
        var items: [(UnsafeMutableRawPointer, Int, UInt8)] = []
        func put(_ x: (UnsafeMutableRawPointer, Int, UInt8)) { lock.lock(); items.append(x); lock.unlock() }
        func takeAll() -> [(UnsafeMutableRawPointer, Int, UInt8)] { lock.lock(); defer { lock.unlock() }; let x = items; items = []; return x }
    }

    func randomSize(_ rng: inout SeededRandom) -> Int {
        switch rng.below(100) {
        case 0..<70: return rng.below(257)            // small, including 0
        case 70..<95: return rng.below(32 << 10)       // up to the largest class
        case 95..<99: return rng.below(1 << 20)        // large
        default: return rng.below(6 << 20)             // several MiB
        }
    }

    func runStress(heap: Heap, threads: Int, seed: UInt64, ops: Int) {
        let boxes = (0..<threads).map { _ in Mailbox() }
        let failures = Mailbox()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let c = heap.makeCache()!
            var rng = SeededRandom(seed: seed &+ UInt64(t) &* 7919)
            var live: [(UnsafeMutableRawPointer, Int, UInt8)] = []
            func release(_ x: (UnsafeMutableRawPointer, Int, UInt8)) {
                if !check(x.0, x.1, x.2) { failures.put(x) }
                c.deallocate(x.0)
            }
            for i in 0..<ops {
                let op = rng.below(10)
                if op < 5 || live.isEmpty {
                    let n = randomSize(&rng)
                    let tag = UInt8(truncatingIfNeeded: rng.next() | 1)
                    guard let p = c.allocate(byteCount: n) else { failures.put((UnsafeMutableRawPointer(bitPattern: 1)!, -1, 0)); continue }
                    fill(p, n, tag)
                    live.append((p, n, tag))
                } else if op < 7 {
                    live.swapAt(rng.below(live.count), live.count - 1)
                    release(live.removeLast())
                } else if op < 9 {
                    live.swapAt(rng.below(live.count), live.count - 1)
                    boxes[rng.below(threads)].put(live.removeLast())   // freed by another thread
                } else {
                    // realloc chain: grow a block, copying its contents, free the old one.
                    let i = rng.below(live.count)
                    let (p, n, tag) = live[i]
                    let m = n + 1 + rng.below(max(64, n))
                    let q = c.allocate(byteCount: m)!
                    if !check(p, n, tag) { failures.put(live[i]) }
                    q.copyMemory(from: p, byteCount: n)
                    fill(q + n, m - n, tag)
                    c.deallocate(p)
                    live[i] = (q, m, tag)
                }
                if i % 64 == 0 { for x in boxes[t].takeAll() { release(x) } }
            }
            for x in live { release(x) }
            c.release()
        }
        // Whatever is left in mailboxes is freed by this thread (no cache: remote path).
        for b in boxes { for x in b.takeAll() { XCTAssertTrue(check(x.0, x.1, x.2)); heap.deallocate(x.0) } }
        XCTAssertTrue(failures.takeAll().isEmpty, "a block's pattern changed while it was live, or malloc failed")
    }

    func testMultiThreadedStressWithCrossThreadFrees() {
        let heap = makeTestHeap(checks: false)
        for seed: UInt64 in [1, 2, 3] {
            runStress(heap: heap, threads: 4, seed: seed, ops: 6000 * soakFactor)
        }
        let st = heap.memStats
        XCTAssertEqual(st.heapObjects, 0, "every object freed")
        XCTAssertEqual(st.mallocs, st.frees)
        heap.releaseMemory()
        XCTAssertEqual(heap.memStats.spansInUse, 0, "all spans returned to the heap")
        XCTAssertNil(heap.checkInvariants())
    }

    func testStressWithInvariantChecksOnSlowPaths() {
        let heap = makeTestHeap(checks: true)
        runStress(heap: heap, threads: 4, seed: 99, ops: 1500 * soakFactor)
        XCTAssertEqual(heap.memStats.heapObjects, 0)
    }
}
