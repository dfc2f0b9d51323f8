// Explicit free, in Go's terms. Go has no free: its sweeper rebuilds each span's allocBits from the GC's mark
// bits. GoAlloc keeps that structure and lets the program say what is dead instead of the marker:
//
//   1. Find the span: arena index (one masked load: ArenaIndex) -> HeapArena.spans[page] -> MSpan. O(1); no
//      nil tests, as missing arenas and spans are sentinels (Sentinels.swift). A pointer outside our arenas, on
//      a free page, or not at the start of an object aborts, naming the pointer and the call (the fast path
//      only tests; MHeap.freeSlow diagnoses).
//   2. If the calling thread's MCache holds the span (span.owner == cache: its current span of the class, or one
//      it retains, RetainedSpans.swift), the free is local. An object in the current cache word goes back into
//      allocCache (its bit there set means double free), so the very next malloc reuses it; its allocBits bit
//      stays set, since the word's free slots are reserved (MSpan.swift). Any other object: check its allocBits
//      bit (clear means double free), clear it, lower allocCount; the scan finds the slot when it reaches the word
//      or wraps (MCache.refill rewinds). Both ways a pending remote free of the object (its freeBits bit) is a
//      double free too: when the span has remote frees pending (span.hasRemoteFrees, on the line free reads
//      anyway), the holder sweeps them in first (step 4) and checks the object's freeBits bit; otherwise the
//      fast path reads no freeBits word at all. No atomic RMW, no lock; the fast path is about 40 instructions
//      with every check. A retained span left empty becomes its class's spare or goes back to MHeap
//      (RetainedSpans.swift).
//   3. Otherwise the free is remote: one fetch_or sets the object's bit in span.freeBits (a bit already set, a
//      clear allocBits bit, or the object sitting free in the holder's cache word, read under the span's
//      cacheSeq, means double free: abort). No global lock; threads freeing into different spans touch different lines.
//      The first remote free since the span's last sweep sets span.hasRemoteFrees and, if no cache holds the
//      span, tells the MCentral (pendingFull for spans in a full set, pendingAny for the background sweeper);
//      a held span's owner finds the flag itself.
//   4. Sweeping (MSpan.sweepRemoteFrees) is done by whoever holds the span exclusively: the owning MCache when it
//      runs out, MCentral.cacheSpan for spans it pops, the background sweeper. It merges freeBits into allocBits,
//      like Go's sweep merging gcmarkBits. A full span that gained frees becomes allocatable again when its
//      MCentral flips generations (full swept -> full unswept) and cacheSpan sweeps it; an empty span found by a
//      sweep goes back to MHeap.
//   5. Large objects are their own spans: freeing one returns the span to MHeap at once.
import CGoRuntime

extension UnsafeMutablePointer where Pointee == MHeap {
    /// Frees `p`. `c` is the calling thread's cache (nil if it has none). `call` names the C or Swift entry
    /// point for error messages.
    @inline(__always)
    func free(_ c: UnsafeMutablePointer<MCache>?, _ p: UInt, call: StaticString) {
        guard let c = c else { return freeSlow(nil, p, call: call) }
        c.free(p, call: call)
    }

    /// Every free the fast path does not finish: NULL, remote frees, large objects, and every error (which it
    /// diagnoses from scratch).
    @inline(never)
    func freeSlow(_ c: UnsafeMutablePointer<MCache>?, _ p: UInt, call: StaticString) {
        if p == 0 { return }
        guard let s = spanOf(p) else { badFree(p, call) }
        let idx = s.objIndex(p)
        if s.pointee.startAddr &+ idx &* s.pointee.elemsize != p || p >= s.pointee.limit || s.pointee.spanclass.sizeclass == 0 {
            return freeLargeOrInvalid(s, p, call: call)
        }
        if let c = c, gort_load_relaxed(&s.pointee.owner) == word(c) { return c.freeLocal(s, p, idx: idx, call: call) }
        freeRemote(c, s, p, idx: idx, call: call)
    }

