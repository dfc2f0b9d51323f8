// Tri-color marking. Go: mgcmark.go (greyobject, scanobject, gcDrain), mgcwork.go (gcWork, workbuf).
//
// White: mark bit clear (GCArena: one bit per 16-byte granule). Gray: mark bit set and the object sits in some work buffer. Black: mark bit set and
// scanned (or noscan, or allocated during mark). A marker (background worker, the coordinator in STW, a
// mutator's assist or write barrier) keeps a local GCWork buffer and exchanges full/empty buffers with the
// global lists under GCState.workLock, so most mark operations touch no shared line but the mark bit itself.
@_spi(GoGC) import GoAlloc
import CGoRuntime

/// Go: gcWork. A marker's local gray buffer. Owned by one thread.
struct GCWork {
    var buf: UnsafeMutablePointer<WorkBuf>? = nil
    /// Bytes of objects this marker marked, not yet added to GCState.heapMarked.
    var markedBytes: UInt64 = 0
    /// Words scanned (the unit of mark work).
    var scanWork: Int = 0
    /// Which bitmap to mark in (GCArena.markBitmap, or checkmarkBitmap for checkmark).
    var bitmap: Int = 0
}

extension UnsafeMutablePointer where Pointee == GCState {
    // ---- work buffer lists (workLock) ------------------------------------------------------------------
    @inline(never) func getEmptyBuf() -> UnsafeMutablePointer<WorkBuf> {
        let l = pointer(to: \.workLock)!
        l.lock()
        if let b = pointee.empty {
            pointee.empty = b.pointee.next
            l.unlock()
            b.pointee.n = 0
            b.pointee.next = nil
            return b
        }
        l.unlock()
        let b = UnsafeMutableRawPointer.allocate(byteCount: WorkBuf.bytes, alignment: 64).bindMemory(to: WorkBuf.self, capacity: 1)
        b.initialize(to: WorkBuf())
        return b
    }
    @inline(never) func putEmptyBuf(_ b: UnsafeMutablePointer<WorkBuf>) {
        let l = pointer(to: \.workLock)!
        l.lock()
        b.pointee.next = pointee.empty
        pointee.empty = b
        l.unlock()
    }
    @inline(never) func putFullBuf(_ b: UnsafeMutablePointer<WorkBuf>) {
        let l = pointer(to: \.workLock)!
        l.lock()
        b.pointee.next = pointee.full
        pointee.full = b
        gort_store_relaxed(pointer(to: \.nfull)!, pointee.nfull &+ 1)
        l.unlock()
    }
    @inline(never) func getFullBuf() -> UnsafeMutablePointer<WorkBuf>? {
        if gort_load_relaxed(pointer(to: \.nfull)!) == 0 { return nil }
        let l = pointer(to: \.workLock)!
        l.lock()
        guard let b = pointee.full else { l.unlock(); return nil }
        pointee.full = b.pointee.next
        gort_store_relaxed(pointer(to: \.nfull)!, pointee.nfull &- 1)
        l.unlock()
        b.pointee.next = nil
        return b
    }

    // ---- marking ------------------------------------------------------------------------------------------

    /// The mark word of `p` in bitmap `which` (see GCArena).
    @inline(__always) func markWord(_ a: UnsafeMutablePointer<GCArena>, _ p: UInt, _ which: Int) -> UnsafeMutablePointer<UInt64> {
        a.pointee.marks + (which &* GCArena.markWords) + Int(((p &>> 4) & GCArena.granuleMask) &>> 6)
    }

    /// `p`'s bit in its mark word.
    @inline(__always) func markBit(_ p: UInt) -> UInt64 { 1 &<< UInt64(truncatingIfNeeded: (p &>> 4) & 63) }

    /// The info word (GCArena) of the page holding `p`.
    @inline(__always) func info(_ a: UnsafeMutablePointer<GCArena>, _ p: UInt) -> UInt32 {
        gcLoad32(a.pointee.info + Int((p &>> UInt(Geometry.pageShift)) & UInt(Geometry.pagesPerArena - 1)))
    }

