// Retained spans: an MCache keeps the spans it filled. Not in Go (Go has no free); mimalloc's per-thread page
// queues are the model.
//
// Why: in Go's design an MCache holds one span per class; a span it runs through goes back to its MCentral.
// With explicit free that is the wrong owner. The thread that filled a span is the one most likely to free into
// it (a private working set, a batch freed by its allocator), but once the span is in MCentral each of those
// frees is "remote": an atomic OR into freeBits, a sweep later, and, when another thread's refill takes the span
// from MCentral, two threads writing one span's bitmap from two cores. Measured before this file existed: a
// workload where no block ever crosses threads spent 14% (1 thread) and 29% (2 threads) of its time in the
// remote-free path, and 2 threads took 2.07x the time of 1.
//
// Design: a span the cache runs through stays owned by the cache (span.owner unchanged) and joins a circular,
// doubly linked list per span class (MSpan.ownNext / ownPrev; head and count in the MCache). Frees by the owner
// into retained spans take the local path (plain stores). Refill scans up to `retainedScanBudget` spans from the
// head, oldest first, sweeping any remote frees, and takes the first with room (MSpan.hasRoomToReuse), else the
// emptiest it saw if 1/32 of it is free; the spans it passes over rotate to the tail, so successive refills
// visit the whole list. Only when none has room does refill go to MCentral. A local free that empties a
// retained span frees it to MHeap at once (MCentral.uncacheSpan frees empty spans), so retention never holds
// more than one empty span per class (the spare, which refill takes before MCentral; a cache's spares stay
// within spareBudgetPages, 256 KiB, all classes together), and the pages are free for any size class (a program
// that fills and drains batches of one size, then another, peaks at one batch, not two). That costs MHeap.lock per emptied span beyond the spare, which the page allocator's searchStart and
// maxRun bound keep short.
//
// Remote frees into retained spans work as before (freeBits); the owner finds them when its scan reaches the
// span. A thread that stops allocating a class would keep its retained spans of that class, including slots
// other threads freed, until it exits or allocates that class again. Housekeeping covers the common case of a
// thread that turned from producing to consuming: every `housekeepEvery` remote frees it makes, it sweeps the
// remote frees into a bounded number of its retained spans and hands back the ones that emptied. A thread that
// neither allocates nor frees keeps its spans until it exits (mimalloc has the same property). Remote frees into
// a span some cache holds do not notify MCentral (Free.swift); MCentral.uncacheSpan notifies for a freer that
// raced the hand-back. Garbage-collected heaps (gcSweepHook set) do not retain: their spans must sit in
// MCentral's sweep sets.
//
// Concurrency: the lists, heads, counts and spares are owner-only (the cache's thread or P), like everything
// else an MCache holds; other threads only read span.owner, to compare it with their own cache or with 0.
import CGoRuntime

/// Spans looked at per refill before going to MCentral.
let retainedScanBudget = 8
/// Retained spans of a class above which a fruitless scan backs off (takeRetained).
let retainedBackoffMinSpans: UInt64 = 64
/// Housekeeping runs every this many remote frees by a cache (a power of two) and looks at this many spans.
let housekeepEvery: UInt64 = 256
let housekeepSpans = 32
/// The most housekeeping passes without a refill a cache must make before it is taken for idle (releaseIfIdle).
let maxIdlePassesNeeded: UInt8 = 64
/// Pages a cache may hold in spare spans, all classes together (256 KiB).
let spareBudgetPages = 32

extension UnsafeMutablePointer where Pointee == MCache {
    /// Adds `s`, which this cache just ran through (and took out of its cache word: MCache.refill), at the tail
    /// of its class's list. Owner only.
    func retain(_ spc: Int, _ s: UnsafeMutablePointer<MSpan>) {
        let head = retainedHead(spc)
        if let h = head.pointee {
            let tail = h.pointee.ownPrev!
            s.pointee.ownNext = h
            s.pointee.ownPrev = tail
            tail.pointee.ownNext = s
            h.pointee.ownPrev = s
        } else {
            s.pointee.ownNext = s
            s.pointee.ownPrev = s
            head.pointee = s
        }
        gort_store_relaxed(retainedCount(spc), retainedCount(spc).pointee &+ 1)
        pointee.retainedTotal += 1
    }

