// Returning memory to the OS. Go: mgcscavenge.go (bgscavenge) and, for explicit free, bgsweep (mgcsweep.go).
//
// Free pages stay mapped so the next span is cheap. The scavenger releases the ones that have stayed free for a
// whole period (pageOldFree marks pages that were free and unreleased at the previous pass), with MADV_DONTNEED
// by default so RSS drops at once, or MADV_FREE with GODEBUG=madvdontneed=0 (the seed's section 2: the kernel
// then reclaims lazily and RSS stays high until memory pressure). Before scavenging, the same thread sweeps the
// MCentrals that have pending remote frees, so spans emptied by frees from other threads go back to the heap
// even if nobody allocates again.
//
// GOMEMLIMIT (HeapConfig.memoryLimit; Go: the scavenger's memory-limit goal and mheap.allocSpan's synchronous
// scavenging): when the heap's retained pages (mapped, not released) exceed the limit, the thread allocating a
// span releases the excess right away (unless the pages in use alone exceed the limit: then releasing on every
// span would only re-fault the same pages) and each background pass releases down to 95 % of the limit, taking
// free pages of any age, highest arenas first (allocation is first-fit from the lowest, so those stay free longest).
//
// Bulk release: when a big heap shrinks (the pages in use fall to half their peak since the last bulk release,
// with at least 256 MiB free and resident), freeSpan asks the background thread to release the free pages now,
// down to the pages in use plus an eighth (at least 64 MiB) for reuse, instead of after one or two periods.
// A program that frees most of a large heap at once (the join of a million Swift tasks, the end of a phase)
// then pays for the release on another CPU while it goes on, not in the kernel's teardown at exit (1.4 GB: 85
// ms on the exiting thread). At most one bulk release a second. A heap never 256 MiB idle does not qualify,
// so workloads that free and reuse tens of MiB every few milliseconds keep the aging's grace; garbage-collected
// heaps do not use it (HeapConfig.bulkRelease: their sweeps free in bulk every cycle).
//
// The thread starts when the heap first has ScavengerState.startPages in use (small programs never get one;
// jemalloc and mimalloc avoid background threads the same way) and sleeps on a futex between passes.
// releaseMemory() (Go: debug.FreeOSMemory) does a full sweep and releases every free page now.
import CGoRuntime

/// Scavenger bookkeeping (in MHeap).
struct ScavengerState {
    /// Whether the background thread was started (MHeap.lock).
    var started = false
    /// Set to 1 by remote frees into uncached spans; the background pass sweeps when set, and so does allocSpan
    /// before it grows the heap; sweepCentrals clears it once it holds the sweeping turn (atomic, relaxed: a hint,
    /// the work itself is found through each MCentral's pendingAny).
    var sweepPending: UInt64 = 0
    /// 1 while a thread runs sweepCentrals: one such sweep at a time, since two sweepAll of one class would each
    /// flip its sweep generation and re-sweep the spans the other pushes. Taken with an acquire exchange,
    /// dropped with a release store; reset in a forked child (ThreadCache.swift, forkChild).
    var sweeping: UInt32 = 0
    /// Futex word the thread sleeps on. A prefault request (Prefault.swift, wakeBackground) stores 1 with
    /// release after publishing its window under MHeap.lock, then futex-wakes; the thread stores 0 (relaxed)
    /// when it wakes and only then takes MHeap.lock to look for a window, so no request is missed.
    var wake: UInt32 = 0
    /// 1 asks the thread to leave (MHeap.destroy: HeapTeardown.swift); the thread stores 2 as its last access.
    /// 2 also when the thread could not be created.
    var stop: UInt32 = 0
    /// The process that started the thread (a forked child has no such thread: destroy must not wait for it).
    /// Written before the thread is created, by the thread that creates it; read by destroy.
    var threadPid: Int32 = 0
    /// Bulk release (see the design note): the most pages in use since the last one, and a request for the
    /// background thread (MHeap.lock).
    var peakInusePages = 0
    var bulkPending = false
    var bulkReleases: UInt64 = 0
    /// When the last bulk release was asked for (nanotime; MHeap.lock): at most one a second.
    var lastBulkNS: UInt64 = 0

    /// A heap that shrinks and regrows by hundreds of MiB several times a second would otherwise release and
    /// fault in its memory on every cycle; one bulk release a second bounds that to what the heap shrank by once.
    static let bulkMinIntervalNS: UInt64 = 1_000_000_000

