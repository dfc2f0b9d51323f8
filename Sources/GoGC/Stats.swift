// Statistics and the trace. Go: the GC fields of runtime.MemStats (mstats.go) and GODEBUG=gctrace=1
// (mgc.go, gcMarkTermination's printout). Also the checkmark pass (mgcmark.go, gccheckmark).
@_spi(GoGC) import GoAlloc
import CGoRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The GC part of runtime.MemStats, plus the pacer's state.
public struct GCStats: Sendable {
    /// Go: NumGC. Completed cycles.
    public var numGC: UInt32 = 0
    /// Go: NumForcedGC.
    public var numForcedGC: UInt32 = 0
    /// Go: PauseNs. A circular buffer of recent stop-the-world pause times, one entry per cycle (its two
    /// pauses, sweep termination and mark termination, added together, as Go does). The most recent is at
    /// pauseNs[(numGC + 255) % 256].
    public var pauseNs = [UInt64](repeating: 0, count: 256)
    /// Go: PauseEnd. When each cycle's pause ended, nanoseconds since the Unix epoch (as Go's); same indexing.
    public var pauseEnd = [UInt64](repeating: 0, count: 256)
    /// Go: PauseTotalNs.
    public var pauseTotalNs: UInt64 = 0
    /// Each stop-the-world pause on its own (two per cycle), a circular buffer of the last 512: the raw data
    /// for pause percentiles. The most recent is at stwPauseNs[(numSTWPauses + 511) % 512].
    public var stwPauseNs = [UInt64](repeating: 0, count: 512)
    public var numSTWPauses: UInt64 = 0
    /// Go: GCCPUFraction. Collector CPU time (coordinator marking, assists, pauses x P) over the process's
    /// available CPU time (elapsed x P) since the GC was created.
    public var gcCPUFraction: Double = 0
    /// Go: NextGC. The heap goal.
    public var nextGC: UInt64 = 0
    /// Go: LastGC. When the last cycle ended, nanoseconds since the Unix epoch (as Go's); 0 before the first.
    public var lastGC: UInt64 = 0
    /// Bytes marked live by the last cycle.
    public var heapMarked: UInt64 = 0
    /// Bytes in allocated slots now (Go: HeapAlloc, approximately: flushed in 64 KiB batches).
    public var heapLive: UInt64 = 0
    /// Go: HeapInuse. Bytes of pages in in-use spans now (objects, free slots in their spans, large objects).
    public var heapInuse: UInt64 = 0
    /// The largest HeapInuse seen right after a mark termination (before the cycle's sweep frees anything:
    /// the top of each cycle's sawtooth). The "heap within 2.2x of live" compares it with
    /// the live heap.
    public var peakHeapInuse: UInt64 = 0
    /// The largest ratio, over cycles, of HeapInuse after a mark termination to the live heap the cycle before
    /// marked (the heap the goal was computed from; Go's "live heap"). GOGC=100 aims at 2; the bar is
    /// 2.2. Cycles whose goal was the minimum heap (tiny heaps) are left out. 0 before two cycles.
    public var maxHeapOverLive: Double = 0
    public var finalizersRun: UInt64 = 0
    public var weakCleared: UInt64 = 0
    /// Checkmark: live objects the cycles failed to mark (always 0 unless the barrier is broken).
    public var checkmarkMisses: UInt64 = 0
    /// Largest single pause, nanoseconds.
    public var maxPauseNs: UInt64 = 0
    var gcCPUNanos: Int64 = 0

    /// The recorded per-cycle pauses (PauseNs), oldest first.
    public var recentPauses: [UInt64] {
        let n = Int(min(UInt64(numGC), 256))
        return (0..<n).map { pauseNs[Int((UInt64(numGC) - UInt64(n) + UInt64($0)) % 256)] }
    }

    /// The recorded individual stop-the-world pauses, oldest first.
    public var recentSTWPauses: [UInt64] {
        let n = Int(min(numSTWPauses, 512))
        return (0..<n).map { stwPauseNs[Int((numSTWPauses - UInt64(n) + UInt64($0)) % 512)] }
    }