    /// Sets `p`'s mark in bitmap `which`. True if this call set it (the caller then owns graying it).
    /// Relaxed: the objects a marker scans were all allocated before mark start (later ones are black), so
    /// their contents were published by the stop's handshake; the OR only has to be atomic, so that two
    /// markers setting bits of one word both keep theirs and exactly one of two racing on a bit wins.
    @inline(__always) func setMark(_ a: UnsafeMutablePointer<GCArena>, _ p: UInt, _ which: Int) -> Bool {
        let mw = markWord(a, p, which)
        let bit = markBit(p)
        // Relaxed load first: most shades in a busy mark hit objects already marked, and a load is no barrier.
        if gcLoad64(mw) & bit != 0 { return false }
        return gcOr64(mw, bit) & bit == 0
    }

    /// Clears `p`'s mark (an object allocated black and given back unused: Mutation.unreserve). No marker
    /// can reach `p`; objects sharing the word may be marked concurrently, hence the atomic AND.
    func clearMark(_ a: UnsafeMutablePointer<GCArena>, _ p: UInt, _ which: Int) {
        gcAnd64(markWord(a, p, which), ~markBit(p))
    }

    @inline(__always) func isMarked(_ p: UInt, _ which: Int) -> Bool {
        guard let a = arena(p) else { return false }
        return gcLoad64(markWord(a, p, which)) & markBit(p) != 0
    }

    /// Records the size and noscan bit of span `s`'s objects in the info word of each of its pages. Caller:
    /// the span's holder, before any of its objects is reachable. Arenas of every page exist.
    func recordSpan(_ s: UnsafeMutablePointer<MSpan>, heap: Heap) {
        let words = s.gcElemSize &>> 3
        if words > UInt(GCArena.infoWords) { gcFatal("GoGC: object too large") }
        if words < 2 { gcFatal("GoGC: a span of objects below 16 bytes (marks are per 16-byte granule)") }
        let v = UInt32(words) | (s.gcNoscan ? GCArena.infoNoscan : 0)
        var addr = s.gcStart
        for _ in 0..<s.gcNPages {
            let a = arena(addr) ?? ensureArena(addr, heap: heap)
            let ip = a.pointee.info + Int((addr &>> UInt(Geometry.pageShift)) & UInt(Geometry.pagesPerArena - 1))
            if gcLoad32(ip) != v { gcStore32(ip, v) }
            addr &+= UInt(1) &<< UInt(Geometry.pageShift)
        }
    }

    /// Go: greyobject. Marks `p` (an object start, or 0) and queues it for scanning unless it is noscan.
    @inline(__always) func shade(_ p: UInt, _ gcw: UnsafeMutablePointer<GCWork>) {
        if p == 0 { return }
        guard let a = arena(p) else { badPointer(p) }
        shadeIn(a, p, gcw)
    }

    /// `shade` with `p`'s GCArena already found.
    @inline(__always) func shadeIn(_ a: UnsafeMutablePointer<GCArena>, _ p: UInt, _ gcw: UnsafeMutablePointer<GCWork>) {
        let inf = info(a, p)
        let words = UInt(inf & GCArena.infoWords)
        if words == 0 { badPointer(p) }
        if !setMark(a, p, gcw.pointee.bitmap) { return }
        gcw.pointee.markedBytes = gcw.pointee.markedBytes &+ (UInt64(words &<< 3))
        if inf & GCArena.infoNoscan != 0 { return }
        // The object's size in words rides in the entry's top 16 bits (heap addresses fit in 48), so scan
        // does not look it up a second time; 0 there (objects of 512 KiB or more): scan looks it up.
        push(words < WorkBuf.sizeLimit ? p | words &<< WorkBuf.sizeShift : p, gcw)
    }

    @inline(never) func badPointer(_ p: UInt) -> Never {
        gcFatal("GoGC: fatal error: a reference field or root holds an address that is not an object of this collector's heap: a Ref kept in a local across a safepoint or after its scope, a scalar word listed as a reference in a GCLayout, a Ref of another GC, or memory written without the barrier", pointer: p)
    }

