// GoGC: Go's concurrent tri-color mark-sweep collector on GoAlloc's spans. Go: mgc.go.
//
// The heap. Objects live in a private GoAlloc Heap, in scan spans (objects with references) or noscan spans
// (pointer-free). A GCLayout, resolved once, gives an object's span class and its pointer mask; allocation
// copies the mask into HeapArena.bitmap (one bit per heap word). Small objects come from GoGC's own fast path
// (AllocSlot: whole allocBits words reserved at a time). Marks are the collector's own: one bit per 16-byte
// granule (objects are at least 16 bytes) in per-arena side tables (GCArena), one bitmap that the sweep
// clears span by span, plus a checkmark one.
//
// The API (Swift has no stack maps; see the issue). Code runs in mutation scopes (`Mutator.run { m in }`).
// A stop-the-world phase waits until every mutator is outside a scope or at `m.safepoint()`; at those points
// the program promises no unrooted `Ref` local is live, so roots are exactly: Root handles (an ARC object
// per root, its slot in a root table), each mutator's shadow stack, pending finalizers. `Ref<T>` is one word,
// no ARC. Reference stores go through `m.store`, which runs the write barrier; scalar stores are plain.
//
// A cycle, in Go's phases (run by the coordinator thread, or synchronously by collect() with no threads):
// The two stop-the-world phases run by handoff (GC.handOff): the coordinator posts the phase and the first
// mutator to reach a safepoint runs it, already stopped itself, so a stop never waits for a mutator that the
// OS has descheduled unless another mutator is already stopped (Go runs sweep termination on the goroutine
// whose allocation triggered the cycle, for the same effect). With no mutator in a scope, the coordinator
// runs the phase.
//   1. Sweep termination (STW): finish sweeping; turn the write barrier on; phase = mark; gray the shadow
//      stacks and the finalizer queue. From here new objects are allocated black.
//   2. Concurrent mark: the coordinator marks roots (root table, finalizer objects' children) and drains gray
//      work in time slices for ~25% of GOMAXPROCS CPUs, or at full speed while fewer mutators are in scopes
//      than GOMAXPROCS (Go's idle mark workers); mutators that allocate pay with mark assists in proportion
//      (assistRatio words per byte), and one that reaches the goal waits for mark to end (Go's
//      gcParkAssist). The hybrid barrier shades the old value (Yuasa) and the new
//      one (Dijkstra) of every reference store while marking. Since stacks are empty of unrooted refs at
//      mark start and shadow stacks are scanned then, this preserves the snapshot at mark start (SATB).
//   3. Mark termination (STW): flush every mutator's gray buffer, drain to empty, clear weak refs to white
//      objects, resurrect objects with finalizers (queue them), optional checkmark, barrier off, bump the
//      GC sweepgen, flip the MCentrals (every uncached span becomes unswept), flush mutator caches.
//   4. Concurrent sweep: the coordinator pops unswept spans and frees unmarked objects (clearing allocBits
//      as the span's holder); a mutator whose cache takes an unswept span sweeps it before using it; large
//      objects are swept from the large-object list. Each sweep clears its span's marks for the next cycle.
//      Mutators past the trigger help sweep; one that parks at the goal before the next cycle has started
//      waits for it (allocation never outruns a late coordinator by more than a scope or safepoint interval).
// Pacer: goal = marked + (marked + roots) * GOGC/100, capped by GOMEMLIMIT; the next cycle triggers at the
// goal minus 1.25x what the last cycle allocated during mark, within 60%..95% of the runway. Free pages go
// back to the OS through GoAlloc's scavenger.
@_spi(GoGC) import GoAlloc
import CGoRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Checkmark debug mode (Go: GODEBUG=gccheckmark=1): after marking, re-mark from the roots with the world
/// stopped and verify every object found was marked by the cycle.
public enum CheckmarkMode: UInt64, Sendable { case off = 0, count = 1, abort = 2 }

/// Collector options. Go: GOGC, GOMEMLIMIT, GODEBUG=gctrace/gccheckmark.
public struct GCConfig: Sendable {
    /// GOGC percent; nil is `GOGC=off`.
    public var gcPercent: Int? = 100
    /// GOMEMLIMIT, bytes (soft limit on the heap).
    public var memoryLimit: UInt64 = UInt64.max
    /// GODEBUG=gctrace=1.
    public var gctrace = false
    /// GODEBUG=gcstwtrace=1 (GoGC's own): one more line per cycle, where each stop-the-world pause's time
    /// went (waiting for mutators to stop, then each piece of work done with the world stopped).
    public var stwtrace = false
    public var checkmark: CheckmarkMode = .off
    /// GOMAXPROCS (the pacer's P count; background marking targets 25% of it).
    public var procs = gcProcs()
    /// Run cycles on a background coordinator thread (false: cycles run inside collect() only, and
    /// allocation never triggers one; used by tests that step phases by hand).
    public var concurrent = true
    /// Debug: the write barrier does nothing.
    public var writeBarrierDisabled = false
    /// Smallest heap goal (Go: heapminimum, 4 MiB at GOGC=100).
    public var minimumHeap: UInt64 = 4 << 20
    public var heap = GCConfig.defaultHeapConfig()

    public init() {}

    /// The allocator options a collected heap starts from: GODEBUG's, with 64 KiB spans for small objects
    /// (HeapConfig.minSmallSpanPages) and no prefaulting (HeapConfig.prefault): a collected heap grows to its
    /// goal and then reuses its swept spans, so a window faulted in ahead would mostly add to the peak RSS.
    public static func defaultHeapConfig() -> HeapConfig {
        var h = HeapConfig.fromEnvironment()
        h.minSmallSpanPages = 8
        h.prefault = false
        h.bulkRelease = false  // sweeps free in bulk every cycle, and the heap regrows to its goal
        return h
    }

