// Remote-free hints: a cache learns which of its retained spans other threads have freed into. Not in Go (Go
// has no free); mimalloc's model: a free into another thread's full page goes on that thread's delayed-free
// list, and the owner moves the page back to the front of its page queue.
//
// Why: refill looks for room in the retained list (RetainedSpans.swift) a few spans at a time from its oldest
// end. When other threads free a producer's objects out of order (xmalloc-test's batches are consumed
// last-in first-out; larson hands its objects around), the spans that emptied sit anywhere in a list of
// thousands, the scan meets full ones, backs off, and the cache takes fresh spans from MCentral. Measured
// (mimalloc-bench's xmalloc-test, 64-byte objects, 2 producers and 2 consumers): peak RSS 105-203 MB against
// 39-52 MB with GODEBUG=retainspans=0 and mimalloc's 67 MB.
//
// Design: the first remote free into a held span since its last sweep (MHeap.flagRemoteFree, which already
// sets span.hasRemoteFrees with an exchange) posts the span to its holder's hint ring when the holder retains
// more than `hintMinSpans` spans of the class: a fetch_add on the ring's tail and a store of the span's
// address tagged with the low 16 bits of its gen. At each refill, before it scans, the holder takes the hints
// posted before its previous refill (an exchange with 0 per slot: a hint waits one refill, so the thread
// freeing into the span has usually finished), sweeps each span that is still one of its retained spans with
// the same gen, hands back the ones found empty and moves those at least half free to the front of their
// class's list, clearing the class's scan backoff: takeRetained takes them first. A span caught early in a run
// of frees stays where it is; the sweep cleared its flag, so the next free posts it again.
// Short lists get no hints: their rotating scan finds the emptied spans soon enough, and reusing a span the
// moment another core has freed it costs more than it saves there (its lines are still in that core's cache;
// prodcons, whose lists are short, ran 25 % slower with hints for every list). Cost: a load and two atomics
// per span per sweep on the freeing side, nothing on malloc's or free's fast paths.
//
// Hints are lossy, and only hints. A full ring overwrites older slots, a slot whose store has not landed yet
// reads 0, and a span that was handed back, freed or recycled since fails the owner and gen checks; a lost
// hint leaves the span where the rotating scan finds it, as before. A hint may also outlive its cache: MSpan
// records and MCaches live in FixAlloc memory, which is never unmapped, so a stale post writes into the ring
// of a freed cache (whose free-list word, word 0, the ring does not overlap) or of a cache that has since
// become another thread's, which rejects it.
//
// Concurrency: tail, fetch_add (relaxed: the slots carry the data) by any thread, relaxed load by the owner;
// slots, release store by posters, acquire exchange by the owner (which then reads the span's gen, owner and
// links: gen and owner atomically, as they may belong to another thread's span by now; the links only once
// the owner check says the span is this cache's); head and mark (the tail seen at the previous refill), owner
// only.
import CGoRuntime

/// Slots in a cache's hint ring (a power of two). A refill takes every hint posted since the previous one;
/// between two refills, frees into more spans than this lose the oldest hints.
let remoteHintSlots = 64
/// Retained spans of a class above which its holder gets hints (the scan's backoff threshold too).
let hintMinSpans = retainedBackoffMinSpans

