import XCTest
@testable import GoGC

/// A binary node: two references and two scalars (id and a checksum of the id).
struct Node {
    var left: Ref<Node>?
    var right: Ref<Node>?
    var id: Int
    var check: Int
}

enum N {
    static let layout = GCLayout(of: Node.self, references: [\Node.left, \Node.right])
    static let left = RefField(\Node.left)
    static let right = RefField(\Node.right)
    static let id = ScalarField(\Node.id)
    static let check = ScalarField(\Node.check)

    static func make(_ m: Mutation, _ id: Int) -> Ref<Node> {
        let r = m.new(layout, as: Node.self)
        r[scalar: N.id] = id
        r[scalar: N.check] = id &* 2654435761
        return r
    }
    static func valid(_ r: Ref<Node>) -> Bool { r[scalar: N.check] == r[scalar: N.id] &* 2654435761 }
}

/// Deterministic PRNG (SplitMix64).
struct SplitMix {
    var s: UInt64
    mutating func next() -> UInt64 {
        s &+= 0x9e3779b97f4a7c15
        var z = s
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

var soak: Bool { ProcessInfo.processInfo.environment["GORT_SOAK"] == "1" }

func testConfig(concurrent: Bool = true, checkmark: CheckmarkMode = .count) -> GCConfig {
    var c = GCConfig()
    c.concurrent = concurrent
    c.checkmark = checkmark
    c.writeBarrierDisabled = ProcessInfo.processInfo.environment["GORT_TEST_NO_BARRIER"] == "1"
    c.minimumHeap = 1 << 20
    c.gctrace = ProcessInfo.processInfo.environment["GORT_GCTRACE"] == "1"
    c.stwtrace = ProcessInfo.processInfo.environment["GORT_GCSTWTRACE"] == "1"
    return c
}

/// Threads the collectors and their heaps run (they name themselves: gogc-coord, gogc-finalizer,
/// gort-scavenger). Counted by name: the test process's other threads come and go.
func collectorThreads() -> Int {
    let tids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tids.filter { tid in
        let comm = (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)) ?? ""
        return comm.hasPrefix("gogc-") || comm.hasPrefix("gort-scavenger")
    }.count
}
