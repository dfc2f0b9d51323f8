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
        schedHeader + " [" + localQueues.prefix(gomaxprocs).map(String.init).joined(separator: " ") + "]"
    }

    /// The fields both of Go's forms start with (schedLine; schedDetail's first line).
    var schedHeader: String {
        "SCHED \(uptimeNS / 1_000_000)ms: gomaxprocs=\(gomaxprocs) idleprocs=\(idleprocs) threads=\(threads) "
            + "spinningthreads=\(spinningthreads) idlethreads=\(idlethreads) runqueue=\(runqueue)"
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
    let runq = Int(sched.pointee.runqSize + sched.pointee.highqSize)
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

/// GODEBUG=schedtrace=N: one SCHED line on stderr (Go writes it to stderr too); with scheddetail=1, Go's
/// detailed form (schedDetail).
func printSchedTrace(_ sched: UnsafeMutablePointer<SchedState>, now: UInt64, detailed: Bool = false) {
    let text = detailed ? schedDetail(sched, now: now) : snapshot(sched, now: now).schedLine() + "\n"
    text.withCString { _ = write(2, $0, strlen($0)) }
}

/// GODEBUG=schedtrace=N,scheddetail=1: Go's detailed schedtrace (runtime/proc.go schedtrace(true)). The header
/// line with Go's extra fields (GoSched has no GC to wait for and no locked Ms: zeros), then a line per P
/// (GOMAXPROCS, then spares currently lent) and per M. Go's P status codes: 0 idle, 1 running (scheduling or
/// in a job), 2 in a syscall (`blocking {}`). gfreecnt is 0 (Swift owns its jobs; GoSched keeps no free Gs),
/// and Ms show curg=-1: GoSched does not number its Gs, so it prints no G lines. The M lines are read under
/// sched.lock, the P lines after it (each timer count under its timerLock), every field atomically: as racy
/// as Go's.
func schedDetail(_ sched: UnsafeMutablePointer<SchedState>, now: UInt64) -> String {
    let st = snapshot(sched, now: now)
    var out = st.schedHeader + " gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0\n"
    sched.lock()
    var owner: [Int: Int] = [:]   // P id -> M id
    var idle = Set<Int>()
    var mi = sched.pointee.midle
    while let mp = mi { idle.insert(mp.pointee.id); mi = mp.pointee.link }
    var mLines = ""
    var m = sched.pointee.allm   // newest first, as Go's allm
    while let mp = m {
        let pid = gort_load_relaxed(mp.pointer(to: \.pidPlus1)!)
        if pid != 0 { owner[Int(pid - 1)] = mp.pointee.id }
        mLines += "  M\(mp.pointee.id): p=\(Int(pid) - 1) curg=-1 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 "
            + "spinning=\(mp.spinning) blocked=\(idle.contains(mp.pointee.id)) lockedg=-1\n"
        m = mp.pointee.allLink
    }
    sched.unlock()
    for i in 0..<sched.allpCount {
        let pp = sched.pointee.allp[i].unsafelyUnwrapped
        let status = gort_load_acquire(pp.pointer(to: \.status)!)
        if pp.pointee.isSpare && status == PStatus.spare { continue }
        let goStatus = status == PStatus.idle || status == PStatus.spare ? 0 : status == PStatus.syscall ? 2 : 1
        lockKey(pp.pointer(to: \.timerLock)!)
        let timers = pp.pointee.timerCount
        unlockKey(pp.pointer(to: \.timerLock)!)
        out += "  P\(i): status=\(goStatus) schedtick=\(gort_load_relaxed(pp.pointer(to: \.schedtick)!)) "
            + "syscalltick=\(gort_load_relaxed(pp.pointer(to: \.syscalltick)!)) m=\(owner[i] ?? -1) "
            + "runqsize=\(i < st.localQueues.count ? st.localQueues[i] : 0) gfreecnt=0 timerslen=\(timers)\n"
    }
    out += mLines
    return out
}

extension Scheduler {
    /// The scheduler stats API: a consistent-enough snapshot (each counter read atomically).
    public var stats: SchedStats { snapshot(s, now: nanotime()) }
}
