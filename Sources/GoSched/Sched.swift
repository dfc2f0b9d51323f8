import CGoRuntime
import Glibc

// The scheduler's state: P (processor), M (machine = OS thread) and the shared `sched` block, all plain structs
// in raw memory reached by pointer, so the run-queue paths touch no ARC and no existentials.
// See GoSched.swift for the design note.
//
// Shared fields are never passed inout (no `&pp.pointee.f`, no `pp.pointee.f += 1`): under Thread Sanitizer,
// Swift reports an inout access as a write of the whole enclosing struct at its base address, so every field
// of a P would look like one memory location to it. Atomics take the field's address with `pointer(to:)`
// (folded to a constant offset at -O), and updates are spelled as a load and a store.

/// P status values (P.status).
enum PStatus {
    /// On the idle list; no M. (Go: _Pidle)
    static let idle: UInt64 = 0
    /// Owned by an M that is scheduling (finding work). (Go: _Prunning)
    static let running: UInt64 = 1
    /// Owned by an M that is inside a job. sysmon watches how long it stays so.
    static let inJob: UInt64 = 2
    /// Owned by an M inside `blocking { }`. (Go: _Psyscall)
    static let syscall: UInt64 = 3
    /// A spare P not in use (see Sysmon.swift).
    static let spare: UInt64 = 4
}

/// One timer: a G that becomes runnable at `when` (nanotime()).
struct TimerEntry {
    var when: UInt64
    var g: GEntry
}

/// Go: runtime.p (runtime2.go). Allocated once per P (128-byte aligned), never freed while its scheduler lives.
///
/// Layout, one concern per cache line: spinning Ms poll other Ps' run queues (stealableWork) while the owner
/// runs jobs, so what the owner writes on every job (status, schedtick, counters) and on every hand-off
/// (runnext) must not share a line with what pollers read (the rings' head/tail, timer0When). Before this split,
/// channel ping-pong at GOMAXPROCS=2 took twice as long as at GOMAXPROCS=1: each poll by the idle spinning M
/// pulled the worker's hot line away from it.
struct P {
    // ---- Line 1: the owner's per-job writes. ----
    /// Index in allp. Immutable.
    let id: Int
    /// True for the Ps beyond GOMAXPROCS that sysmon lends while a P is blocked. Immutable.
    let isSpare: Bool
    /// PStatus. Written by the owner M (release store) or under sched.lock for idle<->owned transitions; read by
    /// sysmon and stats (acquire).
    var status: UInt64 = PStatus.idle
    /// Jobs started on this P. Owner writes (relaxed store), sysmon reads to see a P stuck in one job.
    var schedtick: UInt64 = 0
    /// Consecutive Gs taken from runnext; capped so two G's handing off to each other can't starve the queue
    /// (Go caps them with the time slice they inherit). Owner only.
    var runnextStreak: Int = 0
    // Statistics: owner writes with relaxed stores, readers load relaxed.
    var jobsRun: UInt64 = 0
    var stolen: UInt64 = 0
    /// Link in sched.pidle / spare list. Under sched.lock.
    var link: UnsafeMutablePointer<P>? = nil
    // (No padding: these fields fill the 64 bytes exactly. A pad word here pushed every later line 8 bytes past
    // its cache line, and the rings off the 16-byte alignment their CAS needs; the layout test checks offsets.)