    /// Defaults overridden by GOGC, GOMEMLIMIT and GODEBUG (gctrace, gccheckmark).
    public static func fromEnvironment() -> GCConfig {
        var c = GCConfig()
        if let e = getenv("GOGC") {
            // Go's readGOGC: exactly "off", or an atoi32 number (negative: off); anything else is 100.
            let s = String(cString: e)
            if s == "off" { c.gcPercent = nil } else if let n = GODEBUG.atoi32(s) { c.gcPercent = n < 0 ? nil : Int(n) }
        }
        // The same parse as the allocator's (HeapConfig.parseMemoryLimit, Go's syntax); a malformed value has
        // already been reported by HeapConfig.fromEnvironment (c.heap) and means no limit.
        if let e = getenv("GOMEMLIMIT"), let n = HeapConfig.parseMemoryLimit(e) { c.memoryLimit = n }
        if let e = getenv("GODEBUG") {
            GODEBUG.forEach(e) { k, v in
                if k == GODEBUG.key("gctrace") { c.gctrace = v != 0 }
                if k == GODEBUG.key("gcstwtrace") { c.stwtrace = v != 0 }
                if k == GODEBUG.key("gccheckmark") { c.checkmark = v != 0 ? .abort : .off }
            }
        }
        return c
    }
}

/// One collector instance: a heap, its mutators, roots and threads. `GC.shared` is the process default;
/// tests make their own.
public final class GC: @unchecked Sendable {
    let state: GCStatePtr
    /// The collector's heap: a handle valid while this GC lives (its deinit destroys the heap: GCTeardown.swift).
    public let heap: Heap
    public let config: GCConfig
    /// Guards the mutator registry; held for the whole of a stop-the-world.
    let registryLock: UnsafeMutablePointer<GCLock>
    var mutators: MutatorPtr? = nil
    /// The coordinator's gray buffer and cache (coordinator only, or collect()'s caller when not concurrent).
    let coordWork: UnsafeMutablePointer<GCWork>
    let coordCache: Cache
    /// Serializes cycles run by collect() in non-concurrent mode, and starting the coordinator.
    let cycleLock: UnsafeMutablePointer<GCLock>
    /// 1 once the coordinator thread was started: set under cycleLock (release store), checked without it
    /// first (acquire load), double-checked under it.
    var coordinatorStarted: UInt32 = 0
    let roots: SlotTable
    let weaks: SlotTable
    let fin = Finalizers()
    /// Large objects allocated since the last mark termination (largeLock); the sweeper's list.
    let largeLock: UnsafeMutablePointer<GCLock>
    var large: [UInt] = []
    var largeSweep: [UInt] = []
    /// Shading from threads that are not mutators (Root/Weak deinit): sharedLock guards sharedWork.
    let sharedLock: UnsafeMutablePointer<GCLock>
    let sharedWork: UnsafeMutablePointer<GCWork>
    /// The cycle in progress and the state of its stop-the-world phases. Owned by the coordinator, except
    /// while a phase it posted runs on the mutator that claimed it (see `handOff`; the claim's acq_rel
    /// exchange and the handoffDone bump hand them over and back).
    var cycle = CycleTimes()
    var markRestarts = 0
    var markTerminated = false
    /// Bytes marked by the last cycle (the assist ratio's expected scan work). Written in mark termination,
    /// read in sweep termination: both phases of the same owner (above).
    var lastHeapMarked: UInt64 = 0
    /// The current goal is the minimum heap, not GOGC's (set by pace in mark termination; same owner).
    var goalIsFloor = true
    /// HeapInuse minus the marked bytes right after the last sweep: span fragmentation, which GOMEMLIMIT's
    /// goal leaves room for. Written by the coordinator after sweeping, read by pace (same owner).
    var heapOverhead: UInt64 = 0
    var statsStore = GCStats()
    let statsLock: UnsafeMutablePointer<GCLock>
    let startNanos = monoNanos()

    public static let shared = GC()

    /// Testing: in non-concurrent mode, after `testMarkBudget` words of marking, run this (a mutator acting
    /// during concurrent mark), then finish marking.
    public var testMarkHook: (() -> Void)? = nil
    public var testMarkBudget = 0

    public init(config: GCConfig = .fromEnvironment()) {
        Geometry.check()
        // The collector's limit is also its heap's scavenging goal (Go: the scavenger's memory-limit goal).
        var heapConfig = config.heap
        heapConfig.memoryLimit = min(heapConfig.memoryLimit, config.memoryLimit)
        guard let h = Heap.create(config: heapConfig), let c = h.makeCache() else { gcFatal("GoGC: cannot create the heap") }
        heap = h
        coordCache = c
        self.config = config
        state = UnsafeMutablePointer<GCState>.allocate(capacity: 1)
        state.initialize(to: GCState())
        state.pointee.barrierDisabled = config.writeBarrierDisabled ? 1 : 0
        state.pointee.checkmark = config.checkmark.rawValue
        func lockPtr() -> UnsafeMutablePointer<GCLock> {
            let p = UnsafeMutablePointer<GCLock>.allocate(capacity: 1); p.initialize(to: GCLock()); return p
        }
        registryLock = lockPtr(); cycleLock = lockPtr(); largeLock = lockPtr(); sharedLock = lockPtr(); statsLock = lockPtr()
        coordWork = UnsafeMutablePointer<GCWork>.allocate(capacity: 1); coordWork.initialize(to: GCWork())
        sharedWork = UnsafeMutablePointer<GCWork>.allocate(capacity: 1); sharedWork.initialize(to: GCWork())
        roots = SlotTable()
        weaks = SlotTable()
        let pct = config.gcPercent ?? 100
        let minHeap = config.gcPercent == nil ? UInt64.max : max(UInt64(256 << 10), config.minimumHeap * UInt64(pct) / 100)
        state.pointee.goal = min(minHeap, config.memoryLimit)
        state.pointee.trigger = state.pointee.goal == UInt64.max ? UInt64.max : state.pointee.goal * 7 / 8
        statsStore.nextGC = state.pointee.goal
        state.pointee.owner = Unmanaged.passUnretained(self).toOpaque()
        state.pointee.heap = h
        h.gcSetSweepHook(gcCentralSweepHook, context: UnsafeMutableRawPointer(state))
    }

