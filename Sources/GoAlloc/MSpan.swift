// MSpan: a run of pages holding objects of one span class. Go: mspan (mheap.go), mbitmap.go.
//
// Allocation state, Go's design with explicit free added (see Free.swift):
//   allocBits  1 bit per object, 1 = allocated. Written only by the span's exclusive holder (the MCache that
//              caches it, or the thread that popped it from a SpanSet), with relaxed atomic stores; read by anyone
//              with relaxed loads (a remote free checks its own object's bit, which cannot change under it).
//   freeBits   1 bit per object, 1 = freed by a thread that does not hold the span (a "remote" free), not yet
//              swept. Set with fetch_or by any thread; taken with exchange by the holder when it sweeps.
//   allocCache the free slots of one allocBits word, the "cache word" (written by the holder; relaxed loads by
//              remote freers). When the holder loads a word it *reserves* its free slots: their allocBits bits
//              are set and allocCount counts them, as Go counts a cached span's free slots as allocated. So the
//              fast path takes the lowest set bit of allocCache (tzcnt, blsr) and touches nothing else, and a
//              local free in the cache word only sets its bit back (reused at once, LIFO-like). Releasing the
//              word (MSpan.releaseCacheWord: rewind, a span leaving its cache, a GC sweep) clears the reserved
//              slots' allocBits bits and takes them off allocCount. Objects live = allocCount - popcount(allocCache).
//   cacheSeq   even, bumped twice around each change of cacheWord (holder; a seqlock): a remote free reads
//              cacheWord and allocCache under it to see whether its object sits free in the cache word.
//   freeindex  first object of the word after the cache word: where the slow path resumes scanning.
// Departure from Go, on purpose: Go shifts allocCache so bit 0 is object freeindex, which costs a shift and a
// freeindex store per malloc and makes a free behind the cursor invisible until the next sweep. A word-aligned
// cache needs neither, and lets free set its bit with one OR.
// Invariants, for a span at rest (no remote frees pending):
//   allocCount == popcount(allocBits[0..<nelems]); bits past nelems are 1; freeBits is all zero after a sweep;
//   allocCache is a subset of allocBits[cacheWord]'s set bits, and is 0 unless cacheWord indexes allocBits (a span
//   that is not some cache's current span has cacheWord == MSpan.noCacheWord).
import CGoRuntime

/// Go: mSpanState. Dead: the MSpan struct is unused (on MHeap's free list). InUse: its pages hold objects.
public enum MSpanState: UInt8 {
    case dead = 0
    case inUse = 1
}

/// Go: mspan. Lives in FixAlloc memory; reached only through UnsafeMutablePointer<MSpan>.
public struct MSpan {
    // Layout: 192 bytes (three cache lines; FixAlloc hands them out 64-byte aligned). Line 1 holds everything
    // malloc's fast path touches and most of what free's does; line 2 the rest of free's (freeBits, limit,
    // divMul, spanclass) and, for spans of up to 128 objects, the bitmaps themselves (`inlineBits`), so free and
    // malloc touch two adjacent lines and nothing else (larger bitmaps: one more line, and free reads freeBits
    // only while hasRemoteFrees is set); line 3 the slow paths' fields and the list links.
    // ---- Line 1 ----
    /// Holder only. See the file comment.
    var allocCache: UInt64 = 0
    /// Index of the allocBits word allocCache mirrors, or noCacheWord (holder writes; see cacheSeq).
    var cacheWord: UInt32 = MSpan.noCacheWord
    /// Objects allocated (holder writes with relaxed stores; readers such as the heap dump use relaxed loads).
    /// 32 bits: a span holds at most a few thousand objects.
    var allocCount: UInt32 = 0
    /// Address of the cache word's first object (holder only).
    var cacheAddr: UInt = 0
    /// Object size. Immutable while in use. Go: elemsize.
    var elemsize: UInt = 0
    /// Frees into this span by its holder (free's fast path). Holder writes with relaxed stores; MemStats reads
    /// them with relaxed loads under MHeap.lock; MHeap.freeSpan folds them into MHeap.classCounts (under the lock)
    /// before the struct is reused. On line 1, so counting a free is one `inc` on a line free already reads.
    var localFrees: UInt64 = 0
    /// First byte of the span. Immutable while in use. Go: startAddr.
    var startAddr: UInt = 0
    /// See the file comment. Immutable pointer while in use; holds `bitsWords` words, then freeBits follows.
    /// Points at `inlineBits` when both bitmaps fit there, else at MHeap.bitsAlloc memory.
    var allocBits: UnsafeMutablePointer<UInt64> = UnsafeMutablePointer(bitPattern: 8)!
    /// The MCache holding this span (as its current span of the class, or retained: RetainedSpans.swift), or 0.
    /// Written by that MCache's thread with relaxed atomic stores, read with relaxed loads, except by free's fast
    /// path (MCache.free), which reads it plainly so the load folds into its compare: only the holder ever
    /// compares it with itself; other threads only need "not me", which any value gives them.
    var owner: UInt64 = 0

