import CGoRuntime

// Go: runtime.p.runqhead/runqtail/runq and runqput/runqget/runqgrab/runqsteal (proc.go), with one change: the
// owner takes its newest G first (LIFO), as work-stealing deques do, and thieves take the oldest half.
//
// Why LIFO: a P that runs its oldest G first (Go's FIFO ring) runs a fork-join tree breadth-first. In skynet every
// node's first nine children went to the ring behind the whole level above, so the P ran level by level and kept
// ~100k tasks (their frames and task-allocator slabs) alive and cold in cache; each task was created long before
// it ran and the runtime's first locked instruction on it waited for its cache misses. Newest-first runs the
// tree depth-first, a G right after its creator suspends, on memory still in cache; thieves still take the
// oldest Gs, which in a fork-join tree are the biggest subtrees. Measured: skynet at GOMAXPROCS=1, 5 interleaved
// runs, 2.24 -> 1.61 s CPU (median; docs/sched-benchmarks.md).
// Fairness: every 61st tick the owner takes its oldest G instead (`runqget`), so a G waits at most 61 ticks per
// G ahead of it, whatever the newer Gs do (the test with 50 tasks yielding forever and one waiter checks it).
// A batch from the global queue is pushed reversed (pushChain), so the owner's newest-first pops run it in the
// global queue's order; for such entries the ring's older end holds the batch's younger Gs, which the
// fairness pop and thieves then take first.
//
// A bounded ring of 256 G entries, lock-free (the contract; Go's runq is lock-free too). Its state is one
// 16-byte pair changed only by a 16-byte compare-and-swap (gort_cas128_acqrel, cmpxchg16b):
//   - `head` (low word): the index of the oldest entry, 64-bit, only ever increases (thieves and FIFO pops);
//   - `tailWord` (high word): the index one past the newest entry (low 32 bits, so lengths are computed mod
//     2^32) and, above it, a count of the owner's newest-first pops.
// Every operation reads the pair, does its work, and CASes the pair from what it read to the new value:
//   - push (owner): writes the slot at tail, then CAS tail + 1 (fails only if a consumer moved head: retry);
//   - popNewest (owner): CAS tail - 1 and pops + 1, then reads that slot (no thief can claim it any more, and
//     only the owner writes slots);
//   - popOldest (owner, fairness): read the slot, CAS head forward; the overflow to the global queue (owner):
//     CAS head forward by half, then read those slots (only the owner rewrites a slot, 256 pushes later);
//   - pushChain (owner, from the global queue): write slots behind tail (in reverse), then one CAS publishes them;
//   - grab (thieves, Go's runqgrab): copy the older half, CAS head forward by that much.
// Why the pop count: with the owner taking entries at the tail, "pop then push" returns the pair to a value a
// thief may have read before, with a different G in the slot the thief copied (ABA). Counting pops in the CASed
// pair makes that CAS fail. Why one pair: a thief's copy is valid exactly when neither end moved between its
// read and its CAS, so the CAS must cover both (Go's FIFO ring needs head only, as its owner never takes at the
// tail). Slots are written only by the owner, at index tail, which stays within 256 of head, so a slot a
// consumer is copying is never overwritten before that consumer's CAS (and if it was, the CAS fails).
// Slots are relaxed atomics; the acq_rel CAS orders them: a consumer's acquire read of tailWord sees the
// slots pushed before it, and the owner reuses a slot only after reading (acquire) a head a consumer CASed.
// Pollers (spinning Ms, stats) read head and tailWord with two loads: a racy snapshot; callers treat a length
// above 256 as "changing".
// The pair must be 16-byte aligned (cmpxchg16b): RunQueue is 4 words and P places its rings at the start of a
// cache line; `init` checks.

let runqSize: UInt64 = 256

/// Lives inside a P (raw memory). Fields: see the contract above.
struct RunQueue {
    /// Index of the oldest entry (the pair's low word: CAS only).
    var head: UInt64 = 0
    /// Tail index (low 32 bits) and the owner's newest-first pops (high 32 bits): the pair's high word, CAS only.
    var tailWord: UInt64 = 0
    /// Unused (keeps RunQueue at 4 words, so both rings in a P stay 16-byte aligned).
    private var pad: UInt64 = 0
    /// 256 slots, allocated with the P. Slot i % 256 holds the entry pushed at index i. Owner writes.
    var ring: UnsafeMutablePointer<UInt64>

    init(ring: UnsafeMutablePointer<UInt64>) { self.ring = ring }
}

// Free functions over a queue's address (call as `qpush(pp.pointer(to: \.runq)!, g)`): the inout-to-pointer
// conversion yields the field's real address in raw memory, with no copy.

