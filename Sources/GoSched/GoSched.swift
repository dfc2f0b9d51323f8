// GoSched: Go's G-P-M scheduler as Swift concurrency's executor.
//
// Design (Go: runtime/proc.go; the seed's section 4):
//   G  a unit of work: a Swift job (UnownedJob) or a RawG ({fn, ctx}, for `go { }`). A run-queue entry is the
//      G's address; the intrusive link lives in the job's 16 bytes of executor-private data, so queueing
//      never allocates (G.swift).
//   P  a processor, GOMAXPROCS of them (Procs.swift: env, affinity mask, cgroup quota). Each has a 256-slot
//      lock-free ring (owner takes its newest G first, every 61st tick its oldest; thieves take the oldest half;
//      every operation is one 16-byte CAS of head and tail), a `runnext` slot (the G readied by
//      the running job runs next, capped at 64 in a row), a ring for high-priority jobs that runs first, a timer
//      heap, and its own GoAlloc MCache, which is its M's malloc cache while the M holds it (RunQueue.swift,
//      Sched.swift, Timers.swift, PCache.swift).
//   M  an OS thread holding at most one P (Schedule.swift). Idle Ms park on a futex and use no CPU.
//   sched  the global queue and idle lists under one futex lock; nmspinning / npidle atomics. The global queue
//      is a chain of batches (a full ring's older half, or one G), each head recording its tail and length,
//      so a taker detaches whole batches under the lock and walks them after (Sched.swift).
//   Invariants: Scheduler.checkInvariants(), and GODEBUG=schedchecks=1 on every slow path (Invariants.swift).
//
// Fast path, per job, on the M's own P: timer word check, tick%61 global check, high ring -> runnext -> ring,
// run the job, two stores for sysmon. No ARC, no allocation; one uncontended lock if the G comes from the ring.
// Enqueue from an M of this scheduler: runnext + ring push + wakep (two loads unless an M must be woken); the
// installed scheduler gets the runtime's global enqueues straight from its swift_task_enqueueGlobal hook
// (Install.swift). From other threads: the global queue under the lock, then wakep.
//
// Slow path (findRunnable): global queue, then steal (at most GOMAXPROCS/2 spinning Ms, 4 passes in a random
// coprime order, runnext stolen on the last pass, victims' due timers run), then keep watching (napping while
// another running P hands Gs off through its runnext, Go's usleep(3); pause-spinning 20us otherwise), then give
// the P back and park; the last spinner that finds work wakes one more (the spinning protocol is described in
// Schedule.swift).
//
// Blocking: Swift jobs cannot be descheduled, so sysmon lends *spare* Ps instead of taking a blocked M's P away
// (Sysmon.swift says why). `blocking { }` marks a region that may block (Go: entersyscall/exitsyscall).
//
// Rejected: one MPMC queue (contention, no locality), Dispatch (what we replace), a FIFO local ring (Go's: runs
// fork-join trees breadth-first, ~100k live, cold tasks in skynet; RunQueue.swift), polling for idle (idle CPU
// must be ~0%).
//
// Swift integration: Scheduler is a TaskExecutor and SchedulingExecutor; GoSched.install() makes it the global
// executor (Install.swift), whose Ms then run jobs on the generic executor as Swift's own global executor does
// (Schedule.swift's execute says why). Channels: Chan.swift, Select.swift, WaitGroup.swift, with per-P sudog
// caches (Sudog.swift). Observability: Stats.swift,
// GODEBUG=schedtrace=N, the per-M trace recorder (Trace.swift, `gort trace`).
