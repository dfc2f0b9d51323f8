import CGoRuntime
import Glibc
import Synchronization

// Go: proc.go's schedule / findRunnable / stealWork / wakep / startm / stopm, for Swift jobs.
//
// Fast path (per job, on the M's own P, no lock, no allocation): check the P's earliest timer word, every 61st
// tick look at the global queue, then high-priority ring -> runnext -> ring. Slow path (@inline(never)):
// global queue, stealing half a victim's ring in random order (at most GOMAXPROCS/2 Ms spin), then giving the
// P back and parking the M on its futex.
//
// The spinning protocol (Go's "delicate dance") that keeps work from being stranded while Ms park:
//   producer: publish the G (ring tail or global list), then `wakep`: if some P is idle and no M spins, start
//             one spinning M.
//   consumer: put its P on the idle list (npidle++), then stop spinning (nmspinning--), a full fence, then look
//             at every queue again. Either the producer sees nmspinning == 0 with npidle > 0 and wakes an M, or
//             the consumer sees the G. The last spinner that finds work calls wakep for the next one.

// MARK: - run queue put / get (owner P)

/// Go: runqput. Owner only. `next`: the G goes to runnext and the previous runnext to the ring.
@inline(__always)
func runqput(_ pp: UnsafeMutablePointer<P>, _ g: GEntry, next: Bool) {
    var g = g
    if next {
        // seq_cst (an XCHG on x86, as acq_rel would be): publishes the G's memory to a thief that CASes it out
        // of runnext, and is the store half of the wake-up protocol for wakepAfterSeqCst (no extra fence).
        let old = exchangeSeqCst(pp.pointer(to: \.runnext)!, UInt64(g))
        if old == 0 { return }
        g = GEntry(old)
    }
    if qpush(pp.pointer(to: \.runq)!, g) { return }
    runqputSlow(pp, g)
}

/// Go: runqputslow. The ring is full: move its older half plus g to the global queue as one batch, linked
/// outside the lock (the Gs were pushed by this thread, so their lines are likely still in its cache).
/// The M that takes the batch walks its links, each a G last written on this CPU: a cache miss apiece, one
/// after the other. So each G also points `batchSkip` Gs ahead, and the walker prefetches that one: after the
/// first few, the misses overlap (RunQueue.pushChain).
@inline(never)
func runqputSlow(_ pp: UnsafeMutablePointer<P>, _ g: GEntry) {
    let q = pp.pointer(to: \.runq)!
    while true {
        let (first, n) = q.takeOlderHalf()
        if n == 0 {
            if qpush(q, g) { return }  // thieves made room
            continue
        }
        // Batch positions 0..<n are the ring's entries, position n is g. Every G but the head also gets, in its
        // second private word, the G `batchSkip` positions on (0 near the end), which the taker prefetches.
        @inline(__always) func at(_ i: Int) -> GEntry { i < n ? q.slot(first &+ UInt64(i)) : g }
        let head = q.slot(first)
        var prev = head
        for i in 1...n {
            let e = at(i)
            gLink(prev).pointee = e
            gBatch(e).pointee = i + batchSkip <= n ? at(i + batchSkip) : 0
            prev = e
        }
        gLink(g).pointee = 0
        gBatch(head).pointee = batchWord(tail: g, count: n + 1)
        let sched = currentSchedOf(pp)
        sched.lock()
        sched.globrunqputbatch(head: head, tail: g, count: UInt64(n + 1))
        sched.unlock()
        return
    }
}

/// Go: the second half of globrunqget. After globrunqtake returned a chain and the lock was dropped: moves
/// the `count` Gs that follow `g` in it into pp's ring (owner), and what does not fit back to the global queue.
@inline(never)
func runqputChain(_ pp: UnsafeMutablePointer<P>, after g: GEntry, tail: GEntry, count: Int) {
    if count == 0 { return }
    let (n, rest) = qpushChain(pp.pointer(to: \.runq)!, gLink(g).pointee, count: count)
    if n == count { return }
    gLink(tail).pointee = 0
    gBatch(rest).pointee = batchWord(tail: tail, count: count - n)
    let sched = currentSchedOf(pp)
    sched.lock()
    sched.globrunqputbatch(head: rest, tail: tail, count: UInt64(count - n))
    sched.unlock()
}

/// Go: globrunqget, from an M that holds sched.lock: takes a share of the global queue, unlocks, and moves all
/// of it but the returned G into pp's ring. Returns with the lock released.
/// Between the unlock and the publish the taken Gs are in no queue another M can see, so an M that made its
/// last look then may have parked (Go's globrunqget fills the ring before unlocking and has no such window).
/// So if any P went idle since the take (sched.pidlePuts moved), wake an M as the Gs' producer would have.
/// Only then: Go does not wake an M for a batch it moves, and waking one for every batch made spinning Ms cost
/// skynet and yield-fanout CPU. Dekker-style: the parking M counts itself, fences and looks at every ring;
/// we publish, fence and read the count; one of the two sees the other.
@inline(__always)
func globrunqgetUnlock(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>, max: Int) -> GEntry {
    let (head, tail, count) = sched.globrunqtake(max: max)
    let parks = sched.pointee.pidlePuts
    sched.unlock()
    if count > 1 {
        runqputChain(pp, after: head, tail: tail, count: count - 1)
        gort_fence_seqcst()
        if gort_load_relaxed(sched.pointer(to: \.pidlePuts)!) != parks { wakep(sched) }
    }
    return head
}

/// Consecutive high-ring Gs a P runs before it gives one other G its turn (P.highStreak): "high runs before low"
/// for bursts of up to this many, and no starvation by a high-priority job that keeps yielding (Go has no
/// priorities; 61 is its fairness period for the global queue).
let highStreakCap: Int32 = 61

