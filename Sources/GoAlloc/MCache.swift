// MCache: a per-thread (or per-P) cache of spans, one per span class. Go: mcache (mcache.go).
//
// Fast path (Malloc.swift): alloc[spanclass] -> MSpan.nextFreeFast: a count-trailing-zeros on the span's
// allocCache, no lock, no atomic read-modify-write. When the span runs out, refill() first looks behind the
// cursor (frees by this thread and swept remote frees make room there), then keeps the span among its retained
// spans (RetainedSpans.swift; GC heaps hand it back to its MCentral) and takes a retained one with room, its
// spare, or one from MCentral.
//
// Ownership: an MCache is used by exactly one thread at a time (its owner thread, or the P that owns it in
// GoSched). Every field is owner-only except the counters, which the owner writes with relaxed stores and
// ReadMemStats reads with relaxed loads, and nextCache/prevCache, which are under MHeap.lock.
//
// Memory: MCache header (128 bytes) | alloc[numSpanClasses] span pointers | frees[numSpanClasses] |
// retained[numSpanClasses] list heads | retainedCount[numSpanClasses] | spare[numSpanClasses] | housekeeping
// words [2] | scan backoff[numSpanClasses] (UInt16) | prefetch stride[numSpanClasses] (UInt16), in one FixAlloc
// object from MHeap.cachealloc (Go: mheap_.cachealloc), never from malloc. (C's size -> class table is one per
// image, CGoRuntime's gort_malloc_class: it is the same for every cache.)
import CGoRuntime

/// Go: mcache.
public struct MCache {
    /// The heap this cache draws from. Immutable.
    var heap: UnsafeMutablePointer<MHeap>
    /// Go: tiny, tinyoffset. The current 16-byte tiny block and the offset of its first free byte.
    var tiny: UInt = 0
    var tinyoffset: UInt = 0
    /// Go: tinyAllocs. Objects allocated from tiny blocks (they are not counted as separate mallocs).
    var tinyAllocs: UInt64 = 0
    /// Links in MHeap.caches (MHeap.lock).
    var nextCache: UnsafeMutablePointer<MCache>? = nil
    var prevCache: UnsafeMutablePointer<MCache>? = nil
    /// Owner thread id, for messages and assertions (0 for caches owned by a P, `MCache.sharedOwner` for the
    /// young threads' shared cache: CABI.swift). Immutable once set.
    var ownerTid: Int32 = 0
    /// The heap's arena index table (ArenaIndex.flat), for free's fast path. Immutable.
    var arenaFlat: UnsafeMutablePointer<UInt64>
    /// Pages held in spare spans over all classes (RetainedSpans.swift, spareBudgetPages). Owner only.
    var sparePages: Int = 0
    /// The mask free applies to an address's arena number (0 in the empty MCache: Sentinels.swift). Immutable.
    var arenaMask: UInt = UInt((1 << (heapAddrBits - logHeapArenaBytes)) - 1)
    /// The bias of arena-index and span-table entries: the heap's sentinel region (Sentinels.swift). Immutable.
    var sentinel: UInt
    /// Spans retained over all classes (RetainedSpans.swift; the sum of retainedCount). Owner only.
    var retainedTotal: Int = 0
    /// This cache's current block of span metadata and the bytes left in it (CacheMetadata.swift). MHeap.lock.
    var metaNext: UnsafeMutableRawPointer? = nil
    var metaLeft: Int = 0
    /// Refills so far, and their number at the last housekeeping pass: equal means the thread has not run out of
    /// any class since. Then the idle guess (RetainedSpans.swift, releaseIfIdle): housekeeping passes in a row
    /// without a refill, how many it takes to call the cache idle, whether it has handed spans back since it
    /// last refilled, and whether current spans with live objects were left to look at again. Owner only.
    var refills: UInt32 = 0
    var refillsAtHousekeep: UInt32 = 0
    var idlePasses: UInt8 = 0
    var idlePassesNeeded: UInt8 = 1
    var idleReleased = false
    var idleSpansLeft = false

    init(heap: UnsafeMutablePointer<MHeap>) {
        self.heap = heap
        arenaFlat = heap.pointee.index.flat
        sentinel = sentinelAddress
    }

    /// ownerTid of the cache young threads share (CABI.swift).
    static let sharedOwner: Int32 = -1