extension UnsafeMutablePointer where Pointee == MCache {
    @inline(__always) var hintTail: UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(self) + MCache.hintTailOffset).assumingMemoryBound(to: UInt64.self)
    }
    @inline(__always) var hintHead: UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(self) + MCache.hintHeadOffset).assumingMemoryBound(to: UInt64.self)
    }
    @inline(__always) func hintSlot(_ i: UInt64) -> UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(self) + MCache.hintSlotsOffset + Int(i & UInt64(remoteHintSlots - 1)) * 8)
            .assumingMemoryBound(to: UInt64.self)
    }

    /// The tail seen at the previous refill: hints up to it are due now (see takeRemoteHints). Owner only, on
    /// the head's line.
    @inline(__always) var hintMark: UnsafeMutablePointer<UInt64> { hintHead + 1 }

    /// Takes the hints posted before the previous refill and moves each span still retained by this cache to
    /// the front of its class's list (see the file comment). A hint waits one refill: it was posted at the
    /// span's first remote free, and the thread freeing into it is usually still at it; swept at once, the
    /// span looked nearly full and its bitmap lines went back and forth between the two cores. Owner only;
    /// from refill.
    func takeRemoteHints() {
        let tail = gort_load_relaxed(hintTail)
        let due = hintMark.pointee
        hintMark.pointee = tail
        var i = hintHead.pointee
        if due == i { return }
        // Posters ran more than a ring ahead: the oldest slots were overwritten, take the newest ring's worth.
        if due &- i > UInt64(remoteHintSlots) { i = due &- UInt64(remoteHintSlots) }
        hintHead.pointee = due
        while i != due {
            let v = gort_exchange_acqrel(hintSlot(i), 0)
            i &+= 1
            guard let s = UnsafeMutablePointer<MSpan>(bitPattern: UInt(v & 0xffff_ffff_ffff)) else { continue }
            guard gort_load32_acquire(&s.pointee.gen) & 0xffff == UInt32(v &>> 48),
                  gort_load_relaxed(&s.pointee.owner) == word(self), s.pointee.ownNext != nil else { continue }
            // Sweep it now; only a span at least half free goes to the front. One caught early in a run of
            // frees (its first one posted it) stays, and with its flag cleared by the sweep the next free posts
            // it again: moved while a few slots were free, refill would take it and run out again at once.
            if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 { s.sweepRemoteFrees() }
            // Emptied: hand it back (or keep it as the class's spare), as a local free that empties a retained
            // span does. Moved to the front instead, one refill could leave dozens of empty spans that nothing
            // looks at again once the thread stops allocating the class (a helper's review).
            if s.pointee.allocCount == 0 {
                spanEmptied(s)
                continue
            }
            if (UInt64(s.pointee.nelems) &- UInt64(s.pointee.allocCount)) &* 2 < UInt64(s.pointee.nelems) { continue }
            let spc = Int(s.pointee.spanclass.raw)
            moveRetainedToFront(spc, s)
            scanBackoff(spc).pointee = 0
        }
    }

    /// Moves retained span `s` of class `spc` to the head of its list. Owner only.
    func moveRetainedToFront(_ spc: Int, _ s: UnsafeMutablePointer<MSpan>) {
        let head = retainedHead(spc)
        guard let h = head.pointee, h != s else { return }
        // Unlink s (the list has at least two spans: s and h).
        let p = s.pointee.ownPrev!, n = s.pointee.ownNext!
        p.pointee.ownNext = n
        n.pointee.ownPrev = p
        // Link it in before h, which is after the tail in the circle, and make it the head.
        let tail = h.pointee.ownPrev!
        s.pointee.ownNext = h
        s.pointee.ownPrev = tail
        tail.pointee.ownNext = s
        h.pointee.ownPrev = s
        head.pointee = s
    }
}

/// Posts span `s` of class `spc`, whose first remote free since its last sweep this thread just made, to the
/// hint ring of the cache whose address is `owner` (read after the free: both may be stale, see the file
/// comment), if that cache retains more than `hintMinSpans` spans of the class.
@inline(never)
func postRemoteHint(_ owner: UInt64, _ s: UnsafeMutablePointer<MSpan>, _ spc: SpanClass) {
    let c = UnsafeMutablePointer<MCache>(bitPattern: UInt(owner))!
    if gort_load_relaxed(c.retainedCount(Int(spc.raw))) <= hintMinSpans { return }
    let tag = UInt64(gort_load32_relaxed(&s.pointee.gen) & 0xffff) &<< 48
    let i = gort_fetch_add_relaxed(c.hintTail, 1)
    gort_store_release(c.hintSlot(i), UInt64(UInt(bitPattern: s)) | tag)
}