    // ---- Line 2: runnext, written at every hand-off. ----
    /// Go: runnext. A G readied by the running job, run next (ping-pong locality). Owner exchanges; thieves CAS.
    var runnext: UInt64 = 0
    /// Gs the current job has made runnable on this P (zeroed by `execute` after each job). Owner only.
    var jobPuts: UInt64 = 0
    /// Past a ring's worth of puts, the chain of Gs waiting to go to the global queue as one batch (Schedule.swift,
    /// `put`, spawn storms). Under stormLock (a lockKey word): the owner appends and flushes; sysmon takes the
    /// chain of a P stuck in its job (Sysmon.swift, flushStorm), so a job that blocks hides no G.
    var stormHead: GEntry = 0
    var stormTail: GEntry = 0
    var stormCount: Int = 0
    var stormLock: UInt32 = 0
    /// 1 once the current job has sent a G to the storm chain (stormPut, whose first such G also takes the job's
    /// earlier Gs off the ring), so the job may leave a chain to flush; zeroed by `execute` after each job. Owner
    /// only.
    var stormStarted: UInt32 = 0
    /// `Task.yield`s put on the global queue from this P (putYield). Owner writes (relaxed store), stats read.
    var yields: UInt64 = 0
    /// Consecutive Gs taken from the high ring while other work waited: capped (`highStreakCap`) so a
    /// high-priority job that keeps re-enqueueing itself cannot starve the rest of the P. Owner only.
    var highStreak: Int32 = 0
    /// Gs taken in a row from the global high-priority queue (SchedState.highq), capped as highStreak is. Owner
    /// only. (Both 32 bits: together one word, so the rings' line keeps its place.)
    var globalHighStreak: UInt32 = 0

    // ---- Line 3: the rings, which pollers read. ----
    /// High-priority jobs (priority > .medium): run before runnext and runq. Same contract as runq.
    var high: RunQueue
    /// Go: runq. 256-slot local run queue.
    var runq: RunQueue

    // ---- Line 4: timers and rarely written state. ----
    /// Earliest `when` in the heap, 0 if empty. Written under timerLock (release); read racily (acquire).
    var timer0When: UInt64 = 0
    // Timers (Go: p.timers, p.timersLock, p.timer0When).
    /// Guards timers/timerCount/timerCap.
    var timerLock: UInt32 = 0
    var timers: UnsafeMutablePointer<TimerEntry>? = nil
    var timerCount: Int = 0
    var timerCap: Int = 0
    /// Go: p.mcache. The address of this P's MCache of the process heap (PCache.swift), 0 until the first M
    /// that binds the P creates it; destroyed after every M has exited. Only the M holding the P writes it and
    /// uses the cache (release store, so diagnostics such as `pCaches` may read it with an acquire load).
    var mcache: UInt64 = 0
    // sysmon (Sysmon.swift).
    /// 1 while sysmon has lent a spare P because this one is blocked. sysmon sets (CAS), owner clears (CAS).
    var compensated: UInt64 = 0
    /// The CPU-time clock of the thread holding this P (its clockid_t's bits, plus 1 << 32; 0: unknown), so
    /// sysmon can tell a job that computes from one that is blocked. The owner stores it in acquirep before its
    /// release store of `status`; sysmon reads it after an acquire load of `status` (inJob), so it sees this
    /// owner's clock. An owner change between sysmon's reads also changes `schedtick`, which restarts the
    /// measurement (isComputing).
    var ownerClock: UInt64 = 0

    // ---- Lines 5-6: sysmon's private memory of this P. sysmon only. ----
    var sysmonTick: UInt64 = 0
    var sysmonWhen: UInt64 = 0
    /// The runnext sysmon saw at its last look at a long computing job (movePinnedRunnext).
    var sysmonNext: UInt64 = 0
    /// The owner thread's CPU time at sysmonCPUWhen, measured during the job with tick sysmonCPUTick.
    var sysmonCPU: UInt64 = 0
    var sysmonCPUWhen: UInt64 = 0
    var sysmonCPUTick: UInt64 = 0
    /// isComputing's verdict for the last complete window (1: computing).
    var sysmonComputing: UInt64 = 0
    /// workStranded's snapshot of the queued work, the job it was taken in, and when (0: none).
    var sysmonWorkSnap: UInt64 = 0
    var sysmonWorkTick: UInt64 = 0
    var sysmonWorkWhen: UInt64 = 0
    /// The storm chain's last G at sysmon's previous look (flushStaleStorm).
    var sysmonStormTail: UInt64 = 0
    /// Go: p.syscalltick. `blocking {}` regions entered on this P. Owner writes (relaxed store), read for
    /// GODEBUG=scheddetail=1. Rarely written, so it may share sysmon's lines.
    var syscalltick: UInt64 = 0
    private var pad5: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    // ---- Line 7: the owner's free sudogs (Sudog.swift; Go: p.sudogcache). Owner only. ----
    /// sudogCacheCap slots; the first nsudog hold free sudog blocks.
    let sudogCache: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    var nsudog: Int = 0