    @inline(__always)
    func freeRemote(_ c: UnsafeMutablePointer<MCache>?, _ s: UnsafeMutablePointer<MSpan>, _ p: UInt, idx: UInt,
                    call: StaticString) {
        let spc = s.pointee.spanclass
        let w = Int(idx &>> 6)
        let bit: UInt64 = 1 &<< UInt64(idx & 63)
        let gen = gort_load32_acquire(&s.pointee.gen)
        if gort_load_relaxed(s.pointee.allocBits + w) & bit == 0 { return doubleFreeTail(p, call) }
        // Free in the holder's cache word (its allocBits bit stays set there: MSpan.swift): already freed. Most
        // remote frees are not into the cache word; one relaxed load of cacheWord rules those out before the
        // seqlock read (which, like this load, can only miss a double free that races a change of cache word,
        // and never reports a false one). 85 -> 77 instructions a remote free (BENCHMARKS.md, session 17).
        if gort_load32_relaxed(&s.pointee.cacheWord) == UInt32(w) && s.isFreeInCacheWord(UInt64(w), bit) {
            return doubleFreeTail(p, call)
        }
        // Freed and recycled while we looked (see MSpan.gen): the bits we checked may describe another span.
        // Only before our atomic: once our bit is in, the holder may sweep it, empty the span and free it, all
        // before our next instruction, and the span's struct is then fair game. (Session 3 checked after the
        // atomic too, which aborted correct programs that lost that race with "double free": the `swift`
        // allocator workload, 1 run in 60 under load.)
        if gort_load32_acquire(&s.pointee.gen) != gen { return doubleFreeTail(p, call) }
        if gort_fetch_or_acqrel(s.pointee.freeBits + w, bit) & bit != 0 { return doubleFreeTail(p, call) }
        // From here on `s` may be recycled (see above): its flag and the MCentral counters are hints, and the
        // free is counted under the class read before the atomic. The rare work (the span's first remote free
        // since its sweep, housekeeping) is in functions reached by a jump, so this needs no stack frame.
        guard let c = c else {
            gort_fetch_add_relaxed(pointee.classCounts + 2 * spc.sizeclass + 1, 1)
            return flagRemoteFree(s, spc)
        }
        c.countFree(spc)
        let t = c.remoteFreeTicks
        t.pointee &+= 1
        if gort_load32_relaxed(&s.pointee.hasRemoteFrees) == 0 { return c.firstRemoteFree(s, spc) }
        // A thread that frees other threads' objects may have stopped allocating: look after its own retained
        // spans now and then (RetainedSpans.swift, housekeep).
        if t.pointee & (housekeepEvery - 1) == 0 { return c.housekeep() }
    }

    /// Sets span `s`'s hasRemoteFrees flag after a remote free (`spc`: its class, read before the free). The
    /// first remote free since the last sweep: a span some cache holds (current or retained) is found by its
    /// owner, and posted to its hint ring when the owner retains many spans of the class (RemoteHints.swift);
    /// only an uncached span needs MCentral and the background sweeper told. The fence pairs with the one in
    /// MCentral.uncacheSpan: either we see the owner gone, or it sees our flag (Dekker).
    @inline(never)
    func flagRemoteFree(_ s: UnsafeMutablePointer<MSpan>, _ spc: SpanClass) {
        if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 || gort_exchange32_acqrel(&s.pointee.hasRemoteFrees, 1) != 0 {
            return
        }
        gort_fence_seqcst()
        let owner = gort_load_relaxed(&s.pointee.owner)
        if owner == 0 { notifyRemoteFree(s) } else { postRemoteHint(owner, s, spc) }
    }

    /// doubleFree for a tail position: a fast path reaches it by a jump, where a call to a function that does not
    /// return needs a stack frame. It never returns either, but its type says it may (and the test of `p` keeps
    /// the optimizer from proving otherwise and turning the jump back into a call): `p` is never 0 here.
    @inline(never)
    func doubleFreeTail(_ p: UInt, _ call: StaticString) {
        if p != 0 { doubleFree(p, call) }
    }

    /// Tells span `s`'s MCentral (and the background sweeper) that an uncached span has remote frees to sweep.
    @inline(never)
    func notifyRemoteFree(_ s: UnsafeMutablePointer<MSpan>) {
        let m = central(s.pointee.spanclass)
        if gort_load8_relaxed(&s.pointee.inFull) != 0 { gort_fetch_add_relaxed(&m.pointee.pendingFull, 1) }
        gort_fetch_add_relaxed(&m.pointee.pendingAny, 1)
        gort_store_relaxed(&pointee.scav.sweepPending, 1)
    }

