import CGoRuntime
import Glibc

// Go: sysmon, retake, handoffp, entersyscall/exitsyscall (proc.go).
//
// A Swift job cannot be preempted or descheduled mid-job the way Go parks a goroutine in a syscall: the job's
// thread keeps running its code and may enqueue work on "its" P at any moment. So we never take a P away from
// a blocked M (two owners would then push to one ring). Instead sysmon *compensates*: it lends a spare P (one
// beyond GOMAXPROCS) to another M, which steals the blocked P's queue, runs its timers and the global queue.
// When the blocked job returns, its M clears the compensation, and the spare's M gives the spare back at its
// next scheduling point (moving any local Gs to the global queue) and parks. The effect is Go's: at most
// GOMAXPROCS Ms run jobs that are not blocked, and a blocked thread never stalls the rest.
//
// A P counts as blocked when it is in `blocking { }` (PStatus.syscall) for more than one sysmon tick
// (20us-10ms), or in one job (PStatus.inJob) for more than `forcePreemptNS` (10 ms), and there is work waiting.
// `blocking { }` with work already waiting compensates at once (Go: entersyscallblock).

let forcePreemptNS: UInt64 = 10_000_000
let syscallRetakeNS: UInt64 = 20_000

/// True if the number of lent spares exceeds the Ps still blocked: the caller's spare should go back.
@inline(__always)
func shouldReturnSpare(_ sched: UnsafeMutablePointer<SchedState>) -> Bool {
    gort_load_acquire(sched.pointer(to: \.nspareLent)!) > gort_load_acquire(sched.pointer(to: \.ncompensated)!)
}

/// Marks pp compensated and lends a spare P if the lent count is below the blocked count.
func compensate(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>) {
    var zero: UInt64 = 0
    // acq_rel: one of sysmon and the blocking M wins; the owner clears it with a CAS too.
    if !gort_cas_acqrel(pp.pointer(to: \.compensated)!, &zero, 1) { return }
    _ = gort_fetch_add_acqrel(sched.pointer(to: \.ncompensated)!, 1)
    lendSpares(sched)
}

/// Lends spares while fewer are lent than Ps are blocked.
func lendSpares(_ sched: UnsafeMutablePointer<SchedState>) {
    while true {
        var lent = gort_load_acquire(sched.pointer(to: \.nspareLent)!)
        if lent >= gort_load_acquire(sched.pointer(to: \.ncompensated)!) { return }
        if !gort_cas_acqrel(sched.pointer(to: \.nspareLent)!, &lent, lent + 1) { continue }
        sched.lock()
        var sp = sched.pointee.pspare
        if let s = sp {
            sched.pointee.pspare = s.pointee.link
            s.pointee.link = nil
        } else {
            let n = Int(gort_load_relaxed(sched.pointer(to: \.nallp)!))
            if n >= sched.pointee.allpCapacity {
                sched.unlock()
                _ = gort_fetch_sub_acqrel(sched.pointer(to: \.nspareLent)!, 1)
                return  // thread budget exhausted: like Go's maxmcount, but we just stop lending
            }
            let s = allocP(id: n, isSpare: true)
            sched.pointee.allp[n] = s
            gort_store_release(sched.pointer(to: \.nallp)!, UInt64(n + 1))
            sp = s
        }
        gort_store_release(sp!.pointer(to: \.status)!, PStatus.running)
        sched.unlock()
        startm(sched, sp, spinning: false)
    }
}

/// The owner M of pp, after its blocked job or region ended.
@inline(never)
func uncompensate(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>) {
    var one: UInt64 = 1
    if gort_cas_acqrel(pp.pointer(to: \.compensated)!, &one, 0) {
        _ = gort_fetch_sub_acqrel(sched.pointer(to: \.ncompensated)!, 1)
    }
}

/// A spare's M gives the spare back (if still in excess) and parks. Returns with mp holding some P, or stopping.
func returnSpare(_ mp: UnsafeMutablePointer<M>, _ pp: UnsafeMutablePointer<P>) {
    let sched = mp.pointee.sched
    sched.lock()
    var lent = gort_load_acquire(sched.pointer(to: \.nspareLent)!)
    if lent <= gort_load_acquire(sched.pointer(to: \.ncompensated)!) { sched.unlock(); return }
    while !gort_cas_acqrel(sched.pointer(to: \.nspareLent)!, &lent, lent - 1) {}
    // Hand our local Gs to the global queue (we are the owner).
    var moved = false
    while true {
        let g = runqget(pp, cap: Int.max)
        if g == 0 { break }
        sched.globrunqput(g)
        moved = true
    }
    releasep(mp)
    gort_store_release(pp.pointer(to: \.status)!, PStatus.spare)
    pp.pointee.link = sched.pointee.pspare
    sched.pointee.pspare = pp
    sched.unlock()
    // timer0When (acquire), not timerCount: the P is published on the spare list now, and other Ms' stealWork
    // change timerCount under timerLock (Thread Sanitizer reported the unlocked read). 0 iff the heap is empty.
    if gort_load_acquire(pp.pointer(to: \.timer0When)!) != 0 { moveTimers(from: pp, sched) }
    if mp.pointee.spinning {
        mp.pointee.spinning = false
        _ = gort_fetch_sub_acqrel(sched.pointer(to: \.nmspinning)!, 1)
    }
    if moved { wakep(sched) }
    stopm(mp, deadline: earliestTimer(sched))
}