/// Go: runqget. Owner only. High ring (capped streak), then runnext (capped streak), then the ring: its newest G,
/// or on every 61st tick its oldest (RunQueue.swift says why); then past the caps.
@inline(__always)
func runqget(_ pp: UnsafeMutablePointer<P>, cap: Int) -> GEntry {
    let streak = pp.pointee.highStreak
    if streak < highStreakCap {
        let h = qpopOldest(pp.pointer(to: \.high)!)
        if h != 0 {
            // The streak counts high Gs run while other work waits; with none waiting it starts over.
            let waiting = gort_load_relaxed(pp.pointer(to: \.runnext)!) != 0 || !qempty(pp.pointer(to: \.runq)!)
            pp.pointee.highStreak = waiting ? streak &+ 1 : 0
            return h
        }
    }
    // The high ring ran dry or had its turns: the streak is over, whatever comes next.
    if streak != 0 { pp.pointee.highStreak = 0 }
    let next = gort_load_relaxed(pp.pointer(to: \.runnext)!)
    if next != 0 && pp.pointee.runnextStreak < cap {
        var expected = next
        // acquire: pairs with the producer's exchange; a thief may have taken it (CAS fails).
        if gort_cas_acquire(pp.pointer(to: \.runnext)!, &expected, 0) {
            pp.pointee.runnextStreak = pp.pointee.runnextStreak + 1
            return GEntry(next)
        }
    }
    pp.pointee.runnextStreak = 0
    let g = pp.pointee.schedtick % 61 == 0 ? qpopOldest(pp.pointer(to: \.runq)!) : qpopNewest(pp.pointer(to: \.runq)!)
    if g != 0 { return g }
    return runqgetPastCaps(pp)
}

/// runqget's last resort, with the ring empty: runnext even past its cap, then the high ring past its cap (nothing
/// else waits; runqget has already restarted the streak).
@inline(never)
func runqgetPastCaps(_ pp: UnsafeMutablePointer<P>) -> GEntry {
    let n2 = gort_load_relaxed(pp.pointer(to: \.runnext)!)
    if n2 != 0 {
        var expected = n2
        if gort_cas_acquire(pp.pointer(to: \.runnext)!, &expected, 0) { return GEntry(n2) }
    }
    return qpopOldest(pp.pointer(to: \.high)!)
}

/// Go: ready / newproc's runqput + wakep: makes g runnable on sched. From one of sched's Ms holding a P: that P's
/// runnext (high priority: its high ring), then wakep. From any other thread: the global queue under the lock
/// (high priority: the global high-priority queue, which every P looks at before its own work).
/// Not inlined into its callers: the protocol witness thunk (`Scheduler.enqueue`) and the runtime hook did not
/// get CGoRuntime's always_inline atomics inlined when it was (11 calls per enqueue).
///
/// A storm of task-group children (not in Go): once one job has made more than a ring's worth of Gs runnable
/// on its P, further task-group children go to the global queue's tail, in batches of up to `maxBatch` (one
/// lock each; the last, short one when the job returns, enters `blocking {}`, or stays in its job past sysmon's
/// limit: `flushStorm`), preceded by the job's earlier Gs still on the P (`stormPut`), so they run oldest-first
/// on every M, as a FIFO executor runs them. Left to the spawner's ring, its newest children run (stolen, or by a compensating
/// M) while older ones wait in the global queue, and Swift 6.3's task groups make that costly: a child that
/// finishes is unlinked by a walk of the group's child list from the oldest child, a cache miss per older
/// sibling still alive (docs/sched-benchmarks.md, session 12: 1,000,000 children of a discarding group took
/// 6.6 s against the default executor's 0.9 s). Only group children: other storms (spawn-join's unstructured
/// tasks) keep the newest-first order, which finds their memory in cache; jobs that spawn a few children each
/// (skynet's nodes) never reach the count. High-priority children count too (their ring would overflow to the
/// global queue anyway).
@inline(never)
func put(_ sched: UnsafeMutablePointer<SchedState>, _ g: GEntry, high: Bool) {
    if let mp = currentM(), mp.pointee.sched == sched, let pp = mp.pointee.p {
        if isYieldJob(g) { return putYield(sched, pp, g, high: high) }
        pp.pointee.jobPuts = pp.pointee.jobPuts &+ 1  // reset by execute after each job
        if pp.pointee.jobPuts > UInt64(runqSize) && isGroupChildTask(g) { return stormPut(sched, pp, g) }
        if high {
            if !qpush(pp.pointer(to: \.high)!, g) { putGlobalHigh(sched, g); return }
            wakep(sched)
        } else {
            runqput(pp, g, next: true)  // a seq_cst exchange on runnext
            wakepAfterSeqCst(sched)
        }
        return
    }
    if high { putGlobalHigh(sched, g) } else { putGlobal(sched, g) }
}

/// A high-priority G from outside sched's Ms (or past a full high ring): the global high-priority queue, then
/// wake an M. Every P takes from it before its own work (schedule, findRunnable).
@inline(never)
func putGlobalHigh(_ sched: UnsafeMutablePointer<SchedState>, _ g: GEntry) {
    if gort_load_acquire(sched.pointer(to: \.stopping)!) != 0 { return droppedAfterStop(sched) }
    sched.lock()
    sched.globhighput(g)
    sched.unlock()
    wakep(sched)
}

/// Whether pp should take a G from the global high-priority queue now: one waits, and pp has not taken
/// highStreakCap of them in a row (then one other G gets its turn, as for the high ring). Owner.
@inline(__always)
func globalHighDue(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>) -> Bool {
    gort_load_relaxed(sched.pointer(to: \.highqSize)!) != 0 && pp.pointee.globalHighStreak < UInt32(highStreakCap)
}

/// A `Task.yield`: Go's Gosched, the global queue's tail, behind the local work and everything already waiting
/// there. (Swift's yield enqueues a fresh continuation job, which resumes the task when it runs; the task then
/// follows it through runnext.) Through runnext, as any other G the job readies goes, it would run at once,
/// ahead of the Gs it yields to: a task that created another and yielded until it ran waited 32 yields (the
/// runnext streak cap of 64, two Gs per yield). Not the local ring's older end: the every-61st-tick pop of the
/// oldest G would then take the yielder just pushed there, and a G between yielders below and new Gs above
/// could wait forever. High priority: the high ring's tail, behind the other high Gs (it is FIFO). No wakep, as
/// in Go: a yield adds no work that an M did not know of (sysmon wakes an idle P for global work that waits
/// behind a long job: Sysmon.swift).
@inline(never)
func putYield(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>, _ g: GEntry, high: Bool) {
    gort_store_relaxed(pp.pointer(to: \.yields)!, pp.pointee.yields &+ 1)
    if high && qpush(pp.pointer(to: \.high)!, g) { return }
    putGlobal(sched, g, wake: false)
}