    init(id: Int, isSpare: Bool, highRing: UnsafeMutablePointer<UInt64>, ring: UnsafeMutablePointer<UInt64>) {
        self.id = id
        self.isSpare = isSpare
        sudogCache = .allocate(capacity: sudogCacheCap)
        sudogCache.initialize(repeating: nil, count: sudogCacheCap)
        self.status = isSpare ? PStatus.spare : PStatus.idle
        high = RunQueue(ring: highRing)
        runq = RunQueue(ring: ring)
    }
}

/// Go: runtime.m (runtime2.go). One per OS thread the scheduler started; reachable through the TLS slot
/// `gort_tls_m` from its own thread.
struct M {
    /// xorshift state for victim order. Owner only. First on purpose: should an inout access to an M field slip
    /// past the rule above (one did: CI's TSan run caught it against schedDetail's read of `id`), TSan records
    /// it at the M's first byte, which must then be one no other thread reads.
    var rand: UInt64
    /// Immutable.
    let id: Int
    let sched: UnsafeMutablePointer<SchedState>
    /// Go: m.park note. 0: not notified, 1: notified. The waker stores 1 (release) then futex-wakes; the M
    /// sleeps while it reads 0, then resets it. Everything the waker wrote before (nextp, spinning) is visible.
    var park: UInt32 = 0
    /// The P this M holds. Owner thread only.
    var p: UnsafeMutablePointer<P>? = nil
    /// A P handed to this M while it sleeps. Written by the waker before the notify; read by this M after it.
    var nextp: UnsafeMutablePointer<P>? = nil
    /// Go: m.spinning. Owner thread; set by the waker before the notify for a parked M. Relaxed atomics (plain
    /// moves on x86) only so that GODEBUG=scheddetail=1 may read it from sysmon.
    /// Read and written through `UnsafeMutablePointer<M>.spinning`, by address, so that no access to the whole
    /// M is made (Thread Sanitizer's access checks would see one racing with schedDetail's reads).
    var spinningWord: UInt32 = 0
    /// allp index of the P this M holds plus one, 0 for none: `p`'s id, for GODEBUG=scheddetail=1. Owner
    /// writes in acquirep/releasep (relaxed store); sysmon reads (relaxed).
    var pidPlus1: UInt64 = 0
    /// Link in sched.midle. Under sched.lock.
    var link: UnsafeMutablePointer<M>? = nil
    /// Link in sched.allm. Written once under sched.lock before the M is published.
    var allLink: UnsafeMutablePointer<M>? = nil
    /// How long this M spins for work before it parks (findRunnable: adapts between spinWindowMinNS and
    /// spinWindowNS). Owner only.
    var spinWindow: UInt64 = spinWindowNS
    /// Spins with every other P idle, counted so that every 16th is a full window (findRunnable). Owner only.
    var spinProbe: UInt32 = 0
    /// The OS thread. Written under sched.lock by the creator once pthread_create returns (so shutdown, which
    /// reads it under the lock, never sees a half-written id); `threadKnown` says it has been written.
    var thread: pthread_t = pthread_t()
    var threadKnown = false
    /// This thread's CPU-time clock (P.ownerClock's encoding). Owner thread, written once in mstart.
    var cpuClock: UInt64 = 0
    /// Nesting depth of blocking { } regions. Owner only.
    var syscallDepth: Int = 0
    /// The thread's own malloc cache while its P's cache is bound in its place (PCache.swift). Owner only.
    var savedCache: UnsafeMutableRawPointer? = nil
    var cacheBound = false
    /// Copy of sched.tracing (immutable), and the chunk this M records into (owner only; Trace.swift).
    let tracing: Bool
    var traceChunk: UnsafeMutablePointer<TraceChunk>? = nil

    init(id: Int, sched: UnsafeMutablePointer<SchedState>) {
        self.id = id
        self.sched = sched
        // Seeded per run, as Go seeds fastrand: victim and select orders differ from run to run.
        self.rand = (0x9E37_79B9_7F4A_7C15 &* UInt64(id &+ 1) ^ nanotime() &* 0xBF58_476D_1CE4_E5B9) | 1
        self.tracing = sched.pointee.tracing
    }
}