/// Caller holds the lock: a spare whose M found nothing goes back to the spare list.
func returnSpareLocked(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>) {
    _ = gort_fetch_sub_acqrel(sched.pointer(to: \.nspareLent)!, 1)
    gort_store_release(pp.pointer(to: \.status)!, PStatus.spare)
    pp.pointee.link = sched.pointee.pspare
    sched.pointee.pspare = pp
}

/// Timers left on a returned spare move to P 0.
func moveTimers(from pp: UnsafeMutablePointer<P>, _ sched: UnsafeMutablePointer<SchedState>) {
    lockKey(pp.pointer(to: \.timerLock)!)
    var moved: [TimerEntry] = []
    if let h = pp.pointee.timers { for i in 0..<pp.pointee.timerCount { moved.append(h[i]) } }
    pp.pointee.timerCount = 0
    gort_store_release(pp.pointer(to: \.timer0When)!, 0)
    unlockKey(pp.pointer(to: \.timerLock)!)
    for t in moved { addTimer(sched.pointee.allp[0]!, when: t.when, g: t.g) }
}

/// Go: sysmon. Runs on its own thread (no P) until the scheduler stops.
func sysmon(_ sched: UnsafeMutablePointer<SchedState>, traceEveryMS: Int) {
    var delay: UInt64 = 20_000  // 20us, doubling to 10ms while nothing happens
    var idleCycles = 0
    var lastTrace = nanotime()
    var wait: UInt32 = 0
    while gort_load_acquire(sched.pointer(to: \.stopping)!) == 0 {
        _ = gort_futex_wait(&wait, 0, Int64(delay))
        let now = nanotime()
        var acted = false
        let globalWork = gort_load_relaxed(sched.pointer(to: \.runqSize)!) != 0
        for i in 0..<sched.allpCount {
            let pp = sched.pointee.allp[i].unsafelyUnwrapped
            let st = gort_load_acquire(pp.pointer(to: \.status)!)
            if st != PStatus.inJob && st != PStatus.syscall { continue }
            let tick = gort_load_relaxed(pp.pointer(to: \.schedtick)!)
            if tick != pp.pointee.sysmonTick || pp.pointee.sysmonWhen == 0 {
                pp.pointee.sysmonTick = tick
                pp.pointee.sysmonWhen = now
                continue
            }
            let stuck = now &- pp.pointee.sysmonWhen
            let limit = st == PStatus.syscall ? syscallRetakeNS : forcePreemptNS
            if stuck < limit { continue }
            if gort_load_relaxed(pp.pointer(to: \.compensated)!) != 0 { continue }
            if pHasWork(pp) || globalWork || gort_load_relaxed(pp.pointer(to: \.timer0When)!) != 0
                || gort_load_relaxed(sched.pointer(to: \.npidle)!) == 0
            {
                compensate(sched, pp)
                // The job may have ended between our reads and the CAS; then its owner will not clear the flag.
                if gort_load_relaxed(pp.pointer(to: \.schedtick)!) != tick || gort_load_acquire(pp.pointer(to: \.status)!) != st {
                    uncompensate(sched, pp)
                }
                acted = true
            }
        }
        lendSpares(sched)
        if acted { idleCycles = 0; delay = 20_000 } else {
            idleCycles += 1
            if idleCycles > 50 { delay = min(delay * 2, 10_000_000) }
        }
        if traceEveryMS > 0 && now &- lastTrace >= UInt64(traceEveryMS) * 1_000_000 {
            lastTrace = now
            printSchedTrace(sched, now: now)
            if delay > UInt64(traceEveryMS) * 1_000_000 { delay = UInt64(traceEveryMS) * 1_000_000 }
        }
    }
}

/// Go: entersyscall / exitsyscall. Runs `body`, which may block its thread (a syscall, a lock, a C call),
/// letting the scheduler run other jobs on another thread meanwhile. Cheap when nothing waits: two stores.
/// Outside a GoSched thread it just runs body.
public func blocking<R>(_ body: () throws -> R) rethrows -> R {
    guard let mp = currentM(), let pp = mp.pointee.p else { return try body() }
    let sched = mp.pointee.sched
    mp.pointee.syscallDepth = mp.pointee.syscallDepth + 1
    let t0: UInt64 = mp.pointee.tracing && mp.pointee.syscallDepth == 1 ? nanotime() : 0
    if mp.pointee.syscallDepth == 1 {
        gort_store_release(pp.pointer(to: \.status)!, PStatus.syscall)
        // Work already waiting: hand it off now instead of after a sysmon tick (Go: entersyscallblock).
        if pHasWork(pp) || gort_load_relaxed(sched.pointer(to: \.runqSize)!) != 0 { compensate(sched, pp) }
    }
    defer {
        mp.pointee.syscallDepth = mp.pointee.syscallDepth - 1
        if mp.pointee.syscallDepth == 0 {
            // A new tick: sysmon measures the rest of the job from here, not from the region's start.
            gort_store_relaxed(pp.pointer(to: \.schedtick)!, pp.pointee.schedtick &+ 1)
            gort_store_release(pp.pointer(to: \.status)!, PStatus.inJob)
            if gort_load_relaxed(pp.pointer(to: \.compensated)!) != 0 { uncompensate(sched, pp) }
            if mp.pointee.tracing { traceEvent(mp, TraceKind.blocking, start: t0, end: nanotime(), p: pp.pointee.id, g: 0) }
        }
    }
    return try body()
}