    @inline(__always) func push(_ p: UInt, _ gcw: UnsafeMutablePointer<GCWork>) {
        var b = gcw.pointee.buf
        if b == nil || b!.pointee.n == WorkBuf.capacity {
            if let full = b { putFullBuf(full) }
            b = getEmptyBuf()
            gcw.pointee.buf = b
        }
        b!.objs[b!.pointee.n] = p
        b!.pointee.n = b!.pointee.n &+ 1
    }

    @inline(__always) func pop(_ gcw: UnsafeMutablePointer<GCWork>) -> UInt {
        if let b = gcw.pointee.buf, b.pointee.n > 0 {
            b.pointee.n = b.pointee.n &- 1
            return b.objs[b.pointee.n]
        }
        return popSlow(gcw)
    }

    @inline(never) func popSlow(_ gcw: UnsafeMutablePointer<GCWork>) -> UInt {
        guard let f = getFullBuf() else { return 0 }
        if let old = gcw.pointee.buf { putEmptyBuf(old) }
        gcw.pointee.buf = f
        f.pointee.n = f.pointee.n - 1
        return f.objs[f.pointee.n]
    }

    /// Hands the local buffer's objects to the global list (mutators at safepoints, workers going idle).
    func flush(_ gcw: UnsafeMutablePointer<GCWork>) {
        if let b = gcw.pointee.buf, b.pointee.n > 0 {
            putFullBuf(b)
            gcw.pointee.buf = nil
        }
        if gcw.pointee.markedBytes != 0 {
            gort_fetch_add_relaxed(pointer(to: \.heapMarked)!, gcw.pointee.markedBytes)
            gcw.pointee.markedBytes = 0
        }
    }

    /// Go: gcWork.balance. When the global list is empty, publishes the older half of the local buffer (the
    /// bottom of a depth-first stack: siblings near the roots, the largest subgraphs), keeping the rest, so
    /// assists find work and this marker does not run dry while they hold it.
    func balance(_ gcw: UnsafeMutablePointer<GCWork>) {
        guard gort_load_relaxed(pointer(to: \.nfull)!) == 0, let b = gcw.pointee.buf, b.pointee.n >= 2 else { return }
        let half = b.pointee.n / 2
        let nb = getEmptyBuf()
        nb.objs.update(from: b.objs, count: half)
        nb.pointee.n = half
        b.objs.update(from: b.objs + half, count: b.pointee.n - half)
        b.pointee.n = b.pointee.n - half
        putFullBuf(nb)
    }

    @inline(__always) func hasLocalWork(_ gcw: UnsafeMutablePointer<GCWork>) -> Bool {
        if let b = gcw.pointee.buf { return b.pointee.n > 0 }
        return false
    }

    /// Go: scanobject. Shades every reference in object `p`, per the pointer bitmap. `knownWords`: the
    /// object's size in words, or 0 to look it up in its span.
    func scan(_ p: UInt, _ gcw: UnsafeMutablePointer<GCWork>, knownWords: Int = 0) {
        guard let a = arena(p) else { badPointer(p) }
        var words = knownWords
        if words == 0 {
            words = Int(info(a, p) & GCArena.infoWords)
            if words == 0 { badPointer(p) }
        }
        gcw.pointee.scanWork = gcw.pointee.scanWork &+ words
        var addr = p
        var arenaMeta = a
        while words > 0 {
            // One arena's piece (large objects may cross arenas).
            let w0 = Int((addr &>> 3) & GCArena.wordMask)
            let n = min(words, GCArena.bitmapWords * 64 - w0)
            let bits = arenaMeta.pointee.ptrBits
            var i = 0
            while i < n {
                let wi = w0 + i
                var m = gort_load_relaxed(bits + (wi &>> 6)) &>> UInt64(wi & 63)
                let take = min(64 - (wi & 63), n - i)
                if take < 64 { m &= (UInt64(1) &<< UInt64(take)) &- 1 }
                while m != 0 {
                    let b = m.trailingZeroBitCount
                    m &= m &- 1
                    let field = UnsafeMutablePointer<UInt64>(bitPattern: addr &+ UInt(i &+ b) &* 8)!
                    let v = UInt(gort_load_relaxed(field))
                    if v != 0 { shade(v, gcw) }
                }
                i &+= take
            }
            words -= n
            addr &+= UInt(n) &* 8
            if words > 0 {
                guard let next = arena(addr) else { break }
                arenaMeta = next
            }
        }
    }