    /// As text (one `Name value` per line) or JSON (the same fields, plus Go's PauseNs and PauseEnd: 256-entry
    /// circular buffers, the latest at (NumGC+255)%256).
    public var text: String {
        "NumGC \(numGC)\nNumForcedGC \(numForcedGC)\nPauseTotalNs \(pauseTotalNs)\nMaxPauseNs \(maxPauseNs)\n" +
        "GCCPUFraction \(gcCPUFraction)\nNextGC \(nextGC)\nLastGC \(lastGC)\nHeapMarked \(heapMarked)\nHeapLive \(heapLive)\n" +
        "HeapInuse \(heapInuse)\nPeakHeapInuse \(peakHeapInuse)\nMaxHeapOverLive \(maxHeapOverLive)\n" +
        "FinalizersRun \(finalizersRun)\nWeakCleared \(weakCleared)\nCheckmarkMisses \(checkmarkMisses)\n"
    }
    public var json: String {
        "{\"NumGC\":\(numGC),\"NumForcedGC\":\(numForcedGC),\"PauseTotalNs\":\(pauseTotalNs),\"MaxPauseNs\":\(maxPauseNs)," +
        "\"PauseNs\":[\(pauseNs.map(String.init).joined(separator: ","))],\"PauseEnd\":[\(pauseEnd.map(String.init).joined(separator: ","))],\"GCCPUFraction\":\(gcCPUFraction)," +
        "\"NextGC\":\(nextGC),\"LastGC\":\(lastGC),\"HeapMarked\":\(heapMarked),\"HeapLive\":\(heapLive)," +
        "\"HeapInuse\":\(heapInuse),\"PeakHeapInuse\":\(peakHeapInuse),\"MaxHeapOverLive\":\(maxHeapOverLive)," +
        "\"FinalizersRun\":\(finalizersRun),\"WeakCleared\":\(weakCleared),\"CheckmarkMisses\":\(checkmarkMisses)}"
    }
}

/// What one cycle measured (coordinator only).
struct CycleTimes {
    var forced = false
    var start: Int64 = 0
    var markStart: Int64 = 0
    var stw1: Int64 = 0          // sweep termination pause (world stopped)
    var stw1Total: Int64 = 0     // including waiting for mutators to stop
    var stw2: Int64 = 0
    var stw2Total: Int64 = 0
    var restartPause: Int64 = 0  // stops of markDone that found more work (world restarted)
    var markWall: Int64 = 0
    var markCPU: Int64 = 0       // background marking at the 25% target (Go: dedicated + fractional)
    var idleCPU: Int64 = 0       // background marking while a P had no mutator (Go: idle mark workers)
    var assistCPU: Int64 = 0
    var heapStart: UInt64 = 0
    var goal: UInt64 = 0         // the heap goal the cycle ran against (gctrace's "MB goal", as Go prints it)
    var heapEnd: UInt64 = 0
    var heapMarked: UInt64 = 0
    var heapInuse: UInt64 = 0    // HeapInuse right after mark termination
    var liveBefore: UInt64 = 0   // the previous cycle's marked heap, if the goal came from it (else 0)
    var heapOverLive: Double = 0 // heapInuse over liveBefore (0: not measured)
    var stackBytes: UInt64 = 0
    var weakCleared = 0
    var finalizersQueued = 0
    // GODEBUG=gcstwtrace: where the pauses went.
    var stop1 = StopWait()       // sweep termination's stop
    var stop2 = StopWait()       // mark termination's (last) stop
    var restarts = 0             // stops of markDone that found gray objects and restarted marking
    var stSweep: Int64 = 0       // sweep termination: finishing the sweep
    var mtDrain: Int64 = 0       // mark termination: flushing mutators' gray buffers and draining them
    var mtWeakFin: Int64 = 0     // weak references and finalizers
    var mtCheckmark: Int64 = 0
    var mtCaches: Int64 = 0      // flushing mutator caches, flipping MCentrals, pacing
}

/// How one stop of the world waited for the mutators (coordinator only).
struct StopWait {
    var nanos: Int64 = 0
    var yields = 0
    var sleeps = 0
}

extension GC {
    /// Go: runtime.ReadMemStats, the GC fields.
    public var stats: GCStats {
        statsLock.lock()
        var s = statsStore
        statsLock.unlock()
        s.heapLive = gort_load_relaxed(state.pointer(to: \.heapLive)!)
        s.heapInuse = UInt64(heap.gcInuseBytes)
        s.nextGC = gort_load_relaxed(state.pointer(to: \.goal)!)
        s.finalizersRun = gort_load_relaxed(&fin.ran)
        s.checkmarkMisses = gort_load_relaxed(state.pointer(to: \.checkmarkMisses)!)
        return s
    }

