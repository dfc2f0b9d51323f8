// MCentral: the spans of one span class that no MCache holds. Go: mcentral (mcentral.go).
//
// partial: spans with free objects; full: spans with none. Each is [2] by sweep generation, as in Go:
// with sg = sweepgen, partial[sg/2 % 2] holds swept spans and partial[1 - sg/2 % 2] unswept ones. Bumping
// sweepgen by 2 turns every swept set into the unswept one ("flip"), which is how spans that gained remote
// frees while full get looked at again. Go flips at each GC; explicit free flips when enough full spans have
// pending frees (pendingFull * 8 >= nfull), so the cost of re-sweeping full spans stays proportional to the
// objects it recovers, and the background sweeper flips centrals that have any pending frees.
// All fields are atomics or lock-free SpanSets: no lock on this level, as in Go.
import CGoRuntime

/// Go: mcentral, padded to its own cache line (Go: mheap.central[i].pad), so threads refilling different
/// classes never share a line.
public struct MCentral {
    var partial: (SpanSet, SpanSet) = (SpanSet(), SpanSet())
    var full: (SpanSet, SpanSet) = (SpanSet(), SpanSet())
    /// This class's sweep generation (atomic; bumped by 2 with a CAS by whoever flips).
    var sweepgen: UInt64 = 0
    /// Full spans that received their first remote free since the last flip (atomic, relaxed: a heuristic).
    var pendingFull: UInt64 = 0
    /// Spans in the full sets (atomic, relaxed: a heuristic and a statistic).
    var nfull: UInt64 = 0
    /// Uncached spans with remote frees since the background sweeper's last pass (atomic, relaxed).
    var pendingAny: UInt64 = 0

    static let stride = 64
}

extension UnsafeMutablePointer where Pointee == MCentral {
    @inline(__always) private func set(_ full: Bool, _ i: Int) -> UnsafeMutablePointer<SpanSet> {
        (UnsafeMutableRawPointer(self) + (full ? 16 : 0) + i * 8).assumingMemoryBound(to: SpanSet.self)
    }
    func partialSwept(_ sg: UInt64) -> UnsafeMutablePointer<SpanSet> { set(false, Int(sg / 2 % 2)) }
    func partialUnswept(_ sg: UInt64) -> UnsafeMutablePointer<SpanSet> { set(false, Int(1 - sg / 2 % 2)) }
    func fullSwept(_ sg: UInt64) -> UnsafeMutablePointer<SpanSet> { set(true, Int(sg / 2 % 2)) }
    func fullUnswept(_ sg: UInt64) -> UnsafeMutablePointer<SpanSet> { set(true, Int(1 - sg / 2 % 2)) }

    var sweepgen: UInt64 { gort_load_acquire(&pointee.sweepgen) }

    /// Turns swept sets into unswept ones.
    func flip() {
        var sg = gort_load_relaxed(&pointee.sweepgen)
        _ = gort_cas_acqrel(&pointee.sweepgen, &sg, sg &+ 2)
        gort_store_relaxed(&pointee.pendingFull, 0)
    }

    /// Go: mcentral.cacheSpan. A span with at least one free object, now exclusively the caller's.
    /// Tries swept partial spans, then unswept partial and full ones, then flips if full spans gained frees,
    /// then grows from the heap. nil only when the heap cannot grow.
    func cacheSpan(_ h: UnsafeMutablePointer<MHeap>, spanclass: SpanClass,
                   for c: UnsafeMutablePointer<MCache>? = nil) -> UnsafeMutablePointer<MSpan>? {
        for attempt in 0..<2 {
            let sg = sweepgen
            if let s = partialSwept(sg).pop() {
                if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 { s.sweepRemoteFrees() }
                return s
            }
            while let s = partialUnswept(sg).pop() {
                s.sweepRemoteFrees()
                if let gcSweep = h.pointee.gcSweepHook { gcSweep(UnsafeMutableRawPointer(s), h.pointee.gcSweepContext) }
                s.pointee.sweepgen = sg
                if UInt(s.pointee.allocCount) < s.pointee.nelems { return s }
                pushFull(s, sg)
            }
            var budget = 100
            while budget > 0, let s = fullUnswept(sg).pop() {
                budget -= 1
                gort_fetch_add_relaxed(&pointee.nfull, UInt64.max)  // -1
                gort_store8_relaxed(&s.pointee.inFull, 0)
                s.sweepRemoteFrees()
                // A GC heap's full spans gain free slots only through the collector's sweep.
                if let gcSweep = h.pointee.gcSweepHook { gcSweep(UnsafeMutableRawPointer(s), h.pointee.gcSweepContext) }
                s.pointee.sweepgen = sg
                if UInt(s.pointee.allocCount) < s.pointee.nelems { return s }
                pushFull(s, sg)
            }
            // Flip when at least 1/8 of the full spans have pending frees (and not on the second round).
            let pending = gort_load_relaxed(&pointee.pendingFull)
            // Flip only when nothing is left unswept (a flip would make unswept spans look swept).
            if attempt == 0 && pending > 0 && pending &* 8 >= gort_load_relaxed(&pointee.nfull)
                && fullUnswept(sg).pointee.isEmpty && partialUnswept(sg).pointee.isEmpty {
                flip()
                continue
            }
            break
        }
        return grow(h, spanclass: spanclass, for: c)
    }