    /// Removes retained span `s` from its class's list. Owner only.
    func unretain(_ spc: Int, _ s: UnsafeMutablePointer<MSpan>) {
        let head = retainedHead(spc)
        let n = s.pointee.ownNext!
        if n == s {
            head.pointee = nil
        } else {
            let p = s.pointee.ownPrev!
            p.pointee.ownNext = n
            n.pointee.ownPrev = p
            if head.pointee == s { head.pointee = n }
        }
        s.pointee.ownNext = nil
        s.pointee.ownPrev = nil
        gort_store_relaxed(retainedCount(spc), retainedCount(spc).pointee &- 1)
        pointee.retainedTotal -= 1
    }

    /// Puts `s`, which this cache just ran through, where retained span `r` is in its class's list, and takes `r`
    /// out: one relink instead of an unlink and an append. `s` ends up at the tail when `r` was the head. Owner only.
    func replaceRetained(_ spc: Int, _ r: UnsafeMutablePointer<MSpan>, with s: UnsafeMutablePointer<MSpan>) {
        let head = retainedHead(spc)
        let n = r.pointee.ownNext!
        if n == r {
            s.pointee.ownNext = s
            s.pointee.ownPrev = s
            head.pointee = s
        } else {
            let p = r.pointee.ownPrev!
            s.pointee.ownNext = n
            s.pointee.ownPrev = p
            p.pointee.ownNext = s
            n.pointee.ownPrev = s
            if head.pointee == r { head.pointee = n }
        }
        r.pointee.ownNext = nil
        r.pointee.ownPrev = nil
    }

    /// A retained span with room, still in the list (the caller unlinks or replaces it), or nil. Scans up to
    /// `retainedScanBudget` spans and takes the first with room (MSpan.hasRoomToReuse), else the emptiest one
    /// seen if at least 1/32 of it is free: reusing slots keeps RSS down, and the 1/32 floor keeps refills from
    /// chasing single free slots. The spans passed over rotate to the tail. Owner only.
    /// Backoff, for long lists only (more than `retainedBackoffMinSpans`): a scan that finds only full spans
    /// makes the next 1, 3, 7 or 15 refills of the class skip the scan (scanBackoff); a scan that finds any
    /// free slot resets it. A heap that only grows (a program building a large structure, a million live tasks)
    /// retains thousands of full spans, and each refill would otherwise read eight of them from memory for
    /// nothing (3 % of spawn-join's time in session 5's profile). Short lists, as in steady churn, always scan:
    /// backing off there cost 3-7 % more peak RSS (BENCHMARKS.md).
    func takeRetained(_ spc: Int) -> UnsafeMutablePointer<MSpan>? {
        let head = retainedHead(spc)
        guard var s = head.pointee else { return nil }
        let backoff = scanBackoff(spc)
        let state = backoff.pointee
        if state & 0xff != 0 {
            backoff.pointee = state &- 1
            return nil
        }
        var best: UnsafeMutablePointer<MSpan>? = nil
        var bestFree: UInt64 = 0
        var budget = retainedScanBudget
        while true {
            if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 { s.sweepRemoteFrees() }
            if s.hasRoomToReuse {
                backoff.pointee = 0
                return s
            }
            let free = UInt64(s.pointee.nelems) &- UInt64(s.pointee.allocCount)
            if free > bestFree { best = s; bestFree = free }
            s = s.pointee.ownNext!
            budget -= 1
            if budget == 0 || s == head.pointee { break }
        }
        head.pointee = s
        if let b = best, b.hasSomeRoom {
            backoff.pointee = 0
            return b
        }
        if bestFree != 0 || retainedCount(spc).pointee <= retainedBackoffMinSpans {
            backoff.pointee = 0
            return nil
        }
        let level = min(UInt16(state &>> 8) &+ 1, 4)
        backoff.pointee = level &<< 8 | ((1 &<< level) &- 1)
        return nil
    }

