import XCTest
@testable import GoGC

/// The pacer's promises about heap size, on a workload whose live heap is known exactly: a rooted array of
/// `lists` slots, each holding a linked list of `listLength` nodes, replaced round robin by a new list of the
/// same length (the old one becomes garbage). Live: lists * listLength nodes of 32 bytes, plus the array
/// and at most one list under construction. Not a benchmark: it asserts sizes, never times.
final class PacerTests: XCTestCase {
    static let lists = 64
    static let listLength = 2048
    static var liveBytes: UInt64 { UInt64(lists * listLength * 32) }   // 4 MiB

    struct Run {
        var cycles: UInt32
        var peakInuse: UInt64
        var maxGoal: UInt64
        var medianGoal: UInt64
        var maxHeapOverLive: Double
        var checkmarkMisses: UInt64
    }

    /// Replaces `rounds` * `lists` lists with concurrent collections running, then checks every list.
    func churn(_ config: GCConfig, rounds: Int) -> Run {
        let gc = GC(config: config)
        let mu = gc.makeMutator()
        let root: Root<RefArray<Node>> = mu.run { m in Root(m, m.newRefArray(count: Self.lists, of: Node.self)) }
        var goals: [UInt64] = []
        for r in 0..<rounds {
            for i in 0..<Self.lists {
                mu.run { m in
                    // No safepoint inside: `head` is an unrooted local until it is stored in the array.
                    var head: Ref<Node>? = nil
                    for k in 0..<Self.listLength {
                        let n = N.make(m, r &* 1_000_000 &+ i &* 10_000 &+ k)
                        m.store(n, N.left, head)
                        head = n
                    }
                    m.store(root.get(m)!, i, head)
                }
                goals.append(gc.stats.nextGC)
            }
        }
        // Every list is intact: ids count down from the newest node.
        mu.run { m in
            let arr = root.get(m)!
            for i in 0..<Self.lists {
                var k = Self.listLength - 1
                var p = m.load(arr, i)
                while let n = p {
                    XCTAssertEqual(n[scalar: N.id], (rounds - 1) * 1_000_000 + i * 10_000 + k)
                    XCTAssertTrue(N.valid(n))
                    k -= 1
                    p = m.load(n, N.left)
                }
                XCTAssertEqual(k, -1)
            }
        }
        let s = gc.stats
        withExtendedLifetime(root) {}
        goals.sort()
        return Run(cycles: s.numGC, peakInuse: s.peakHeapInuse, maxGoal: goals.last!, medianGoal: goals[goals.count / 2],
                   maxHeapOverLive: s.maxHeapOverLive,
                   checkmarkMisses: s.checkmarkMisses)
    }

    func config() -> GCConfig {
        var c = testConfig(concurrent: true)
        c.gcPercent = 100
        return c
    }

    /// The bar: with GOGC=100 the heap (HeapInuse at each cycle's peak, its mark termination) stays
    /// within 2.2x of the live heap, as Go counts it: the heap the previous cycle marked, which the goal is
    /// made from. (It includes floating garbage: objects allocated black during that cycle's mark and objects
    /// that died during it. How much of that there is depends on how fast marking runs against allocation,
    /// so the ratio to the workload's own live size is a benchmark figure, `gort bench gc`, not a test.)
    /// What this checks is the pacer: the trigger, assists, and waiting for mark when the goal is reached.
    func testHeapStaysWithinTwoPointTwoTimesLive() {
        let r = churn(config(), rounds: soak ? 200 : 16)
        XCTAssertGreaterThan(r.cycles, 4, "the churn allocates 16x the live heap: cycles must have run")
        XCTAssertEqual(r.checkmarkMisses, 0)
        XCTAssertGreaterThan(r.maxHeapOverLive, 1, "measured on at least one cycle")
        XCTAssertLessThanOrEqual(r.maxHeapOverLive, 2.2, "peak HeapInuse \(r.peakInuse), workload live \(Self.liveBytes)")
        XCTAssertGreaterThanOrEqual(r.peakInuse, Self.liveBytes, "the peak heap holds at least the live heap")
    }

    /// GOMEMLIMIT below GOGC's goal: the collector runs earlier (more cycles for the same allocation) and
    /// the heap stays near the limit instead of near twice the live heap.
    func testMemoryLimitBelowGoalCollectsEarlier() {
        let plain = churn(config(), rounds: 8)
        var limited = config()
        limited.memoryLimit = Self.liveBytes * 3 / 2   // 6 MiB; GOGC=100 alone would aim at 8 MiB
        let r = churn(limited, rounds: 8)
        XCTAssertEqual(r.checkmarkMisses, 0)
        // The goal sits under the limit (above it only after a cycle whose marked heap, floating garbage
        // included, came near the limit: then the goal keeps a minimum runway).
        XCTAssertLessThanOrEqual(r.medianGoal, limited.memoryLimit, "the goal stays under the soft limit")
        XCTAssertGreaterThan(plain.medianGoal, limited.memoryLimit, "without the limit the goal is above it")
        XCTAssertLessThan(r.maxGoal, plain.maxGoal)
        // The runway shrinks from ~4 MiB to under 2 MiB: about twice the cycles.
        XCTAssertGreaterThan(Double(r.cycles), 1.5 * Double(plain.cycles), "limited \(r.cycles) vs \(plain.cycles) cycles")
        // HeapInuse (span bytes, fragmentation included) at its peak: within 10% of the limit.
        XCTAssertLessThanOrEqual(Double(r.peakInuse), 1.1 * Double(limited.memoryLimit),
                                 "peak HeapInuse \(r.peakInuse), limit \(limited.memoryLimit)")
        XCTAssertLessThan(r.peakInuse, plain.peakInuse)
    }
}