/// A spawn storm's G (see `put`): appended to the P's storm chain, which goes to the global queue when full.
/// The job's first storm G is preceded by the job's earlier Gs still on this P (the storm's first children,
/// which no thief has taken): the newest end of the ring, where the job pushed them, and runnext. They are older
/// than `g`, so they go to the global queue ahead of it; left in the ring they would wait until the global queue
/// ran dry, and every younger sibling that finished meanwhile would walk past them to unlink itself
/// (docs/sched-benchmarks.md, session 13). Only the job's own: older entries below them (a batch from the
/// global queue, pushed reversed) stay and run in their order after the job.
@inline(never)
func stormPut(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>, _ g: GEntry) {
    if pp.pointee.stormStarted == 0 {
        pp.pointee.stormStarted = 1
        // Of the job's jobPuts - 1 earlier puts, the last is in runnext (runqput kicks the one before it to the
        // ring's tail), the rest on the ring unless thieves took them (from its other end).
        let q = pp.pointer(to: \.runq)!
        let (first, n) = q.takeNewest(Int(pp.pointee.jobPuts) - 2)
        for i in 0..<n { stormAppend(sched, pp, q.slot(first &+ UInt64(i))) }
        // An exchange, as a thief or sysmon may CAS it out meanwhile (runqput's seq_cst helper; any ordering
        // would do, as the G is this job's own).
        let next = pp.pointee.jobPuts >= 2 ? exchangeSeqCst(pp.pointer(to: \.runnext)!, 0) : 0
        if next != 0 { stormAppend(sched, pp, GEntry(next)) }
    }
    stormAppend(sched, pp, g)
}

/// Appends g to the P's storm chain; a full chain (maxBatch) goes to the global queue. Owner only.
@inline(__always)
func stormAppend(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>, _ g: GEntry) {
    gLink(g).pointee = 0
    gBatch(g).pointee = 0  // no prefetch hint (RunQueue.pushChain reads it masked)
    let key = pp.pointer(to: \.stormLock)!
    lockKey(key)
    if pp.pointee.stormCount == 0 { pp.pointee.stormHead = g } else { gLink(pp.pointee.stormTail).pointee = g }
    pp.pointee.stormTail = g
    pp.pointee.stormCount = pp.pointee.stormCount + 1
    let full = pp.pointee.stormCount >= maxBatch
    unlockKey(key)
    if full { flushStorm(sched, pp) }
}

/// Moves the P's storm chain (if any) to the global queue's tail as one batch and wakes an M. The owner, when
/// the chain is full, when the job that made it returns, and when the job enters `blocking {}`; sysmon for a P
/// stuck in its job (Sysmon.swift). Returns whether it moved anything.
@discardableResult @inline(never)
func flushStorm(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>) -> Bool {
    let key = pp.pointer(to: \.stormLock)!
    lockKey(key)
    let head = pp.pointee.stormHead, tail = pp.pointee.stormTail, count = pp.pointee.stormCount
    pp.pointee.stormCount = 0
    pp.pointee.stormHead = 0
    pp.pointee.stormTail = 0
    unlockKey(key)
    if count == 0 { return false }
    gBatch(head).pointee = batchWord(tail: tail, count: count)
    sched.lock()
    sched.globrunqputbatch(head: head, tail: tail, count: UInt64(count))
    sched.pointee.stormPuts = sched.pointee.stormPuts &+ UInt64(count)
    sched.unlock()
    wakep(sched)
    return true
}

/// sysmon, for a P whose job has run past sysmon's limit: moves the P's storm chain to the global queue if the
/// job has added nothing to it since sysmon's previous look (it blocks, or works on something else, and its last
/// Gs would wait there until it returns). A chain that grows is the job's to flush, every maxBatch, in full
/// batches; sysmon looks every 20 us while it acts. Returns whether it moved anything.
func flushStaleStorm(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>) -> Bool {
    let key = pp.pointer(to: \.stormLock)!
    lockKey(key)
    let tail = UInt64(pp.pointee.stormTail)
    let stale = pp.pointee.stormCount != 0 && tail == pp.pointee.sysmonStormTail
    pp.pointee.sysmonStormTail = tail
    unlockKey(key)
    return stale && flushStorm(sched, pp)
}

/// From a thread that is not one of sched's Ms (or has no P): the global queue, then wake an M (`wake: false`: a
/// yield, putYield).
@inline(never)
func putGlobal(_ sched: UnsafeMutablePointer<SchedState>, _ g: GEntry, wake: Bool = true) {
    if gort_load_acquire(sched.pointer(to: \.stopping)!) != 0 { return droppedAfterStop(sched) }
    sched.lock()
    sched.globrunqput(g)
    sched.unlock()
    if wake { wakep(sched) }
}

/// A G made runnable on a stopping scheduler is dropped, as shutdown() drops the queued ones. Once shutdown has
/// finished, nothing of this scheduler will ever run it (its task waits forever): the first such G prints a
/// warning, since it means the program still uses a scheduler it shut down.
@inline(never)
func droppedAfterStop(_ sched: UnsafeMutablePointer<SchedState>) {
    if gort_load32_acquire(sched.pointer(to: \.stopped)!) == 0 { return }
    if gort_exchange32_acqrel(sched.pointer(to: \.droppedWarned)!, 1) != 0 { return }
    let msg: StaticString = "GoSched: warning: a job was enqueued on a Scheduler after shutdown(); it is dropped and its task will not resume\n"
    msg.withUTF8Buffer { b in _ = write(2, b.baseAddress, b.count) }
}

/// The scheduler a P belongs to: its owner M's (the caller is always that M).
@inline(__always)
func currentSchedOf(_ pp: UnsafeMutablePointer<P>) -> UnsafeMutablePointer<SchedState> {
    currentM()!.pointee.sched
}

@inline(__always)
func currentM() -> UnsafeMutablePointer<M>? {
    gort_tls_get_m()?.assumingMemoryBound(to: M.self)
}

@inline(__always)
func pHasWork(_ pp: UnsafeMutablePointer<P>) -> Bool {
    !qempty(pp.pointer(to: \.high)!) || !qempty(pp.pointer(to: \.runq)!) || gort_load_relaxed(pp.pointer(to: \.runnext)!) != 0
}

// MARK: - waking Ms

