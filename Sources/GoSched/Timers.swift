import CGoRuntime

// Go: runtime timers (time.go): each P keeps a 4-ary... here a binary min-heap of (when, G) under its own
// timer lock, with `timer0When` (the earliest when, 0 if none) readable without the lock. A due timer's G is
// pushed to the run queue of the P that runs the timers: its owner in findRunnable, or a thief in stealWork.
// An M about to park sleeps no longer than the earliest timer of any P (earliestTimer), so Task.sleep fires
// even when every P is idle. Used by SchedulingExecutor.enqueue(_:after:) (Task.sleep).

/// Adds a timer on pp (any thread; takes pp's timer lock).
func addTimer(_ pp: UnsafeMutablePointer<P>, when: UInt64, g: GEntry) {
    lockKey(pp.pointer(to: \.timerLock)!)
    if pp.pointee.timerCount == pp.pointee.timerCap {
        let cap = max(16, pp.pointee.timerCap * 2)
        let nt = UnsafeMutablePointer<TimerEntry>.allocate(capacity: cap)
        if let old = pp.pointee.timers {
            nt.moveInitialize(from: old, count: pp.pointee.timerCount)
            old.deallocate()
        }
        pp.pointee.timers = nt
        pp.pointee.timerCap = cap
    }
    let h = pp.pointee.timers!
    var i = pp.pointee.timerCount
    pp.pointee.timerCount = pp.pointee.timerCount + 1
    // sift up
    while i > 0 {
        let parent = (i - 1) / 2
        if h[parent].when <= when { break }
        h[i] = h[parent]
        i = parent
    }
    h[i] = TimerEntry(when: when, g: g)
    gort_store_release(pp.pointer(to: \.timer0When)!, h[0].when)
    unlockKey(pp.pointer(to: \.timerLock)!)
}

/// Moves pp's due timers (when <= now) into dst's run queue (dst owned by the caller). Returns whether any.
@inline(never)
func runTimers(_ pp: UnsafeMutablePointer<P>, into dst: UnsafeMutablePointer<P>, now: UInt64) -> Bool {
    let w = gort_load_acquire(pp.pointer(to: \.timer0When)!)
    if w == 0 || w > now { return false }
    var ran = false
    lockKey(pp.pointer(to: \.timerLock)!)
    while pp.pointee.timerCount > 0, let h = pp.pointee.timers, h[0].when <= now {
        let g = h[0].g
        pp.pointee.timerCount = pp.pointee.timerCount - 1
        let n = pp.pointee.timerCount
        if n > 0 {
            // sift down the last entry from the root
            let last = h[n]
            var i = 0
            while true {
                var c = 2 * i + 1
                if c >= n { break }
                if c + 1 < n && h[c + 1].when < h[c].when { c += 1 }
                if last.when <= h[c].when { break }
                h[i] = h[c]
                i = c
            }
            h[i] = last
        }
        runqput(dst, g, next: false)
        ran = true
    }
    gort_store_release(pp.pointer(to: \.timer0When)!, pp.pointee.timerCount > 0 ? pp.pointee.timers![0].when : 0)
    unlockKey(pp.pointer(to: \.timerLock)!)
    return ran
}

/// The earliest pending timer over all Ps, 0 if none.
func earliestTimer(_ sched: UnsafeMutablePointer<SchedState>) -> UInt64 {
    var best: UInt64 = 0
    for i in 0..<sched.allpCount {
        let w = gort_load_acquire(sched.pointee.allp[i].unsafelyUnwrapped.pointer(to: \.timer0When)!)
        if w != 0 && (best == 0 || w < best) { best = w }
    }
    return best
}

/// Schedules g to become runnable at `when`. From an M of this scheduler the timer goes on its P; from any
/// other thread on P 0, and an idle M is woken so someone sleeps until the new deadline.
func scheduleTimer(_ sched: UnsafeMutablePointer<SchedState>, when: UInt64, g: GEntry) {
    if gort_load_acquire(sched.pointer(to: \.stopping)!) != 0 { return droppedAfterStop(sched) }
    if let mp = currentM(), mp.pointee.sched == sched, let pp = mp.pointee.p {
        addTimer(pp, when: when, g: g)
        // This M will see the timer before it parks; but if other Ms sleep with a later deadline and this P
        // stays busy, wake one so that it recomputes its deadline.
        wakeTimerSleeper(sched)
        return
    }
    addTimer(sched.pointee.allp[0].unsafelyUnwrapped, when: when, g: g)
    wakeTimerSleeper(sched)
}

/// Wakes one parked M (with an idle P) so it recomputes how long to sleep.
func wakeTimerSleeper(_ sched: UnsafeMutablePointer<SchedState>) {
    if gort_load_relaxed(sched.pointer(to: \.npidle)!) == 0 { return }
    var zero: UInt64 = 0
    if !gort_cas_acqrel(sched.pointer(to: \.nmspinning)!, &zero, 1) { return }  // a spinner will see the timer
    startm(sched, nil, spinning: true)
}
