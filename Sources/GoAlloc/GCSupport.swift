// What the garbage collector (GoGC) needs from the allocator, and nothing else. Go: the parts of mgcsweep.go
// and mcentral.go that touch span internals.
//
// GoGC keeps its own mark bits (one bit per 16-byte granule, in its own per-arena side tables), so the allocator
// needs no new fields: a GC sweep of a span is "clear the allocBits of every allocated object whose mark bit is
// clear", done by the span's exclusive holder, exactly like a local explicit free (Free.swift, step 2).
// Ownership rules are the allocator's: a span is swept either by the MCache that holds it (its owner thread)
// or by a thread that popped it from an MCentral SpanSet (exclusive until it is pushed back).
//
// GC heaps never see remote frees (nothing in GoGC calls free on a span it does not hold), so MCentral's
// swept/unswept distinction is free for GoGC to reuse: `gcFlipCentrals` at mark termination turns every
// uncached span into an unswept one, and `gcPopUnswept` hands those to the GC's background sweeper.
import CGoRuntime

@_spi(GoGC) public struct GCSweepResult {
    public var objects: Int = 0
    public var bytes: Int = 0
    public init() {}
}

extension Heap {
    /// Flips every MCentral (swept sets become unswept). Caller: the collector, with the world stopped, after
    /// every MCache of this heap was flushed. Go: the sweepgen += 2 at mark termination.
    @_spi(GoGC) public func gcFlipCentrals() {
        for i in 0..<numSpanClasses { raw.central(SpanClass(UInt8(i))).flip() }
    }

    /// Pops an uncached span of span class `spc` that has not been looked at since the last flip, or nil.
    /// The caller holds it exclusively until `gcReturnSpan`.
    @_spi(GoGC) public func gcPopUnswept(_ spc: Int) -> UnsafeMutablePointer<MSpan>? {
        let m = raw.central(SpanClass(UInt8(spc)))
        let sg = m.sweepgen
        if let s = m.partialUnswept(sg).pop() { return s }
        if let s = m.fullUnswept(sg).pop() {
            gort_fetch_add_relaxed(&m.pointee.nfull, UInt64.max)  // -1
            gort_store8_relaxed(&s.pointee.inFull, 0)
            return s
        }
        return nil
    }

    /// Gives a span popped with `gcPopUnswept` back to its MCentral (or, if empty, to the page heap).
    @_spi(GoGC) public func gcReturnSpan(_ s: UnsafeMutablePointer<MSpan>) {
        s.rewind()
        raw.central(s.pointee.spanclass).uncacheSpan(raw, s)
    }

    /// Installs the collector's sweep for spans MCentral.cacheSpan takes from unswept sets (see
    /// MHeap.gcSweepHook). Call once, before the heap allocates anything.
    @_spi(GoGC) public func gcSetSweepHook(_ hook: @escaping @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer?) -> Void,
                                           context: UnsafeMutableRawPointer?) {
        raw.pointee.gcSweepHook = hook
        raw.pointee.gcSweepContext = context
        raw.pointee.config.retainSpans = false  // the collector sweeps spans in MCentral's sets
    }

    /// Returns free pages to the OS without the allocator's own sweep (which would flip GoGC's unswept sets).
    /// `all`: every free page, else the ones free since the previous pass. Returns bytes released.
    @_spi(GoGC) @discardableResult public func gcScavenge(all: Bool) -> Int { raw.scavenge(all: all) }

    /// Bytes of pages in use by spans (HeapInuse). Takes MHeap.lock.
    @_spi(GoGC) public var gcInuseBytes: Int {
        raw.pointee.lock.lock()
        defer { raw.pointee.lock.unlock() }
        return raw.pointee.stats.inusePages << pageShift
    }

    /// HeapInuse if MHeap.lock is free this moment, else nil: for a reading inside a stop-the-world pause, which
    /// must not wait for the lock (the scavenger holds it for milliseconds while it madvises).
    @_spi(GoGC) public var gcInuseBytesIfUnlocked: Int? {
        guard raw.pointee.lock.tryLock() else { return nil }
        defer { raw.pointee.lock.unlock() }
        return raw.pointee.stats.inusePages << pageShift
    }
}

/// A run of free slots GoGC took from a span in one go (`gcReserveWord`): the free slots of one allocBits word.
@_spi(GoGC) public struct GCReservation {
    /// Bit i: slot `base + i * elemsize` is now the caller's.
    public var free: UInt64
    /// Address of the word's first slot.
    public var base: UInt
    /// The next allocBits word to look at.
    public var nextWord: Int
}

extension Cache {
    /// GoGC's refill: makes the cache's span of class `spc` a new one (handing the one it held back to its
    /// MCentral) and returns it, or nil when out of memory. GoGC allocates from it by taking whole
    /// allocBits words (`gcReserveWord`, which empties the span's own cursor: GoAlloc's allocation paths
    /// never hand out one of its slots). The span stays in the cache's slot (flush and release return it).
    @_spi(GoGC) public func gcNextSpan(_ spc: Int) -> UnsafeMutablePointer<MSpan>? {
        raw.refill(spc)
    }

    /// Counts frees made by a GC sweep in this cache's per-class statistics (owner only).
    @_spi(GoGC) public func gcCountFrees(_ sc: Int, _ n: Int) {
        let p = raw.freeCountsBase + 2 * sc  // either of the class's two span-class counters
        gort_store_relaxed(p, p.pointee &+ UInt64(n))
    }
}

