// Sweeping one span. Go: mspan.sweep (mgcsweep.go).
//
// A span is swept at most once per cycle: GCArena.sweepgen[first page] records the GC sweep generation it was
// last swept in. Four callers hold the span exclusively when they call `sweepSpan`: the coordinator's
// background sweeper (spans popped from MCentral's unswept sets), MCentral.cacheSpan through the heap's sweep
// hook (spans a mutator's refill takes from an unswept set, full ones included, as Go's cacheSpan does), a
// mutator's allocSlow (a span its cache just took, before it allocates from it), and sweep termination.
// Sweeping never runs against an incomplete mark: sweep termination empties the unswept sets with the world
// stopped, and nothing becomes unswept until the next mark termination flips the MCentrals. Nor does a sweep
// run into the next mark: each one clears its span's marks (GCArena), and every sweeper is a running mutator
// (which a stop waits for) or the coordinator before it posts the next cycle.
@_spi(GoGC) import GoAlloc
import CGoRuntime

extension UnsafeMutablePointer where Pointee == GCState {
    /// Frees the unmarked objects of `s` (except `keep`, just allocated by the caller) unless it was already
    /// swept this cycle. Freed bytes are not subtracted from heapLive (see GC.markTermination). Returns the
    /// number of objects freed.
    @discardableResult
    func sweepSpan(_ s: UnsafeMutablePointer<MSpan>, keep: UInt) -> Int {
        guard let a = arena(s.gcStart) else { return 0 }   // nothing was ever allocated in this arena
        let page = Int((s.gcStart &>> UInt(Geometry.pageShift)) & UInt(Geometry.pagesPerArena - 1))
        let sg = gort_load_relaxed(pointer(to: \.sweepgen)!)
        if a.pointee.sweepgen[page] == sg { return 0 }
        var r = GCSweepResult()
        let parity = Int(gort_load_relaxed(pointer(to: \.markParity)!))
        let marks = markWord(a, s.gcStart, parity)   // the span starts a page, so a mark word
        s.gcSweep(marks: marks, keep: keep, into: &r)
        // The next cycle starts from clear marks (see GCArena): the span's pages' mark words, which no other
        // span shares (only small-object spans come here, and none crosses an arena). Plain stores: no marker
        // runs between mark termination and the next mark start, which this sweep precedes. Words already
        // clear are not written, so the marks of spans with nothing marked (all garbage, or never marked
        // since the pages were released) are not dirtied.
        for i in 0..<(s.gcNPages &* GCArena.markWordsPerPage) where marks[i] != 0 { marks[i] = 0 }
        a.pointee.sweepgen[page] = sg
        if r.objects != 0, let heap = pointee.heap { s.gcCountFreesGlobally(heap, r.objects) }
        return r.objects
    }
}

/// MHeap.gcSweepHook of GoGC heaps; `context` is the collector's GCState.
let gcCentralSweepHook: @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer?) -> Void = { s, context in
    context!.assumingMemoryBound(to: GCState.self).sweepSpan(s.assumingMemoryBound(to: MSpan.self), keep: 0)
}
