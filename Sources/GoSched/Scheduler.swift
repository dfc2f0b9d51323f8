@_spi(ExperimentalCustomExecutors) @_spi(ExperimentalScheduling) import _Concurrency
import CGoRuntime
import Glibc
import Synchronization

/// One G-P-M scheduler instance: GOMAXPROCS Ps, the Ms that run them, a sysmon thread. It is a Swift
/// `TaskExecutor` (use it with `withTaskExecutorPreference` / `Task(executorPreference:)`) and a
/// `SchedulingExecutor` (so `Task.sleep` works when it is the global executor). Tests create their own; the
/// process-wide one is `GoSched.shared` (see GoSched.install()).
/// Go: the runtime's `sched` plus `allp`.
public final class Scheduler: TaskExecutor, @unchecked Sendable {
    let s: UnsafeMutablePointer<SchedState>
    /// GOMAXPROCS of this instance.
    public let gomaxprocs: Int
    private var sysmonThread = pthread_t()

    /// - Parameters:
    ///   - procs: GOMAXPROCS; default from the environment / usable CPUs (`Procs.gomaxprocs()`).
    ///   - schedtrace: print Go's SCHED line every N ms; default from GODEBUG=schedtrace=N.
    ///   - runnextStreak: how many Gs in a row may come from runnext before the ring gets a turn.
    ///   - trace: record what each M runs, for `traceJSON()` / `writeTrace(to:)` (Trace.swift).
    ///   - checkInvariants: check the scheduler's invariants on its slow paths (Invariants.swift); default from
    ///     GODEBUG=schedchecks=1.
    public init(procs: Int? = nil, schedtrace: Int? = nil, runnextStreak: Int = 64, trace: Bool = false,
                checkInvariants: Bool? = nil) {
        let n = max(1, min(procs ?? Procs.gomaxprocs(), Procs.maxProcs))
        gomaxprocs = n
        let cap = Procs.maxProcs + n  // room for spares
        let allp = UnsafeMutablePointer<UnsafeMutablePointer<P>?>.allocate(capacity: cap)
        allp.initialize(repeating: nil, count: cap)
        var cps: [Int] = []
        for i in 1...n where Scheduler.gcd(i, n) == 1 { cps.append(i) }
        let coprimes = UnsafeMutablePointer<Int>.allocate(capacity: cps.count)
        coprimes.initialize(from: cps, count: cps.count)
        s = .allocate(capacity: 1)
        liveSchedStates.add(1, ordering: .relaxed)
        s.initialize(to: SchedState(gomaxprocs: n, allp: allp, capacity: cap, coprimes: coprimes,
                                    ncoprimes: cps.count))
        s.pointee.runnextCap = max(1, runnextStreak)
        let debug = GoDebug(Procs.currentEnvironment()["GODEBUG"])
        s.pointee.checkInvariants = checkInvariants ?? (debug.schedchecks != 0)
        s.pointee.tracing = trace
        s.pointee.startTime = nanotime()
        for i in 0..<n { allp[i] = allocP(id: i, isSpare: false) }
        gort_store_release(s.pointer(to: \.nallp)!, UInt64(n))
        s.lock()
        for i in (0..<n).reversed() { s.pidleput(allp[i]!) }
        s.unlock()
        s.pointee.executor = self.asUnownedTaskExecutor()
        let trace = schedtrace ?? debug.schedtrace
        let ctx = UnsafeMutablePointer<(UnsafeMutablePointer<SchedState>, Int, Bool)>.allocate(capacity: 1)
        ctx.initialize(to: (s, trace, debug.scheddetail == 1))
        pthread_create(&sysmonThread, nil, { arg in
            let c = arg!.assumingMemoryBound(to: (UnsafeMutablePointer<SchedState>, Int, Bool).self)
            let (sched, trace, detailed) = c.pointee
            c.deallocate()
            sysmon(sched, traceEveryMS: trace, detailed: detailed)
            return nil
        }, ctx)
    }