    // ---- Line 2 ----
    /// Remote frees not yet swept (fetch_or by any thread; exchange by the holder).
    var freeBits: UnsafeMutablePointer<UInt64> = UnsafeMutablePointer(bitPattern: 8)!
    /// Go: limit. End of the last object.
    var limit: UInt = 0
    /// Go: divMul. objIndex = (p - startAddr) * divMul >> 32.
    var divMul: UInt32 = 0
    /// Go: spanclass.
    var spanclass: SpanClass = SpanClass(0)
    /// log2 of the words in each bitmap.
    var bitsLog: UInt8 = 0
    /// MSpanState raw value. Changed under MHeap.lock.
    var state: UInt8 = 0
    /// 1 if the span's memory may be dirty (calloc must clear it). Go: needzero.
    var needzero: UInt8 = 0
    /// allocBits then freeBits, two words each, for spans of up to 128 objects (MSpan.inlineBitsLog).
    var inlineBits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// 1 when freeBits may be non-zero (set with exchange by remote freers after their fetch_or, cleared by the
    /// sweeper before it takes the words). On line 2 so that free's fast path, which reads this line anyway,
    /// loads a freeBits word (for its double-free check) only when a remote free is pending.
    var hasRemoteFrees: UInt32 = 0
    /// Bumped each time the MSpan struct is freed (MHeap.freeSpan, under lock) and kept across reuse. A remote
    /// free reads it before its checks and again just before its atomic: a change means the span was freed and
    /// recycled meanwhile, which only a racing double free can cause while the object is allocated (the struct's
    /// bitmaps may already describe another span), so it aborts instead of setting a bit in the wrong span.
    /// (After the atomic a change proves nothing: the holder may have swept our bit and freed the span.)
    var gen: UInt32 = 0

    // ---- Line 3 ----
    /// Holder only. Go: freeindex (here word-granular: the first object of the next word to scan).
    var freeindex: UInt = 0
    /// Number of object slots. Immutable while in use. Go: nelems.
    var nelems: UInt = 0
    /// 1 while the span sits in one of its MCentral's full sets (a hint for the sweeper's accounting). Relaxed
    /// atomic stores by whoever moves the span; a remote freer of an uncached span reads it (relaxed) as a hint.
    var inFull: UInt8 = 0
    /// See the file comment (holder writes, relaxed stores between release/acquire fences; anyone reads).
    var cacheSeq: UInt32 = 0
    /// Go: sweepgen. Equals its MCentral's sweepgen when swept in the current generation.
    var sweepgen: UInt64 = 0
    /// Go: npages.
    var npages: UInt = 0
    /// Go: next. Link in a SpanSet or in MHeap's dead-span list (atomic relaxed while in a SpanSet).
    var next: UnsafeMutablePointer<MSpan>? = nil
    /// Links in the owning MCache's circular list of retained spans of this class (owner only; see
    /// RetainedSpans.swift). Meaningful only while `owner` is set and the span is not the cache's current one.
    var ownNext: UnsafeMutablePointer<MSpan>? = nil
    var ownPrev: UnsafeMutablePointer<MSpan>? = nil

    /// Bitmaps of at most 2^inlineBitsLog words each live in `inlineBits`, at this byte offset (a test checks
    /// it against MemoryLayout; Embedded Swift has no key paths to compute it here).
    static let inlineBitsLog = 1
    /// cacheWord of a span with no cache word: matches no allocBits word, so local frees take the plain path.
    static let noCacheWord = UInt32.max
    static let inlineBitsOffset = 88
    /// Byte offset of `next` (SpanSet's atomic link; a test checks it against MemoryLayout).
    static let nextOffset = 168
    static let stride = 192