/// Go: fastrand. The next value of M `mp`'s xorshift (M.rand). Its own thread only.
@inline(__always)
func fastrand(_ mp: UnsafeMutablePointer<M>) -> UInt64 {
    var r = mp.pointee.rand
    r ^= r << 13; r ^= r >> 7; r ^= r << 17
    mp.pointee.rand = r
    return r
}

extension UnsafeMutablePointer where Pointee == M {
    /// Go: m.spinning (M.spinningWord).
    @inline(__always) var spinning: Bool {
        get { gort_load32_relaxed(pointer(to: \.spinningWord)!) != 0 }
        nonmutating set { gort_store32_relaxed(pointer(to: \.spinningWord)!, newValue ? 1 : 0) }
    }
}

/// Go: runtime.schedt (runtime2.go): the scheduler-wide state.
struct SchedState {
    /// Go: sched.lock. Guards the idle lists, the global run queue and M creation.
    var lock: UInt32 = 0
    /// GOMAXPROCS. Immutable after init.
    var gomaxprocs: Int
    /// Ps allocated (gomaxprocs plus spares lent so far). Grows under lock (release store); read with acquire.
    var nallp: UInt64 = 0
    /// allp[0..<capacity]. A slot is written once, under lock, before nallp covers it.
    var allp: UnsafeMutablePointer<UnsafeMutablePointer<P>?>
    var allpCapacity: Int
    /// Go: sched.npidle. Written under lock (relaxed store), read racily (relaxed) by wakep.
    var npidle: UInt64 = 0
    /// Go: sched.nmspinning. Atomic RMW (acq_rel).
    var nmspinning: UInt64 = 0
    /// Go: sched.pidle. Under lock.
    var pidle: UnsafeMutablePointer<P>? = nil
    /// Spare Ps not lent out (Sysmon.swift). Under lock.
    var pspare: UnsafeMutablePointer<P>? = nil
    /// Spares lent and not yet returned / Ps compensated. Atomic (acq_rel).
    var nspareLent: UInt64 = 0
    var ncompensated: UInt64 = 0
    /// Go: sched.midle, nmidle. Under lock.
    var midle: UnsafeMutablePointer<M>? = nil
    var nmidle: Int = 0
    /// Threads created, and the list of all Ms. Under lock (mcount is also read racily for stats).
    var mcount: Int = 0
    var allm: UnsafeMutablePointer<M>? = nil
    /// Go: sched.runq: global run queue, linked through the Gs' schedlink, in batches (see globrunqput).
    /// Under lock. runqSize is also stored relaxed so `findRunnable` can skip the lock when it is 0 (a stale
    /// read only delays work by one pass; wakep covers the race, see findRunnable).
    /// runqHead: the first G of the first batch; runqTail: the last G of the last batch (0 when empty).
    var runqHead: GEntry = 0
    var runqTail: GEntry = 0
    var runqSize: UInt64 = 0
    /// Not in Go (it has no priorities): the global high-priority queue, for high-priority Gs made runnable by
    /// a thread that is not one of this scheduler's Ms (the main thread, Dispatch, a pthread), or when a P's high
    /// ring is full. FIFO, linked through the Gs' links, one G per entry; head and tail under lock. highqSize
    /// is also stored relaxed so that schedule's fast path sees it without the lock: one load per job, of a line
    /// that changes only when such a G comes or goes (the padding keeps the busy fields around it off it).
    var highqPad0: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    var highqHead: GEntry = 0
    var highqTail: GEntry = 0
    var highqSize: UInt64 = 0
    var highqPad1: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    /// Set once by shutdown() (release); Ms check it (acquire) and exit.
    var stopping: UInt64 = 0
    /// Set once stopAndJoin has joined every thread (release); droppedAfterStop reads it (acquire) to warn that a job
    /// came after shutdown. `droppedWarned`: exchanged to 1 by the first such put, which prints the warning.
    var stopped: UInt32 = 0
    var droppedWarned: UInt32 = 0
    /// Owners of this memory (Scheduler.releaseState): 1 for the Scheduler object, plus 1 while a helper thread
    /// joins for a shutdown() made from one of the scheduler's own jobs. acq_rel decrements; the last frees it.
    var stateRefs: UInt64 = 1
    /// Go: sched.sysmonwait. 1 while sysmon sleeps with every P idle. Written only under lock (atomic stores: set
    /// by sysmon; cleared by pidleget or shutdown, with a futex wake, or by sysmon after a timeout); sysmon's
    /// wait loop reads it without the lock (acquire). The futex word sysmon sleeps on.
    var sysmonWait: UInt32 = 0
    /// Spares lent in all (tests). Written under lock (relaxed store), read racily (relaxed).
    var spareLends: UInt64 = 0
    /// Deep sleeps sysmon has begun (tests). Written by sysmon only (relaxed), read racily.
    var sysmonSleeps: UInt64 = 0
    /// The executor jobs run on. Set at init, before any M starts.
    var executor: UnownedTaskExecutor? = nil
    /// True for the scheduler GoSched.install() made the global executor: its Ms run jobs the way Swift's own
    /// global executor does, on the generic executor with no task executor (see `execute`). Set by install()
    /// before the first job is enqueued (so before any M starts); immutable after.
    var runsAsGlobal = false
    /// Numbers coprime with gomaxprocs, for random victim order (Go: randomOrder). Immutable.
    var coprimes: UnsafeMutablePointer<Int>
    var ncoprimes: Int
    /// Earliest deadline a timed-sleeping M waits for, 0 if none. Atomic; see parkM.
    var sleepUntil: UInt64 = 0
    /// Record a trace (Trace.swift). Immutable after init.
    var tracing = false
    /// All trace chunks (newest first), how many, and events dropped past the cap. Under lock.
    var traceHead: UnsafeMutablePointer<TraceChunk>? = nil
    var traceChunks: UInt64 = 0
    var traceDropped: UInt64 = 0
    /// Where the Ps' MCaches come from (PCache.swift). Immutable after init.
    var cacheHooks: PCacheHooks = PCacheHooks.process
    /// Options (GODEBUG, tests). Immutable after init.
    var runnextCap: Int = 64
    /// Go: sched.procresizetime-like start time, for schedtrace.
    var startTime: UInt64 = 0
    /// Total jobs pushed to the global queue (stats; under lock).
    var globalPuts: UInt64 = 0
    /// Batches split by a fairness take of one G (tests; under lock).
    var globalSplits: UInt64 = 0
    /// Gs sent to the global queue by the storm rule: task-group children and the job's earlier Gs that went
    /// ahead of them (Schedule.swift, flushStorm; tests; under lock).
    var stormPuts: UInt64 = 0
    /// Ps put on the idle list so far: written under lock (relaxed store), read by globrunqgetUnlock after
    /// its publish and a seq_cst fence.
    var pidlePuts: UInt64 = 0
    /// GODEBUG=schedchecks=1: check the invariants on slow paths (Invariants.swift). Immutable after init.
    var checkInvariants = false
    /// Slow-path checks requested so far (Invariants.swift). Under lock.
    var checkCalls: UInt64 = 0