    /// Checks the scheduler's invariants (Invariants.swift) under its lock; a violation is fatal, naming the
    /// rule. For tests; GODEBUG=schedchecks=1 runs the same checks on every slow path. Does nothing once
    /// shutdown() has begun (its Ms are being freed).
    public func checkInvariants() {
        if gort_load_acquire(s.pointer(to: \.stopping)!) != 0 { return }
        s.lock()
        s.checkInvariantsLocked()
        s.unlock()
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    // MARK: enqueue (the hot path)

    /// Go: ready / newproc's runqput + wakep. Called by Swift for every job bound to this executor (for the
    /// installed global scheduler, jobs come through `enqueueGlobalHook` instead: Install.swift).
    @inline(__always)
    public func enqueue(_ job: consuming ExecutorJob) {
        let g = gEntry(job: UnownedJob(job))
        put(s, g, high: jobPriority(g) > mediumPriority)
    }

    /// Runs a RawG on this scheduler. The RawG's memory must stay valid until its fn has been called.
    public func spawn(_ g: UnsafeMutablePointer<RawG>) {
        put(s, gEntry(raw: g), high: false)
    }

    /// Go: `go f()`. Runs body as a plain G (not a Swift task: it must not await).
    public func go(_ body: @escaping () -> Void) {
        let g = UnsafeMutablePointer<RawG>.allocate(capacity: 1)
        g.initialize(to: RawG(fn: { raw in
            let g = raw.assumingMemoryBound(to: RawG.self)
            let box = Unmanaged<ClosureBox>.fromOpaque(g.pointee.ctx!).takeRetainedValue()
            g.deallocate()
            box.body()
        }, ctx: Unmanaged.passRetained(ClosureBox(body)).toOpaque()))
        spawn(g)
    }

    // MARK: lifecycle

    /// Stops every M and sysmon after their current job, and joins them. Gs still queued are dropped, and so are
    /// jobs that arrive later (a task woken or created on this scheduler afterwards never runs; the first such job
    /// prints a warning). For tests and tools; the process-wide scheduler lives until exit. Called from one of
    /// this scheduler's own jobs (for example when the last reference to it goes away inside a task), it cannot
    /// join its own thread, so a helper thread does the joining once that job returns. `stats` and the trace stay
    /// readable until the Scheduler is released, which frees the rest of its memory.
    public func shutdown() {
        // acq_rel exchange: exactly one caller (explicit shutdown or deinit) stops the scheduler; Ms see it with
        // an acquire load.
        if gort_exchange_acqrel(s.pointer(to: \.stopping)!, 1) != 0 { return }
        let ctx = UnsafeMutablePointer<(UnsafeMutablePointer<SchedState>, pthread_t)>.allocate(capacity: 1)
        ctx.initialize(to: (s, sysmonThread))
        if let mp = currentM(), mp.pointee.sched == s {
            // The helper owns the state too until it has joined (a deinit may come first: releaseState).
            _ = gort_fetch_add_acqrel(s.pointer(to: \.stateRefs)!, 1)
            var helper = pthread_t()
            if pthread_create(&helper, nil, { arg in
                let c = arg!.assumingMemoryBound(to: (UnsafeMutablePointer<SchedState>, pthread_t).self)
                let (sched, sysmon) = c.pointee
                c.deallocate()
                stopAndJoin(sched, sysmon: sysmon)
                releaseState(sched)
                return nil
            }, ctx) != 0 { fatal("GoSched: pthread_create failed") }
            pthread_detach(helper)
            return
        }
        let (sched, sysmon) = ctx.pointee
        ctx.deallocate()
        stopAndJoin(sched, sysmon: sysmon)
    }

    deinit {
        shutdown()
        releaseState(s)
    }
}

final class ClosureBox {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

// The conformance is SPI because the protocol is (Swift 6.3: @_spi(ExperimentalScheduling)).
@_spi(ExperimentalScheduling)
extension Scheduler: SchedulingExecutor {
    // MARK: timers (SchedulingExecutor)

    @_spi(ExperimentalScheduling) public func enqueue<C: Clock>(_ job: consuming ExecutorJob, after delay: C.Duration, tolerance: C.Duration?,
                                  clock: C)
    {
        let ns = Scheduler.nanoseconds(delay)
        scheduleTimer(s, when: nanotime() &+ ns, g: gEntry(job: UnownedJob(job)))
    }

    @_spi(ExperimentalScheduling) public func enqueue<C: Clock>(_ job: consuming ExecutorJob, at instant: C.Instant, tolerance: C.Duration?,
                                  clock: C)
    {
        let ns = Scheduler.nanoseconds(clock.now.duration(to: instant))
        scheduleTimer(s, when: nanotime() &+ ns, g: gEntry(job: UnownedJob(job)))
    }

    /// The priority GoSched reads from a job's flags (`jobPriority`), for the test that checks it against
    /// ExecutorJob.priority.
    @_spi(Testing) public static func jobPriorityByte(_ job: UnownedJob) -> UInt8 { jobPriority(gEntry(job: job)) }
    /// The constant GoSched compares job priorities with (TaskPriority.medium's raw value), for the same test.
    @_spi(Testing) public static var mediumPriorityRaw: UInt8 { mediumPriority }