    @inline(__always) static func owner(of g: GCStatePtr) -> GC {
        Unmanaged<GC>.fromOpaque(g.pointee.owner!).takeUnretainedValue()
    }

    // MARK: mutators

    /// Registers the calling thread as a mutator. Use it from one thread at a time.
    public func makeMutator() -> Mutator {
        if isShutDown { gcFatal("GoGC: fatal error: makeMutator() on a GC that was shut down") }
        return Mutator(gc: self)
    }

    /// Runs `body` in a mutation scope of a temporary mutator (registration costs a cache; prefer a long-lived
    /// Mutator on hot threads). Inside a scope of this GC on this thread, `body` runs in a nested scope of that
    /// scope's mutator instead (a second mutator there would wait at its safepoint for the first, which this
    /// very thread holds, forever); its exit is then not a safepoint.
    public func withMutation<R>(_ body: (Mutation) throws -> R) rethrows -> R {
        if isShutDown { gcFatal("GoGC: fatal error: withMutation on a GC that was shut down") }
        if let open = scopeOfThisThread() {
            open.pointee.depth = open.pointee.depth + 1
            defer { open.pointee.depth = open.pointee.depth - 1 }
            return try body(Mutation(open))
        }
        let m = makeMutator()
        return try m.run(body)
    }

    /// The innermost open scope of this GC on the calling thread (its mutator), or nil.
    func scopeOfThisThread() -> MutatorPtr? {
        var s = gort_tls_get_gc_scope()?.assumingMemoryBound(to: MutatorState.self)
        while let x = s {
            if x.pointee.gc == state { return x }
            s = x.pointee.outerScope
        }
        return nil
    }

    func register(_ m: MutatorPtr) {
        registryLock.lock()
        // The bitmap its barrier and black allocation mark in. A stop holds registryLock, so the parity
        // cannot change until we are on the list, where sweep termination sets it for the next cycle.
        m.pointee.gcw.bitmap = Int(gort_load_relaxed(state.pointer(to: \.markParity)!))
        m.pointee.next = mutators
        if let f = mutators { f.pointee.prev = m }
        mutators = m
        registryLock.unlock()
    }

    func unregister(_ m: MutatorPtr) {
        registryLock.lock()
        if let p = m.pointee.prev { p.pointee.next = m.pointee.next } else { mutators = m.pointee.next }
        if let n = m.pointee.next { n.pointee.prev = m.pointee.prev }
        // Its gray objects and allocation count go to the global state; its reserved slots back to their spans
        // (unmarked while marking, when they were allocated black).
        let marking = state.isMarking
        let unreserved = Mutation(m).unreserve(unmark: marking)
        state.flush(m.pointer(to: \.gcw)!)
        if let b = m.pointee.gcw.buf { state.putEmptyBuf(b); m.pointee.gcw.buf = nil }   // flush keeps an empty one
        if marking { gort_fetch_add_relaxed(state.pointer(to: \.heapMarked)!, 0 &- unreserved) }
        gort_fetch_add_relaxed(state.pointer(to: \.heapLive)!, m.pointee.allocBytes &- unreserved)
        m.pointee.cache.release()
        registryLock.unlock()
    }

    func forEachMutator(_ body: (MutatorPtr) -> Void) {
        var m = mutators
        while let x = m { body(x); m = x.pointee.next }
    }

    // MARK: stop the world

    /// Stops every mutator at a scope boundary or safepoint. Returns with registryLock held, and how the
    /// wait went (GODEBUG=gcstwtrace).
    @discardableResult
    func stopTheWorld() -> StopWait {
        let t0 = monoNanos()
        var w = StopWait()
        registryLock.lock()
        _ = gort_exchange32_acqrel(state.pointer(to: \.stw)!, 1)
        gort_fence_seqcst()   // pairs with the fence in Mutation.unpark
        forEachMutator { m in
            var spins = 0
            while gort_load_acquire(m.pointer(to: \.status)!) != 0 {
                let ack = gort_load32_acquire(state.pointer(to: \.stwAck)!)
                if gort_load_acquire(m.pointer(to: \.status)!) == 0 { break }
                spins += 1
                // Spin briefly, yield a little, then sleep until the mutator's park wakes us (its fence makes
                // the wakeup reliable; the timeout is a guard). Long yield loops do not help: a mutator that
                // is not at a safepoint within microseconds is not running (descheduled by the OS), and under
                // EEVDF a yielding thread may not even let it onto this CPU.
                if spins < 64 { gort_cpu_relax(); continue }
                if spins < 64 + 16 { w.yields += 1; sched_yield(); continue }
                w.sleeps += 1
                futexWait(state.pointer(to: \.stwAck)!, ack, 1_000_000)
            }
        }
        w.nanos = monoNanos() - t0
        return w
    }

    func startTheWorld() {
        gort_store32_release(state.pointer(to: \.stw)!, 0)
        futexWakeAll(state.pointer(to: \.stw)!)
        registryLock.unlock()
    }

    // MARK: cycles

