import XCTest
@testable import GoGC

/// A random graph mutated through GoGC, next to a shadow model in plain Swift (not a benchmark).
///
/// The graph hangs off a rooted array of `slots` references. Nodes (two references, an id and a checksum)
/// are created, linked, unlinked and dropped at random; the model records each node's children by id.
/// `verify` walks everything reachable from the array and compares it with the model: a node freed too early
/// shows up as a bad checksum, a wrong id or wrong children (its slot was reused).
struct RandomGraph {
    static let slots = 64
    var rng: SplitMix
    /// id -> (left id or -1, right id or -1), for every node that may still be reachable.
    var model: [Int: (Int, Int)] = [:]
    var slotIds = [Int](repeating: -1, count: RandomGraph.slots)
    var nextId: Int
    /// Corruption seen while mutating (a node missing from the model); `verify` reports and resets it.
    var corrupt = 0

    init(seed: UInt64) {
        rng = SplitMix(s: seed)
        nextId = Int(seed % 1000) * 10_000_000
    }

    /// `count` random operations on the graph under `arr`, inside one scope.
    mutating func mutate(_ m: Mutation, _ arr: Ref<RefArray<Node>>, count: Int) {
        let slots = RandomGraph.slots
        for _ in 0..<count {
            let op = rng.below(10)
            let i = rng.below(slots)
            switch op {
            case 0...3:   // a new node into slot i, its children taken from other slots
                let n = N.make(m, nextId)
                let l = m.load(arr, rng.below(slots)), r = m.load(arr, rng.below(slots))
                m.store(n, N.left, l)
                m.store(n, N.right, r)
                model[nextId] = (l?[scalar: N.id] ?? -1, r?[scalar: N.id] ?? -1)
                m.store(arr, i, n)
                slotIds[i] = nextId
                nextId += 1
            case 4...5:   // relink: slot i's left := the right child of another slot's node
                if let a = m.load(arr, i), let b = m.load(arr, rng.below(slots)) {
                    let c = m.load(b, N.right)
                    m.store(a, N.left, c)
                    let aid = a[scalar: N.id]
                    // A node the model does not know is a freed slot reused: count it, don't crash.
                    guard let old = model[aid] else { corrupt += 1; continue }
                    model[aid] = (c?[scalar: N.id] ?? -1, old.1)
                }
            case 6:       // drop slot i
                m.store(arr, i, nil)
                slotIds[i] = -1
            case 7:       // garbage, with and without references
                for k in 0..<8 { _ = N.make(m, -k) }
                _ = m.newBytes(rng.below(200) + 1)
            default:      // pull a grandchild up into slot i
                if let a = m.load(arr, rng.below(slots)), let c = m.load(a, N.left) {
                    m.store(arr, i, c)
                    slotIds[i] = c[scalar: N.id]
                }
            }
        }
    }

    /// Walks the graph and counts disagreements with the model (0 when the heap is intact). Prunes the model
    /// to what is reachable so it stays small.
    mutating func verify(_ m: Mutation, _ arr: Ref<RefArray<Node>>) -> Int {
        var failures = corrupt
        corrupt = 0
        var seen = Set<Int>()
        var stack: [Ref<Node>] = []
        for i in 0..<RandomGraph.slots { if let n = m.load(arr, i) { stack.append(n) } }
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
        for i in 0..<RandomGraph.slots where (m.load(arr, i)?[scalar: N.id] ?? -1) != slotIds[i] { failures += 1 }
        if model.count > 2 * max(seen.count, 1000) { model = model.filter { seen.contains($0.key) } }
        return failures
    }

    /// Number of nodes reachable from the slots, by the model alone (no heap access).
    func reachableCount() -> Int {
        var seen = Set<Int>()
        var stack = slotIds.filter { $0 >= 0 }
        while let id = stack.popLast() {
            guard seen.insert(id).inserted, let (l, r) = model[id] else { continue }
            if l >= 0 { stack.append(l) }
            if r >= 0 { stack.append(r) }
        }
        return seen.count
    }
}
