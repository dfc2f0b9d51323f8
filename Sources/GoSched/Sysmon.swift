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
//
// A long job that computes is not blocked. Go preempts it; we cannot, and compensating it would run
// GOMAXPROCS + 1 threads on GOMAXPROCS CPUs (spawn-join's spawning task: 1 s in one job, and the lent P's M
// took CPU from it). So sysmon reads the job thread's CPU clock (P.ownerClock): a thread that used at least a
// quarter of the wall time, over windows of 5 ms or more, or that the kernel has ready to run (an oversubscribed
// machine), is computing. Such a P is left alone while other Ps
// make progress and its queued work moves: a runnext that stays put goes to the global queue (Go lets thieves
// take a running P's runnext after 3 us) and sysmon wakes an idle P for it. If the work sits untouched for another
// `forcePreemptNS` (the other Ps are busy with their own), or no other P progresses (GOMAXPROCS=1), it is
// compensated after all; with nothing waiting it is not (the spare's M would only find nothing and park). A
// thread blocked in a syscall, a lock or a sleep uses no CPU and is compensated as before. spawn-join, 7
// interleaved runs against 84dbe9b: 1.44 -> 1.30 s wall, 2.17 -> 1.82 s CPU.

// sysmon looks every 20 us, backing off to every 10 ms while nothing happens; with every P idle (nothing running,
// blocked, lent or queued) it sleeps until a P is taken (pidleget wakes it) or shutdown, as Go's sysmonwait:
// an idle process is not woken 100 times a second (a 3 s Task.sleep: 357 context switches before, 68 after).

let forcePreemptNS: UInt64 = 10_000_000
let syscallRetakeNS: UInt64 = 20_000
/// The shortest window over which sysmon judges whether a long job's thread computes (isComputing).
let cpuWindowNS: UInt64 = 5_000_000

