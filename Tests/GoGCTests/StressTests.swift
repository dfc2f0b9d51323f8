import XCTest
@testable import GoGC

/// Randomized mutators with a shadow model (not a benchmark). Each thread owns a graph: a root array of
/// slots (a Root) and nodes linked at random. The model (plain Swift) records every node's id and children;
/// after each batch the thread checks that every reachable node still has its id, checksum and children as
/// the model says. Collections run concurrently (small heap goal), checkmark counts missed objects.
final class StressTests: XCTestCase {
    func runMutator(gc: GC, seed: UInt64, ops: Int) -> Int {
        var rng = SplitMix(s: seed)
        let slots = 64
        let mu = gc.makeMutator()
        var model: [Int: (Int, Int)] = [:]     // id -> (left id or -1, right id or -1)
        var slotIds = [Int](repeating: -1, count: slots)
        var nextId = Int(seed % 1000) * 10_000_000
        var failures = 0
        let root: Root<RefArray<Node>> = mu.run { m in Root(m, m.newRefArray(count: slots, of: Node.self)) }
        var done = 0
        while done < ops {
            mu.run { m in
                let arr = root.get(m)!
                for _ in 0..<200 {
                    let op = rng.below(10)
                    let i = rng.below(slots)
                    switch op {
                    case 0...3:   // new node into slot i, children from other slots
                        let n = N.make(m, nextId)
                        let l = m.load(arr, rng.below(slots)), r = m.load(arr, rng.below(slots))
                        m.store(n, N.left, l)
                        m.store(n, N.right, r)
                        model[nextId] = (l?[scalar: N.id] ?? -1, r?[scalar: N.id] ?? -1)
                        m.store(arr, i, n)
                        slotIds[i] = nextId
                        nextId += 1
                    case 4...5:   // relink: slot i's left := slot j's node's right child
                        if let a = m.load(arr, i), let b = m.load(arr, rng.below(slots)) {
                            let c = m.load(b, N.right)
                            m.store(a, N.left, c)
                            let aid = a[scalar: N.id]
                            model[aid] = (c?[scalar: N.id] ?? -1, model[aid]!.1)
                        }
                    case 6:       // drop slot i
                        m.store(arr, i, nil)
                        slotIds[i] = -1
                    case 7:       // garbage
                        for k in 0..<8 { _ = N.make(m, -k) }
                        _ = m.newBytes(rng.below(200) + 1)
                    default:      // pull a grandchild up into slot i
                        if let a = m.load(arr, rng.below(slots)), let c = m.load(a, N.left) {
                            m.store(arr, i, c)
                            slotIds[i] = c[scalar: N.id]
                        }
                    }
                }
                // Verify everything reachable, depth-limited walk.
                var seen = Set<Int>()
                var stack: [Ref<Node>] = []
                for i in 0..<slots { if let n = m.load(arr, i) { stack.append(n) } }
                while let n = stack.popLast() {
                    let id = n[scalar: N.id]
                    if !N.valid(n) { failures += 1; continue }
                    if !seen.insert(id).inserted { continue }
                    guard let (l, r) = model[id] else { failures += 1; continue }
                    let ln = m.load(n, N.left), rn = m.load(n, N.right)
                    if (ln?[scalar: N.id] ?? -1) != l || (rn?[scalar: N.id] ?? -1) != r { failures += 1 }
                    if let x = ln { stack.append(x) }
                    if let x = rn { stack.append(x) }
                }
                for i in 0..<slots where (m.load(arr, i)?[scalar: N.id] ?? -1) != slotIds[i] { failures += 1 }
                // Prune the model to what is reachable so it stays small.
                if model.count > 4 * max(seen.count, 1000) { model = model.filter { seen.contains($0.key) } }
                m.safepoint()
            }
            done += 200
        }
        withExtendedLifetime(root) {}
        return failures
    }

    func testRandomMutatorsWithConcurrentCollections() {
        let gc = GC(config: testConfig(concurrent: true))
        let threads = 3
        let ops = soak ? 2_000_000 : 60_000
        var failures = [Int](repeating: 0, count: threads)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let f = runMutator(gc: gc, seed: UInt64(t) &* 7919 &+ 17, ops: ops)
            lock.lock(); failures[t] = f; lock.unlock()
        }
        XCTAssertEqual(failures, [Int](repeating: 0, count: threads))
        XCTAssertGreaterThan(gc.stats.numGC, 1, "the heap goal is small: cycles must have run")
        XCTAssertEqual(gc.stats.checkmarkMisses, 0)
        // Everything unreachable is reclaimed within two cycles: after the roots die, nothing is live.
        gc.collect(); gc.collect()
        XCTAssertEqual(gc.stats.heapMarked, 0)
    }

    func testCollectWhileOthersMutate() {
        let gc = GC(config: testConfig(concurrent: true))
        let stop = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        stop.pointee = 0
        var failures = 0
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 3) { t in
            if t == 0 {
                for _ in 0..<(soak ? 200 : 15) { gc.collect() }
                lock.lock(); stop.pointee = 1; lock.unlock()
            } else {
                var seed = UInt64(t) * 31
                while true {
                    lock.lock(); let s = stop.pointee; lock.unlock()
                    if s != 0 { break }
                    let f = runMutator(gc: gc, seed: seed, ops: 2000)
                    lock.lock(); failures += f; lock.unlock()
                    seed += 1000
                }
            }
        }
        XCTAssertEqual(failures, 0)
        XCTAssertEqual(gc.stats.checkmarkMisses, 0)
        XCTAssertGreaterThanOrEqual(gc.stats.numForcedGC, 15)
    }
}