    var bitsWords: Int { 1 << Int(bitsLog) }
    public var isLarge: Bool { spanclass.sizeclass == 0 }
}

extension UnsafeMutablePointer where Pointee == MSpan {
    /// Object index of address `p` inside the span, by multiply and shift (no divide). Go: divideByElemSize.
    @inline(__always)
    func objIndex(_ p: UInt) -> UInt {
        UInt((UInt64(p &- pointee.startAddr) &* UInt64(pointee.divMul)) &>> 32)
    }

    /// Object index of `p`, for `p` in [startAddr, limit), and whether `p` is exactly the start of that object:
    /// with divMul = 2^32 / elemsize rounded up, an offset is a multiple of elemsize exactly when the low 32 bits
    /// of offset * divMul are below divMul (SizeClassTests checks every offset of every class). One multiply,
    /// where the object-start test by multiplying back takes two.
    @inline(__always)
    func objIndexExact(_ p: UInt) -> (index: UInt, exact: Bool) {
        let prod = UInt64(p &- pointee.startAddr) &* UInt64(pointee.divMul)
        return (UInt(prod &>> 32), UInt32(truncatingIfNeeded: prod) < pointee.divMul)
    }

    /// Sets up allocation state for a span freshly carved from the heap. Caller: the span's exclusive holder.
    func initAlloc(spanclass: SpanClass, bits: UnsafeMutablePointer<UInt64>, bitsLog: Int) {
        let sc = spanclass.sizeclass
        pointee.spanclass = spanclass
        pointee.bitsLog = UInt8(bitsLog)
        pointee.allocBits = bits
        pointee.freeBits = bits + (1 << bitsLog)
        if sc == 0 {
            pointee.elemsize = pointee.npages << UInt(pageShift)
            pointee.nelems = 1
            pointee.divMul = 0
        } else {
            pointee.elemsize = UInt(sizeClassSize(sc))
            pointee.nelems = (pointee.npages << UInt(pageShift)) / pointee.elemsize  // sizeClassNElems for table-sized spans
            pointee.divMul = sizeClassDivMagic(sc)
        }
        pointee.limit = pointee.startAddr &+ pointee.nelems &* pointee.elemsize
        let words = 1 << bitsLog
        for w in 0..<words {
            // Slots past nelems are permanently "allocated" so no scan ever returns them.
            let lo = w << 6
            let n = Int(pointee.nelems)
            let v: UInt64 = lo >= n ? ~0 : (n - lo >= 64 ? 0 : ~0 << UInt64(n - lo))
            bits[w] = v
            bits[words + w] = 0
        }
        pointee.allocCount = 0
        pointee.hasRemoteFrees = 0
        gort_store_relaxed(&pointee.owner, 0)
        gort_store8_relaxed(&pointee.inFull, 0)
        pointee.allocCache = 0  // a recycled struct's old reservation described other bitmaps
        rewind()
    }

    /// Go: nextFreeFast. Takes the lowest free slot of the cache word; 0 when the cache is empty.
    /// Holder only. One relaxed store (a plain move): the slot's allocBits bit is already set (reserved).
    @inline(__always)
    func nextFreeFast() -> UInt {
        let cache = pointee.allocCache
        if cache == 0 { return 0 }
        return take(cache)
    }

    /// Allocates the lowest slot of `cache`, which is the span's allocCache and not zero.
    @inline(__always)
    func take(_ cache: UInt64) -> UInt {
        gort_store_relaxed(&pointee.allocCache, cache & (cache &- 1))
        return pointee.cacheAddr &+ UInt(truncatingIfNeeded: cache.trailingZeroBitCount) &* pointee.elemsize
    }

    /// Slots < nelems in allocBits word `w`.
    @inline(__always)
    func validMask(_ w: Int) -> UInt64 {
        let lo = UInt(w) << 6
        let n = pointee.nelems
        if lo >= n { return 0 }
        return n - lo >= 64 ? ~0 : (UInt64(1) << UInt64(n - lo)) - 1
    }