    /// A local free left retained span `s` with no objects: it goes back to MHeap. (Free checks that `s` is not
    /// the current span of its class, which stays.) Owner only.
    @inline(never)
    func spanEmptied(_ s: UnsafeMutablePointer<MSpan>) {
        let spc = Int(s.pointee.spanclass.raw)
        if s.pointee.ownNext == nil { return }  // not retained
        unretain(spc, s)
        // Keep one empty span per class: a thread whose spans of a class empty and refill over and over (a few
        // objects per span) would otherwise take MHeap.lock and rewrite the arena's page map twice per cycle,
        // and the other threads' frees read that map.
        // The spares of all classes together stay under spareBudgetPages, so a thread that used many classes
        // does not sit on a span of each (rule 5 of the size classes made them up to 8 pages).
        let np = Int(s.pointee.npages)
        if spareSpan(spc).pointee == nil && pointee.sparePages + np <= spareBudgetPages {
            spareSpan(spc).pointee = s
            pointee.sparePages += np
            return
        }
        let h = pointee.heap
        h.central(s.pointee.spanclass).uncacheSpan(h, s)
    }

    /// Takes class `spc`'s spare span, if any. Owner only.
    func takeSpare(_ spc: Int) -> UnsafeMutablePointer<MSpan>? {
        guard let e = spareSpan(spc).pointee else { return nil }
        spareSpan(spc).pointee = nil
        pointee.sparePages -= Int(e.pointee.npages)
        return e
    }

    /// freeRemote's rare exit: span `s` had no remote frees flagged since its last sweep (MHeap.flagRemoteFree),
    /// then housekeeping if it is due. Owner only.
    @inline(never)
    func firstRemoteFree(_ s: UnsafeMutablePointer<MSpan>, _ spc: SpanClass) {
        pointee.heap.flagRemoteFree(s, spc)
        if remoteFreeTicks.pointee & (housekeepEvery - 1) == 0 { housekeep() }
    }

    /// Housekeeping (see the file comment): sweeps the remote frees into up to `housekeepSpans` retained spans,
    /// round-robin over the classes, and hands back the ones left empty (one becomes the class's spare, as in
    /// spanEmptied); then, if the thread has stopped allocating, releaseIfIdle. Owner only; from freeRemote,
    /// every `housekeepEvery` remote frees.
    @inline(never)
    func housekeep() {
        sweepRetainedRound()
        releaseIfIdle()
    }

    /// A cache that made no refill for `idlePassesNeeded` housekeeping passes in a row has stopped allocating, or
    /// nearly: a producer turned consumer (prodcons' second half). Its spares and its current spans left empty go
    /// back to MHeap, where the threads that do allocate find their pages (prodcons: some 60 spans, 0.5 MB, that
    /// the other thread would otherwise take fresh). Current spans that still hold live objects are looked at
    /// again on later idle passes until none is left. The guess can be wrong: a thread that allocates a little
    /// between many remote frees (`server`'s workers) refills right after. Each wrong guess that handed anything
    /// back doubles the passes needed (up to `maxIdlePassesNeeded`), so such a thread settles at a refill from
    /// MCentral per class every few thousand remote frees. Owner only.
    func releaseIfIdle() {
        let refilled = pointee.refills != pointee.refillsAtHousekeep
        pointee.refillsAtHousekeep = pointee.refills
        if refilled {
            if pointee.idleReleased {
                pointee.idlePassesNeeded = min(pointee.idlePassesNeeded &* 2, maxIdlePassesNeeded)
                pointee.idleReleased = false
            }
            pointee.idleSpansLeft = true
            pointee.idlePasses = 0
            return
        }
        if pointee.idlePasses < pointee.idlePassesNeeded { pointee.idlePasses &+= 1 }
        if pointee.idlePasses < pointee.idlePassesNeeded || !pointee.heap.pointee.config.retainSpans { return }
        let h = pointee.heap
        // Housekeeping's sweeps go on emptying retained spans into spares while the thread idles.
        if pointee.sparePages != 0 {
            for spc in 0..<numSpanClasses {
                if let e = takeSpare(spc) {
                    h.central(SpanClass(UInt8(spc))).uncacheSpan(h, e)
                    pointee.idleReleased = true
                }
            }
        }
        if pointee.idleSpansLeft {
            let (released, left) = releaseEmptyCurrentSpans()
            pointee.idleSpansLeft = left
            if released != 0 { pointee.idleReleased = true }
        }
    }

