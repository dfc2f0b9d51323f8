import CGoRuntime

// Go: runtime.p.runqhead/runqtail/runq and runqput/runqget/runqgrab/runqsteal (proc.go).
// A bounded single-producer, multi-consumer ring of 256 G entries:
//   - the owner P pushes at `tail` (plain slot store, then a release store of tail);
//   - the owner and thieves consume at `head` with a CAS (release on success), so a thief can take half the
//     ring in one step;
//   - slots are read and written with relaxed atomics: a thief may read a slot the owner is overwriting, but its
//     CAS on head then fails, so a torn value is never used.
// head and tail are 64-bit and never wrap in practice, so `tail - head` is the length without modular care.

let runqSize: UInt64 = 256

/// Lives inside a P (raw memory). Fields: see the contract above.
struct RunQueue {
    /// Consumers' index. Owner and thieves: CAS (release on success, acquire when loading).
    var head: UInt64 = 0
    /// Producer's index. Written only by the owner P (release store); read by thieves (acquire).
    var tail: UInt64 = 0
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

    /// Owner only. 0 if empty.
    @inline(__always)
    func pop() -> GEntry {
        while true {
            var h = gort_load_acquire(pointer(to: \.head)!)
            let t = gort_load_relaxed(pointer(to: \.tail)!)
            if t == h { return 0 }
            let g = gort_load_relaxed(pointee.ring + Int(h % runqSize))
            // release: our read of the slot happens before the producer may reuse it.
            if gort_cas_release(pointer(to: \.head)!, &h, h &+ 1) { return GEntry(g) }
        }
    }

    /// Owner only: takes half of the queue (for the global queue when full). Returns the count moved into
    /// `batch`, or 0 if a thief raced us (the caller retries the push).
    func grabHalfForOverflow(into batch: UnsafeMutablePointer<UInt64>) -> Int {
        var h = gort_load_acquire(pointer(to: \.head)!)
        let t = gort_load_relaxed(pointer(to: \.tail)!)
        let n = (t &- h) / 2
        if n == 0 || n > runqSize / 2 { return 0 }
        for i in 0..<n { batch[Int(i)] = gort_load_relaxed(pointee.ring + Int((h &+ i) % runqSize)) }
        return gort_cas_release(pointer(to: \.head)!, &h, h &+ n) ? Int(n) : 0
    }

    /// Go: runqgrab. Any thread: copies up to half of the queue into `dst`'s ring starting at dst's tail
    /// (without publishing it), then claims it with a CAS on our head. Returns the count.
    func grab(into dst: UnsafeMutablePointer<RunQueue>) -> UInt64 {
        let dt = gort_load_relaxed(dst.pointer(to: \.tail)!)  // caller owns dst
        while true {
            var h = gort_load_acquire(pointer(to: \.head)!)
            let t = gort_load_acquire(pointer(to: \.tail)!)  // acquire: see the slots published before tail
            var n = t &- h
            n = n &- n / 2
            if n == 0 { return 0 }
            if n > runqSize / 2 { continue }  // inconsistent snapshot (head moved); retry
            for i in 0..<n {
                let g = gort_load_relaxed(pointee.ring + Int((h &+ i) % runqSize))
                gort_store_relaxed(dst.pointee.ring + Int((dt &+ i) % runqSize), g)
            }
            if gort_cas_release(pointer(to: \.head)!, &h, h &+ n) { return n }
        }
    }
}

@inline(__always) func qpush(_ q: UnsafeMutablePointer<RunQueue>, _ g: GEntry) -> Bool { q.push(g) }
@inline(__always) func qpop(_ q: UnsafeMutablePointer<RunQueue>) -> GEntry { q.pop() }
@inline(__always) func qgrab(_ q: UnsafeMutablePointer<RunQueue>, into dst: UnsafeMutablePointer<RunQueue>) -> UInt64 {
    q.grab(into: dst)
}
@inline(__always) func qgrabHalf(_ q: UnsafeMutablePointer<RunQueue>, into b: UnsafeMutablePointer<UInt64>) -> Int {
    q.grabHalfForOverflow(into: b)
}