    init(gomaxprocs: Int, allp: UnsafeMutablePointer<UnsafeMutablePointer<P>?>, capacity: Int,
         coprimes: UnsafeMutablePointer<Int>, ncoprimes: Int) {
        self.gomaxprocs = gomaxprocs
        self.allp = allp
        self.allpCapacity = capacity
        self.coprimes = coprimes
        self.ncoprimes = ncoprimes
    }
}

@inline(__always)
func nanotime() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Allocates a P with its two rings (cache-line aligned).
func allocP(id: Int, isSpare: Bool) -> UnsafeMutablePointer<P> {
    let ringBytes = Int(runqSize) * 8
    let rings = UnsafeMutableRawPointer.allocate(byteCount: 2 * ringBytes, alignment: 128)
    let hr = rings.bindMemory(to: UInt64.self, capacity: 2 * Int(runqSize))
    hr.initialize(repeating: 0, count: 2 * Int(runqSize))
    let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<P>.stride, alignment: 128)
    let pp = raw.bindMemory(to: P.self, capacity: 1)
    pp.initialize(to: P(id: id, isSpare: isSpare, highRing: hr, ring: hr + Int(runqSize)))
    // The rings' CAS pairs must be 16-byte aligned (RunQueue.swift): P is 128-byte aligned, so this checks
    // their offsets, once.
    precondition(UInt(bitPattern: pp.pointer(to: \.runq)!.pair) % 16 == 0 && UInt(bitPattern: pp.pointer(to: \.high)!.pair) % 16 == 0,
                 "P's run queues must be 16-byte aligned")
    return pp
}