    func finishCycle(_ t: inout CycleTimes) {
        let end = monoNanos()
        statsLock.lock()
        var s = statsStore
        for pause in [t.stw1Total, t.stw2Total] {
            s.stwPauseNs[Int(s.numSTWPauses % 512)] = UInt64(pause)
            s.numSTWPauses += 1
            s.maxPauseNs = max(s.maxPauseNs, UInt64(pause))
        }
        let cyclePause = UInt64(t.stw1Total + t.stw2Total)
        s.pauseNs[Int(UInt64(s.numGC) % 256)] = cyclePause
        let wallEnd = wallNanos()
        s.pauseEnd[Int(UInt64(s.numGC) % 256)] = wallEnd
        s.pauseTotalNs += cyclePause
        s.numGC += 1
        if t.forced { s.numForcedGC += 1 }
        s.lastGC = wallEnd
        s.heapMarked = t.heapMarked
        s.peakHeapInuse = max(s.peakHeapInuse, t.heapInuse)
        s.maxHeapOverLive = max(s.maxHeapOverLive, t.heapOverLive)
        s.weakCleared += UInt64(t.weakCleared)
        let procs = Int64(config.procs)
        s.gcCPUNanos += t.markCPU + t.idleCPU + t.assistCPU + (t.stw1 + t.stw2) * procs
        let avail = Double(end - startNanos) * Double(procs)
        s.gcCPUFraction = avail > 0 ? Double(s.gcCPUNanos) / avail : 0
        statsStore = s
        statsLock.unlock()
        if config.gctrace { printTrace(t, n: s.numGC, util: s.gcCPUFraction) }
        if config.stwtrace {
            let line = stwTraceLine(t, n: s.numGC) + "\n"
            line.withCString { _ = write(2, $0, strlen($0)) }
        }
        gort_store_release(state.pointer(to: \.finished)!, gort_load_relaxed(state.pointer(to: \.finished)!) + 1)
        _ = gort_fetch_add32_acqrel(state.pointer(to: \.cycleDone)!, 1)
        futexWakeAll(state.pointer(to: \.cycleDone)!)
    }

    func printTrace(_ t: CycleTimes, n: UInt32, util: Double) {
        let line = traceLine(t, n: n, util: util, goal: t.goal, procs: config.procs) + "\n"
        line.withCString { _ = write(2, $0, strlen($0)) }
    }

    /// Go's GODEBUG=gctrace=1 line (mgc.go, gcMarkTermination), with Go's number formats:
    /// gc # @#s #%: #+#+# ms clock, #+#/#/#+# ms cpu, #->#-># MB, # MB goal, # MB stacks, # MB globals, # P
    /// Clock: sweep termination (STW), concurrent mark, mark termination (STW). CPU: sweep termination,
    /// assists / background marking / idle marking, mark termination. Heap: live at the cycle's start, at mark
    /// termination, and marked.
    func traceLine(_ t: CycleTimes, n: UInt32, util: Double, goal: UInt64, procs: Int) -> String {
        func ms(_ ns: Int64) -> String { gctraceMS(UInt64(max(ns, 0))) }
        func mb(_ b: UInt64) -> String { String(b >> 20) }
        let p = Int64(procs)
        var line = "gc \(n) @\(gctraceDecimal(UInt64(max(t.start - startNanos, 0)) / 1_000_000, 3))s \(Int(util * 100))%: "
        line += "\(ms(t.stw1Total))+\(ms(t.markWall))+\(ms(t.stw2Total)) ms clock, "
        line += "\(ms(t.stw1 * p))+\(ms(t.assistCPU))/\(ms(t.markCPU))/\(ms(t.idleCPU))+\(ms(t.stw2 * p)) ms cpu, "
        line += "\(mb(t.heapStart))->\(mb(t.heapEnd))->\(mb(t.heapMarked)) MB, "
        line += "\(mb(min(goal, UInt64(Int64.max)))) MB goal, \(mb(t.stackBytes)) MB stacks, 0 MB globals, \(p) P"
        if t.forced { line += " (forced)" }
        return line
    }

    /// GODEBUG=gcstwtrace=1: the two pauses of cycle `n` taken apart, microseconds. `st`: sweep termination
    /// (its whole pause, the wait for mutators to stop with the coordinator's yields and futex sleeps, the
    /// sweep finished inside). `mt`: mark termination (whole pause including restarts, the stops that found
    /// gray objects and restarted marking, the last stop's wait, then draining, weak/finalizers, checkmark,
    /// caches and pacing).
    func stwTraceLine(_ t: CycleTimes, n: UInt32) -> String {
        func us(_ ns: Int64) -> String { String(ns / 1000) }
        var line = "gcstw \(n): st \(us(t.stw1Total)) = stop \(us(t.stop1.nanos)) (y\(t.stop1.yields) s\(t.stop1.sleeps))"
        line += " + sweep \(us(t.stSweep)) + other \(us(t.stw1 - t.stSweep)) us; "
        line += "mt \(us(t.stw2Total)) = restarts \(t.restarts) \(us(t.restartPause))"
        line += " + stop \(us(t.stop2.nanos)) (y\(t.stop2.yields) s\(t.stop2.sleeps)) + drain \(us(t.mtDrain))"
        line += " + weakfin \(us(t.mtWeakFin)) + checkmark \(us(t.mtCheckmark)) + caches \(us(t.mtCaches)) us;"
        line += " inuse \(t.heapInuse >> 10) KiB, start \(t.heapStart >> 10) KiB, end \(t.heapEnd >> 10) KiB"
        return line
    }