/// True if fewer spares are lent than Ps are compensated (a spare that found nothing went back).
@inline(__always)
func spareOwed(_ sched: UnsafeMutablePointer<SchedState>) -> Bool {
    gort_load_acquire(sched.pointer(to: \.nspareLent)!) < gort_load_acquire(sched.pointer(to: \.ncompensated)!)
}

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
        gort_store_relaxed(sched.pointer(to: \.spareLends)!, sched.pointee.spareLends &+ 1)
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
    // Hand our local Gs to the global queues (we are the owner): high-priority ones to the high queue.
    var moved = false
    while true {
        let h = qpopOldest(pp.pointer(to: \.high)!)
        if h == 0 { break }
        sched.globhighput(h)
        moved = true
    }
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
    if mp.spinning {
        mp.spinning = false
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
func sysmon(_ sched: UnsafeMutablePointer<SchedState>, traceEveryMS: Int, detailed: Bool) {
    var delay: UInt64 = 20_000  // 20us, doubling to 10ms while nothing happens
    var idleCycles = 0
    var lastTrace: UInt64 = 0   // Go's sysmon prints its first line at once ("SCHED 0ms")
    var wait: UInt32 = 0
    while gort_load_acquire(sched.pointer(to: \.stopping)!) == 0 {
        // With a spare owed (a P blocked) and none lent, nobody else runs due timers: wake for the earliest.
        var sleepNS = delay
        if spareOwed(sched) {
            let t = earliestTimer(sched), n = nanotime()
            if t != 0 { sleepNS = min(sleepNS, max(t > n ? t - n : 0, 20_000)) }
        }
        _ = gort_futex_wait(&wait, 0, Int64(sleepNS))
        let now = nanotime()
        var acted = false
        var globalWork = sched.globalQueued != 0
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
            // A storm chain the job has not flushed yet is in no queue another M can see: once it stops growing,
            // move it, so a job that blocks past the limit strands none of its Gs (Schedule.swift, stormPut),
            // compensated or not (a compensated job may go on making Gs). Not an action for sysmon's pace.
            if stuck >= limit && flushStaleStorm(sched, pp) { globalWork = true }
            if gort_load_relaxed(pp.pointer(to: \.compensated)!) != 0 { continue }
            // A long job's CPU baseline is taken from half the limit on, so the verdict is ready at the limit.
            let computing = st == PStatus.inJob && stuck >= forcePreemptNS / 2
                && isComputing(pp, tick: tick, now: now)
            if stuck < limit { continue }
            if computing && othersProgress(sched, pp, now: now) && !workStranded(pp, tick: tick, now: now) {
                // Other Ms take its work (a runnext that stays put goes to the global queue); wake an idle P.
                movePinnedRunnext(sched, pp)
                if pHasWork(pp) { wakep(sched) }
                continue
            }
            // Work waiting, or (for a blocked thread) no idle P left to take work that comes. A computing job
            // with nothing waiting is left alone: a spare's M would find nothing, give the spare back and be
            // lent it again at the next tick, taking CPU from the job (GOMAXPROCS=1 on one CPU: 15 %).
            if pHasWork(pp) || globalWork || gort_load_relaxed(pp.pointer(to: \.timer0When)!) != 0
                || (!computing && gort_load_relaxed(sched.pointer(to: \.npidle)!) == 0)
            {
                compensate(sched, pp)
                // The job may have ended between our reads and the CAS; then its owner will not clear the flag.
                if gort_load_relaxed(pp.pointer(to: \.schedtick)!) != tick || gort_load_acquire(pp.pointer(to: \.status)!) != st {
                    uncompensate(sched, pp)
                }
                acted = true
            }
        }
        // A spare whose M found nothing went back (returnSpareLocked); lend it again only for work, as Go's
        // handoffp starts an M only when there is some. Lending it every tick woke that M 100 times a second to
        // find nothing while a thread blocked. Work that comes meanwhile waits for this tick, as it waited for
        // the next lend before (the spare's M was parked between lends).
        if spareOwed(sched) && anyWork(sched) { lendSpares(sched) }
        // Work in the global queue: wake an idle P if no M is looking (wakep checks both). A yield goes there
        // without a wakep (Schedule.swift, putYield, as Go's Gosched), and the M that put it may then run a long
        // job, which we cannot preempt as Go would after 10 ms; the idle P takes the yielder instead.
        if globalWork { wakep(sched) }
        if acted { idleCycles = 0; delay = 20_000 } else {
            idleCycles += 1
            if idleCycles > 50 { delay = min(delay * 2, 10_000_000) }
        }
        // Go: sysmon's sysmonwait. Fully backed off and every P idle (no job, no blocking region, nothing lent or
        // queued): sleep until a P is taken (pidleget wakes us) instead of 100 looks a second. Decided under the
        // lock that pidleget holds, so a P taken right after our look wakes us.
        if delay == 10_000_000 && traceEveryMS <= 0 && sleepWhileIdle(sched) { idleCycles = 0; delay = 20_000 }
        if traceEveryMS > 0 && (lastTrace == 0 || now &- lastTrace >= UInt64(traceEveryMS) * 1_000_000) {
            lastTrace = now
            printSchedTrace(sched, now: now, detailed: detailed)
            if delay > UInt64(traceEveryMS) * 1_000_000 { delay = UInt64(traceEveryMS) * 1_000_000 }
        }
    }
}

/// If every P is idle, sleeps until pidleget (a P is about to run) or shutdown wakes it, or a minute passes.
/// Returns whether it slept. sysmon only.
func sleepWhileIdle(_ sched: UnsafeMutablePointer<SchedState>) -> Bool {
    sched.lock()
    let idle = gort_load_relaxed(sched.pointer(to: \.npidle)!) == UInt64(sched.pointee.gomaxprocs)
        && gort_load_acquire(sched.pointer(to: \.nspareLent)!) == 0
        && gort_load_acquire(sched.pointer(to: \.ncompensated)!) == 0
        && sched.pointee.runqSize == 0 && sched.pointee.highqSize == 0
        && gort_load_acquire(sched.pointer(to: \.stopping)!) == 0
    if idle { gort_store32_release(sched.pointer(to: \.sysmonWait)!, 1) }
    sched.unlock()
    if !idle { return false }
    gort_store_relaxed(sched.pointer(to: \.sysmonSleeps)!, sched.pointee.sysmonSleeps &+ 1)
    while gort_load32_acquire(sched.pointer(to: \.sysmonWait)!) != 0 {
        // A minute at most, as Go's sysmon (forcegcperiod / 2); a spurious or timed-out wake re-checks.
        if gort_futex_wait(sched.pointer(to: \.sysmonWait)!, 1, 60_000_000_000) != 0 { break }
    }
    // After a timeout or a signal (a wake cleared it already): under the lock, as pidleget reads it there.
    sched.lock()
    gort_store32_release(sched.pointer(to: \.sysmonWait)!, 0)
    sched.unlock()
    return true
}