    private func pushFull(_ s: UnsafeMutablePointer<MSpan>, _ sg: UInt64) {
        gort_store8_relaxed(&s.pointee.inFull, 1)
        gort_fetch_add_relaxed(&pointee.nfull, 1)
        fullSwept(sg).push(s)
    }

    /// Go: mcentral.uncacheSpan. The caller (the span's holder) gives the span back.
    /// An empty span goes back to the heap; others go to the swept partial or full set.
    func uncacheSpan(_ h: UnsafeMutablePointer<MHeap>, _ s: UnsafeMutablePointer<MSpan>) {
        s.leaveCache()
        if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 { s.sweepRemoteFrees() }
        let sg = sweepgen
        s.pointee.sweepgen = sg
        if s.pointee.allocCount == 0 {
            // Every object is free, so a remote free still pending (its bit set, its flag not yet) freed a free
            // object: a double free racing with the free that emptied the span. Abort rather than free the span
            // under it.
            for w in 0..<s.pointee.bitsWords where gort_load_relaxed(s.pointee.freeBits + w) != 0 {
                let bit = UInt(gort_load_relaxed(s.pointee.freeBits + w).trailingZeroBitCount)
                fatal("double free (racing the free that emptied its span)", call: "free",
                      pointer: s.pointee.startAddr &+ (UInt(w) << 6 &+ bit) &* s.pointee.elemsize)
            }
            gort_store_relaxed(&s.pointee.owner, 0)
            h.freeSpan(s)
            return
        }
        let isFull = UInt(s.pointee.allocCount) == s.pointee.nelems
        if isFull { gort_store8_relaxed(&s.pointee.inFull, 1); gort_fetch_add_relaxed(&pointee.nfull, 1) }
        // Clear the owner only now: from here on, frees by the former owner take the remote path.
        gort_store_relaxed(&s.pointee.owner, 0)
        if isFull { fullSwept(sg).push(s) } else { partialSwept(sg).push(s) }
        // A remote freer that saw the owner still set did not notify (Free.swift, freeRemote); if its flag is up
        // now, notify for it, after the push so a sweep the notice triggers finds the span. The fences make at
        // least one of us see the other (Dekker). (The span may already be someone else's: the counters are hints.)
        gort_fence_seqcst()
        if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 { h.notifyRemoteFree(s) }
    }

    /// Go: mcentral.grow. A fresh span from MHeap.
    /// `c`: the cache the span is for (its records and bitmaps come from that cache's blocks).
    func grow(_ h: UnsafeMutablePointer<MHeap>, spanclass: SpanClass,
              for c: UnsafeMutablePointer<MCache>? = nil) -> UnsafeMutablePointer<MSpan>? {
        let sc = spanclass.sizeclass
        guard let s = h.allocSpan(npages: h.spanPages(ofClass: sc), spanclass: spanclass, alignPages: 1, for: c)
        else { return nil }
        s.pointee.sweepgen = sweepgen
        return s
    }

    /// Sweeps every span no MCache holds (Go: bgsweep / sweepone, applied to one class): flips, then takes
    /// each unswept span, merges its remote frees, and frees empty spans to the heap.
    /// Returns the number of spans freed. Any thread; runs concurrently with allocation.
    @discardableResult
    func sweepAll(_ h: UnsafeMutablePointer<MHeap>) -> Int {
        gort_store_relaxed(&pointee.pendingAny, 0)
        var freed = 0
        func settle(_ s: UnsafeMutablePointer<MSpan>, _ sg: UInt64) {
            s.sweepRemoteFrees()
            s.pointee.sweepgen = sg
            if s.pointee.allocCount == 0 {
                h.freeSpan(s)
                freed += 1
            } else if UInt(s.pointee.allocCount) == s.pointee.nelems {
                pushFull(s, sg)
            } else {
                partialSwept(sg).push(s)
            }
        }
        // Go flips only once every span is swept; so do we: drain what is unswept, flip (every span is then
        // unswept), drain again.
        for round in 0..<2 {
            if round == 1 { flip() }
            let sg = sweepgen
            while let s = partialUnswept(sg).pop() { settle(s, sg) }
            while let s = fullUnswept(sg).pop() {
                gort_fetch_add_relaxed(&pointee.nfull, UInt64.max)
                gort_store8_relaxed(&s.pointee.inFull, 0)
                settle(s, sg)
            }
        }
        return freed
    }
}