    /// Go: gcDrain. Scans gray objects until none are left or `budget` words were scanned. Returns words scanned.
    ///
    /// Objects go through a small FIFO between the gray stack and the scanner, prefetched on entry, so each
    /// is in cache by the time it is scanned (Cher, Hosking and Vijaykumar, "Software prefetching for
    /// mark-sweep garbage collection", ASPLOS 2004): the miss on an object's fields was scan's largest cost.
    /// Objects of up to 64 words are scanned inline (`scanSmall`); larger ones by `scan`.
    @discardableResult
    func drain(_ gcw: UnsafeMutablePointer<GCWork>, budget: Int) -> Int {
        let start = gcw.pointee.scanWork
        let table = pointee.arenaTable
        var ring: (UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &ring) { raw in
            let q = raw.baseAddress!.assumingMemoryBound(to: UInt.self)
            let size = 16
            var head = 0, count = 0
            while true {
                // Refill while under budget; then scan the oldest.
                while count < size && gcw.pointee.scanWork &- start < budget {
                    let e = pop(gcw)
                    if e == 0 { break }
                    gort_prefetch(UnsafeRawPointer(bitPattern: e & WorkBuf.addressMask))
                    q[(head &+ count) & (size - 1)] = e
                    count &+= 1
                }
                if count == 0 { break }
                let e = q[head]
                head = (head &+ 1) & (size - 1)
                count &-= 1
                let words = Int(e &>> WorkBuf.sizeShift)
                let p = e & WorkBuf.addressMask
                if words != 0 && words <= 64 && scanSmall(p, words, gcw, table) { continue }
                scan(p, gcw, knownWords: words)
            }
            return gcw.pointee.scanWork &- start
        }
    }

    /// Go: scanobject, for an object of `words` <= 64 words whose pointer bits lie in at most two words of
    /// one arena's bitmap. False (nothing done) otherwise. `table`: GCState.arenaTable, kept in a register.
    @inline(__always)
    func scanSmall(_ p: UInt, _ words: Int, _ gcw: UnsafeMutablePointer<GCWork>, _ table: UnsafeMutablePointer<UInt64>) -> Bool {
        guard let a = UnsafeMutablePointer<GCArena>(bitPattern: UInt(gort_load_acquire(table + Int(truncatingIfNeeded: p &>> UInt(Geometry.logHeapArenaBytes))))) else { badPointer(p) }
        let wi = Int((p &>> 3) & GCArena.wordMask)
        let bw = a.pointee.ptrBits + (wi &>> 6)
        let sh = wi & 63
        var m = gort_load_relaxed(bw) &>> UInt64(sh)
        if sh &+ words > 64 {
            if (wi &>> 6) &+ 1 == GCArena.bitmapWords { return false }   // the object crosses into the next arena
            m |= gort_load_relaxed(bw + 1) &<< UInt64(64 &- sh)
        }
        if words < 64 { m &= (UInt64(1) &<< UInt64(words)) &- 1 }
        gcw.pointee.scanWork = gcw.pointee.scanWork &+ words
        while m != 0 {
            let b = m.trailingZeroBitCount
            m &= m &- 1
            let v = UInt(gort_load_relaxed(UnsafeMutablePointer<UInt64>(bitPattern: p &+ UInt(b) &* 8)!))
            if v == 0 { continue }
            guard let ca = UnsafeMutablePointer<GCArena>(bitPattern: UInt(gort_load_acquire(table + Int(truncatingIfNeeded: v &>> UInt(Geometry.logHeapArenaBytes))))) else { badPointer(v) }
            shadeIn(ca, v, gcw)
        }
        return true
    }
}