    /// Clock durations as nanoseconds (negative: 0). Clocks measured in Swift.Duration (continuous,
    /// suspending and most custom clocks) are supported; any other Duration type is a fatal error.
    @_spi(Testing) public static func nanoseconds<D: DurationProtocol>(_ d: D) -> UInt64 {
        guard D.self == Swift.Duration.self else {
            fatal("GoSched: Task.sleep on a clock whose Duration is not Swift.Duration is not supported")
        }
        // A deadline already past gives a negative duration, whose components may be (0, -attoseconds):
        // sum them signed before clamping at 0.
        let c = unsafeBitCast(d, to: Swift.Duration.self).components
        if c.seconds >= Int64.max / 1_000_000_000 { return UInt64(Int64.max) }
        let ns = c.seconds &* 1_000_000_000 &+ c.attoseconds / 1_000_000_000
        return ns <= 0 ? 0 : UInt64(ns)
    }

}

/// Drops one owner of a scheduler's state (see SchedState.stateRefs); the last one, once the Scheduler is
/// released and its threads joined, frees it: nothing can read it any more.
func releaseState(_ s: UnsafeMutablePointer<SchedState>) {
    if gort_fetch_sub_acqrel(s.pointer(to: \.stateRefs)!, 1) != 1 { return }
    freeSchedState(s)
}

/// Frees what stopAndJoin leaves: each P (its rings, sudog cache slots and timer heap), allp, the trace chunks
/// and the SchedState. Timers still pending and Gs still queued belong to tasks that will never run; their
/// jobs are not ours to free.
func freeSchedState(_ s: UnsafeMutablePointer<SchedState>) {
    for i in 0..<s.allpCount {
        let pp = s.pointee.allp[i].unsafelyUnwrapped
        pp.pointee.sudogCache.deallocate()
        pp.pointee.timers?.deallocate()
        UnsafeMutableRawPointer(pp.pointee.high.ring).deallocate()  // both rings: allocP's one block
        pp.deinitialize(count: 1)
        UnsafeMutableRawPointer(pp).deallocate()
    }
    s.pointee.allp.deallocate()
    s.pointee.coprimes.deallocate()
    var c = s.pointee.traceHead
    while let chunk = c {
        c = chunk.pointee.next
        UnsafeMutableRawPointer(chunk).deallocate()
    }
    s.deinitialize(count: 1)
    s.deallocate()
    liveSchedStates.subtract(1, ordering: .relaxed)
}

/// Scheduler states not yet freed, over the process (tests: a released Scheduler frees its memory).
let liveSchedStates = Atomic<Int>(0)

extension Scheduler {
    @_spi(Testing) public static var liveStateCount: Int { liveSchedStates.load(ordering: .relaxed) }
}

/// Joins sysmon and every M of a stopping scheduler (Ms created meanwhile included), then frees the Ms. Runs on
/// a thread that is none of them, then returns the Ps' MCaches to the heap. The SchedState and Ps stay
/// allocated (`Scheduler.stats` may still read them) until releaseState frees them.
func stopAndJoin(_ s: UnsafeMutablePointer<SchedState>, sysmon: pthread_t) {
    // sysmon may be in its deep sleep (every P idle): stopping is set, so once woken it exits.
    s.lock()
    s.wakeSysmonLocked()
    s.unlock()
    pthread_join(sysmon, nil)
    var joined: [UnsafeMutablePointer<M>] = []
    while true {
        s.lock()
        var all: [UnsafeMutablePointer<M>] = []
        var m = s.pointee.allm
        while let mp = m { all.append(mp); m = mp.pointee.allLink }
        let count = s.pointee.mcount
        s.unlock()
        for mp in all { notewakeup(mp) }
        for mp in all where !joined.contains(mp) {
            s.lock()
            let known = mp.pointee.threadKnown
            let t = mp.pointee.thread
            s.unlock()
            if !known { continue }  // its creator has not recorded the thread yet: next round
            pthread_join(t, nil)
            joined.append(mp)
        }
        if joined.count == count { break }
        usleep(100)
    }
    for mp in joined { mp.deinitialize(count: 1); mp.deallocate() }
    freeSudogCaches(s)
    destroyPCaches(s)
    gort_store32_release(s.pointer(to: \.stopped)!, 1)
}