    /// Go: runtime.GC. Runs a full cycle (mark and sweep) that starts after this call. Call it outside any
    /// mutation scope of this thread (inside one, use `Mutation.collect()`).
    public func collect() {
        if isShutDown { gcFatal("GoGC: fatal error: collect() on a GC that was shut down") }
        // Inside a running scope of this thread the stop would wait for this very thread, forever.
        // (Mutation.collect parks its scope first, then calls this.)
        if let open = scopeOfThisThread(), gort_load_relaxed(open.pointer(to: \.status)!) == 1 {
            gcFatal("GoGC: fatal error: gc.collect() called inside a mutation scope of this thread, where it would wait for itself (use m.collect() there)")
        }
        if !config.concurrent {
            cycleLock.lock()
            runCycle(forced: true)
            cycleLock.unlock()
            return
        }
        let target = gort_load_acquire(state.pointer(to: \.started)!) + 1
        requestCycle(forced: true)
        while true {
            let done = gort_load32_acquire(state.pointer(to: \.cycleDone)!)
            if gort_load_acquire(state.pointer(to: \.finished)!) >= target { return }
            if gort_load32_acquire(state.pointer(to: \.coordinatorExited)!) != 0 {
                gcFatal("GoGC: fatal error: collect() raced with GC.shutdown()")
            }
            futexWait(state.pointer(to: \.cycleDone)!, done, 10_000_000)
        }
    }

    /// Asks the coordinator for a cycle (allocation trigger or collect()).
    func requestCycle(forced: Bool) {
        guard config.concurrent else { return }
        if forced { gort_store_release(state.pointer(to: \.forcedPending)!, 1) }
        if gort_load32_acquire(&coordinatorStarted) == 0 {
            cycleLock.lock()
            if gort_load32_acquire(&coordinatorStarted) == 0 {
                gort_store32_release(&coordinatorStarted, 1)
                startThread(name: "gogc-coord") { [self] in coordinatorLoop() }
            }
            cycleLock.unlock()
        }
        var e: UInt64 = 0
        if gort_cas_acqrel(state.pointer(to: \.requested)!, &e, 1) {
            _ = gort_fetch_add32_acqrel(state.pointer(to: \.wake)!, 1)
            _ = gort_futex_wake(state.pointer(to: \.wake)!, 1)
        }
    }

    /// The coordinator thread. A request is consumed (requested 1 -> 0) *before* its cycle runs, so a request
    /// made while a cycle runs (a collect() that needs a cycle starting after its call, or a trigger) sets
    /// `requested` again and gets the next cycle: no request is lost.
    func coordinatorLoop() {
        while true {
            let w = gort_load32_acquire(state.pointer(to: \.wake)!)
            if gort_load32_acquire(state.pointer(to: \.shutdown)!) != 0 {
                gort_store32_release(state.pointer(to: \.coordinatorExited)!, 1)
                _ = gort_futex_wake(state.pointer(to: \.coordinatorExited)!, 1)
                return
            }
            _ = gort_exchange_acqrel(state.pointer(to: \.requested)!, 0)
            let forced = gort_exchange_acqrel(state.pointer(to: \.forcedPending)!, 0) != 0
            // A trigger request counts only while the heap is still over the trigger: mutators keep
            // requesting until sweep termination runs, so a request can be left over from the cycle that just
            // ended, and it would start the next one at once, long before its trigger.
            if !forced && gort_load_relaxed(state.pointer(to: \.heapLive)!) < gort_load_relaxed(state.pointer(to: \.trigger)!) {
                futexWait(state.pointer(to: \.wake)!, w, -1)
                continue
            }
            runCycle(forced: forced)
        }
    }

    /// One whole cycle, phases in order. Caller: the coordinator (or collect() when not concurrent). The two
    /// stop-the-world phases run by handoff (see `handOff`): on the first mutator to reach a safepoint, or here
    /// when no mutator is inside a scope.
    func runCycle(forced: Bool) {
        cycle = CycleTimes()
        cycle.forced = forced
        cycle.start = monoNanos()
        cycle.heapStart = gort_load_relaxed(state.pointer(to: \.heapLive)!)
        cycle.goal = gort_load_relaxed(state.pointer(to: \.goal)!)
        markRestarts = 0
        gort_store_release(state.pointer(to: \.started)!, gort_load_relaxed(state.pointer(to: \.started)!) + 1)
        handOff(.sweepTermination)
        cycle.markStart = monoNanos()
        let cpu0 = threadCPUNanos()
        markRoots()
        cycle.markCPU += threadCPUNanos() - cpu0
        while true {
            concurrentMark()
            handOff(.markDone)
            if markTerminated { break }
        }
        // The heap's peak, if mark termination could not read it in the pause (MHeap's lock was held): sweeping
        // has not started, but mutators may have allocated since the world restarted.
        if cycle.heapInuse == 0 { cycle.heapInuse = UInt64(heap.gcInuseBytes) }
        if cycle.liveBefore > 0 { cycle.heapOverLive = Double(cycle.heapInuse) / Double(cycle.liveBefore) }
        sweep()
        let inuse = UInt64(heap.gcInuseBytes)
        heapOverhead = inuse > cycle.heapMarked ? inuse - cycle.heapMarked : 0
        finishCycle(&cycle)
    }

    // MARK: stop-the-world phases by handoff

    /// A stop-the-world phase posted in GCState.handoff.
    enum Handoff: UInt32 {
        case none = 0
        /// Phase 1.
        case sweepTermination = 1
        /// Go: gcMarkDone. Stop the world; if mutators held gray objects, restart it (marking resumes),
        /// else run mark termination (phase 3).
        case markDone = 2
    }

    /// Runs a stop-the-world phase. Go runs sweep termination on the goroutine whose allocation started the
    /// cycle, so that stop waits for no one but the other Ps. Here the coordinator posts the phase and the
    /// first mutator to reach a safepoint or leave its scope runs it (`runHandoff`), with itself already
    /// stopped: a mutator that the OS has descheduled delays the phase, but not with the world stopped. When
    /// no mutator is inside a scope, nobody will come, and the coordinator claims the phase itself. The
    /// claim is an exchange of GCState.handoff to 0, so exactly one thread runs the phase; it owns `cycle`
    /// and the other phase state until it bumps handoffDone (release), which the coordinator waits for.
    func handOff(_ kind: Handoff) {
        guard config.concurrent else { runPhase(kind); return }
        let done0 = gort_load32_acquire(state.pointer(to: \.handoffDone)!)
        gort_store32_release(state.pointer(to: \.handoff)!, kind.rawValue)
        futexWakeAll(state.pointer(to: \.handoff)!)   // mutators in waitForMark
        while gort_load32_acquire(state.pointer(to: \.handoffDone)!) == done0 {
            if runningMutators() == 0 {
                if gort_exchange32_acqrel(state.pointer(to: \.handoff)!, 0) == kind.rawValue { runPhase(kind); return }
                // Otherwise a mutator claimed it a moment ago: wait for it to finish.
            }
            futexWait(state.pointer(to: \.handoffDone)!, done0, 50_000)
        }
    }