    /// Idle pages (free, not released) that, with the pages in use down to half their peak, make a bulk release.
    static let bulkIdlePages = (256 << 20) / pageSize

    /// 16 MiB in use.
    static let startPages = (16 << 20) / pageSize
}

extension UnsafeMutablePointer where Pointee == MHeap {
    /// Sweeps every MCentral (all = true) or those with pending remote frees. Returns spans freed. One caller
    /// at a time (ScavengerState.sweeping): with `wait` false it returns 0 at once if another thread is
    /// sweeping (the background pass and allocSpan: that sweep frees the same spans), else it waits its turn.
    /// Clears sweepPending only once it holds the turn, so a caller that steps aside leaves the flag for the
    /// next sweep (a free flagged during this one sets it again, and its MCentral's pendingAny).
    @discardableResult
    func sweepCentrals(all: Bool, wait: Bool = false) -> Int {
        while gort_exchange32_acquire(&pointee.scav.sweeping, 1) != 0 {
            if !wait { return 0 }
            sched_yield()
        }
        gort_store_relaxed(&pointee.scav.sweepPending, 0)
        var freed = 0
        for i in 0..<numSpanClasses {
            let m = central(SpanClass(UInt8(i)))
            if all || gort_load_relaxed(&m.pointee.pendingAny) != 0 { freed += m.sweepAll(self) }
        }
        gort_store32_release(&pointee.scav.sweeping, 0)
        return freed
    }

    /// Releases free pages to the OS: all of them (`all`), or those free since the previous pass; with a `goal`,
    /// only until the heap's retained bytes are down to it (re-read at each take of the lock, so concurrent
    /// passes do not each release the whole excess), from the highest arena down.
    /// Returns bytes released. Takes MHeap.lock, but not across the madvise calls: like Go's scavenger, it
    /// claims a batch of free runs under the lock (off pageFree, marked scavenged: HeapArena.claimedPages), drops
    /// the lock to release them, and hands them back as free pages. So a thread that needs a span never waits for
    /// the kernel to unmap pages (it did: `batch` spent a third of its wall time blocked, at a tenth more CPU).
    @discardableResult
    func scavenge(all: Bool, goal: UInt64? = nil) -> Int {
        var released = 0
        let dontneed = pointee.config.madvDontNeed
        // Pages still to release for the goal (under the lock).
        func budgetLocked() -> Int {
            guard let goal else { return Int.max }
            let retained = retainedBytesLocked()
            return retained > goal ? Int((retained - goal + UInt64(pageSize) - 1) >> UInt64(pageShift)) : 0
        }
        pointee.lock.lock()
        var budget = budgetLocked()
        var i = 0
        while i < pointee.arenaCount && budget > 0 {
            let a = pointee.arenas[goal != nil ? pointee.arenaCount - 1 - i : i]
            i += 1
            let free = a.pageBits(.free), scav = a.pageBits(.scavenged), old = a.pageBits(.oldFree)
            let zeroed = a.pageBits(.zeroed)
            if a.pointee.freePages == a.pointee.scavengedPages - a.pointee.claimedPages { continue }
            // Candidates go into oldFree's storage: free & !scavenged & (all || old).
            for w in 0..<pageWordsPerArena {
                old[w] = free[w] & ~scav[w] & (all ? ~0 : old[w])
            }
            var batch = RunBatch()
            while budget > 0 {
                batch.count = 0
                _ = PageBitmap.firstRun(old) { start, n in batch.append(start, n) }
                if batch.count == 0 { break }
                if budget != Int.max { batch.trim(&budget) }
                for k in 0..<batch.count {
                    let (start, n) = batch[k]
                    PageBitmap.clear(free, start, n)
                    PageBitmap.clear(old, start, n)
                    PageBitmap.set(scav, start, n)
                    a.pointee.freePages -= n
                    a.pointee.scavengedPages += n
                    a.pointee.claimedPages += n
                    pointee.stats.releasedPages += n
                }
                let base = a.pointee.base   // read under the lock (Thread Sanitizer: the allocator's inout accesses)
                pointee.lock.unlock()
                for k in 0..<batch.count {
                    let (start, n) = batch[k]
                    sysUnused(UnsafeMutableRawPointer(bitPattern: base + UInt(start << pageShift))!,
                              n << pageShift, dontneed: dontneed)
                    released += n << pageShift
                }
                pointee.lock.lock()
                for k in 0..<batch.count {
                    let (start, n) = batch[k]
                    PageBitmap.set(free, start, n)
                    if dontneed { PageBitmap.set(zeroed, start, n) }
                    a.pointee.freePages += n
                    a.pointee.claimedPages -= n
                    a.pointee.maxRun = max(a.pointee.maxRun, PageBitmap.runContaining(free, start, n))
                    a.pointee.searchStart = min(a.pointee.searchStart, start)
                }
                // While the lock was dropped, pages were allocated, another pass or a failed prefault window
                // marked some released, or another pass rewrote this scratch: candidates stay free, unreleased
                // pages only (claiming a released page twice would count it twice).
                for w in 0..<pageWordsPerArena { old[w] &= free[w] & ~scav[w] }
                budget = budgetLocked()
            }
            // Age: what is free and unreleased now is a candidate next time.
            for w in 0..<pageWordsPerArena { old[w] = free[w] & ~scav[w] }
        }
        pointee.lock.unlock()
        return released
    }