/// Entries between head and the tail in `tailWord` (mod 2^32).
@inline(__always) func runqLength(_ head: UInt64, _ tailWord: UInt64) -> UInt64 {
    UInt64(UInt32(truncatingIfNeeded: tailWord) &- UInt32(truncatingIfNeeded: head))
}

/// Length as seen by anyone (racy snapshot; may exceed runqSize while the pair changes).
@inline(__always)
func qcount(_ q: UnsafeMutablePointer<RunQueue>) -> UInt64 {
    let h = gort_load_acquire(q.pointer(to: \.head)!)
    let w = gort_load_acquire(q.pointer(to: \.tailWord)!)
    return runqLength(h, w)
}

@inline(__always)
func qempty(_ q: UnsafeMutablePointer<RunQueue>) -> Bool {
    let n = qcount(q)
    return n == 0 || n > runqSize
}

extension UnsafeMutablePointer where Pointee == RunQueue {
    /// The pair's address (16-byte aligned: checked when the P is made).
    @inline(__always) var pair: UnsafeMutablePointer<UInt64> { pointer(to: \.head)! }

    /// Reads the pair (two acquire loads: a consistent value is confirmed only by a later CAS).
    @inline(__always) func snapshot() -> (head: UInt64, tailWord: UInt64) {
        (gort_load_acquire(pointer(to: \.head)!), gort_load_acquire(pointer(to: \.tailWord)!))
    }

    /// CASes the pair from (h, w) to (nh, nw); acq_rel.
    @inline(__always) func cas(_ h: UInt64, _ w: UInt64, _ nh: UInt64, _ nw: UInt64) -> Bool {
        var eh = h, ew = w
        return gort_cas128_acqrel(pair, &eh, &ew, nh, nw)
    }

    /// Owner only. Returns false when full (the caller moves half to the global queue).
    @inline(__always)
    func push(_ g: GEntry) -> Bool {
        while true {
            let (h, w) = snapshot()
            if runqLength(h, w) >= runqSize { return false }
            let t = UInt32(truncatingIfNeeded: w)
            gort_store_relaxed(pointee.ring + Int(UInt64(t) % runqSize), UInt64(g))
            if cas(h, w, h, (w & ~0xffff_ffff) | UInt64(t &+ 1)) { return true }
        }
    }

    /// Owner only, after `grab(into: self)` copied `n` entries behind the tail: publishes them.
    func publish(_ n: UInt64) {
        while true {
            let (h, w) = snapshot()
            if cas(h, w, h, (w & ~0xffff_ffff) | UInt64(UInt32(truncatingIfNeeded: w) &+ UInt32(n))) { return }
        }
    }

    /// The tail index (owner: exact; others: a snapshot).
    @inline(__always) var tailIndex: UInt64 { UInt64(UInt32(truncatingIfNeeded: gort_load_acquire(pointer(to: \.tailWord)!))) }

    /// Owner only. The newest entry (LIFO), 0 if empty.
    @inline(__always)
    func popNewest() -> GEntry {
        while true {
            let (h, w) = snapshot()
            if runqLength(h, w) == 0 { return 0 }
            let t = UInt32(truncatingIfNeeded: w) &- 1
            let pops = (w &>> 32) &+ 1
            if cas(h, w, h, pops &<< 32 | UInt64(t)) {
                return GEntry(gort_load_relaxed(pointee.ring + Int(UInt64(t) % runqSize)))
            }
        }
    }

    /// Owner only. The oldest entry (FIFO), 0 if empty.
    @inline(__always)
    func popOldest() -> GEntry {
        while true {
            let (h, w) = snapshot()
            if runqLength(h, w) == 0 { return 0 }
            let g = gort_load_relaxed(pointee.ring + Int(h % runqSize))
            if cas(h, w, h &+ 1, w) { return GEntry(g) }
        }
    }

    /// Owner only: removes the older half of the queue (for the global queue when full). Returns the index of
    /// the first entry removed and the count (0 if the queue no longer has two entries). The removed entries'
    /// slots stay as they are until this owner has pushed another 256, so the caller reads them afterwards
    /// (`slot`).
    func takeOlderHalf() -> (first: UInt64, count: Int) {
        while true {
            let (h, w) = snapshot()
            let n = runqLength(h, w) / 2
            if n == 0 { return (h, 0) }
            if cas(h, w, h &+ n, w) { return (h, Int(n)) }
        }
    }