    /// Large objects, and pointers that are not the start of a small object.
    @inline(never)
    func freeLargeOrInvalid(_ s: UnsafeMutablePointer<MSpan>, _ p: UInt, call: StaticString) {
        if s.pointee.spanclass.sizeclass != 0 || p != s.pointee.startAddr {
            if p >= s.pointee.startAddr && p < s.pointee.limit {
                fatal("pointer is not the start of an allocated object", call: call, pointer: p)
            }
            badFree(p, call)
        }
        // A large object: its span goes back to the heap now. Claim it with its single alloc bit (atomic, so
        // two racing frees of one large object cannot both get here).
        let gen = gort_load32_acquire(&s.pointee.gen)
        if gort_fetch_and_acqrel(s.pointee.allocBits, ~UInt64(1)) & 1 == 0 { doubleFree(p, call) }
        // A racing free of the same object won, and the struct was already recycled: do not free its new span.
        if gort_load32_acquire(&s.pointee.gen) != gen || s.pointee.startAddr != p { doubleFree(p, call) }
        freeSpan(s)
    }

    @inline(never)
    func badFree(_ p: UInt, _ call: StaticString) -> Never {
        fatal("pointer not allocated by this heap (invalid or already freed)", call: call, pointer: p)
    }

    @inline(never)
    func doubleFree(_ p: UInt, _ call: StaticString) -> Never {
        fatal("double free", call: call, pointer: p)
    }
}

extension UnsafeMutablePointer where Pointee == MCache {
    // The fast path's two exits. Their parameters are ordered so that every argument travels in a register and
    // `p` stays where the C caller put it (the first argument register; `self` comes last), so the fast path
    // reaches them by a plain jump.

    /// Every miss of free's fast path but "held by another cache": NULL, errors, and the empty MCache (a thread
    /// without a cache: Sentinels.swift, whose `heap` is not a heap), which goes to cFreeNoCache.
    @inline(never)
    func freeMiss(_ p: UInt, call: StaticString) {
        if self == emptyCacheAddress { return cFreeNoCache(UnsafeMutableRawPointer(bitPattern: p), call: call) }
        pointee.heap.freeSlow(self, p, call: call)
    }

    /// free's fast path found span `s` for `p` but this cache does not hold it (or `p` is past its objects, or
    /// aliased by the masked lookup, or `s` is the sentinel span): a remote free of a small object, once `p`
    /// checks out, else freeMiss.
    @inline(never)
    func freeNotHeld(_ p: UInt, _ s: UnsafeMutablePointer<MSpan>, call: StaticString) {
        if p >= s.pointee.limit || s.pointee.spanclass.sizeclass == 0 { return freeMiss(p, call: call) }
        let (idx, exact) = s.objIndexExact(p)
        if !exact || gort_load_relaxed(&s.pointee.owner) == word(self) { return freeMiss(p, call: call) }
        pointee.heap.freeRemote(self, s, p, idx: idx, call: call)
    }

    /// free's fast path (step 2 above), for a cache of the heap that owns `p`: arena (one masked load and an add:
    /// ArenaIndex.lookupFlatMasked) -> span (a load and an add) -> owner, limit, start-of-object, allocBits and
    /// freeBits checks. Anything else, errors included, leaves by a jump to freeNotHeld or freeMiss, so this
    /// needs no stack frame.
    @inline(__always)
    func free(_ p: UInt, call: StaticString) {
        // The limit test comes before any use of the object index: it rejects addresses the masked lookup
        // aliased, so the index is only computed for p in [startAddr, limit).
        // No nil tests: a missing arena or span is the sentinel (Sentinels.swift), held by no cache, limit 0.
        let bias = pointee.sentinel
        let a = ArenaIndex.lookupFlatMasked(pointee.arenaFlat, p, mask: pointee.arenaMask, bias: bias)
        let s = sentinelDecodeFast(gort_load_relaxed(a.spanEntries + a.pageIndex(p)), bias: bias, to: MSpan.self)
        // A plain load of owner, on purpose: LLVM folds it into the compare, where a relaxed atomic load costs one
        // more instruction. Another cache may change owner meanwhile (a span moving between caches); any value but
        // ours means "not held here", which is all this needs. scripts/tsan-check.awk names this one race.
        if s.pointee.owner != word(self) || p >= s.pointee.limit { return freeNotHeld(p, s, call: call) }
        let (idx, exact) = s.objIndexExact(p)
        if !exact { return freeMiss(p, call: call) }
        // Remote frees pending in this span (hasRemoteFrees, on the line `limit` is on): merge them first, off
        // the fast path. Without them no freeBits word needs reading for the double-free check: one dependent
        // cache miss fewer per free (threads-1, BENCHMARKS.md). A remote freer sets the flag after its bit, so a
        // free ordered after a remote free of the same object (a double free, as sequential programs make it)
        // sees the flag, and the sweep or the checks below find it.
        if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 { return freeSweepingFirst(s, p, idx: idx, call: call) }
        freeInHeldSpan(s, p, idx: idx, pendingWord: 0, call: call)
    }