/// Go: wakep. Called after making a G runnable: if a P is idle and no M spins, start one spinning M.
@inline(__always)
func wakep(_ sched: UnsafeMutablePointer<SchedState>) {
    // seq_cst fence: our G publication must be ordered before reading nmspinning/npidle (see the protocol).
    gort_fence_seqcst()
    if gort_load_relaxed(sched.pointer(to: \.npidle)!) == 0 { return }
    if gort_load_relaxed(sched.pointer(to: \.nmspinning)!) != 0 { return }
    wakepSlow(sched)
}

/// wakep for a caller whose last publication was a seq_cst read-modify-write (runqput's exchange on
/// runnext): seq_cst loads instead of the fence. Go: ready's runqput CASes runnext and wakep loads, no fence.
/// Why this is enough (C++20 [atomics.order]): say the producer P does A (seq_cst exchange publishing the G),
/// then L (seq_cst load of npidle / nmspinning), and the consumer C does D (npidle++ or nmspinning--), a seq_cst
/// fence Y, then B (a load of runnext). If L missed D and B missed A, then L precedes Y in the total order S
/// (L is coherence-ordered before D, which happens before Y) and Y precedes A (B, after Y, is coherence-ordered
/// before A), so L < Y < A in S, but A is sequenced before L, so A < L: a contradiction. One of them sees the
/// other. On x86 this saves a locked instruction per enqueue (the exchange already is one).
@inline(__always)
func wakepAfterSeqCst(_ sched: UnsafeMutablePointer<SchedState>) {
    if loadSeqCst(sched.pointer(to: \.npidle)!) == 0 { return }
    if loadSeqCst(sched.pointer(to: \.nmspinning)!) != 0 { return }
    wakepSlow(sched)
}

/// Sequentially consistent exchange and load on a UInt64 field in raw memory. CGoRuntime has only a seq_cst
/// fence; these use the standard library's Atomic over the same address (same LLVM atomics, so they mix with
/// the gort_* operations on that word).
@inline(__always)
func exchangeSeqCst(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) -> UInt64 {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self).pointee
        .exchange(v, ordering: .sequentiallyConsistent)
}

@inline(__always)
func loadSeqCst(_ p: UnsafeMutablePointer<UInt64>) -> UInt64 {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self).pointee
        .load(ordering: .sequentiallyConsistent)
}

@inline(never)
func wakepSlow(_ sched: UnsafeMutablePointer<SchedState>) {
    var zero: UInt64 = 0
    // acq_rel: only one waker wins the right to start the spinning M.
    if !gort_cas_acqrel(sched.pointer(to: \.nmspinning)!, &zero, 1) { return }
    startm(sched, nil, spinning: true)
}

/// Go: startm. Runs an M with pp (or an idle P if nil). If spinning, the caller already counted it in
/// nmspinning; we undo that if there is no P.
func startm(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>?, spinning: Bool) {
    sched.lock()
    // Stopping (set before stopAndJoin reads allm under this lock): no new M, and no idle one (stopAndJoin
    // frees them). Whoever sees stopping == 0 here registers its M before stopAndJoin's next look.
    if gort_load_acquire(sched.pointer(to: \.stopping)!) != 0 {
        sched.unlock()
        if spinning { _ = gort_fetch_sub_acqrel(sched.pointer(to: \.nmspinning)!, 1) }
        return
    }
    var pp = pp
    if pp == nil {
        pp = sched.pidleget()
        if pp == nil {
            sched.unlock()
            if spinning { _ = gort_fetch_sub_acqrel(sched.pointer(to: \.nmspinning)!, 1) }
            return
        }
    }
    if let mp = sched.mget() {
        sched.unlock()
        mp.spinning = spinning
        mp.pointee.nextp = pp
        notewakeup(mp)
        return
    }
    let mp = newm(sched, pp!, spinning: spinning)  // still under lock: registers in allm
    sched.unlock()
    startThread(mp)
}

/// Go: notewakeup(&mp.park).
@inline(__always)
func notewakeup(_ mp: UnsafeMutablePointer<M>) {
    gort_store32_release(mp.pointer(to: \.park)!, 1)  // release: nextp/spinning written before are visible
    _ = gort_futex_wake(mp.pointer(to: \.park)!, 1)
}

/// Sleeps until notified or until `deadline` (nanotime; 0 = none). Returns true if notified. Does not reset.
func notesleep(_ mp: UnsafeMutablePointer<M>, deadline: UInt64) -> Bool {
    while gort_load32_acquire(mp.pointer(to: \.park)!) == 0 {
        if deadline == 0 {
            _ = gort_futex_wait(mp.pointer(to: \.park)!, 0, -1)
        } else {
            let now = nanotime()
            if now >= deadline { return gort_load32_acquire(mp.pointer(to: \.park)!) != 0 }
            _ = gort_futex_wait(mp.pointer(to: \.park)!, 0, Int64(deadline - now))
        }
    }
    return true
}

/// Go: newm/allocm. Caller holds sched.lock.
func newm(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>, spinning: Bool)
    -> UnsafeMutablePointer<M>
{
    let mp = UnsafeMutablePointer<M>.allocate(capacity: 1)
    mp.initialize(to: M(id: sched.pointee.mcount, sched: sched))
    sched.pointee.mcount = sched.pointee.mcount + 1
    mp.pointee.nextp = pp
    mp.spinning = spinning
    mp.pointee.allLink = sched.pointee.allm
    sched.pointee.allm = mp
    return mp
}

func startThread(_ mp: UnsafeMutablePointer<M>) {
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setstacksize(&attr, 8 << 20)
    var t = pthread_t()
    let rc = pthread_create(&t, &attr, { arg in
        mstart(arg!.assumingMemoryBound(to: M.self))
        return nil
    }, UnsafeMutableRawPointer(mp))
    pthread_attr_destroy(&attr)
    if rc != 0 { fatal("GoSched: pthread_create failed") }
    let sched = mp.pointee.sched
    sched.lock()
    mp.pointee.thread = t
    mp.pointee.threadKnown = true
    sched.unlock()
}

@inline(never)
func fatal(_ message: StaticString) -> Never {
    message.withUTF8Buffer { b in _ = write(2, b.baseAddress, b.count) }
    _ = write(2, "\n", 1)
    abort()
}

// MARK: - the M loop

