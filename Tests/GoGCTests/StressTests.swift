import XCTest
@testable import GoGC

/// Randomized mutators with a shadow model (RandomGraph), fixed seeds, several threads, collections running
/// concurrently (small heap goal), checkmark counting missed objects. Not a benchmark. GORT_SOAK=1: long runs.
final class StressTests: XCTestCase {
    /// One mutator thread's life: its own Mutator and rooted graph, `ops` random operations in scopes of
    /// `batch`, a full verification after each scope. Returns the number of disagreements with the model.
    func runMutator(gc: GC, seed: UInt64, ops: Int, batch: Int = 200) -> Int {
        var g = RandomGraph(seed: seed)
        let mu = gc.makeMutator()
        var failures = 0
        let root: Root<RefArray<Node>> = mu.run { m in Root(m, m.newRefArray(count: RandomGraph.slots, of: Node.self)) }
        var done = 0
        while done < ops {
            mu.run { m in
                let arr = root.get(m)!
                g.mutate(m, arr, count: batch)
                // A cycle may start here: locals die, so reload through the root after it.
                m.safepoint()
                failures += g.verify(m, root.get(m)!)
            }
            done += batch
        }
        withExtendedLifetime(root) {}
        return failures
    }

    func testRandomMutatorsWithConcurrentCollections() {
        let gc = GC(config: testConfig(concurrent: true))
        let threads = 3
        let ops = soak ? 2_000_000 : 50_000
        let failures = UnsafeMutablePointer<Int>.allocate(capacity: threads)
        failures.initialize(repeating: 0, count: threads)
        defer { failures.deallocate() }
        let workers = (0..<threads).map { t in
            { failures[t] = self.runMutator(gc: gc, seed: UInt64(t) &* 7919 &+ 17, ops: ops) }
        }
        runAll(workers)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: failures, count: threads)), [Int](repeating: 0, count: threads))
        XCTAssertGreaterThan(gc.stats.numGC, 1, "the heap goal is small: cycles must have run")
        XCTAssertEqual(gc.stats.numForcedGC, 0, "these cycles were all started by the pacer")
        XCTAssertEqual(gc.stats.checkmarkMisses, 0)
        // Everything unreachable is reclaimed within two cycles: after the roots die, nothing is live.
        gc.collect(); gc.collect()
        XCTAssertEqual(gc.stats.heapMarked, 0)
        XCTAssertEqual(gc.heap.memStats.heapAlloc, 0)
    }

    /// collect() from a thread that is not a mutator, over and over, while mutator threads come and go
    /// (each runMutator makes and releases its own Mutator). Every collect() must return after a full cycle.
    func testCollectWhileOthersMutate() {
        let gc = GC(config: testConfig(concurrent: true))
        let stop = Flag()
        let collects = soak ? 5000 : 100
        let failures = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        failures.initialize(repeating: 0, count: 3)
        defer { failures.deallocate() }
        var threads: [() -> Void] = [{ [self] in
            for _ in 0..<collects {
                let before = gc.stats.numGC
                gc.collect()
                // A forced cycle that starts after the call has finished: at least one more cycle.
                if gc.stats.numGC <= before { failures[0] += 1 }
            }
            stop.set()
        }]
        for t in 1...2 {
            threads.append({ [self] in
                var seed = UInt64(t) * 31
                while !stop.isSet {
                    failures[t] += runMutator(gc: gc, seed: seed, ops: 2000)
                    seed += 1000
                }
            })
        }
        runAll(threads)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: failures, count: 3)), [0, 0, 0])
        XCTAssertEqual(gc.stats.checkmarkMisses, 0)
        XCTAssertGreaterThanOrEqual(gc.stats.numForcedGC, UInt32(collects))
    }

    /// With cycles run synchronously, each collect() leaves exactly the model's reachable nodes (plus the root
    /// array) marked and allocated: nothing reachable lost, nothing unreachable kept.
    func testUnreachableReclaimedAtEachCycle() {
        let gc = GC(config: testConfig(concurrent: false))
        let mu = gc.makeMutator()
        var g = RandomGraph(seed: 4242)
        let root: Root<RefArray<Node>> = mu.run { m in Root(m, m.newRefArray(count: RandomGraph.slots, of: Node.self)) }
        gc.collect()
        let base = gc.stats.heapMarked
        XCTAssertGreaterThan(base, 0)
        let nodeBytes = UInt64(32)   // Node is 4 words: the 32-byte size class
        for _ in 0..<(soak ? 400 : 30) {
            var failures = 0
            mu.run { m in
                let arr = root.get(m)!
                g.mutate(m, arr, count: 400)
                failures += g.verify(m, arr)
            }
            XCTAssertEqual(failures, 0)
            let reachable = UInt64(g.reachableCount())
            gc.collect()
            let s = gc.stats
            XCTAssertEqual(s.heapMarked, base + reachable * nodeBytes)
            // The allocator's own count of allocated bytes: everything unmarked was swept in the same cycle.
            XCTAssertEqual(gc.heap.memStats.heapAlloc, s.heapMarked)
        }
        XCTAssertEqual(gc.stats.checkmarkMisses, 0)
        withExtendedLifetime(root) {}
    }
}

/// Runs each body on its own thread and waits for all of them.
func runAll(_ bodies: [() -> Void]) {
    let group = DispatchGroup()
    for body in bodies {
        group.enter()
        let t = Thread { body(); group.leave() }
        t.stackSize = 8 << 20
        t.start()
    }
    group.wait()
}

/// A one-way flag shared by test threads.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
