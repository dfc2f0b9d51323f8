import CGoRuntime

// Checkable invariants of a scheduler (GoAlloc has the same for the heap). `Scheduler.checkInvariants()` runs
// them for tests; GODEBUG=schedchecks=1 runs them under sched.lock on the scheduler's slow paths (every batch
// into or out of the global queue, every P going idle), so a stress test finds the first operation that broke
// one. Off, they cost one predictable branch on those slow paths and nothing on the fast paths.
//
// What is checked, all under sched.lock (the fields involved are written only under it, or by the owner of a P
// that is idle and so has no owner):
//   - the global queue is a chain of batches from runqHead to runqTail: each batch's head records its length
//     (1 ... half a ring + 1) and its last G, which is that many links on; the last G's link is 0; the lengths
//     add up to runqSize;
//   - the global high-priority queue links highqSize Gs from highqHead to highqTail;
//   - the idle P list has npidle entries, each with status idle and empty rings and runnext (only a P's owner
//     pushes to them, and a P is put on the list by its last owner after finding them empty);
//   - the idle M list has nmidle entries, none holding a P.
// A violation is fatal, naming the rule (a StaticString: nothing is allocated on the way down).

extension UnsafeMutablePointer where Pointee == SchedState {
    /// Checks every invariant above. Caller holds the lock.
    func checkInvariantsLocked() {
        let size = Int(gort_load_relaxed(pointer(to: \.runqSize)!))
        var g = pointee.runqHead
        var total = 0
        var last: GEntry = 0
        while g != 0 {
            let w = gBatch(g).pointee
            let n = batchCount(w)
            if n < 1 || n > maxBatch { fatal("GoSched: global queue: a batch length is out of range") }
            if total + n > size { fatal("GoSched: global queue: more Gs linked than runqSize counts") }
            var x = g
            for _ in 1..<n {
                x = gLink(x).pointee
                if x == 0 { fatal("GoSched: global queue: a batch ends before its recorded length") }
            }
            if x != batchTail(w) { fatal("GoSched: global queue: a batch's recorded tail is not its last G") }
            total += n
            last = x
            g = gLink(x).pointee
        }
        if total != size { fatal("GoSched: global queue: runqSize does not match the Gs linked") }
        if last != pointee.runqTail { fatal("GoSched: global queue: runqTail is not the last G") }

        var highCount: UInt64 = 0
        var h = pointee.highqHead
        last = 0
        while h != 0 {
            highCount += 1
            if highCount > pointee.highqSize { fatal("GoSched: high-priority queue: more Gs linked than highqSize counts") }
            last = h
            h = gLink(h).pointee
        }
        if highCount != pointee.highqSize || last != pointee.highqTail {
            fatal("GoSched: high-priority queue: highqSize or highqTail does not match the Gs linked")
        }

        var idle = 0
        var pp = pointee.pidle
        while let p = pp {
            idle += 1
            if idle > pointee.allpCapacity { fatal("GoSched: idle P list: a cycle") }
            if gort_load_acquire(p.pointer(to: \.status)!) != PStatus.idle {
                fatal("GoSched: idle P list: a P whose status is not idle")
            }
            if qcount(p.pointer(to: \.runq)!) != 0 || qcount(p.pointer(to: \.high)!) != 0 {
                fatal("GoSched: idle P list: a P with Gs in its rings")
            }
            if gort_load_relaxed(p.pointer(to: \.runnext)!) != 0 { fatal("GoSched: idle P list: a P with a runnext G") }
            pp = p.pointee.link
        }
        if UInt64(idle) != gort_load_relaxed(pointer(to: \.npidle)!) { fatal("GoSched: npidle does not match the idle P list") }

        var nm = 0
        var mm = pointee.midle
        while let m = mm {
            nm += 1
            if nm > pointee.mcount { fatal("GoSched: idle M list: longer than mcount (a cycle)") }
            if m.pointee.p != nil { fatal("GoSched: idle M list: an M that holds a P") }
            mm = m.pointee.link
        }
        if nm != pointee.nmidle { fatal("GoSched: nmidle does not match the idle M list") }
    }

    /// GODEBUG=schedchecks=1: the checks on a slow path. Caller holds the lock. The walk is as long as the
    /// global queue, so with more than 65,536 Gs queued only every 1,024th call checks (a million queued Gs
    /// would otherwise make each operation cost a million steps).
    @inline(__always)
    func debugCheckLocked() {
        if !pointee.checkInvariants { return }
        pointee.checkCalls = pointee.checkCalls &+ 1
        if globalQueued <= 65_536 || pointee.checkCalls % 1024 == 0 {
            checkInvariantsLocked()
        }
    }
}