/// Go: mstart -> schedule loop. Runs until the scheduler stops.
func mstart(_ mp: UnsafeMutablePointer<M>) {
    gort_tls_set_m(UnsafeMutableRawPointer(mp))
    var clock = clockid_t()
    if pthread_getcpuclockid(pthread_self(), &clock) == 0 {
        mp.pointee.cpuClock = UInt64(UInt32(bitPattern: clock)) | 1 << 32
    }
    let sched = mp.pointee.sched
    if let pp = mp.pointee.nextp {
        mp.pointee.nextp = nil
        acquirep(mp, pp)
    }
    let exec = sched.pointee.executor!
    let asGlobal = sched.pointee.runsAsGlobal
    let generic = genericSerialExecutor  // read once: a lazily initialized global costs a swift_once per access
    let cap = sched.pointee.runnextCap
    while true {
        let g = schedule(mp, cap: cap)
        if g == 0 { break }
        execute(mp, g, exec, asGlobal: asGlobal, generic: generic)
    }
    // Stopping: the thread's own cache comes back before the thread exits (its exit handler releases that one;
    // the P's cache is destroyed by stopAndJoin once every M is gone).
    unbindPCache(mp)
    gort_tls_set_m(nil)
}

/// Go: schedule's fast path. Returns the next G, or 0 when the scheduler stops.
@inline(__always)
func schedule(_ mp: UnsafeMutablePointer<M>, cap: Int) -> GEntry {
    let sched = mp.pointee.sched
    if let pp = mp.pointee.p, !pp.pointee.isSpare, gort_load_relaxed(pp.pointer(to: \.timer0When)!) == 0,
       !globalHighDue(sched, pp) || !qempty(pp.pointer(to: \.high)!),   // the P's own high Gs are older
       pp.pointee.schedtick % 61 != 0 || gort_load_relaxed(sched.pointer(to: \.runqSize)!) == 0
    {
        let g = runqget(pp, cap: cap)
        if g != 0 {
            if pp.pointee.globalHighStreak != 0 { pp.pointee.globalHighStreak = 0 }
            if mp.spinning { resetspinning(mp) }
            return g
        }
    }
    let g = findRunnable(mp)
    if g != 0 && mp.spinning { resetspinning(mp) }
    return g
}

/// The generic executor (Swift's SerialExecutorRef::generic(): identity 0, no witness table), which has no public
/// spelling. Swift's own global executor runs every job with it (swift_job_run(job, generic)).
let genericSerialExecutor: UnownedSerialExecutor = {
    guard MemoryLayout<UnownedSerialExecutor>.size == 2 * MemoryLayout<UInt>.size else {
        fatal("GoSched: unexpected UnownedSerialExecutor layout")
    }
    return unsafeBitCast((UInt(0), UInt(0)), to: UnownedSerialExecutor.self)
}()

/// Runs one G on mp's P. The P's status and tick let sysmon see a job that blocks its thread.
///
/// How a Swift job runs. A scheduler used as a task executor (`withTaskExecutorPreference`, tests) runs jobs
/// "on" itself, so the runtime records it as the current task executor and keeps the jobs' tasks on it. The
/// installed global scheduler runs them as Swift's own global executor does: on the generic executor, with no
/// current task executor. The runtime treats "none" as "the default executor", which is this scheduler, and two
/// fast paths depend on it: swift_task_switch resumes inline without comparing executors, and a hop to an
/// actor takes over the thread (tryAssumeThreadForSwitch) instead of enqueueing, which it only does when no task
/// executor is current.
@inline(__always)
func execute(_ mp: UnsafeMutablePointer<M>, _ g: GEntry, _ exec: UnownedTaskExecutor, asGlobal: Bool,
             generic: UnownedSerialExecutor) {
    let pp = mp.pointee.p.unsafelyUnwrapped
    let tick = pp.pointee.schedtick &+ 1
    gort_store_relaxed(pp.pointer(to: \.schedtick)!, tick)  // relaxed: sysmon only compares successive values
    gort_store_release(pp.pointer(to: \.status)!, PStatus.inJob)
    gort_store_relaxed(pp.pointer(to: \.jobsRun)!, gort_load_relaxed(pp.pointer(to: \.jobsRun)!) &+ 1)
    let tracing = mp.pointee.tracing
    let t0: UInt64 = tracing ? nanotime() : 0
    if g & 1 == 0 {
        let job = unsafeBitCast(g, to: UnownedJob.self)
        if asGlobal { job.runSynchronously(on: generic) } else { job.runSynchronously(on: exec) }
    } else {
        let rg = UnsafeMutablePointer<RawG>(bitPattern: g & ~1).unsafelyUnwrapped
        rg.pointee.fn(UnsafeMutableRawPointer(rg))
    }
    if tracing { traceEvent(mp, TraceKind.job, start: t0, end: nanotime(), p: pp.pointee.id, g: UInt64(g)) }
    // Only a job that started a storm can leave a chain (stormStarted is the owner's; stormCount is under the
    // chain's lock).
    if pp.pointee.stormStarted != 0 {
        flushStorm(mp.pointee.sched, pp)
        pp.pointee.stormStarted = 0
    }
    pp.pointee.jobPuts = 0
    gort_store_release(pp.pointer(to: \.status)!, PStatus.running)
    if gort_load_relaxed(pp.pointer(to: \.compensated)!) != 0 { uncompensate(mp.pointee.sched, pp) }
}

/// Moves the due timers of every compensated P (Sysmon.swift) onto spare P `pp`'s queue. Its M only.
@inline(never)
func runBlockedPsTimers(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>) {
    var now: UInt64 = 0
    for i in 0..<sched.allpCount {
        let v = sched.pointee.allp[i].unsafelyUnwrapped
        if v == pp || gort_load_relaxed(v.pointer(to: \.compensated)!) == 0 { continue }
        let w = gort_load_relaxed(v.pointer(to: \.timer0When)!)
        if w == 0 { continue }
        if now == 0 { now = nanotime() }
        if w <= now { _ = runTimers(v, into: pp, now: now) }
    }
}

/// Go: resetspinning. The last spinner that found work wakes another to keep looking.
@inline(never)
func resetspinning(_ mp: UnsafeMutablePointer<M>) {
    mp.spinning = false
    let sched = mp.pointee.sched
    let before = gort_fetch_sub_acqrel(sched.pointer(to: \.nmspinning)!, 1)
    if before == 1 { wakep(sched) }
}