    /// Called by a mutator that has just parked (status 0) and saw a posted phase: claims and runs it.
    func runHandoff() {
        let k = gort_exchange32_acqrel(state.pointer(to: \.handoff)!, 0)
        guard let kind = Handoff(rawValue: k), kind != .none else { return }
        runPhase(kind)
        _ = gort_fetch_add32_acqrel(state.pointer(to: \.handoffDone)!, 1)
        _ = gort_futex_wake(state.pointer(to: \.handoffDone)!, 1)
    }

    func runPhase(_ kind: Handoff) {
        switch kind {
        case .none: break
        case .sweepTermination: sweepTermination(&cycle)
        case .markDone: markDone(&cycle)
        }
    }

    /// How many registered mutators are inside a scope (not parked at a safepoint) at this moment. A hint
    /// (`handOff`, idle marking): stopTheWorld waits for every mutator anyway.
    func runningMutators() -> Int {
        registryLock.lock()
        var n = 0
        forEachMutator { m in if gort_load_acquire(m.pointer(to: \.status)!) != 0 { n += 1 } }
        registryLock.unlock()
        return n
    }

    /// Phase 1 (STW).
    func sweepTermination(_ t: inout CycleTimes) {
        let w0 = monoNanos()
        t.stop1 = stopTheWorld()
        let t0 = monoNanos()
        sweepUnswept()   // normally nothing is left: the previous cycle swept to the end
        t.stSweep = monoNanos() - t0
        let parity = GCArena.markBitmap
        gort_store_relaxed(state.pointer(to: \.markParity)!, UInt64(parity))
        gort_store_relaxed(state.pointer(to: \.heapMarked)!, 0)
        let live = gort_load_relaxed(state.pointer(to: \.heapLive)!)
        let goal = gort_load_relaxed(state.pointer(to: \.goal)!)
        // Go: assistWorkPerByte = expected scan work / heap distance to the goal. Expected scan work: the
        // last cycle's marked heap (in words), or the whole live heap on the first cycle.
        let expected = Double(max(lastHeapMarked, 1 << 20)) / 8
        let distance = Double(goal > live ? max(goal - live, 1 << 20) : 1 << 20)
        state.assistRatio = expected / distance
        coordWork.pointee.bitmap = parity
        sharedWork.pointee.bitmap = parity
        var stackWords = 0
        var unreserved: UInt64 = 0
        forEachMutator { m in
            m.pointee.gcw.bitmap = parity
            unreserved &+= Mutation(m).unreserve(unmark: false)
            for i in 0..<m.pointee.stackCount { state.shade(m.pointee.stack[i], coordWork) }
            stackWords += m.pointee.stackCount
        }
        t.stackBytes = UInt64(stackWords * 8)
        gort_store_relaxed(state.pointer(to: \.heapLive)!, gort_load_relaxed(state.pointer(to: \.heapLive)!) &- unreserved)
        fin.forEachQueued { p in state.shade(p, coordWork) }
        gort_store_relaxed(state.pointer(to: \.writeBarrier)!, 1)
        gort_store_relaxed(state.pointer(to: \.phase)!, GCPhase.mark.rawValue)
        t.stw1 = monoNanos() - t0
        startTheWorld()
        t.stw1Total = monoNanos() - w0
    }

    /// Root table and finalizer objects' children (concurrent with mutators).
    func markRoots() {
        roots.forEachChunk { p in state.shade(p, coordWork) }
        fin.forEachRegistered { p in state.scan(p, coordWork) }
    }

    /// Phase 2: drain gray work at ~25% of GOMAXPROCS until none is left anywhere we can see.
    func concurrentMark() {
        guard config.concurrent else {
            if let hook = testMarkHook {
                state.drain(coordWork, budget: testMarkBudget)
                hook()
            }
            state.drain(coordWork, budget: Int.max)
            return
        }
        let util = min(1.0, Double(config.procs) * 0.25)
        let slice: Int64 = 1_000_000
        while true {
            let t0 = monoNanos()
            let cpu0 = threadCPUNanos()
            // Go: idle mark workers. A P that no mutator runs on marks at full speed; here, when fewer
            // mutators are inside scopes than GOMAXPROCS, this slice is such a worker's and is not followed by
            // a sleep. Marking sooner means less allocation during mark, which is all allocated black:
            // floating garbage that inflates the marked heap and so the next goal.
            let idle = runningMutators() - Int(gort_load_acquire(state.pointer(to: \.assistWaiters)!)) < config.procs
            var worked = false
            while monoNanos() - t0 < slice {
                if state.drain(coordWork, budget: 16384) == 0 { break }
                worked = true
                // Depth-first marking keeps its gray objects in this one local buffer, which never fills for
                // tree-shaped data: share half when the global list is empty, so mutator assists find work and
                // really slow allocation during mark (less floating garbage).
                state.balance(coordWork)
            }
            // nfull before nbusy: an assist raises nbusy before it takes a buffer and lowers it after giving
            // back what it did not scan, so work is never in neither place when both read 0 in this order.
            if !worked && !state.hasLocalWork(coordWork) && gort_load_acquire(state.pointer(to: \.nfull)!) == 0
                && gort_load_acquire(state.pointer(to: \.nbusy)!) == 0 {
                return   // mutators may still hold gray objects: mark termination flushes and drains them
            }
            if idle { cycle.idleCPU += threadCPUNanos() - cpu0 } else { cycle.markCPU += threadCPUNanos() - cpu0 }
            if !worked {
                // Assists hold the remaining gray objects (nbusy): wait a little for what they give back
                // rather than spin on an idle P, which is CPU time the program pays for.
                let w = gort_load32_acquire(state.pointer(to: \.markWake)!)
                futexWait(state.pointer(to: \.markWake)!, w, 20_000)
                continue
            }
            if util < 1 && !idle {
                let busy = monoNanos() - t0
                let sleep = Int64(Double(busy) * (1 - util) / util)
                // On markWake: a mutator that starts waiting for mark (over the goal) ends the sleep.
                let w = gort_load32_acquire(state.pointer(to: \.markWake)!)
                if sleep > 0 && gort_load_acquire(state.pointer(to: \.assistWaiters)!) == 0 {
                    futexWait(state.pointer(to: \.markWake)!, w, min(sleep, 50_000_000))
                }
            }
        }
    }

