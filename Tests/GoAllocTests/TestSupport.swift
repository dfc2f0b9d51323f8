import Foundation
@testable import GoAlloc

/// A small deterministic PRNG (xorshift64*) so stress tests replay exactly from their seeds.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E3779B97F4A7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 2685821657736338717
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Long soak runs: GORT_SOAK=1 multiplies iteration counts by 20.
let soakFactor = ProcessInfo.processInfo.environment["GORT_SOAK"] == "1" ? 20 : 1

/// Fills `n` bytes at `p` with a pattern derived from `tag`, and checks it.
func fill(_ p: UnsafeMutableRawPointer, _ n: Int, _ tag: UInt8) {
    if n > 0 { p.initializeMemory(as: UInt8.self, repeating: tag, count: n) }
}
func check(_ p: UnsafeMutableRawPointer, _ n: Int, _ tag: UInt8) -> Bool {
    let b = p.assumingMemoryBound(to: UInt8.self)
    if n == 0 { return true }
    // First, last and a stride of bytes: cheap and catches overlap.
    var i = 0
    while i < n { if b[i] != tag { return false }; i += max(1, n / 64) }
    return b[n - 1] == tag
}

/// Resident set size of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let f = s.split(separator: " ")
    return (Int(f[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A private heap with no background thread, for structure tests.
func makeTestHeap(checks: Bool = true, retainSpans: Bool = true, memoryLimit: UInt64 = .max) -> Heap {
    var cfg = HeapConfig()
    cfg.backgroundScavenger = false
    cfg.checkInvariants = checks
    cfg.retainSpans = retainSpans
    cfg.memoryLimit = memoryLimit
    return Heap.create(config: cfg)!
}