/// Go: findRunnable. Blocks until a G is found (returns it) or the scheduler stops (returns 0).
@inline(never)
func findRunnable(_ mp: UnsafeMutablePointer<M>) -> GEntry {
    let sched = mp.pointee.sched
    let cap = sched.pointee.runnextCap
    top: while true {
        if gort_load_acquire(sched.pointer(to: \.stopping)!) != 0 { return 0 }
        guard let pp = mp.pointee.p else { fatal("GoSched: findRunnable without a P") }
        // A spare P goes back as soon as the blocked P it stands in for is running again (Sysmon.swift).
        if pp.pointee.isSpare && shouldReturnSpare(sched) {
            returnSpare(mp, pp)
            continue top
        }
        // Timers due on this P become runnable here.
        if gort_load_relaxed(pp.pointer(to: \.timer0When)!) != 0 { _ = runTimers(pp, into: pp, now: nanotime()) }
        // A spare stands in for blocked Ps, whose Ms are in a job: their due timers are its to run, before its
        // own queue, which may never run dry (a task yielding in a loop), so stealWork would never get to them.
        if pp.pointee.isSpare { runBlockedPsTimers(sched, pp) }
        // Fairness: every 61 ticks, the global queue first (Go: schedtick%61), high-priority Gs or not.
        if pp.pointee.schedtick % 61 == 0 && gort_load_relaxed(sched.pointer(to: \.runqSize)!) != 0 {
            sched.lock()
            let g = globrunqgetUnlock(sched, pp, max: 1)
            if g != 0 { pp.pointee.globalHighStreak = 0; return g }
        }
        // High-priority Gs from outside the Ms, after the P's own high ring (older: its overflow goes there),
        // before everything else, up to the streak cap.
        if globalHighDue(sched, pp) && qempty(pp.pointer(to: \.high)!) {
            sched.lock()
            let g = sched.globhightake()
            sched.unlock()
            if g != 0 {
                // The streak counts only while other work waits (as the high ring's does).
                let waiting = pHasWork(pp) || gort_load_relaxed(sched.pointer(to: \.runqSize)!) != 0
                pp.pointee.globalHighStreak = waiting ? pp.pointee.globalHighStreak &+ 1 : 0
                return g
            }
        }
        // Any other G ends a streak of global high-priority Gs (the returns below).
        if pp.pointee.globalHighStreak != 0 { pp.pointee.globalHighStreak = 0 }
        var g = runqget(pp, cap: cap)
        if g != 0 { return g }
        if gort_load_relaxed(sched.pointer(to: \.runqSize)!) != 0 {
            sched.lock()
            g = globrunqgetUnlock(sched, pp, max: 0)
            if g != 0 { return g }
        }
        // Steal. Limit spinners to half the busy Ps (Go: 2*nmspinning < gomaxprocs-npidle).
        let busy = UInt64(sched.pointee.gomaxprocs) &- gort_load_relaxed(sched.pointer(to: \.npidle)!)
        if mp.spinning || 2 &* gort_load_relaxed(sched.pointer(to: \.nmspinning)!) < busy {
            if !mp.spinning {
                mp.spinning = true
                _ = gort_fetch_add_acqrel(sched.pointer(to: \.nmspinning)!, 1)
            }
            g = stealWork(mp, pp)
            if g != 0 { return g }
            // Keep looking before parking. A producer readying Gs one at a time (channel ping-pong at
            // GOMAXPROCS > 1) calls wakep for each; while we spin it sees nmspinning != 0 (and npidle == 0)
            // and skips the futex wake, instead of paying a syscall (and us a park) per G.
            //   - While another running P holds a G in runnext (a hand-off is in progress: its M runs that G
            //     next), keep watching, but asleep: naps of handoffNapMicros (Go: usleep(3) in runqgrab before it
            //     steals a running P's runnext; we never steal it, see runqsteal), so a pair handing off for a
            //     second costs this M a few % of a CPU, not the whole CPU that pausing in a loop cost (and no
            //     wake-up syscall per hand-off). Not Go's 3us: with the timer slack that was a ~55us nap, and
            //     ~17k wake-ups a second of this M slowed the handing-off M by about 15% (ping-pong took
            //     0.78 s at GOMAXPROCS=2 against 0.58 s at 1; with 100us naps 0.61 s).
            //     The runnext slot is empty for part of each hand-off (between the owner taking the G and the
            //     G readying the next one), so a nap that finds it empty keeps watching for handoffLingerNS
            //     after the last hand-off it saw; parking at the first empty look cost a futex wake-up (on the
            //     producer's thread) every ~100us in ping-pong.
            //   - Otherwise pause-spin, then give up: an idle scheduler parks every M. While another P runs a job,
            //     for spinWindowNS: that job is likely to make work (a fan-out, a spawn loop), and a spinning M
            //     spares its producer a futex wake per G. With every other P idle, work can only come from
            //     outside (a thread resuming a continuation, a timer), at its own pace: then for the M's own
            //     window, which doubles (up to spinWindowNS) each time such a spin finds work and halves (down
            //     to spinWindowMinNS) each time one does not; every 16th such spin is a full window, so a
            //     window that shrank below the gap between arrivals finds out when they come faster again.
            //     A full window per round trip with an event-loop thread cost 10-20x the default executor's
            //     CPU for no gain in latency (a helper's probe).
            let othersBusy = UInt64(sched.pointee.gomaxprocs) &- gort_load_relaxed(sched.pointer(to: \.npidle)!) > 1
            if !othersBusy { mp.pointee.spinProbe = mp.pointee.spinProbe &+ 1 }  // no inout: see Sched.swift
            let probe = !othersBusy && mp.pointee.spinProbe % 16 == 0
            let window = othersBusy || probe ? spinWindowNS : mp.pointee.spinWindow
            let until = nanotime() &+ window
            var lastHandoff: UInt64 = 0
            var found = false
            while gort_load_acquire(sched.pointer(to: \.stopping)!) == 0 {
                let now = nanotime()
                if stealableWork(sched, pp, now: now) { found = true; break }
                let w = gort_load_relaxed(pp.pointer(to: \.timer0When)!)  // our own timers (top runs them)
                if w != 0 && w <= now { found = true; break }
                if !pp.pointee.isSpare {
                    if handoffPending(sched, pp) { lastHandoff = now }
                    if lastHandoff != 0 && now &- lastHandoff < handoffLingerNS {
                        usleep(handoffNapMicros)
                        continue
                    }
                }
                if now >= until { break }
                for _ in 0..<64 { gort_cpu_relax() }
            }
            if !othersBusy && (found || !probe) {
                mp.pointee.spinWindow = found ? min(spinWindowNS, window &* 2) : max(spinWindowMinNS, window / 2)
            }
            if found { continue top }
        }
        // Nothing: give the P back (Go: releasep + pidleput), under the lock after a last look at the global queues.
        sched.lock()
        let hg = sched.globhightake()
        if hg != 0 { sched.unlock(); return hg }
        if gort_load_relaxed(sched.pointer(to: \.runqSize)!) != 0 {
            return globrunqgetUnlock(sched, pp, max: 0)
        }
        releasep(mp)
        if gort_load_relaxed(pp.pointer(to: \.compensated)!) != 0 { uncompensate(sched, pp) }
        if pp.pointee.isSpare {
            returnSpareLocked(sched, pp)
        } else {
            sched.pidleput(pp)
        }
        sched.unlock()
        let wasSpinning = mp.spinning
        if wasSpinning {
            mp.spinning = false
            _ = gort_fetch_sub_acqrel(sched.pointer(to: \.nmspinning)!, 1)
        }
        // seq_cst fence: pairs with wakep's. Look again at every queue now that we are not counted as spinning.
        gort_fence_seqcst()
        if anyWork(sched) {
            sched.lock()
            let p2 = sched.pidleget()
            sched.unlock()
            if let p2 {
                acquirep(mp, p2)
                // Spin again so that finding the work wakes the next M (resetspinning).
                mp.spinning = true
                _ = gort_fetch_add_acqrel(sched.pointer(to: \.nmspinning)!, 1)
                continue top
            }
        }
        // Park. If timers are pending anywhere, sleep no longer than the earliest.
        stopm(mp, deadline: earliestTimer(sched))
        if gort_load_acquire(sched.pointer(to: \.stopping)!) != 0 { return 0 }
    }
}