/// Whether the thread running pp's current job (schedtick `tick`) is computing rather than blocked: over
/// windows of at least `cpuWindowNS` it used at least a quarter of the wall time as CPU time (a blocked thread
/// uses none; a computing one sharing the CPUs with other busy threads still gets its share), or, on a machine so
/// oversubscribed that its share fell below that, the kernel has it ready to run (state R in /proc), where a
/// blocked thread sleeps (S or D). (Its run-queue wait in schedstat does not tell: the kernel adds a wait up only
/// when the thread gets a CPU, so a thread waiting through a whole window shows none.) The first look at a job
/// only measures and says computing, so the verdict comes a window later. A thread whose clock is unknown or
/// cannot be read counts as blocked. sysmon only.
func isComputing(_ pp: UnsafeMutablePointer<P>, tick: UInt64, now: UInt64) -> Bool {
    let clock = gort_load_relaxed(pp.pointer(to: \.ownerClock)!)
    if clock == 0 { return false }
    let clockid = clockid_t(Int32(truncatingIfNeeded: clock))
    var ts = timespec()
    if clock_gettime(clockid, &ts) != 0 { return false }
    let cpu = UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    if pp.pointee.sysmonCPUTick != tick || pp.pointee.sysmonCPUWhen == 0 {
        pp.pointee.sysmonCPUTick = tick
        pp.pointee.sysmonComputing = 1
    } else {
        let elapsed = now &- pp.pointee.sysmonCPUWhen
        if elapsed < cpuWindowNS { return pp.pointee.sysmonComputing != 0 }
        let computing = (cpu &- pp.pointee.sysmonCPU) &* 4 >= elapsed || isRunnable(cpuClock: clockid) == true
        pp.pointee.sysmonComputing = computing ? 1 : 0
    }
    pp.pointee.sysmonCPU = cpu
    pp.pointee.sysmonCPUWhen = now
    return pp.pointee.sysmonComputing != 0
}

/// The thread ID behind a thread CPU-time clock from pthread_getcpuclockid: Linux encodes it as
/// (~tid << 3) | 6 (a per-thread clock of the scheduler's kind). Nil for any other clock.
func threadID(cpuClock c: clockid_t) -> Int32? {
    if c >= 0 || c & 7 != 6 { return nil }
    let tid = ~(c >> 3)
    return tid > 0 ? tid : nil
}

/// Whether the thread behind CPU clock `c` is running or ready to run (state R in /proc/self/task/TID/stat),
/// as opposed to sleeping or waiting. Nil when unreadable. sysmon only (it opens a file: at most once per stuck P
/// per cpuWindowNS, and only for a thread that used under a quarter of a window's time).
func isRunnable(cpuClock c: clockid_t) -> Bool? {
    guard let tid = threadID(cpuClock: c) else { return nil }
    let fd = open("/proc/self/task/\(tid)/stat", O_RDONLY)
    if fd < 0 { return nil }
    defer { close(fd) }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { buf -> Bool? in
        let n = read(fd, buf.baseAddress, 128)
        if n <= 0 { return nil }
        // "TID (COMM) STATE ...": COMM may hold spaces and parentheses, so the state follows the last ')'.
        guard let paren = (0..<n).last(where: { buf[$0] == UInt8(ascii: ")") }), paren + 2 < n else { return nil }
        return buf[paren + 2] == UInt8(ascii: "R")
    }
}

/// A long computing job's runnext is out of thieves' reach (runnextStealable); one that has not changed since
/// sysmon's previous look at the job goes to the global queue, where any M finds it. (Go lets thieves take a
/// running P's runnext after 3 us; doing that here made the thieves and a spawning job fight over the slot on
/// every spawn.) sysmon only.
func movePinnedRunnext(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>) {
    let next = gort_load_acquire(pp.pointer(to: \.runnext)!)
    defer { pp.pointee.sysmonNext = next }
    if next == 0 || next != pp.pointee.sysmonNext { return }
    var expected = next
    // acq_rel against the owner's exchange and thieves' CAS: exactly one of us takes the G.
    if gort_cas_acqrel(pp.pointer(to: \.runnext)!, &expected, 0) { putGlobal(sched, GEntry(next)) }
}

