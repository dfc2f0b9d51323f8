import CGoRuntime
import Glibc

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
//
// A bounded single-producer, multi-consumer ring of 256 G entries:
//   - the owner pushes at `tail` without a lock (slot store, then a release store of tail);
//   - every consumer (the owner popping at either end, a thief taking half from `head`, the owner moving half to
//     the global queue) holds the ring's `lock`, a spin lock held for a few loads and stores. Under it head and
//     tail only move in ways the holder sees, so the owner may take the newest G at `tail - 1` while a thief
//     copies [head, head + n). (Go's lock-free consumers CAS head; with a consumer at the tail too, a thief
//     working from a stale tail could claim the slot the owner just took, so a lock replaces the CAS. It costs
//     the owner the same one locked instruction per pop; a thief that finds the lock held tries elsewhere.)
//   - slots are read and written with relaxed atomics: the owner overwrites a slot only after seeing (acquire)
//     the head that a consumer stored (release) once it had read the slot.
// head and tail are 64-bit and never wrap in practice, so `tail - head` is the length without modular care.
// Pollers (spinning Ms, stats) read head and tail without the lock: a racy snapshot, never below zero.

let runqSize: UInt64 = 256

/// Lives inside a P (raw memory). Fields: see the contract above.
struct RunQueue {
    /// Oldest entry. Written by lock holders (release store); read by the owner's push (acquire) and pollers.
    var head: UInt64 = 0
    /// One past the newest entry. Written only by the owner: push (release store, publishing the slot) and pop
    /// (under the lock); read by lock holders and pollers (acquire).
    var tail: UInt64 = 0
    /// Consumers' spin lock: 0 free, 1 held. CAS (acquire) to take it, release store to drop it.
    var lock: UInt64 = 0
    /// 256 slots, allocated with the P. Slot i % 256 holds the entry pushed at index i.
    var ring: UnsafeMutablePointer<UInt64>

    init(ring: UnsafeMutablePointer<UInt64>) { self.ring = ring }
}

// Free functions over a queue's address (call as `qpush(pp.pointer(to: \.runq)!, g)`): the inout-to-pointer
// conversion yields the field's real address in raw memory, with no copy.

/// Length as seen by anyone (racy snapshot).
@inline(__always)
func qcount(_ q: UnsafeMutablePointer<RunQueue>) -> UInt64 {
    let h = gort_load_acquire(q.pointer(to: \.head)!)
    let t = gort_load_acquire(q.pointer(to: \.tail)!)
    return t &- h
}

@inline(__always)
func qempty(_ q: UnsafeMutablePointer<RunQueue>) -> Bool {
    let n = qcount(q)
    return n == 0 || n > runqSize
}

extension UnsafeMutablePointer where Pointee == RunQueue {
    /// Owner only. Returns false when full (the caller moves half to the global queue).
    @inline(__always)
    func push(_ g: GEntry) -> Bool {
        let h = gort_load_acquire(pointer(to: \.head)!)  // acquire: consumers are done reading the slots they took
        let t = gort_load_relaxed(pointer(to: \.tail)!)  // only we write tail
        if t &- h >= runqSize { return false }
        gort_store_relaxed(pointee.ring + Int(t % runqSize), UInt64(g))
        gort_store_release(pointer(to: \.tail)!, t &+ 1)  // release: publish the slot before the new tail
        return true
    }

    /// Takes the consumers' lock, spinning: holders keep it for a few instructions (a thief copies at most 128
    /// slots), so spinning is cheaper than sleeping; sched_yield after a while in case the holder was preempted.
    @inline(__always)
    func lockConsumers() {
        var expected: UInt64 = 0
        // acquire: the previous holder's head/tail stores and slot reads happen before ours.
        if gort_cas_acquire(pointer(to: \.lock)!, &expected, 1) { return }
        lockConsumersSlow()
    }

    @inline(never)
    func lockConsumersSlow() {
        var spins = 0
        while true {
            if gort_load_relaxed(pointer(to: \.lock)!) == 0 {
                var expected: UInt64 = 0
                if gort_cas_acquire(pointer(to: \.lock)!, &expected, 1) { return }
            }
            spins += 1
            if spins < 1000 { gort_cpu_relax() } else { sched_yield() }
        }
    }

    /// For thieves: the lock if it is free now, else false (the thief tries another victim).
    @inline(__always)
    func tryLockConsumers() -> Bool {
        if gort_load_relaxed(pointer(to: \.lock)!) != 0 { return false }
        var expected: UInt64 = 0
        return gort_cas_acquire(pointer(to: \.lock)!, &expected, 1)
    }