/// Go: acquirep. mp takes pp (already removed from the idle list or handed over), with its MCache.
@inline(__always)
func acquirep(_ mp: UnsafeMutablePointer<M>, _ pp: UnsafeMutablePointer<P>) {
    mp.pointee.p = pp
    gort_store_relaxed(mp.pointer(to: \.pidPlus1)!, UInt64(pp.pointee.id) &+ 1)
    gort_store_relaxed(pp.pointer(to: \.ownerClock)!, mp.pointee.cpuClock)
    bindPCache(mp, pp)
    gort_store_release(pp.pointer(to: \.status)!, PStatus.running)
}

/// Go: releasep. mp lets go of its P; the caller then publishes the P (idle or spare list) under sched.lock.
/// The cache is unbound first: once published, another M may bind it.
@inline(__always)
func releasep(_ mp: UnsafeMutablePointer<M>) {
    unbindPCache(mp)
    mp.pointee.p = nil
    gort_store_relaxed(mp.pointer(to: \.pidPlus1)!, 0)
}

/// Any runnable G in any queue, or a timer already due?
func anyWork(_ sched: UnsafeMutablePointer<SchedState>) -> Bool {
    if sched.globalQueued != 0 { return true }
    let n = sched.allpCount
    let now = nanotime()
    for i in 0..<n {
        let p = sched.pointee.allp[i].unsafelyUnwrapped
        if pHasWork(p) { return true }
        let w = gort_load_acquire(p.pointer(to: \.timer0When)!)
        if w != 0 && w <= now { return true }
    }
    return false
}

/// Go: stopm. Parks mp on the idle list until startm hands it a P (or the deadline passes and it finds an
/// idle P to run the due timers with). Returns with mp.p set, or when stopping.
func stopm(_ mp: UnsafeMutablePointer<M>, deadline: UInt64) {
    let sched = mp.pointee.sched
    var deadline = deadline
    sched.lock()
    sched.mput(mp)
    sched.unlock()
    let parkStart: UInt64 = mp.pointee.tracing ? nanotime() : 0
    defer { if mp.pointee.tracing { traceEvent(mp, TraceKind.park, start: parkStart, end: nanotime(), p: -1, g: 0) } }
    while true {
        if notesleep(mp, deadline: deadline) { break }
        // Timed out: take ourselves off the idle list unless a waker already did.
        sched.lock()
        if gort_load32_acquire(mp.pointer(to: \.park)!) != 0 { sched.unlock(); break }
        if !sched.mremove(mp) {
            // A waker took us off midle (startm's mget) and is about to write nextp and spinning and notify us,
            // after dropping the lock. Wait for that notification: taking a P here as well left the waker's
            // writes racing with this M's run (Thread Sanitizer caught the write to spinning), its P handed to
            // a running M, and nmspinning counting a spinner that might never spin, so wakep woke nobody.
            sched.unlock()
            deadline = 0
            continue
        }
        if let pp = sched.pidleget() {
            sched.unlock()
            acquirep(mp, pp)
            return
        }
        sched.mput(mp)
        sched.unlock()
        deadline = 0  // every P is busy: their Ms run the timers
    }
    gort_store32_release(mp.pointer(to: \.park)!, 0)
    if gort_load_acquire(sched.pointer(to: \.stopping)!) != 0 && mp.pointee.nextp == nil { return }
    if let pp = mp.pointee.nextp {
        mp.pointee.nextp = nil
        acquirep(mp, pp)
    }
}

// MARK: - stealing