    /// Go: gcMarkDone. Stops the world and collects every mutator's gray objects (barrier shades, leftovers
    /// of assists). If there are any, the world restarts and concurrent marking resumes (`markTerminated`
    /// false): mark termination must not trace a large subgraph with the world stopped (a gray object can
    /// stand for millions of white ones). After `maxMarkRestarts` the rest is drained in mark termination.
    /// The restarts' pauses go to `t.restartPause`.
    func markDone(_ t: inout CycleTimes) {
        let maxMarkRestarts = 3
        let w0 = monoNanos()
        t.stop2 = stopTheWorld()
        forEachMutator { m in state.flush(m.pointer(to: \.gcw)!) }
        sharedLock.lock(); state.flush(sharedWork); sharedLock.unlock()
        let more = gort_load_relaxed(state.pointer(to: \.nfull)!) != 0 || state.hasLocalWork(coordWork)
        if more && markRestarts < maxMarkRestarts && config.concurrent {
            startTheWorld()
            t.restartPause += monoNanos() - w0
            markRestarts += 1
            t.restarts = markRestarts
            markTerminated = false
            return
        }
        markTermination(&t, stopBegan: w0)
        markTerminated = true
    }

    /// Phase 3 (STW; the world was stopped by markDone at `stopBegan`).
    func markTermination(_ t: inout CycleTimes, stopBegan w0: Int64) {
        let t0 = monoNanos()
        gort_store_relaxed(state.pointer(to: \.phase)!, GCPhase.markTermination.rawValue)
        var assist: Int64 = 0
        forEachMutator { m in
            state.flush(m.pointer(to: \.gcw)!)
            if let b = m.pointee.gcw.buf { state.putEmptyBuf(b); m.pointee.gcw.buf = nil }   // flush keeps an empty one
            assist += m.pointee.assistNanos
            m.pointee.assistNanos = 0
        }
        t.assistCPU = assist
        sharedLock.lock(); state.flush(sharedWork); sharedLock.unlock()
        state.drain(coordWork, budget: Int.max)
        let tDrain = monoNanos()
        t.mtDrain = tDrain - t0
        let parity = Int(gort_load_relaxed(state.pointer(to: \.markParity)!))
        // Weak references to unmarked objects clear before finalizers resurrect anything (Go's order).
        t.weakCleared = weaks.clearUnmarked { p in state.isMarked(p, parity) }
        // Finalizers: an unmarked object with a finalizer is kept (marked) one more cycle and queued.
        t.finalizersQueued = fin.queueUnmarked(isMarked: { p in state.isMarked(p, parity) }) { p in state.shade(p, coordWork) }
        state.drain(coordWork, budget: Int.max)
        state.flush(coordWork)
        let tWeak = monoNanos()
        t.mtWeakFin = tWeak - tDrain
        if state.pointee.checkmark != 0 { runCheckmark(parity) }
        let tCheck = monoNanos()
        t.mtCheckmark = tCheck - tWeak
        // Slots reserved during mark and not handed out were marked black: unmark and uncount them.
        var unreserved: UInt64 = 0
        forEachMutator { m in unreserved &+= Mutation(m).unreserve(unmark: true) }
        gort_store_relaxed(state.pointer(to: \.heapMarked)!, gort_load_relaxed(state.pointer(to: \.heapMarked)!) &- unreserved)
        t.heapMarked = gort_load_relaxed(state.pointer(to: \.heapMarked)!)
        t.heapEnd = gort_load_relaxed(state.pointer(to: \.heapLive)!)
        // The heap's peak, with the world still stopped, if MHeap's lock is free (else runCycle reads it after
        // the restart): read after the restart by a coordinator short of CPU, it held what the mutators allocated
        // meanwhile toward the next goal (PacerTests beside eight busy loops: 4.2x "over live", from a heap
        // that mark termination had found at 1.9x).
        t.heapInuse = UInt64(heap.gcInuseBytesIfUnlocked ?? 0)
        // The "heap within 2.2x of live" compares this cycle's peak with the live heap the previous
        // cycle marked (Go's "live heap"; the goal was made from it), unless the goal was the minimum heap.
        // HeapInuse itself is read by the coordinator after the world restarts (runCycle): it takes MHeap's
        // lock, which other threads hold for span allocation and the scavenger for its bookkeeping.
        t.liveBefore = !goalIsFloor ? lastHeapMarked : 0
        lastHeapMarked = t.heapMarked
        // Go: heapLive = heapMarked at mark termination. Everything allocated during mark was allocated black
        // and so is in heapMarked (mutators' unflushed counts are dropped for that reason; at mark start they
        // were all flushed by park). Unmarked objects are no longer counted: sweeping frees them without
        // touching heapLive, so the pacer never sees unswept garbage as live.
        forEachMutator { m in m.pointee.allocBytes = 0 }
        gort_store_relaxed(state.pointer(to: \.heapLive)!, t.heapMarked)
        gort_store_relaxed(state.pointer(to: \.writeBarrier)!, 0)
        gort_store_relaxed(state.pointer(to: \.phase)!, GCPhase.off.rawValue)
        gort_store_relaxed(state.pointer(to: \.sweepgen)!, gort_load_relaxed(state.pointer(to: \.sweepgen)!) + 2)
        // Every cached span goes back to its MCentral, then every MCentral flips: all spans are now unswept,
        // and a mutator's allocation slots are reset (AllocSlot), so it takes and sweeps a span before allocating.
        forEachMutator { m in
            m.pointee.cache.flush()
            Mutation(m).resetSlots()
        }
        heap.gcFlipCentrals()
        largeLock.lock()
        largeSweep = large
        large = []
        largeLock.unlock()
        pace(marked: t.heapMarked, stackBytes: t.stackBytes,
             allocDuringMark: t.heapEnd > t.heapStart ? t.heapEnd - t.heapStart : 0)
        gort_store_relaxed(state.pointer(to: \.numGC)!, gort_load_relaxed(state.pointer(to: \.numGC)!) + 1)
        t.stw2 = monoNanos() - t0
        t.mtCaches = monoNanos() - tCheck
        t.markWall = w0 - t.markStart
        startTheWorld()
        // Restart pauses count as mark termination's (conservative: reported as one longer pause).
        t.stw2Total = monoNanos() - w0 + t.restartPause
        fin.wake(self)
    }