    /// Housekeeping's sweep of up to `housekeepSpans` retained spans, from the class after the last pass's.
    func sweepRetainedRound() {
        // A cache that retains nothing (a thread that only frees) has nothing to do: no walk over the classes.
        var left = pointee.retainedTotal
        if left == 0 { return }
        let cursor = remoteFreeTicks + 1
        var budget = housekeepSpans
        var spc = Int(cursor.pointee % UInt64(numSpanClasses))
        for _ in 0..<numSpanClasses {
            let head = retainedHead(spc)
            let count = Int(retainedCount(spc).pointee)
            var n = min(count, budget)
            budget -= n
            left -= count
            while n > 0, let s = head.pointee {
                n -= 1
                let next = s.pointee.ownNext!
                if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 {
                    s.sweepRemoteFrees()
                    if s.pointee.allocCount == 0 { spanEmptied(s) }
                }
                if head.pointee == nil { break }
                if head.pointee == s { head.pointee = next }  // s stayed: rotate past it
            }
            spc = (spc + 1) % numSpanClasses
            if budget <= 0 || left <= 0 { break }  // no retained spans in the classes not visited yet
        }
        cursor.pointee = UInt64(spc)
    }

    /// Hands every retained span of class `spc`, and its spare, back to its MCentral. Owner only.
    func releaseRetained(_ spc: Int) {
        let h = pointee.heap
        if let e = takeSpare(spc) { h.central(SpanClass(UInt8(spc))).uncacheSpan(h, e) }
        while let s = retainedHead(spc).pointee {
            unretain(spc, s)
            h.central(SpanClass(UInt8(spc))).uncacheSpan(h, s)
        }
    }

    /// Total spans retained over all classes (statistics; relaxed loads, any thread).
    var retainedSpans: UInt64 {
        var n: UInt64 = 0
        for spc in 0..<numSpanClasses { n += gort_load_relaxed(retainedCount(spc)) }
        return n
    }

    /// Checks the retained lists: each span is in use, owned by this cache, of its list's class, not the
    /// current span, and the links and count agree. Caller: the owner, or anyone while the cache is idle.
    func checkRetainedInvariants() -> StaticString? {
        var total: UInt64 = 0
        for spc in 0..<numSpanClasses {
            var n: UInt64 = 0
            if let h = retainedHead(spc).pointee {
                var s = h
                repeat {
                    if s.pointee.state != MSpanState.inUse.rawValue { return "retained span not in use" }
                    if s.pointee.owner != word(self) { return "retained span not owned by its cache" }
                    if Int(s.pointee.spanclass.raw) != spc { return "retained span in the wrong class list" }
                    if allocSlot(spc).pointee == s { return "current span also retained" }
                    if s.pointee.cacheWord != MSpan.noCacheWord { return "retained span still has a cache word" }
                    if s.pointee.ownNext!.pointee.ownPrev != s { return "retained list links broken" }
                    n += 1
                    s = s.pointee.ownNext!
                } while s != h && n <= retainedCount(spc).pointee
            }
            if n != retainedCount(spc).pointee { return "retained count does not match its list" }
            total += n
        }
        if total != UInt64(pointee.retainedTotal) { return "retainedTotal is not the sum of the class counts" }
        var spares = 0
        for spc in 0..<numSpanClasses { if let e = spareSpan(spc).pointee { spares += Int(e.pointee.npages) } }
        if spares != pointee.sparePages || spares > spareBudgetPages { return "spare spans over budget or miscounted" }
        return nil
    }
}