    /// Checkmark (world stopped, after marking): trace everything reachable from the roots into the
    /// checkmark bitmap and count objects the cycle did not mark.
    func runCheckmark(_ parity: Int) {
        let n = state.pointee.arenaCount
        for i in 0..<n {
            let a = state.pointee.arenaList[i]
            gcZeroPages(UnsafeMutableRawPointer(a.pointee.marks + GCArena.checkmarkBitmap * GCArena.markWords), GCArena.markWords * 8)
        }
        let w = UnsafeMutablePointer<GCWork>.allocate(capacity: 1)
        w.initialize(to: GCWork())
        w.pointee.bitmap = GCArena.checkmarkBitmap
        var misses: UInt64 = 0
        func visit(_ p: UInt) {
            if p == 0 { return }
            guard let a = state.arena(p) else { return }
            if !state.setMark(a, p, GCArena.checkmarkBitmap) { return }
            if !state.isMarked(p, parity) { misses += 1 }
            guard let s = a.pointee.heapArena.gcSpan(at: p), !s.gcNoscan else { return }
            state.push(p, w)
        }
        forEachMutator { m in for i in 0..<m.pointee.stackCount { visit(m.pointee.stack[i]) } }
        roots.forEachChunk { visit($0) }
        fin.forEachQueued { visit($0) }
        fin.forEachRegistered { p in
            // Children of finalizable objects are kept; the objects themselves need not be marked.
            scanChildren(p, into: visit)
        }
        // Drain with the same visit rule (a local loop so misses are counted per object).
        while true {
            let p = state.pop(w) & WorkBuf.addressMask   // checkmark pushes bare addresses; masked anyway
            if p == 0 { break }
            scanChildren(p, into: visit)
        }
        if let b = w.pointee.buf { state.putEmptyBuf(b) }
        w.deallocate()
        if misses != 0 {
            gort_fetch_add_relaxed(state.pointer(to: \.checkmarkMisses)!, misses)
            if state.pointee.checkmark == CheckmarkMode.abort.rawValue {
                gcFatal("GoGC checkmark: a live object was not marked by the cycle")
            }
        }
    }

    /// Calls `visit` on every non-nil reference field of `p`.
    func scanChildren(_ p: UInt, into visit: (UInt) -> Void) {
        guard let a = state.arena(p), let s = a.pointee.heapArena.gcSpan(at: p), !s.gcNoscan else { return }
        let words = Int(s.gcElemSize / 8)
        for i in 0..<words {
            let addr = p + UInt(i * 8)
            guard let aa = state.arena(addr) else { break }
            let wi = Int((addr >> 3) & GCArena.wordMask)
            if aa.pointee.ptrBits[wi >> 6] & (1 << UInt64(wi & 63)) != 0 {
                visit(UInt(UnsafeMutablePointer<UInt64>(bitPattern: addr)!.pointee))
            }
        }
    }
}

/// Nanoseconds as milliseconds the way Go's gctrace prints them (runtime.fmtNSAsMS): whole milliseconds from
/// 10 ms up; below, two significant digits of microseconds, at most three decimals, truncated ("0.021",
/// "7.8", "0.43").
func gctraceMS(_ ns: UInt64) -> String {
    if ns >= 10_000_000 { return String(ns / 1_000_000) }
    var x = ns / 1000
    if x == 0 { return "0" }
    var decimals = 3
    while x >= 100 { x /= 10; decimals -= 1 }
    return gctraceDecimal(x, decimals)
}

/// `value` with a decimal point `decimals` digits from the right, zero-padded ("5", 3 -> "0.005").
func gctraceDecimal(_ value: UInt64, _ decimals: Int) -> String {
    var digits = String(value)
    if decimals <= 0 { return digits }
    if digits.count <= decimals { digits = String(repeating: "0", count: decimals - digits.count + 1) + digits }
    let i = digits.index(digits.endIndex, offsetBy: -decimals)
    return digits[..<i] + "." + digits[i...]
}