    @inline(__always)
    func unlockConsumers() {
        gort_store_release(pointer(to: \.lock)!, 0)  // release: our head/tail stores and slot reads come first
    }

    /// Owner only. The newest entry (LIFO), 0 if empty.
    @inline(__always)
    func popNewest() -> GEntry {
        if gort_load_relaxed(pointer(to: \.tail)!) == gort_load_relaxed(pointer(to: \.head)!) { return 0 }
        lockConsumers()
        let h = gort_load_relaxed(pointer(to: \.head)!)  // lock holders write head; we hold the lock
        let t = gort_load_relaxed(pointer(to: \.tail)!)  // only we write tail
        if t == h { unlockConsumers(); return 0 }
        let g = gort_load_relaxed(pointee.ring + Int((t &- 1) % runqSize))
        gort_store_release(pointer(to: \.tail)!, t &- 1)
        unlockConsumers()
        return GEntry(g)
    }

    /// Owner only. The oldest entry (FIFO), 0 if empty.
    @inline(__always)
    func popOldest() -> GEntry {
        if gort_load_relaxed(pointer(to: \.tail)!) == gort_load_relaxed(pointer(to: \.head)!) { return 0 }
        lockConsumers()
        let h = gort_load_relaxed(pointer(to: \.head)!)
        let t = gort_load_relaxed(pointer(to: \.tail)!)
        if t == h { unlockConsumers(); return 0 }
        let g = gort_load_relaxed(pointee.ring + Int(h % runqSize))
        gort_store_release(pointer(to: \.head)!, h &+ 1)  // release: our read of the slot precedes its reuse
        unlockConsumers()
        return GEntry(g)
    }

    /// Owner only: takes the older half of the queue (for the global queue when full). Returns the count moved
    /// into `batch` (0 if the queue no longer has two entries).
    func grabHalfForOverflow(into batch: UnsafeMutablePointer<UInt64>) -> Int {
        lockConsumers()
        let h = gort_load_relaxed(pointer(to: \.head)!)
        let t = gort_load_relaxed(pointer(to: \.tail)!)
        let n = (t &- h) / 2
        for i in 0..<n { batch[Int(i)] = gort_load_relaxed(pointee.ring + Int((h &+ i) % runqSize)) }
        if n != 0 { gort_store_release(pointer(to: \.head)!, h &+ n) }
        unlockConsumers()
        return Int(n)
    }

    /// Go: runqgrab. Any thread: copies the older half of the queue (rounded up) into `dst`'s ring starting at
    /// dst's tail (without publishing it) and removes it from this queue. Returns the count; 0 when empty or
    /// when another consumer holds the lock.
    func grab(into dst: UnsafeMutablePointer<RunQueue>) -> UInt64 {
        if qempty(self) || !tryLockConsumers() { return 0 }
        let dt = gort_load_relaxed(dst.pointer(to: \.tail)!)  // caller owns dst
        let h = gort_load_relaxed(pointer(to: \.head)!)
        let t = gort_load_acquire(pointer(to: \.tail)!)  // acquire: see the slots published before tail
        var n = t &- h
        n = n &- n / 2
        for i in 0..<n {
            let g = gort_load_relaxed(pointee.ring + Int((h &+ i) % runqSize))
            gort_store_relaxed(dst.pointee.ring + Int((dt &+ i) % runqSize), g)
        }
        if n != 0 { gort_store_release(pointer(to: \.head)!, h &+ n) }
        unlockConsumers()
        return n
    }
}

@inline(__always) func qpush(_ q: UnsafeMutablePointer<RunQueue>, _ g: GEntry) -> Bool { q.push(g) }
@inline(__always) func qpopNewest(_ q: UnsafeMutablePointer<RunQueue>) -> GEntry { q.popNewest() }
@inline(__always) func qpopOldest(_ q: UnsafeMutablePointer<RunQueue>) -> GEntry { q.popOldest() }
@inline(__always) func qgrab(_ q: UnsafeMutablePointer<RunQueue>, into dst: UnsafeMutablePointer<RunQueue>) -> UInt64 {
    q.grab(into: dst)
}
@inline(__always) func qgrabHalf(_ q: UnsafeMutablePointer<RunQueue>, into b: UnsafeMutablePointer<UInt64>) -> Int {
    q.grabHalfForOverflow(into: b)
}
