import CGoRuntime
import Glibc

/// A snapshot of one scheduler (racy but each field is an atomic read). Go: the fields of schedtrace, plus
/// counters. Printed by GODEBUG=schedtrace=N as Go's SCHED line.
public struct SchedStats: Codable, Equatable, Sendable {
    public var gomaxprocs: Int
    public var idleprocs: Int
    /// OS threads: the Ms plus sysmon.
    public var threads: Int
    public var spinningthreads: Int
    public var idlethreads: Int
    /// Length of the global run queue.
    public var runqueue: Int
    /// Per P (GOMAXPROCS first, then spares): local queue lengths (high + normal rings, without runnext).
    public var localQueues: [Int]
    /// Jobs run, total over Ps.
    public var jobsRun: UInt64
    /// Successful steals, total over Ps.
    public var steals: UInt64
    /// `Task.yield`s seen (each goes behind the other runnable work: the global queue, or for high priority the
    /// high ring's tail), total over Ps.
    public var yields: UInt64
    /// Gs ever put on the global queue.
    public var globalPuts: UInt64
    /// Ps currently blocked (in `blocking {}` or a long job) and compensated by a spare.
    public var blockedProcs: Int
    /// Spare Ps currently lent out.
    public var sparesLent: Int
    /// Nanoseconds since the scheduler started.
    public var uptimeNS: UInt64

    /// Go's schedtrace line (runtime/proc.go schedtrace, detailed=false).
    public func schedLine() -> String {
        "SCHED \(uptimeNS / 1_000_000)ms: gomaxprocs=\(gomaxprocs) idleprocs=\(idleprocs) threads=\(threads) "
            + "spinningthreads=\(spinningthreads) idlethreads=\(idlethreads) runqueue=\(runqueue) ["
            + localQueues.prefix(gomaxprocs).map(String.init).joined(separator: " ") + "]"
    }
}

func snapshot(_ sched: UnsafeMutablePointer<SchedState>, now: UInt64) -> SchedStats {
    var local: [Int] = []
    var jobs: UInt64 = 0
    var steals: UInt64 = 0
    var yields: UInt64 = 0
    for i in 0..<sched.allpCount {
        let pp = sched.pointee.allp[i].unsafelyUnwrapped
        let n = min(qcount(pp.pointer(to: \.high)!), runqSize) + min(qcount(pp.pointer(to: \.runq)!), runqSize)
        local.append(Int(n))
        jobs &+= gort_load_relaxed(pp.pointer(to: \.jobsRun)!)
        steals &+= gort_load_relaxed(pp.pointer(to: \.stolen)!)
        yields &+= gort_load_relaxed(pp.pointer(to: \.yields)!)
    }
    sched.lock()
    let threads = sched.pointee.mcount + 1
    let idle = sched.pointee.nmidle
    let puts = sched.pointee.globalPuts
    let runq = Int(sched.pointee.runqSize)
    sched.unlock()
    return SchedStats(
        gomaxprocs: sched.pointee.gomaxprocs,
        idleprocs: Int(gort_load_relaxed(sched.pointer(to: \.npidle)!)),
        threads: threads,
        spinningthreads: Int(gort_load_relaxed(sched.pointer(to: \.nmspinning)!)),
        idlethreads: idle,
        runqueue: runq,
        localQueues: local,
        jobsRun: jobs,
        steals: steals,
        yields: yields,
        globalPuts: puts,
        blockedProcs: Int(gort_load_acquire(sched.pointer(to: \.ncompensated)!)),
        sparesLent: Int(gort_load_acquire(sched.pointer(to: \.nspareLent)!)),
        uptimeNS: now &- sched.pointee.startTime)
}

/// GODEBUG=schedtrace=N: one SCHED line on stderr (Go writes it to stderr too).
func printSchedTrace(_ sched: UnsafeMutablePointer<SchedState>, now: UInt64) {
    let line = snapshot(sched, now: now).schedLine() + "\n"
    line.withCString { _ = write(2, $0, strlen($0)) }
}

extension Scheduler {
    /// The scheduler stats API: a consistent-enough snapshot (each counter read atomically).
    public var stats: SchedStats { snapshot(s, now: nanotime()) }
}
