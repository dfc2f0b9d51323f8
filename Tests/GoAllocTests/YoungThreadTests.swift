import XCTest
import CGoRuntime
@testable import GoAlloc

/// Young threads (CABI.swift): a thread's first `youngThreadOps` C mallocs and frees use one of the heap's shared
/// caches (MHeap.young, round robin) under its lock; then it gets its own MCache. Also run under Thread Sanitizer (scripts/test.sh).
final class YoungThreadTests: XCTestCase {
    struct Seen {
        var youngAfterFirst = false
        var ownAfterBudget = false
        var corrupt = 0
    }

    /// 16 threads at once, each: a few mallocs (still young: no cache of its own), then enough to spend the
    /// budget (a cache of its own), every block stamped and checked, half freed by the thread while it is young,
    /// the rest by the next thread (frees into spans the shared cache or another thread holds). Fixed sizes.
    func testYoungThreadsShareACacheThenGraduate() {
        let n = 16
        let blocks = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: n * 64)
        blocks.initialize(repeating: nil, count: n * 64)
        let seen = UnsafeMutablePointer<Seen>.allocate(capacity: n)
        seen.initialize(repeating: Seen(), count: n)
        defer { blocks.deallocate(); seen.deallocate() }
        typealias Arg = (index: Int, blocks: UnsafeMutablePointer<UnsafeMutableRawPointer?>, seen: UnsafeMutablePointer<Seen>)
        let args = UnsafeMutablePointer<Arg>.allocate(capacity: n)
        defer { args.deallocate() }
        var threads: [pthread_t] = []
        for i in 0..<n {
            (args + i).initialize(to: (i, blocks, seen))
            var t = pthread_t()
            pthread_create(&t, nil, { raw in
                let a = raw!.assumingMemoryBound(to: Arg.self).pointee
                let mine = a.blocks + a.index * 64
                for k in 0..<64 {
                    let size = 16 << (k % 8) + k
                    let p = gomalloc_malloc(size)!
                    p.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: a.index &* 7 &+ k), count: size)
                    mine[k] = p
                    if k == 0 { a.seen[a.index].youngAfterFirst = currentThreadCache() == nil }
                }
                for k in stride(from: 0, to: 64, by: 2) {  // young frees of its own blocks
                    let size = 16 << (k % 8) + k
                    let p = mine[k]!.assumingMemoryBound(to: UInt8.self)
                    if p[0] != UInt8(truncatingIfNeeded: a.index &* 7 &+ k) || p[size - 1] != p[0] { a.seen[a.index].corrupt += 1 }
                    gomalloc_free(mine[k])
                    mine[k] = nil
                }
                for k in 0..<Int(youngThreadOps) { gomalloc_free(gomalloc_malloc(8 + k % 500)) }
                a.seen[a.index].ownAfterBudget = currentThreadCache() != nil
                return nil
            }, args + i)
            threads.append(t)
        }
        for t in threads { pthread_join(t, nil) }
        for i in 0..<n {
            XCTAssertTrue(seen[i].youngAfterFirst, "thread \(i) had a cache of its own after one malloc")
            XCTAssertTrue(seen[i].ownAfterBudget, "thread \(i) had no cache after \(youngThreadOps) more calls")
            XCTAssertEqual(seen[i].corrupt, 0, "thread \(i)")
            let next = (i + 1) % n
            for k in stride(from: 1, to: 64, by: 2) {
                let size = 16 << (k % 8) + k
                let p = blocks[next * 64 + k]!.assumingMemoryBound(to: UInt8.self)
                XCTAssertEqual(p[size - 1], UInt8(truncatingIfNeeded: next &* 7 &+ k), "thread \(next) block \(k)")
                gomalloc_free(blocks[next * 64 + k])
            }
        }
        let h = defaultHeap()!
        var made = 0
        for i in 0..<youngCacheCount {
            h.lockYoung(i)
            if h.youngCache(i).pointee.cache != nil { made += 1 }
            h.unlockYoung(i)
        }
        XCTAssertEqual(made, youngCacheCount, "16 young threads, taken round robin, used every young cache")
    }

    /// A producer's first blocks come from the shared cache; a consumer frees them all, as young frees, and then
    /// leaves the young threads with no young malloc made since the producer left: the shared cache's span of
    /// their class is empty, and goes back to MCentral (CABI.swift, releaseEmptyYoungSpans). The class, 6,784
    /// bytes, is one no other young thread of this process uses.
    func testLastGraduationHandsBackTheSharedCacheEmptySpans() {
        let blocks = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: Int(youngThreadOps))
        blocks.initialize(repeating: nil, count: Int(youngThreadOps))
        defer { blocks.deallocate() }
        let h = defaultHeap()!
        let spc = SpanClass(sizeclass: SizeClasses.classFor(size: 6784), noscan: true).index
        func sharedHoldsClass() -> Bool {
            var holds = false
            for i in 0..<youngCacheCount {
                h.lockYoung(i)
                if let c = h.youngCache(i).pointee.cache, c.allocSlot(spc).pointee != h.pointee.emptySpan { holds = true }
                h.unlockYoung(i)
            }
            return holds
        }
        func onThread(_ body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?) {
            var t = pthread_t()
            pthread_create(&t, nil, body, UnsafeMutableRawPointer(blocks))
            pthread_join(t, nil)
        }
        // Producer: 8 blocks of the class and 248 small ones, all young; its next malloc makes its own cache.
        onThread { raw in
            let b = raw!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
            for k in 0..<Int(youngThreadOps) { b[k] = gomalloc_malloc(k < 8 ? 6784 : 24 + k % 200) }
            gomalloc_free(gomalloc_malloc(64))
            return currentThreadCache() != nil ? nil : raw
        }
        XCTAssertTrue(sharedHoldsClass(), "the producer's young blocks came from the shared cache")
        // Consumer: frees all of them while young (256 calls), then its next malloc makes its own cache.
        onThread { raw in
            let b = raw!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
            for k in 0..<Int(youngThreadOps) { gomalloc_free(b[k]) }
            gomalloc_free(gomalloc_malloc(64))
            return nil
        }
        XCTAssertFalse(sharedHoldsClass(), "the emptied span stayed in the shared cache after the last graduation")
    }
}