    /// Go: nextFreeIndex. Loads the next allocBits word with a free slot (from freeindex on) into the cache
    /// and allocates from it. 0 when the scan reaches the end of the span.
    @inline(never)
    func nextFreeSlow() -> UInt {
        // The heap's empty sentinel (nelems 0) sits in every cache's unused slots: never write to it.
        if pointee.nelems == 0 { return 0 }
        let nwords = Int((pointee.nelems &+ 63) &>> 6)
        var w = Int(pointee.freeindex &>> 6)
        while w < nwords {
            let free = ~pointee.allocBits[w] & validMask(w)
            if free != 0 {
                releaseCacheWord()
                // Reserve the word's free slots (see the file comment).
                gort_store_relaxed(pointee.allocBits + w, pointee.allocBits[w] | free)
                gort_store32_relaxed(&pointee.allocCount, pointee.allocCount &+ UInt32(free.nonzeroBitCount))
                setCacheWord(UInt32(w), free)
                pointee.cacheAddr = pointee.startAddr &+ (UInt(w) << 6) &* pointee.elemsize
                pointee.freeindex = UInt(w + 1) << 6
                return nextFreeFast()
            }
            w += 1
        }
        pointee.freeindex = UInt(nwords) << 6
        leaveCache()
        return 0
    }

    /// Changes the cache word under cacheSeq (holder only): readers that see the same even cacheSeq before and
    /// after their loads saw a cacheWord and an allocCache that belong together.
    func setCacheWord(_ w: UInt32, _ cache: UInt64) {
        let q = pointee.cacheSeq
        gort_store32_relaxed(&pointee.cacheSeq, q &+ 1)
        gort_fence_release()
        gort_store32_relaxed(&pointee.cacheWord, w)
        gort_store_relaxed(&pointee.allocCache, cache)
        gort_store32_release(&pointee.cacheSeq, q &+ 2)
    }

    /// Gives the cache word's reserved slots back: their allocBits bits clear, allocCount drops. Holder only.
    /// The caller then changes cacheWord: a cache word's valid allocBits bits are all set (reserved or
    /// allocated), which local frees in it rely on.
    func releaseCacheWord() {
        let cache = pointee.allocCache
        if cache == 0 { return }
        let wp = pointee.allocBits + Int(pointee.cacheWord)
        gort_store_relaxed(wp, wp.pointee & ~cache)
        gort_store32_relaxed(&pointee.allocCount, pointee.allocCount &- UInt32(cache.nonzeroBitCount))
        gort_store_relaxed(&pointee.allocCache, 0)
    }

    /// Rewinds the allocation scan to the start of the span (after frees behind it). Holder only.
    func rewind() {
        leaveCache()
        pointee.freeindex = 0
        pointee.cacheAddr = pointee.startAddr
    }

    /// The span stops being some cache's current span (retained, handed back, swept by a non-holder): no
    /// reservation, and a cache word no local free can match. Holder only.
    func leaveCache() {
        if pointee.cacheWord == MSpan.noCacheWord { return }  // nothing reserved without a cache word
        releaseCacheWord()
        setCacheWord(MSpan.noCacheWord, 0)
    }

    /// Objects allocated (allocCount less the slots reserved in the cache word). Relaxed loads: exact for the
    /// holder, a snapshot for anyone else.
    var liveCount: UInt64 {
        UInt64(gort_load32_relaxed(&pointee.allocCount)) &- UInt64(gort_load_relaxed(&pointee.allocCache).nonzeroBitCount)
    }

    /// liveCount less the remote frees not yet swept (freeBits): the objects the program still holds, as MemStats
    /// and the heap dump report them. A snapshot (relaxed loads) for anyone but the holder.
    var liveCountLessPendingFrees: UInt64 {
        var live = liveCount
        for w in 0..<pointee.bitsWords { live &-= UInt64(gort_load_relaxed(pointee.freeBits + w).nonzeroBitCount) }
        return live
    }