extension UnsafeMutablePointer where Pointee == SchedState {
    @inline(__always) func lock() { lockKey(pointer(to: \.lock)!) }
    @inline(__always) func unlock() { unlockKey(pointer(to: \.lock)!) }

    @inline(__always) var allpCount: Int { Int(gort_load_acquire(pointer(to: \.nallp)!)) }

    // ---- idle P list (Go: pidleput / pidleget) -- caller holds lock ----
    func pidleput(_ pp: UnsafeMutablePointer<P>) {
        gort_store_release(pp.pointer(to: \.status)!, PStatus.idle)
        pp.pointee.link = pointee.pidle
        pointee.pidle = pp
        gort_store_relaxed(pointer(to: \.npidle)!, gort_load_relaxed(pointer(to: \.npidle)!) &+ 1)
        gort_store_relaxed(pointer(to: \.pidlePuts)!, pointee.pidlePuts &+ 1)
        debugCheckLocked()
    }

    func pidleget() -> UnsafeMutablePointer<P>? {
        guard let pp = pointee.pidle else { return nil }
        pointee.pidle = pp.pointee.link
        pp.pointee.link = nil
        gort_store_relaxed(pointer(to: \.npidle)!, gort_load_relaxed(pointer(to: \.npidle)!) &- 1)
        gort_store_release(pp.pointer(to: \.status)!, PStatus.running)
        // A P is about to run: sysmon, if it sleeps because every P was idle, watches again (Sysmon.swift).
        if gort_load32_relaxed(pointer(to: \.sysmonWait)!) != 0 { wakeSysmonLocked() }
        return pp
    }

    /// Ends sysmon's deep sleep. Under lock (or after stopping is set).
    @inline(never)
    func wakeSysmonLocked() {
        gort_store32_release(pointer(to: \.sysmonWait)!, 0)
        _ = gort_futex_wake(pointer(to: \.sysmonWait)!, 1)
    }

    // ---- idle M list (Go: mput / mget) -- caller holds lock ----
    func mput(_ mp: UnsafeMutablePointer<M>) {
        mp.pointee.link = pointee.midle
        pointee.midle = mp
        pointee.nmidle = pointee.nmidle + 1
    }

    func mget() -> UnsafeMutablePointer<M>? {
        guard let mp = pointee.midle else { return nil }
        pointee.midle = mp.pointee.link
        mp.pointee.link = nil
        pointee.nmidle = pointee.nmidle - 1
        return mp
    }

    /// Removes mp from midle if it is there. Returns whether it was.
    func mremove(_ mp: UnsafeMutablePointer<M>) -> Bool {
        var prev: UnsafeMutablePointer<M>? = nil
        var cur = pointee.midle
        while let c = cur {
            if c == mp {
                if let pr = prev { pr.pointee.link = c.pointee.link } else { pointee.midle = c.pointee.link }
                c.pointee.link = nil
                pointee.nmidle = pointee.nmidle - 1
                return true
            }
            prev = c
            cur = c.pointee.link
        }
        return false
    }

    // ---- global run queue (Go: globrunqput / globrunqget) -- caller holds lock ----
    //
    // Go links the global queue through g.schedlink, and globrunqget walks it under sched.lock to move a share
    // of it to a P. Here a G is a Swift job that its creator wrote last, often on another CPU, so every step of
    // that walk was a cache miss taken while holding the lock (spawn-join: 11 % of the running M's samples in
    // globrunqget). So the queue is a chain of batches: the first G of each batch keeps, in its second private
    // word (gBatch), the batch's last G and its length. Taking whole batches under the lock reads one word per
    // batch; the taker walks the Gs it took after unlocking (runqputChain), into its own ring with one publish.
    // A batch is a runqputSlow overflow (129 Gs) or one G; only globrunqtake(max: 1) splits one.