    /// Owner only: removes the `max` newest entries (fewer if the queue holds fewer), for a spawn storm's chain
    /// (Schedule.swift, stormPut). Returns the index of the oldest entry removed and the count; the slots stay as
    /// they are until this owner pushes again, so the caller reads them afterwards (`slot`), oldest first. Counts
    /// as a newest-first pop (the pair's pop count), so a thief that read the pair before cannot claim them.
    func takeNewest(_ max: Int) -> (first: UInt64, count: Int) {
        while true {
            let (h, w) = snapshot()
            let len = runqLength(h, w)
            if len > runqSize { continue }  // read while the pair changed: read again
            let n = Swift.min(UInt64(Swift.max(max, 0)), len)
            if n == 0 { return (0, 0) }
            let t = UInt32(truncatingIfNeeded: w) &- UInt32(truncatingIfNeeded: n)
            let pops = (w &>> 32) &+ 1
            if cas(h, w, h, pops &<< 32 | UInt64(t)) { return (UInt64(t), Int(n)) }
        }
    }

    /// The entry at index i (owner: of an entry it pushed and not yet overwritten).
    @inline(__always) func slot(_ i: UInt64) -> GEntry {
        GEntry(gort_load_relaxed(pointee.ring + Int(i % runqSize)))
    }

    /// Owner only. Pushes up to `count` Gs of a chain that starts at `first` (linked by gLink), as many as fit,
    /// with one publish. Returns how many it pushed and the G after the last one pushed (read before the
    /// publish: once published, a thief may run a G and its link means nothing to us any more).
    /// The chain goes in reversed, its first G at the newest end, so the owner's newest-first pops run it in the
    /// global queue's order, oldest first, as Go's FIFO ring would (thieves take its younger end). Pushed in
    /// order, each batch of a spawn storm ran youngest first, and in Swift 6.3 a task-group child that finishes
    /// before its older siblings walks past each of them to unlink itself (docs/sched-benchmarks.md, session 13).
    func pushChain(_ first: GEntry, count: Int) -> (pushed: Int, next: GEntry) {
        let (h, w) = snapshot()
        let len = runqLength(h, w)
        let room = len >= runqSize ? 0 : Int(runqSize - len)  // thieves only make more room meanwhile
        let n = Swift.min(count, room)
        if n == 0 { return (0, first) }
        let t = UInt64(UInt32(truncatingIfNeeded: w))
        var g = first
        for i in 0..<n {
            if i > 0 { g = gLink(g).pointee }
            // The G batchSkip on (a skip pointer, runqputSlow), or for a batch head its tail: a hint, masked
            // to an address, never dereferenced.
            gort_prefetch(UnsafeRawPointer(bitPattern: batchTail(gBatch(g).pointee) & ~1))
            gort_store_relaxed(pointee.ring + Int((t &+ UInt64(n - 1 - i)) % runqSize), UInt64(g))
        }
        let next = n < count ? gLink(g).pointee : 0
        publish(UInt64(n))
        return (n, next)
    }

    /// Go: runqgrab. Any thread: copies the older half of the queue (rounded up) into `dst`'s ring starting at
    /// dst's tail (without publishing it: the caller, dst's owner, calls `publish`) and removes it from this
    /// queue. Returns the count; 0 when empty.
    func grab(into dst: UnsafeMutablePointer<RunQueue>) -> UInt64 {
        let dt = dst.tailIndex  // caller owns dst
        while true {
            let (h, w) = snapshot()
            var n = runqLength(h, w)
            if n == 0 { return 0 }
            if n > runqSize { continue }  // read while the pair changed: read again
            n = n &- n / 2
            for i in 0..<n {
                let g = gort_load_relaxed(pointee.ring + Int((h &+ i) % runqSize))
                gort_store_relaxed(dst.pointee.ring + Int((dt &+ i) % runqSize), g)
            }
            if cas(h, w, h &+ n, w) { return n }
        }
    }
}

@inline(__always) func qpush(_ q: UnsafeMutablePointer<RunQueue>, _ g: GEntry) -> Bool { q.push(g) }
@inline(__always) func qpopNewest(_ q: UnsafeMutablePointer<RunQueue>) -> GEntry { q.popNewest() }
@inline(__always) func qpushChain(_ q: UnsafeMutablePointer<RunQueue>, _ first: GEntry, count: Int) -> (pushed: Int, next: GEntry) {
    q.pushChain(first, count: count)
}
@inline(__always) func qpopOldest(_ q: UnsafeMutablePointer<RunQueue>) -> GEntry { q.popOldest() }
@inline(__always) func qgrab(_ q: UnsafeMutablePointer<RunQueue>, into dst: UnsafeMutablePointer<RunQueue>) -> UInt64 {
    q.grab(into: dst)
}
