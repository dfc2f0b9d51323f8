// bench-swift-alloc: the Swift allocator workload of `gort bench alloc` (workload `swift`).
//
// A Swift program allocates on every task, every escaping closure context, every class instance and every
// array or string buffer, all through swift_slowAlloc -> malloc. This workload is that shape under Swift
// concurrency: ROUNDS rounds, each a task group of TASKS short child tasks on the default executor's
// threads. Each task builds a small object graph (class instances holding arrays), a list of escaping
// closures that capture those instances, a dictionary and a string, folds them into a checksum two
// different ways and checks that the two agree, then drops everything. Every fourth task also spawns two
// `async let` children. Task results cross threads and are freed wherever the group collects them.
//
// Deterministic: a SplitMix64 generator seeded from the round and task index; the final line prints the
// checksum, which is the same under every allocator.
//
// usage: bench-swift-alloc [rounds=15] [tasks-per-round=2000]

#if canImport(Glibc)
import Glibc
#endif

/// SplitMix64 (fixed seeds keep every allocator on the same work).
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A heap object with an array payload and child references, like an AST or a view-model node.
final class Node {
    let id: Int
    var payload: [UInt32]
    var children: [Node] = []
    init(id: Int, count: Int, seed: UInt32) {
        self.id = id
        payload = (0..<count).map { seed &+ UInt32($0) &* 2_654_435_761 }
    }
    var sum: UInt64 { payload.reduce(UInt64(id)) { $0 &+ UInt64($1) } &+ children.reduce(0) { $0 &+ $1.sum } }
}

/// One short task: allocate a small graph, closures, a dictionary and a string; check; return a checksum.
func job(seed: UInt64) -> UInt64 {
    var rng = SplitMix(state: seed)
    var nodes: [Node] = []
    let count = 8 + rng.below(24)
    for i in 0..<count {
        let node = Node(id: i, count: 1 + rng.below(48), seed: UInt32(truncatingIfNeeded: rng.next()))
        if !nodes.isEmpty && rng.below(3) == 0 { nodes[rng.below(nodes.count)].children.append(node) } else { nodes.append(node) }
    }
    // Escaping closures: each captures a node and a constant, so each needs a heap context.
    var steps: [(UInt64) -> UInt64] = []
    for node in nodes {
        let k = UInt64(rng.below(1000))
        steps.append { acc in acc &+ node.sum &+ k }
        steps.append { acc in acc &- k }
    }
    let viaClosures = steps.reduce(UInt64(0)) { acc, step in step(acc) }
    let direct = nodes.reduce(UInt64(0)) { $0 &+ $1.sum }
    precondition(viaClosures == direct, "bench-swift-alloc: closure fold \(viaClosures) != direct fold \(direct)")
    var index: [String: Int] = [:]
    for node in nodes { index["n\(node.id)-\(node.payload.count)"] = node.payload.count }
    precondition(index.count == nodes.count, "bench-swift-alloc: duplicate keys")
    let text = nodes.map { "\($0.id):\($0.payload.count)" }.joined(separator: ",")
    return direct &+ UInt64(text.utf8.count) &+ UInt64(index.count)
}

func task(round: Int, index: Int) async -> UInt64 {
    let seed = UInt64(round) << 32 | UInt64(index)
    if index % 4 != 0 { return job(seed: seed) }
    async let a = job(seed: seed ^ 0xA5A5)
    async let b = job(seed: seed ^ 0x5A5A)
    return await job(seed: seed) &+ a &+ b
}

let arguments = CommandLine.arguments
func count(_ i: Int, _ fallback: Int) -> Int {
    guard arguments.count > i else { return fallback }
    guard let v = Int(arguments[i]), v > 0 else {
        print("FAIL: argument \(i): expected a positive integer, got '\(arguments[i])'")
        exit(1)
    }
    return v
}
let rounds = count(1, 15)
let tasks = count(2, 2000)

var check: UInt64 = 0
for round in 0..<rounds {
    let sum = await withTaskGroup(of: UInt64.self) { group in
        for i in 0..<tasks { group.addTask { await task(round: round, index: i) } }
        var s: UInt64 = 0
        for await r in group { s &+= r }
        return s
    }
    check = check &* 31 &+ sum
}
print("ok swift rounds=\(rounds) tasks=\(tasks) check=\(String(check, radix: 16))")