extension UnsafeMutablePointer where Pointee == MSpan {
    @_spi(GoGC) public var gcElemSize: UInt { pointee.elemsize }
    @_spi(GoGC) public var gcStart: UInt { pointee.startAddr }
    @_spi(GoGC) public var gcNElems: UInt { pointee.nelems }
    @_spi(GoGC) public var gcNoscan: Bool { pointee.spanclass.noscan }
    @_spi(GoGC) public var gcNPages: Int { Int(pointee.npages) }
    @_spi(GoGC) public var gcSpanClassIndex: Int { pointee.spanclass.index }
    @_spi(GoGC) public var gcInUse: Bool { pointee.state == MSpanState.inUse.rawValue }

    /// Go: mspan.sweep for GoGC. Frees every allocated object whose mark is clear, except `keep` (an object
    /// the holder just allocated, not yet marked). Marks: GoGC's mark bits, one per 16-byte granule (objects
    /// are at least 16 bytes), `marks` at the word of the span's first granule (spans are page-aligned, so it
    /// starts a word); the object at offset o from the span's start has bit ((o >> 4) & 63) of word (o >> 10).
    /// Caller: the span's exclusive holder. Frees go straight into allocBits (holder's right); the allocation
    /// cursor is rewound so freed slots are found. Statistics: `freedObjects`/`freedBytes` are added to `r`.
    /// Per-class free counts go to the heap's cache-less counters (atomic, relaxed).
    @_spi(GoGC) public func gcSweep(marks: UnsafeMutablePointer<UInt64>, keep: UInt, into r: inout GCSweepResult) {
        leaveCache()  // slots reserved in GoAlloc's cache word are free, not unmarked objects
        let n = pointee.nelems
        let elem = pointee.elemsize
        let keepIdx = keep == 0 ? UInt.max : objIndex(keep)
        var freed = 0
        for w in 0..<pointee.bitsWords {
            let lo = UInt(w) << 6
            if lo >= n { break }
            var a = pointee.allocBits[w]
            let valid: UInt64 = n - lo >= 64 ? ~0 : (UInt64(1) << UInt64(n - lo)) - 1
            var live = a & valid
            if keepIdx &- lo < 64 { live &= ~(UInt64(1) &<< UInt64(keepIdx &- lo)) }
            if live == 0 { continue }
            var dead: UInt64 = 0
            if elem == 16 {
                // Objects 64w...64w+63 are granules 64w...64w+63: mark word w, bit for bit.
                dead = live & ~marks[w]
            } else {
                while live != 0 {
                    let b = live.trailingZeroBitCount
                    live &= live &- 1
                    let g = ((lo &+ UInt(b)) &* elem) &>> 4
                    if marks[Int(g &>> 6)] & (1 &<< UInt64(g & 63)) == 0 { dead |= 1 &<< UInt64(b) }
                }
            }
            if dead != 0 {
                a &= ~dead
                gort_store_relaxed(pointee.allocBits + w, a)
                freed &+= dead.nonzeroBitCount
            }
        }
        if freed != 0 {
            gort_store32_relaxed(&pointee.allocCount, pointee.allocCount &- UInt32(freed))
            rewind()
            r.objects &+= freed
            r.bytes &+= freed &* Int(pointee.elemsize)
        }
    }

    /// Takes every free slot of the first allocBits word at or after `word` that has one: sets their bits
    /// (they count as allocated from now on) and returns them. `free` is 0 when no word is left. Caller: the
    /// span's holder (GoGC, on a span from `gcNextSpan`). Slots taken and never used stay allocated until a
    /// GC sweep finds them unmarked.
    @_spi(GoGC) public func gcReserveWord(from word: Int) -> GCReservation {
        let nwords = Int((pointee.nelems &+ 63) &>> 6)
        leaveCache()  // GoAlloc's own cache-word reservation, if any, goes back first
        pointee.freeindex = UInt(nwords) &<< 6
        var w = word
        while w < nwords {
            let a = pointee.allocBits[w]
            let free = ~a & validMask(w)
            if free != 0 {
                gort_store_relaxed(pointee.allocBits + w, a | free)
                gort_store32_relaxed(&pointee.allocCount, pointee.allocCount &+ UInt32(free.nonzeroBitCount))
                return GCReservation(free: free, base: pointee.startAddr &+ (UInt(w) &<< 6) &* pointee.elemsize,
                                     nextWord: w &+ 1)
            }
            w &+= 1
        }
        return GCReservation(free: 0, base: 0, nextWord: nwords)
    }

    /// Gives back reserved slots `free` of the allocBits word whose first slot is at `base` (the remains of a
    /// `gcReserveWord`): they are free again. Returns that word's index, to reserve it again later. Caller:
    /// the span's holder, or the collector with the world stopped.
    @_spi(GoGC) public func gcUnreserve(_ free: UInt64, base: UInt) -> Int {
        let w = Int(objIndex(base) &>> 6)
        gort_store_relaxed(pointee.allocBits + w, pointee.allocBits[w] & ~free)
        gort_store32_relaxed(&pointee.allocCount, pointee.allocCount &- UInt32(free.nonzeroBitCount))
        return w
    }

    /// Go: mspan.sweep's freed-count accounting for the heap's statistics (cache-less frees).
    @_spi(GoGC) public func gcCountFreesGlobally(_ heap: Heap, _ n: Int) {
        let sc = pointee.spanclass.sizeclass
        gort_fetch_add_relaxed(heap.raw.pointee.classCounts + 2 * sc + 1, UInt64(n))
    }
}

extension UnsafeMutablePointer where Pointee == HeapArena {
    /// The in-use span holding page `p`, without the arena index lookup.
    @_spi(GoGC) @inline(__always) public func gcSpan(at p: UInt) -> UnsafeMutablePointer<MSpan>? {
        span(at: pageIndex(p))
    }
}