    /// free's fast path in held span `s`, for the start of object `idx`: `pendingWord` is the freeBits word of
    /// the object (0 when no remote free is pending).
    @inline(__always)
    func freeInHeldSpan(_ s: UnsafeMutablePointer<MSpan>, _ p: UInt, idx: UInt, pendingWord: UInt64,
                        call: StaticString) {
        let w = Int(idx &>> 6)
        // Bits are tested and changed by index (x86 bt, bts, btc), not through a `1 << b` mask. `b` is the index
        // itself: `&>>`, bt, bts and btc all take it modulo 64.
        let b = UInt64(idx)
        // Both the free slots and a pending remote free of the same object mean a double free.
        if UInt32(truncatingIfNeeded: w) == s.pointee.cacheWord {  // w < 2^26: exact
            // In the cache word: back into allocCache, reserved for the next malloc (MSpan.swift).
            let cache = gort_load_relaxed(&s.pointee.allocCache)
            if (cache | pendingWord) &>> b & 1 != 0 { return freeMiss(p, call: call) }
            gort_store_relaxed(&s.pointee.allocCache, gort_bit_set(cache, b))
            return countLocalFree(s)
        }
        let wp = s.pointee.allocBits + w
        let a0 = gort_load_relaxed(wp)
        if (~a0 | pendingWord) &>> b & 1 != 0 { return freeMiss(p, call: call) }
        gort_store_relaxed(wp, gort_bit_flip(a0, b))  // the bit is set: flipping clears it
        // Decrement, then test with a fresh load: x86 does each in one instruction (dec and cmp on memory).
        gort_store32_relaxed(&s.pointee.allocCount, gort_load32_relaxed(&s.pointee.allocCount) &- 1)
        countLocalFree(s)
        // A retained span left empty goes back (the current span stays: a malloc/free pair must not pay).
        if gort_load32_relaxed(&s.pointee.allocCount) == 0 && allocSlot(Int(s.pointee.spanclass.raw)).pointee != s {
            return spanEmptied(s)
        }
    }

    /// A local free into a held span with remote frees pending: the holder sweeps them in (MSpan.sweepRemoteFrees,
    /// which reports a remote free of an object already free), then frees, checking the freeBits word too in case
    /// another remote free landed since.
    @inline(never)
    func freeSweepingFirst(_ s: UnsafeMutablePointer<MSpan>, _ p: UInt, idx: UInt, call: StaticString) {
        s.sweepRemoteFrees()
        freeInHeldSpan(s, p, idx: idx, pendingWord: gort_load_relaxed(s.pointee.freeBits + Int(idx &>> 6)), call: call)
    }

    /// A local free the fast path declined: MHeap.freeSlow found `p` to be the start of an object of held span
    /// `s`, so the fast path's only remaining reasons are a double free (the object free in the cache word or in
    /// allocBits, or a remote free of it pending). Diagnoses that; otherwise (state is owner-only, so this does
    /// not happen) it frees through the fast path.
    @inline(never)
    func freeLocal(_ s: UnsafeMutablePointer<MSpan>, _ p: UInt, idx: UInt, call: StaticString) {
        let w = Int(idx &>> 6)
        let bit: UInt64 = 1 &<< UInt64(idx & 63)
        let isFree = UInt32(w) == s.pointee.cacheWord ? gort_load_relaxed(&s.pointee.allocCache) & bit != 0
                                                      : gort_load_relaxed(s.pointee.allocBits + w) & bit == 0
        if isFree || gort_load_relaxed(s.pointee.freeBits + w) & bit != 0 { pointee.heap.doubleFree(p, call) }
        free(p, call: call)
    }
}