    func globrunqput(_ g: GEntry) {
        gLink(g).pointee = 0
        gBatch(g).pointee = batchWord(tail: g, count: 1)
        if pointee.runqTail != 0 { gLink(pointee.runqTail).pointee = g } else { pointee.runqHead = g }
        pointee.runqTail = g
        gort_store_relaxed(pointer(to: \.runqSize)!, gort_load_relaxed(pointer(to: \.runqSize)!) &+ 1)
        pointee.globalPuts = pointee.globalPuts &+ 1
    }

    /// Appends g to the global high-priority queue. Under lock.
    func globhighput(_ g: GEntry) {
        gLink(g).pointee = 0
        if pointee.highqTail != 0 { gLink(pointee.highqTail).pointee = g } else { pointee.highqHead = g }
        pointee.highqTail = g
        gort_store_relaxed(pointer(to: \.highqSize)!, pointee.highqSize &+ 1)
        pointee.globalPuts = pointee.globalPuts &+ 1
    }

    /// The oldest G of the global high-priority queue, or 0. Under lock.
    func globhightake() -> GEntry {
        let g = pointee.highqHead
        if g == 0 { return 0 }
        pointee.highqHead = gLink(g).pointee
        if pointee.highqHead == 0 { pointee.highqTail = 0 }
        gort_store_relaxed(pointer(to: \.highqSize)!, pointee.highqSize &- 1)
        return g
    }

    /// Gs in both global queues (relaxed: a racy snapshot, as runqSize alone is).
    @inline(__always) var globalQueued: UInt64 {
        gort_load_relaxed(pointer(to: \.runqSize)!) &+ gort_load_relaxed(pointer(to: \.highqSize)!)
    }

    /// Appends a batch head...tail of n Gs already linked, whose head's gBatch the caller set (tail's link is 0).
    func globrunqputbatch(head: GEntry, tail: GEntry, count: UInt64) {
        if pointee.runqTail != 0 { gLink(pointee.runqTail).pointee = head } else { pointee.runqHead = head }
        pointee.runqTail = tail
        gort_store_relaxed(pointer(to: \.runqSize)!, gort_load_relaxed(pointer(to: \.runqSize)!) &+ count)
        pointee.globalPuts = pointee.globalPuts &+ count
        debugCheckLocked()
    }

    /// Go: globrunqget's share. Detaches whole batches from the front, about a fair share (Go's
    /// size / gomaxprocs + 1), at most half a ring plus one, but always the first batch; with `max` 1, only the
    /// first G. Returns the chain (head, tail, count), linked head to tail; count 0 if the queue is empty. The
    /// caller runs head and hands the rest to runqputChain after unlocking.
    func globrunqtake(max: Int) -> (head: GEntry, tail: GEntry, count: Int) {
        let size = Int(gort_load_relaxed(pointer(to: \.runqSize)!))
        if size == 0 { return (0, 0, 0) }
        let head = pointee.runqHead
        var taken = 0
        var tail: GEntry = 0
        if max == 1 {
            let bw = gBatch(head).pointee
            let rest = batchCount(bw) - 1
            pointee.runqHead = gLink(head).pointee
            if rest > 0 {
                gBatch(pointee.runqHead).pointee = batchWord(tail: batchTail(bw), count: rest)
                pointee.globalSplits = pointee.globalSplits &+ 1
            }
            taken = 1
            tail = head
        } else {
            var want = Swift.min(size, size / pointee.gomaxprocs + 1)
            if max > 0 && want > max { want = max }
            while pointee.runqHead != 0 {
                let bw = gBatch(pointee.runqHead).pointee
                let n = batchCount(bw)
                if taken > 0 && (taken + n > maxBatch || taken >= want) { break }
                taken += n
                tail = batchTail(bw)
                pointee.runqHead = gLink(tail).pointee
            }
        }
        if pointee.runqHead == 0 { pointee.runqTail = 0 }
        gort_store_relaxed(pointer(to: \.runqSize)!, UInt64(size - taken))
        debugCheckLocked()
        return (head, tail, taken)
    }
}