/// Go: stealWork. Four passes over all Ps in a random order; runs due timers of victims; steals half a ring
/// (high ring first), and on the last pass also a victim's runnext.
@inline(never)
func stealWork(_ mp: UnsafeMutablePointer<M>, _ pp: UnsafeMutablePointer<P>) -> GEntry {
    let sched = mp.pointee.sched
    let n = sched.allpCount
    if n <= 1 { return 0 }
    var now: UInt64 = 0  // read only if some victim has timers
    for pass in 0..<4 {
        let stealRunNext = pass == 3
        let r = fastrand(mp)
        // Random order: start anywhere, step by a number coprime with n (Go: randomOrder).
        let start = Int(r % UInt64(n))
        let step = coprimeStep(sched, n: n, r: r >> 32)
        var pos = start
        for _ in 0..<n {
            let victim = sched.pointee.allp[pos].unsafelyUnwrapped
            pos = (pos + step) % n
            if victim == pp { continue }
            if gort_load_relaxed(victim.pointer(to: \.timer0When)!) != 0 {
                if now == 0 { now = nanotime() }
                if runTimers(victim, into: pp, now: now) {
                    let g = runqget(pp, cap: sched.pointee.runnextCap)
                    if g != 0 { return g }
                }
            }
            let g = runqsteal(pp, victim, stealRunNext: stealRunNext)
            if g != 0 {
                gort_store_relaxed(pp.pointer(to: \.stolen)!, gort_load_relaxed(pp.pointer(to: \.stolen)!) &+ 1)
                if mp.pointee.tracing {
                    let t = nanotime()
                    traceEvent(mp, TraceKind.steal, start: t, end: t, p: pp.pointee.id, g: UInt64(victim.pointee.id))
                }
                return g
            }
        }
    }
    return 0
}

@inline(__always)
func coprimeStep(_ sched: UnsafeMutablePointer<SchedState>, n: Int, r: UInt64) -> Int {
    if n == sched.pointee.gomaxprocs {
        return sched.pointee.coprimes[Int(r % UInt64(sched.pointee.ncoprimes))]
    }
    return 1  // spares in use: a plain walk (rare)
}

/// Go: runqsteal. Moves half of victim's ring into pp's ring and returns one G.
func runqsteal(_ pp: UnsafeMutablePointer<P>, _ victim: UnsafeMutablePointer<P>, stealRunNext: Bool) -> GEntry {
    for q in 0..<2 {
        let src: UnsafeMutablePointer<RunQueue>
        let dst: UnsafeMutablePointer<RunQueue>
        if q == 0 {
            src = UnsafeMutableRawPointer(victim).advanced(by: pHighOffset).assumingMemoryBound(to: RunQueue.self)
            dst = UnsafeMutableRawPointer(pp).advanced(by: pHighOffset).assumingMemoryBound(to: RunQueue.self)
        } else {
            src = UnsafeMutableRawPointer(victim).advanced(by: pRunqOffset).assumingMemoryBound(to: RunQueue.self)
            dst = UnsafeMutableRawPointer(pp).advanced(by: pRunqOffset).assumingMemoryBound(to: RunQueue.self)
        }
        var n = qgrab(src, into: dst)
        if n == 0 { continue }
        n -= 1
        let t = dst.tailIndex
        let g = GEntry(gort_load_relaxed(dst.pointee.ring + Int((t &+ n) % runqSize)))
        if n != 0 { dst.publish(n) }
        return g
    }
    // runnext of a P whose M is running (in a job or between jobs) is left alone: that M takes it next, and
    // taking it away makes a ping-pong pair bounce between threads (Go sleeps 3us first, then steals). Once
    // sysmon has marked the P blocked (compensated), or the P is in `blocking {}`, its runnext is fair game.
    if stealRunNext && runnextStealable(victim) {
        let next = gort_load_relaxed(victim.pointer(to: \.runnext)!)
        if next != 0 {
            var expected = next
            if gort_cas_acqrel(victim.pointer(to: \.runnext)!, &expected, 0) { return GEntry(next) }
        }
    }
    return 0
}

/// May a thief take victim's runnext? Only when victim's M is blocked (see runqsteal). (A long computing job's
/// runnext that stays put is moved to the global queue by sysmon: Sysmon.swift, movePinnedRunnext.)
@inline(__always)
func runnextStealable(_ victim: UnsafeMutablePointer<P>) -> Bool {
    let st = gort_load_acquire(victim.pointer(to: \.status)!)
    if st == PStatus.running || st == PStatus.inJob {
        return gort_load_relaxed(victim.pointer(to: \.compensated)!) != 0
    }
    return true
}

/// Anything a spinning M on pp could take now: the global queue, another P's rings or its due timers. Loads only
/// (no CAS): the spin loop's cheap test before a real steal. It reads neither runnext nor status, which the
/// victim's owner writes at every hand-off and job (see P's layout); runnext is looked at by stealWork, and a P
/// stuck in a job is sysmon's business.
@inline(__always)
func stealableWork(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>, now: UInt64) -> Bool {
    if sched.globalQueued != 0 { return true }
    for i in 0..<sched.allpCount {
        let v = sched.pointee.allp[i].unsafelyUnwrapped
        if v == pp { continue }
        if !qempty(v.pointer(to: \.high)!) || !qempty(v.pointer(to: \.runq)!) { return true }
        // Only timers already due: a pending Task.sleep elsewhere is no reason to keep spinning.
        let w = gort_load_relaxed(v.pointer(to: \.timer0When)!)
        if w != 0 && w <= now { return true }
    }
    return false
}

/// Does another P that its M is running (not blocked: sysmon has not compensated it) hold a G in runnext?
/// That M takes the G next, so it is not work for a thief, but it means Gs are being handed off right now and
/// more will come (see findRunnable). Reads the victims' runnext and status lines, which their owners write at
/// every hand-off and job: call it between naps, not in a tight loop (see P's layout).
func handoffPending(_ sched: UnsafeMutablePointer<SchedState>, _ pp: UnsafeMutablePointer<P>) -> Bool {
    for i in 0..<sched.allpCount {
        let v = sched.pointee.allp[i].unsafelyUnwrapped
        if v == pp { continue }
        if gort_load_relaxed(v.pointer(to: \.runnext)!) != 0 && !runnextStealable(v) { return true }
    }
    return false
}

/// How long a spinning M sleeps between looks while a hand-off is in progress (see findRunnable). Ring work that
/// appears meanwhile waits at most this (plus the timer slack) for this M to notice it.
let handoffNapMicros: UInt32 = 100

/// How long a spinning M keeps napping after it last saw a hand-off in progress (see findRunnable).
let handoffLingerNS: UInt64 = 1_000_000

/// How long a spinning M keeps looking before it gives its P back and parks, at most and at least (M.spinWindow
/// adapts between them; see findRunnable).
let spinWindowNS: UInt64 = 20_000
let spinWindowMinNS: UInt64 = 1_000

let pHighOffset = MemoryLayout<P>.offset(of: \P.high)!
let pRunqOffset = MemoryLayout<P>.offset(of: \P.runq)!