    /// The pacer. Go: gcControllerState.commit (heap goal) and the trigger. `allocDuringMark`: what the
    /// mutators allocated from this cycle's start to its mark termination.
    func pace(marked: UInt64, stackBytes: UInt64, allocDuringMark: UInt64) {
        var goal = UInt64.max
        goalIsFloor = false
        if let pct = config.gcPercent {
            goal = marked + (marked + stackBytes + UInt64(roots.count * 8)) * UInt64(pct) / 100
            let floor = config.minimumHeap * UInt64(pct) / 100
            if goal < floor { goal = floor; goalIsFloor = true }
        }
        if config.memoryLimit != UInt64.max {
            // Soft limit on the memory the heap occupies (Go counts all runtime memory; here HeapInuse): the
            // goal, in object bytes, leaves room for the fragmentation the last sweep left (heapOverhead).
            let room = config.memoryLimit > heapOverhead ? config.memoryLimit - heapOverhead : 0
            // A marked heap at or above the room (live data, or floating garbage: what was allocated during
            // the last mark): Go then collects back to back under a 50% CPU cap. GoGC has no CPU cap, so a
            // minimum runway (1/32 of the marked heap, at least 256 KiB) keeps the mutator from waiting on
            // mark all the time; small, so the heap overshoots the limit by little.
            goal = min(goal, max(room, marked + max(marked / 32, 256 << 10)))
        }
        gort_store_relaxed(state.pointer(to: \.goal)!, goal)
        // The trigger leaves room for what the last cycle allocated while it ran, plus a quarter (Go derives
        // the same from its measured allocation and mark rates), and at least 30% of the runway, at most 40%
        // (a trigger at 60%..70% of the way from the marked heap to the goal; Go's bounds are 60%..95%, and on
        // binary-trees Go settles near 70%). The 30% floor: a mutator here waits at the goal (waitForMark)
        // instead of being slowed gradually by assists, so what it allocates during mark understates what it
        // would have, and a late trigger just makes it wait with the heap at the goal. Triggering earlier
        // costs cycles (binary-trees-21: 125 -> 135, CPU +8%) and lowers the heap's peaks (peak RSS 302 -> 275
        // MiB: the cycle after the stretch tree no longer lets the heap reach twice its 118 MiB).
        var trigger = UInt64.max
        if goal != UInt64.max {
            let runway = goal - marked
            let room = min(max(allocDuringMark + allocDuringMark / 4, runway * 3 / 10), runway * 2 / 5)
            trigger = goal - room
        }
        gort_store_relaxed(state.pointer(to: \.trigger)!, trigger)
    }

    /// Phase 4: sweep every span that was uncached at mark termination, and the large objects.
    func sweep() {
        sweepUnswept()
        let parity = Int(gort_load_relaxed(state.pointer(to: \.markParity)!))
        var freedBytes = 0
        for p in largeSweep {
            if state.isMarked(p, parity) {
                // Clear the mark for the next cycle (see GCArena); only the object's first granule is used.
                // Its mark word covers the span's first page alone, so no other sweeper touches it.
                if let a = state.arena(p) { state.clearMark(a, p, parity) }
                largeAppend(p)
            } else {
                let raw = UnsafeMutableRawPointer(bitPattern: p)!
                freedBytes += heap.span(of: raw).map { Int($0.gcElemSize) } ?? 0
                coordCache.deallocate(raw)
            }
        }
        largeSweep = []
        _ = freedBytes   // not subtracted from heapLive: see markTermination
    }

    func sweepUnswept() {
        for spc in 2..<numSpanClasses {
            while let s = heap.gcPopUnswept(spc) {
                state.sweepSpan(s, keep: 0)
                heap.gcReturnSpan(s)
            }
        }
    }

    /// Go: sweep assist (deductSweepCredit). A mutator whose allocation passed the trigger while the last
    /// cycle's sweep is unfinished sweeps up to `maxSpans` spans: the next cycle cannot start before that
    /// sweep ends, and meanwhile allocation would run on past the goal. Any thread; each span popped is
    /// held exclusively until it is returned. Returns the number swept.
    @discardableResult
    func sweepSome(_ maxSpans: Int) -> Int {
        var n = 0
        for spc in 2..<numSpanClasses {
            while n < maxSpans, let s = heap.gcPopUnswept(spc) {
                state.sweepSpan(s, keep: 0)
                heap.gcReturnSpan(s)
                n += 1
            }
            if n >= maxSpans { break }
        }
        return n
    }