    /// Whether `bit` of allocBits word `w` is free in the holder's cache word, read under cacheSeq (see the file
    /// comment). True only when certain; a concurrent change of cache word answers false.
    @inline(__always)
    func isFreeInCacheWord(_ w: UInt64, _ bit: UInt64) -> Bool {
        let q1 = gort_load32_acquire(&pointee.cacheSeq)
        let cw = UInt64(gort_load32_relaxed(&pointee.cacheWord))
        let cache = gort_load_relaxed(&pointee.allocCache)
        gort_fence_acquire()
        let q2 = gort_load32_relaxed(&pointee.cacheSeq)
        return q1 == q2 && q1 & 1 == 0 && cw == w && cache & bit != 0
    }

    /// Go: sweep, for explicit free: merges remote frees (freeBits) into allocBits. Returns the number of objects
    /// freed. Caller: the span's exclusive holder. A bit set in freeBits whose allocBits bit is already clear means
    /// the object was freed twice (once by the holder, once remotely, racing): that is reported, never absorbed.
    @discardableResult
    func sweepRemoteFrees() -> UInt64 {
        // Clear the flag first: a remote free that lands after we take its word sets it again (ordered by the
        // acq_rel exchanges below, which cannot move before this store's preceding program order).
        gort_store32_relaxed(&pointee.hasRemoteFrees, 0)
        var freed: UInt64 = 0
        for w in 0..<pointee.bitsWords {
            let f = gort_exchange_acqrel(pointee.freeBits + w, 0)
            if f == 0 { continue }
            let a = pointee.allocBits[w]
            let n = UInt64(f.nonzeroBitCount)
            freed &+= n
            if UInt32(w) == pointee.cacheWord {
                // The cache word: the freed slots join the reservation (allocBits and allocCount stay).
                let cache = pointee.allocCache
                if f & (~a | cache) != 0 { doubleFreeFound(w, f & (~a | cache)) }
                gort_store_relaxed(&pointee.allocCache, cache | f)
                continue
            }
            if f & ~a != 0 { doubleFreeFound(w, f & ~a) }
            gort_store_relaxed(pointee.allocBits + w, a & ~f)
            // allocCount drops with each word taken, so MemStats (live = allocCount - pending bits) never sees a
            // word's frees in neither place.
            gort_store32_relaxed(&pointee.allocCount, pointee.allocCount &- UInt32(n))
        }
        return freed
    }

    @inline(never)
    func doubleFreeFound(_ w: Int, _ bits: UInt64) -> Never {
        let bit = UInt(bits.trailingZeroBitCount)
        fatal("double free (found while sweeping)", call: "free",
              pointer: pointee.startAddr &+ (UInt(w) << 6 &+ bit) &* pointee.elemsize)
    }

    /// Checks the span's invariants; returns a description of the first violation, or nil.
    /// Caller: the holder, or anyone while the heap is quiescent.
    func checkInvariants() -> StaticString? {
        if pointee.state != MSpanState.inUse.rawValue { return "span not in use" }
        if pointee.startAddr & UInt(pageSize - 1) != 0 { return "span start not page-aligned" }
        if pointee.nelems == 0 || pointee.limit > pointee.startAddr &+ (pointee.npages << UInt(pageShift)) {
            return "span objects overflow its pages"
        }
        if pointee.freeindex > (pointee.nelems &+ 63) & ~63 { return "freeindex past nelems" }
        if pointee.allocCache != 0 {
            let w = Int(truncatingIfNeeded: pointee.cacheWord)
            if w < 0 || w >= pointee.bitsWords { return "cacheWord outside allocBits" }
            if pointee.allocCache & ~(pointee.allocBits[w] & validMask(w)) != 0 {
                return "allocCache not within the reserved bits of its word"
            }
        }
        var count: UInt64 = 0
        for w in 0..<pointee.bitsWords {
            let a = gort_load_relaxed(pointee.allocBits + w)
            let lo = UInt(w) << 6
            if lo >= pointee.nelems {
                if a != ~0 { return "allocBits past nelems not set" }
                continue
            }
            let valid = pointee.nelems - lo >= 64 ? ~UInt64(0) : (UInt64(1) << UInt64(pointee.nelems - lo)) - 1
            if a | valid != ~UInt64(0) { return "allocBits past nelems not set" }
            count += UInt64((a & valid).nonzeroBitCount)
        }
        if count != UInt64(gort_load32_relaxed(&pointee.allocCount)) { return "allocCount != popcount(allocBits)" }
        return nil
    }
}