    /// Heap pages mapped and not released (MemStats.heapSys - heapReleased): what GOMEMLIMIT bounds.
    func retainedBytesLocked() -> UInt64 {
        pointee.stats.sysBytes &- UInt64(pointee.stats.releasedPages &* pageSize)
    }

    /// Go: debug.FreeOSMemory. Sweeps every span no cache holds and returns every free page to the OS.
    /// Spans held by live MCaches (their current and retained spans, RetainedSpans.swift) stay; their owners
    /// free the emptied ones, and MCache release hands them all back. After fork(), the child's copies of other
    /// threads' caches keep their spans (those threads are gone; their objects stay allocated as in the parent).
    @discardableResult
    public func releaseMemory() -> Int {
        sweepCentrals(all: true, wait: true)
        let released = scavenge(all: true)
        if pointee.config.scavTrace { scavTraceLine(released, forced: true) }
        return released
    }

    func startBackgroundScavenger() {
        var tid = pthread_t()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attr, 64 << 10)
        pointee.scav.threadPid = getpid()
        let rc = pthread_create(&tid, &attr, { arg in
            let h = arg!.assumingMemoryBound(to: MHeap.self)
            // Named, as jemalloc names its background threads, for `top -H`, gdb and tests (TeardownTests).
            _ = gort_set_thread_name("gort-scavenger")
            _ = gort_fetch_add_relaxed(&liveScavengerThreads, 1)
            h.backgroundScavengerLoop()
            _ = gort_fetch_add_relaxed(&liveScavengerThreads, UInt64.max)  // minus 1
            return nil
        }, UnsafeMutableRawPointer(self))
        pthread_attr_destroy(&attr)
        // No thread (EAGAIN: out of threads): the heap runs without one, and destroy must not wait for it.
        if rc != 0 { gort_store32_release(&pointee.scav.stop, 2) }
    }

    /// Go: bgscavenge + bgsweep. One pass per period until the heap is destroyed.
    func backgroundScavengerLoop() {
        let periodNs = Int64(pointee.config.scavengePeriodMs) * 1_000_000
        var next = nanotime() &+ periodNs
        var passes: UInt64 = 0
        while gort_load32_acquire(&pointee.scav.stop) == 0 {
            // Woken early for a prefault window (Prefault.swift); the passes keep their period, since the
            // scavenger's aging counts passes.
            let wait = next &- nanotime()
            if wait > 0 { _ = gort_futex_wait(&pointee.scav.wake, 0, wait) }
            gort_store32_relaxed(&pointee.scav.wake, 0)
            if gort_load32_acquire(&pointee.scav.stop) != 0 { break }
            runPrefault()
            runBulkRelease()
            if nanotime() < next { continue }
            next = nanotime() &+ periodNs
            passes &+= 1
            if passes % lastThreadCheckEvery == 0 { exitIfOnlyScavengersLeft() }
            if gort_load_relaxed(&pointee.scav.sweepPending) != 0 { sweepCentrals(all: false) }
            var released = scavenge(all: false)
            let limit = pointee.config.memoryLimit
            if limit != .max { released += scavenge(all: true, goal: limit / 100 * 95) }
            if released > 0 && pointee.config.scavTrace { scavTraceLine(released) }
        }
        gort_store32_release(&pointee.scav.stop, 2)
    }

    /// A program whose main thread called pthread_exit ends when its last thread does (POSIX: as if exit(0));
    /// our background threads must not keep it alive (they did: the process hung with only gort-scavenger
    /// left). When only scavenger threads remain, the first to see it calls exit(0), which runs the program's
    /// atexit handlers (and the MemStats report), as the kernel's end of the last thread would not. Checked
    /// every `lastThreadCheckEvery` passes (half a second at the default period): one read of /proc/self/stat.
    func exitIfOnlyScavengersLeft() {
        if !sysOnlyLibraryThreadsLeft(Int(gort_load_relaxed(&liveScavengerThreads))) { return }
        if gort_exchange32_acqrel(&exitingForLastThread, 1) != 0 { return }
        exit(0)
    }

    /// Releases free pages down to the pages in use plus an eighth (at least 64 MiB) if freeSpan asked for a
    /// bulk release. Background thread.
    func runBulkRelease() {
        pointee.lock.lock()
        let pending = pointee.scav.bulkPending
        pointee.scav.bulkPending = false
        let inuse = UInt64(pointee.stats.inusePages * pageSize)
        pointee.lock.unlock()
        if !pending { return }
        let released = scavenge(all: true, goal: inuse + max(inuse / 8, 64 << 20))
        if released > 0 && pointee.config.scavTrace { scavTraceLine(released) }
    }

    /// Go's scavtrace line (mgcscavenge.go, printScavTrace): `scav N KiB work, M KiB total, P% util`, with
    /// N what this pass released, M what is released now (HeapReleased), and P HeapInuse over the pages
    /// mapped and not released; ` (forced)` for debug.FreeOSMemory (releaseMemory, malloc_trim). Go prints one
    /// per GC cycle; without cycles, one per scavenger pass that released something.
    func scavTraceLine(_ released: Int, forced: Bool = false) {
        var w = StackLine()
        w.append("scav ")
        w.appendUInt(UInt(released >> 10))
        w.append(" KiB work, ")
        pointee.lock.lock()
        let releasedNow = UInt64(pointee.stats.releasedPages &* pageSize)
        let inuse = UInt64(pointee.stats.inusePages &* pageSize)
        let retained = retainedBytesLocked()
        pointee.lock.unlock()
        w.appendUInt(UInt(releasedNow >> 10))
        w.append(" KiB total, ")
        w.appendUInt(UInt(retained == 0 ? 0 : inuse &* 100 / retained))
        w.append(forced ? "% util (forced)\n" : "% util\n")
        w.flush(fd: 2)
    }
}