/// Whether pp's queued work (its rings, its runnext, a due timer) has sat untouched for `forcePreemptNS`: nobody
/// took any of it while its job computed, so the other Ps are busy with their own and pp needs a spare after
/// all. Compares a snapshot (the rings' heads, which only consumers advance, runnext, timer0When) with the one
/// taken when the work was first seen. sysmon only.
func workStranded(_ pp: UnsafeMutablePointer<P>, tick: UInt64, now: UInt64) -> Bool {
    let timer = gort_load_acquire(pp.pointer(to: \.timer0When)!)
    let timerDue = timer != 0 && timer <= now
    if !pHasWork(pp) && !timerDue {
        pp.pointee.sysmonWorkWhen = 0
        return false
    }
    // One word standing for the four values (a hash: a collision only delays a compensation by a period).
    let runqHead = gort_load_acquire(pp.pointer(to: \.runq.head)!)
    let highHead = gort_load_acquire(pp.pointer(to: \.high.head)!)
    let next = gort_load_relaxed(pp.pointer(to: \.runnext)!)
    let snap = (runqHead &+ highHead &<< 32) ^ next &* 0x9E37_79B9_7F4A_7C15 ^ (timerDue ? timer : 0) &* 0xBF58_476D_1CE4_E5B9
    if pp.pointee.sysmonWorkWhen == 0 || pp.pointee.sysmonWorkTick != tick || pp.pointee.sysmonWorkSnap != snap {
        pp.pointee.sysmonWorkSnap = snap
        pp.pointee.sysmonWorkTick = tick
        pp.pointee.sysmonWorkWhen = now
        return false
    }
    return now &- pp.pointee.sysmonWorkWhen >= forcePreemptNS
}

/// Whether some P other than pp can take pp's queued work: one that is idle (sysmon wakes it) or scheduling,
/// or one whose job changed within the last `forcePreemptNS` (its M steals at its next scheduling point). False
/// when every other P is stuck in a job or a blocking region, or there is no other P. sysmon only.
func othersProgress(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>, now: UInt64) -> Bool {
    for i in 0..<sched.allpCount {
        let q = sched.pointee.allp[i].unsafelyUnwrapped
        if q == pp { continue }
        let st = gort_load_acquire(q.pointer(to: \.status)!)
        if st == PStatus.idle || st == PStatus.running { return true }
        if st != PStatus.inJob { continue }  // in a blocking region (compensated on its own), or a spare
        if gort_load_relaxed(q.pointer(to: \.schedtick)!) != q.pointee.sysmonTick
            || now &- q.pointee.sysmonWhen < forcePreemptNS
        {
            return true
        }
    }
    return false
}

/// Go: entersyscall / exitsyscall. Runs `body`, which may block its thread (a syscall, a lock, a C call),
/// letting the scheduler run other jobs on another thread meanwhile. Cheap when nothing waits: two stores.
/// Outside a GoSched thread it just runs body.
@discardableResult
public func blocking<R>(_ body: () throws -> R) rethrows -> R {
    guard let mp = currentM(), let pp = mp.pointee.p else { return try body() }
    let sched = mp.pointee.sched
    mp.pointee.syscallDepth = mp.pointee.syscallDepth + 1
    let t0: UInt64 = mp.pointee.tracing && mp.pointee.syscallDepth == 1 ? nanotime() : 0
    if mp.pointee.syscallDepth == 1 {
        gort_store_relaxed(pp.pointer(to: \.syscalltick)!, pp.pointee.syscalltick &+ 1)
        gort_store_release(pp.pointer(to: \.status)!, PStatus.syscall)
        // A storm chain goes where other Ms see it: the body may wait for one of its Gs.
        if pp.pointee.stormStarted != 0 { flushStorm(sched, pp) }
        // Work already waiting: hand it off now instead of after a sysmon tick (Go: entersyscallblock).
        if pHasWork(pp) || sched.globalQueued != 0 { compensate(sched, pp) }
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
