@_spi(ExperimentalCustomExecutors) @_spi(ExperimentalScheduling) import _Concurrency
import CGoRuntime
import Glibc

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
    private var stopped = false

    /// - Parameters:
    ///   - procs: GOMAXPROCS; default from the environment / usable CPUs (`Procs.gomaxprocs()`).
    ///   - schedtrace: print Go's SCHED line every N ms; default from GODEBUG=schedtrace=N.
    ///   - runnextStreak: how many Gs in a row may come from runnext before the ring gets a turn.
    public init(procs: Int? = nil, schedtrace: Int? = nil, runnextStreak: Int = 64) {
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
        s.initialize(to: SchedState(gomaxprocs: n, allp: allp, capacity: cap, coprimes: coprimes,
                                    ncoprimes: cps.count))
        s.pointee.runnextCap = max(1, runnextStreak)
        s.pointee.startTime = nanotime()
        for i in 0..<n { allp[i] = allocP(id: i, isSpare: false) }
        gort_store_release(&s.pointee.nallp, UInt64(n))
        s.lock()
        for i in (0..<n).reversed() { s.pidleput(allp[i]!) }
        s.unlock()
        s.pointee.executor = self.asUnownedTaskExecutor()
        let trace = schedtrace ?? GoDebug(Procs.currentEnvironment()["GODEBUG"]).schedtrace
        let ctx = UnsafeMutablePointer<(UnsafeMutablePointer<SchedState>, Int)>.allocate(capacity: 1)
        ctx.initialize(to: (s, trace))
        pthread_create(&sysmonThread, nil, { arg in
            let c = arg!.assumingMemoryBound(to: (UnsafeMutablePointer<SchedState>, Int).self)
            let (sched, trace) = c.pointee
            c.deallocate()
            sysmon(sched, traceEveryMS: trace)
            return nil
        }, ctx)
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    // MARK: enqueue (the hot path)

    /// Go: ready / newproc's runqput + wakep. Called by Swift for every job bound to this executor.
    @inline(__always)
    public func enqueue(_ job: consuming ExecutorJob) {
        let high = job.priority.rawValue > TaskPriority.medium.rawValue
        put(gEntry(job: UnownedJob(job)), high: high)
    }

    @inline(__always)
    func put(_ g: GEntry, high: Bool) {
        let sched = s
        if let mp = currentM(), mp.pointee.sched == sched, let pp = mp.pointee.p {
            if high {
                if !qpush(&pp.pointee.high, g) { putGlobal(g); return }
            } else {
                runqput(pp, g, next: true)
            }
            wakep(sched)
            return
        }
        putGlobal(g)
    }

    /// From a thread that is not one of our Ms (or has no P): the global queue, then wake an M.
    @inline(never)
    func putGlobal(_ g: GEntry) {
        s.lock()
        s.globrunqput(g)
        s.unlock()
        wakep(s)
    }

    /// Runs a RawG on this scheduler. The RawG's memory must stay valid until its fn has been called.
    public func spawn(_ g: UnsafeMutablePointer<RawG>) {
        put(gEntry(raw: g), high: false)
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

    /// Stops every M and sysmon after their current job, and joins them. Gs still queued are dropped. For tests
    /// and tools; the process-wide scheduler lives until exit.
    public func shutdown() {
        if stopped { return }
        stopped = true
        gort_store_release(&s.pointee.stopping, 1)
        pthread_join(sysmonThread, nil)
        var all: [UnsafeMutablePointer<M>] = []
        while true {
            s.lock()
            var m = s.pointee.allm
            all.removeAll()
            while let mp = m { all.append(mp); m = mp.pointee.allLink }
            s.unlock()
            for mp in all { notewakeup(mp) }
            for mp in all where mp.pointee.thread != pthread_t() { pthread_join(mp.pointee.thread, nil) }
            s.lock()
            let count = s.pointee.mcount
            s.unlock()
            if count == all.count { break }  // no M was created while we joined
            for mp in all { mp.pointee.thread = pthread_t() }
        }
        for mp in all { mp.deinitialize(count: 1); mp.deallocate() }
    }

    deinit { shutdown() }
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

    /// Clock durations as nanoseconds (negative: 0). Clocks measured in Swift.Duration (continuous,
    /// suspending and most custom clocks) are supported; any other Duration type is a fatal error.
    static func nanoseconds<D: DurationProtocol>(_ d: D) -> UInt64 {
        guard D.self == Swift.Duration.self else {
            fatal("GoSched: Task.sleep on a clock whose Duration is not Swift.Duration is not supported")
        }
        let c = unsafeBitCast(d, to: Swift.Duration.self).components
        if c.seconds < 0 { return 0 }
        return UInt64(c.seconds) &* 1_000_000_000 &+ UInt64(c.attoseconds / 1_000_000_000)
    }

}