    func largeAppend(_ p: UInt) {
        largeLock.lock()
        large.append(p)
        largeLock.unlock()
    }

    /// Shades `p` from a thread that may not be a mutator (Root/Weak release during mark).
    func shadeShared(_ p: UInt) {
        if p == 0 || !state.isMarking { return }
        sharedLock.lock()
        state.shade(p, sharedWork)
        state.flush(sharedWork)
        sharedLock.unlock()
    }

    /// Returns every free page to the OS now (Go: debug.FreeOSMemory, after a collection).
    @discardableResult public func releaseMemory() -> Int { heap.gcScavenge(all: true) }

    /// Stops this collector: a last full collection, then its coordinator and finalizer threads exit and its
    /// free pages go back to the OS. For programs that make collectors as they go (a VM per script, tests):
    /// afterwards the `GC` holds no thread, and once the program drops its last Root, Weak and reference to it,
    /// it is released with its whole heap (GCTeardown.swift). Every Mutator must have been released first, and
    /// nothing may use the GC after (both are fatal errors).
    public func shutdown() {
        if gort_exchange32_acqrel(state.pointer(to: \.shutdownClaimed)!, 1) != 0 {
            gcFatal("GoGC: fatal error: GC.shutdown() called twice")
        }
        // Every mutator but the finalizer thread's must be gone (it marks its own before registering it).
        registryLock.lock()
        var others = 0
        forEachMutator { m in if !m.pointee.isFinalizer { others += 1 } }
        registryLock.unlock()
        if others != 0 { gcFatal("GoGC: fatal error: GC.shutdown() with Mutators still alive (release them first)") }
        collect()
        fin.stop()
        if config.concurrent {
            cycleLock.lock()
            let started = gort_load32_acquire(&coordinatorStarted) != 0
            cycleLock.unlock()
            gort_store32_release(state.pointer(to: \.shutdown)!, 1)
            if started {
                _ = gort_fetch_add32_acqrel(state.pointer(to: \.wake)!, 1)
                _ = gort_futex_wake(state.pointer(to: \.wake)!, 1)
                while gort_load32_acquire(state.pointer(to: \.coordinatorExited)!) == 0 {
                    futexWait(state.pointer(to: \.coordinatorExited)!, 0, 10_000_000)
                }
            }
        } else {
            gort_store32_release(state.pointer(to: \.shutdown)!, 1)
        }
        releaseMemory()
    }

    /// Whether shutdown() has run.
    public var isShutDown: Bool { gort_load32_acquire(state.pointer(to: \.shutdown)!) != 0 }

    deinit { releaseEverything() }   // GCTeardown.swift
}

/// A registered mutator thread. Go: an M with its P's mcache. Create one per thread; `run` opens a scope.
public final class Mutator: @unchecked Sendable {
    public let gc: GC
    let m: MutatorPtr

    init(gc: GC, finalizer: Bool = false) {
        self.gc = gc
        guard let c = gc.heap.makeCache() else { gcFatal("GoGC: cannot create a cache") }
        let slots = UnsafeMutablePointer<AllocSlot>.allocate(capacity: numSpanClasses)
        slots.initialize(repeating: AllocSlot(), count: numSpanClasses)
        let stack = gcMap(MutatorState.stackBytes).assumingMemoryBound(to: UInt.self)
        m = UnsafeMutablePointer<MutatorState>.allocate(capacity: 1)
        m.initialize(to: MutatorState(gc: gc.state, cache: c, slots: slots, stack: stack,
                                      stackCapacity: MutatorState.stackBytes / 8))
        m.pointee.isFinalizer = finalizer
        gc.register(m)
    }

    deinit {
        if m.pointee.depth != 0 { gcFatal("GoGC: fatal error: Mutator released inside its scope") }
        gc.unregister(m)
        munmap(UnsafeMutableRawPointer(m.pointee.stack), MutatorState.stackBytes)
        m.pointee.slots.deallocate()
        m.deallocate()
    }

    /// Runs `body` in a mutation scope. Scopes nest; the outermost entry and exit are the safepoints.
    @inline(__always)
    public func run<R>(_ body: (Mutation) throws -> R) rethrows -> R {
        let mu = Mutation(m)
        let me = UInt64(pthread_self())
        if m.pointee.depth == 0 {
            let outer = gort_tls_get_gc_scope()?.assumingMemoryBound(to: MutatorState.self)
            if let o = outer { Mutator.checkNesting(m, in: o) }
            m.pointee.outerScope = outer
            gort_tls_set_gc_scope(UnsafeMutableRawPointer(m))
            gort_store_relaxed(m.pointer(to: \.thread)!, me)
            mu.unpark()
        } else if gort_load_relaxed(m.pointer(to: \.thread)!) != me {
            gcFatal("GoGC: fatal error: one Mutator used by two threads at once (make a Mutator per thread)")
        }
        m.pointee.depth = m.pointee.depth + 1
        defer {
            m.pointee.depth = m.pointee.depth - 1
            if m.pointee.depth == 0 {
                mu.park()
                gort_tls_set_gc_scope(UnsafeMutableRawPointer(m.pointee.outerScope))
                m.pointee.outerScope = nil
            }
        }
        return try body(mu)
    }

    /// A scope of `m` opening while this thread is in scope `open` (and those outside it): scopes of other GCs
    /// may nest, but a second mutator of the same GC would wait at its first safepoint for the first one,
    /// which this thread holds, forever.
    @inline(never)
    static func checkNesting(_ m: MutatorPtr, in open: MutatorPtr) {
        var s: MutatorPtr? = open
        while let x = s {
            if x.pointee.gc == m.pointee.gc {
                gcFatal("GoGC: fatal error: a Mutator's scope opened inside another Mutator's scope of the same GC on one thread, where its safepoints would wait for the outer one forever (use the outer Mutation, or gc.withMutation, which reuses it)")
            }
            s = x.pointee.outerScope
        }
    }
}