/// Scavenger threads running in the process, over every heap (relaxed: a count for exitIfOnlyScavengersLeft,
/// which only acts when /proc shows no thread but these).
nonisolated(unsafe) var liveScavengerThreads: UInt64 = 0
/// Set by the one scavenger thread that calls exit(0) for a process whose own threads are gone.
nonisolated(unsafe) var exitingForLastThread: UInt32 = 0
/// Scavenger passes between two looks at whether the process's own threads are gone.
let lastThreadCheckEvery: UInt64 = 5

/// Up to 16 page runs (start, length) a scavenger pass releases between two takes of MHeap.lock. On the stack.
struct RunBatch {
    private var runs: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                       UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0

    /// Adds a run; true when the batch is full (PageBitmap.firstRun then stops).
    mutating func append(_ start: Int, _ n: Int) -> Bool {
        withUnsafeMutableBytes(of: &runs) { $0.storeBytes(of: UInt64(start) << 32 | UInt64(n), toByteOffset: count * 8, as: UInt64.self) }
        count += 1
        return count == 16
    }

    /// Shortens the batch to at most `budget` pages, and takes them off the budget.
    mutating func trim(_ budget: inout Int) {
        for k in 0..<count {
            let (start, n) = self[k]
            if budget == 0 { count = k; return }
            if n > budget {
                withUnsafeMutableBytes(of: &runs) { $0.storeBytes(of: UInt64(start) << 32 | UInt64(budget), toByteOffset: k * 8, as: UInt64.self) }
                budget = 0
                count = k + 1
                return
            }
            budget -= n
        }
    }

    subscript(_ k: Int) -> (Int, Int) {
        let v = withUnsafeBytes(of: runs) { $0.load(fromByteOffset: k * 8, as: UInt64.self) }
        return (Int(v >> 32), Int(v & 0xffff_ffff))
    }
}