    /// Bytes before the per-class arrays (two cache lines; MHeap.makeCache checks the struct fits).
    static let headerBytes = 128
    /// Where the per-class retained-scan backoff (UInt16 each: RetainedSpans.swift, takeRetained) starts.
    static let scanBackoffOffset = headerBytes + numSpanClasses * 8 + numSpanClasses * 8 + numSpanClasses * 24 + 16
    /// Where the per-class prefetch strides (UInt16 each; see prefetchStride) start.
    static let prefetchStrideOffset = scanBackoffOffset + numSpanClasses * 2
    /// The remote-free hint ring (RemoteHints.swift): its tail on a line of its own (other threads' fetch_add),
    /// the owner's head on the next, then the slots. Last, away from word 0, which FixAlloc's free list uses
    /// while the cache is free (a stale hint may still land in the ring then).
    static let hintTailOffset = (prefetchStrideOffset + numSpanClasses * 2 + 63) & ~63
    static let hintHeadOffset = hintTailOffset + 64
    static let hintSlotsOffset = hintHeadOffset + 64
    /// Whole cache lines, so caches of different threads never share one.
    static let totalBytes = hintSlotsOffset + remoteHintSlots * 8
}

extension UnsafeMutablePointer where Pointee == MCache {
    /// What C's malloc adds to the address it hands out to prefetch (for writing): the object size while
    /// alloc[spc] is a span that was empty when it was cached, which fills slot after slot, so the next object
    /// is prefetched (a program that allocates and initializes objects one after another into fresh memory,
    /// such as spawn-join's million tasks, otherwise stalls on each one's first store: tcmalloc prefetches its
    /// next free-list object for the same reason); 0 for a reused span, whose next slot likely holds a live
    /// object nobody is touching. Set by refill. Owner only.
    @inline(__always) func prefetchStride(_ spc: Int) -> UnsafeMutablePointer<UInt16> {
        (UnsafeMutableRawPointer(self) + MCache.prefetchStrideOffset + spc &* 2).assumingMemoryBound(to: UInt16.self)
    }
    /// Go: mcache.alloc[spc].
    @inline(__always) func allocSlot(_ spc: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<MSpan>> {
        (UnsafeMutableRawPointer(self) + MCache.headerBytes + spc &* 8)
            .assumingMemoryBound(to: UnsafeMutablePointer<MSpan>.self)
    }
    /// Remote frees per span class (local frees count in their span: MSpan.localFrees; mallocs are derived:
    /// MemStats.swift).
    @inline(__always) var freeCountsBase: UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(self) + MCache.headerBytes + numSpanClasses * 8).assumingMemoryBound(to: UInt64.self)
    }
    /// Head of the circular list of spans of class `spc` this cache retains (RetainedSpans.swift). Owner only.
    @inline(__always) func retainedHead(_ spc: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<MSpan>?> {
        UnsafeMutableRawPointer(freeCountsBase + numSpanClasses).assumingMemoryBound(to: UnsafeMutablePointer<MSpan>?.self) + spc
    }
    /// Spans in that list. Owner writes; relaxed loads elsewhere (statistics).
    @inline(__always) func retainedCount(_ spc: Int) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutableRawPointer(freeCountsBase + numSpanClasses + numSpanClasses).assumingMemoryBound(to: UInt64.self) + spc
    }
    /// Remote frees made through this cache, and the class the next housekeeping pass starts at
    /// (RetainedSpans.swift, `housekeep`). Owner only.
    @inline(__always) var remoteFreeTicks: UnsafeMutablePointer<UInt64> {
        UnsafeMutableRawPointer(freeCountsBase + numSpanClasses + 3 * numSpanClasses).assumingMemoryBound(to: UInt64.self)
    }
    /// Class `spc`'s retained-scan backoff: low byte, refills that skip the scan; high byte, the backoff level
    /// (RetainedSpans.swift, takeRetained). Owner only.
    @inline(__always) func scanBackoff(_ spc: Int) -> UnsafeMutablePointer<UInt16> {
        (UnsafeMutableRawPointer(self) + MCache.scanBackoffOffset).assumingMemoryBound(to: UInt16.self) + spc
    }
    /// One empty span of class `spc` kept back from MHeap (RetainedSpans.swift), or nil. Owner only.
    @inline(__always) func spareSpan(_ spc: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<MSpan>?> {
        UnsafeMutableRawPointer(freeCountsBase + numSpanClasses + 2 * numSpanClasses)
            .assumingMemoryBound(to: UnsafeMutablePointer<MSpan>?.self) + spc
    }

    /// Counts one free this cache made into span `s`, which it holds (MSpan.localFrees; relaxed store so
    /// ReadMemStats may read it).
    @inline(__always) func countLocalFree(_ s: UnsafeMutablePointer<MSpan>) {
        gort_store_relaxed(&s.pointee.localFrees, gort_load_relaxed(&s.pointee.localFrees) &+ 1)  // one `inc`
    }

    /// Counts one remote free of span class `spc` (owner only; relaxed store so ReadMemStats may read it).
    @inline(__always) func countFree(_ spc: SpanClass) {
        let p = freeCountsBase + spc.index
        gort_store_relaxed(p, gort_load_relaxed(p) &+ 1)  // owner only: one non-atomic `inc` on x86
    }
    /// Frees of size class `sc` (both its span classes). Relaxed loads.
    func frees(ofClass sc: Int) -> UInt64 {
        gort_load_relaxed(freeCountsBase + 2 * sc) &+ gort_load_relaxed(freeCountsBase + 2 * sc + 1)
    }

    /// Go: mallocgc's small-object path. An object of size class `sc` (1...67). 0 when out of memory.
    @inline(__always)
    func allocSmall(_ sc: Int, noscan: Bool) -> UInt {
        let spc = sc &<< 1 | (noscan ? 1 : 0)
        let s = allocSlot(spc).pointee
        let cache = s.pointee.allocCache
        return cache != 0 ? s.take(cache) : nextFree(spc)
    }

    /// Go: mcache.nextFree. Slow path: the next object of the cached span, or a refill.
    @inline(never)
    func nextFree(_ spc: Int) -> UInt {
        let s = allocSlot(spc).pointee
        let v = s.nextFreeSlow()
        if v != 0 { return v }
        guard let t = refill(spc) else { return 0 }
        let w = t.nextFreeFast()
        return w != 0 ? w : t.nextFreeSlow()
    }

    /// Go: mcache.refill. Makes alloc[spc] a span with a free object; nil when out of memory.
    /// Heaps with explicit free (no collector) keep the spans they fill (RetainedSpans.swift) and look there
    /// before MCentral; garbage-collected heaps hand each span back to MCentral, as Go does, for the sweeper.
    @inline(never)
    func refill(_ spc: Int) -> UnsafeMutablePointer<MSpan>? {
        let h = pointee.heap
        pointee.refills &+= 1
        let s = allocSlot(spc).pointee
        // The young threads' shared cache does not retain: nothing would sweep the frees into its spans once
        // those threads have caches of their own. Spans in MCentral are swept by the background pass; the
        // shared cache's current span of each class keeps frees into it until a young thread next needs that
        // class (at most one span per class).
        let retains = h.pointee.config.retainSpans && pointee.ownerTid != MCache.sharedOwner
        if s != h.pointee.emptySpan {
            // Room behind the cursor? Frees by this thread cleared allocBits there; remote frees wait in
            // freeBits until swept. Reuse the span if at least 1/8 of it is free: rescanning costs
            // nelems/64 words, so that bounds the scan cost per object found.
            if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 { s.sweepRemoteFrees() }
            if s.hasRoomToReuse {
                s.rewind()
                prefetchStride(spc).pointee = 0
                return s
            }
            allocSlot(spc).pointee = h.pointee.emptySpan
            s.leaveCache()
            if !retains { h.central(SpanClass(UInt8(spc))).uncacheSpan(h, s) }
        }
        if retains { takeRemoteHints() }
        guard let u = replacement(spc, ranThrough: s, retains: retains) else { return nil }
        u.rewind()
        // An empty span fills from its start, slot after slot: malloc prefetches the slot after the one it hands
        // out. A reused span's free slots are scattered (and the next slot likely holds a live object this
        // thread is not using): stride 0, and the prefetch is of the object itself.
        prefetchStride(spc).pointee = u.pointee.allocCount == 0 ? UInt16(truncatingIfNeeded: u.pointee.elemsize) : 0
        allocSlot(spc).pointee = u
        if h.pointee.config.checkInvariants {
            if let msg = u.checkInvariants() { fatal(msg, call: "refill", pointer: u.pointee.startAddr) }
            // The retained lists' walk, amortized as MHeap's (checkInvariantsAmortizedLocked): one refill in
            // every retainedTotal / 64.
            if pointee.refills % UInt32(truncatingIfNeeded: Swift.max(1, pointee.retainedTotal / 64)) == 0,
               let msg = checkRetainedInvariants()
            {
                fatal(msg, call: "refill", pointer: UInt(bitPattern: self))
            }
        }
        return u
    }

    /// The span refill moves to after running through `s` (the empty sentinel if the slot held none): a retained
    /// span with room, else `s` itself if 1/32 of it is free, else the class's spare, else one from MCentral
    /// (owned by this cache from now on). `s` is retained if it is not the answer. nil when out of memory.
    private func replacement(_ spc: Int, ranThrough s: UnsafeMutablePointer<MSpan>,
                             retains: Bool) -> UnsafeMutablePointer<MSpan>? {
        let h = pointee.heap
        if retains {
            let r = takeRetained(spc)  // still linked
            if s != h.pointee.emptySpan {
                if let r {
                    replaceRetained(spc, r, with: s)
                    return r
                }
                if s.hasSomeRoom { return s }
                retain(spc, s)
            } else if let r {
                unretain(spc, r)
                return r
            }
            if let e = takeSpare(spc) { return e }
        }
        guard let t = h.central(SpanClass(UInt8(spc))).cacheSpan(h, spanclass: SpanClass(UInt8(spc)), for: self)
        else { return nil }
        gort_store_relaxed(&t.pointee.owner, word(self))
        return t
    }

    /// Hands back every current span (alloc[spc]) that has no live objects once its remote frees are swept, so
    /// its pages serve whichever thread allocates next (RetainedSpans.swift, releaseIfIdle; the young threads'
    /// shared cache: CABI.swift). Returns how many it handed back and whether any current span is left. Owner
    /// only.
    @discardableResult
    func releaseEmptyCurrentSpans() -> (released: Int, left: Bool) {
        let h = pointee.heap
        var released = 0
        var left = false
        for spc in 0..<numSpanClasses {
            let s = allocSlot(spc).pointee
            if s == h.pointee.emptySpan { continue }
            if gort_load32_relaxed(&s.pointee.hasRemoteFrees) != 0 { s.sweepRemoteFrees() }
            if s.liveCount != 0 {
                left = true
                continue
            }
            allocSlot(spc).pointee = h.pointee.emptySpan
            s.leaveCache()
            h.central(SpanClass(UInt8(spc))).uncacheSpan(h, s)
            released += 1
        }
        return (released, left)
    }

    /// Go: mcache.releaseAll. Hands every cached and retained span back to its MCentral (thread exit, P
    /// destruction, tests).
    func releaseAll() {
        let h = pointee.heap
        for spc in 0..<numSpanClasses {
            releaseRetained(spc)
            let s = allocSlot(spc).pointee
            if s == h.pointee.emptySpan { continue }
            allocSlot(spc).pointee = h.pointee.emptySpan
            h.central(SpanClass(UInt8(spc))).uncacheSpan(h, s)
        }
        pointee.tiny = 0
        pointee.tinyoffset = 0
    }

    /// Go: the tiny allocator in mallocgc. Packs pointer-free objects smaller than 16 bytes into 16-byte blocks.
    /// A tiny object can never be freed on its own (the block is shared): this is for garbage-collected,
    /// pointer-free data (GoGC), which the collector frees a whole block at a time. 0 when out of memory.
    func allocTiny(_ size: UInt) -> UInt {
        var off = pointee.tinyoffset
        // Align like Go: 8 for multiples of 8, 4 for multiples of 4, 2 for even sizes.
        if size & 7 == 0 { off = (off + 7) & ~7 } else if size & 3 == 0 { off = (off + 3) & ~3 } else if size & 1 == 0 { off = (off + 1) & ~1 }
        if off + size <= UInt(tinySize) && pointee.tiny != 0 {
            pointee.tinyoffset = off + size
            pointee.tinyAllocs &+= 1
            return pointee.tiny + off
        }
        let v = allocSmall(2, noscan: true)  // size class 2 is 16 bytes
        if v == 0 { return 0 }
        UnsafeMutableRawPointer(bitPattern: v)!.initializeMemory(as: UInt64.self, repeating: 0, count: 2)
        // Keep whichever block has more room left, as Go does.
        if size < pointee.tinyoffset || pointee.tiny == 0 {
            pointee.tiny = v
            pointee.tinyoffset = size
        }
        return v
    }
}

extension UnsafeMutablePointer where Pointee == MSpan {
    /// Whether a span its holder has run through is worth scanning again: at least 1/8 of its slots free
    /// (at least one). Rescanning costs nelems/64 words, so this bounds the scan cost per object found.
    var hasRoomToReuse: Bool {
        let free = UInt64(pointee.nelems) &- UInt64(pointee.allocCount)
        return free > 0 && free &* 8 >= UInt64(pointee.nelems)
    }

    /// The fallback: at least 1/32 of the slots free (at least one), so refills do not chase single free slots.
    var hasSomeRoom: Bool {
        let free = UInt64(pointee.nelems) &- UInt64(pointee.allocCount)
        return free > 0 && free &* 32 >= UInt64(pointee.nelems)
    }
}
