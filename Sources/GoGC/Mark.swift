// Tri-color marking. Go: mgcmark.go (greyobject, scanobject, gcDrain), mgcwork.go (gcWork, workbuf).
//
// White: mark bit clear. Gray: mark bit set and the object sits in some work buffer. Black: mark bit set and
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
    /// Which bitmap to mark in (a copy of GCState.markParity taken when marking started, or 2 for checkmark).
    var bitmap: Int = 0
}

extension UnsafeMutablePointer where Pointee == GCState {
    // ---- work buffer lists (workLock) ------------------------------------------------------------------
    @inline(never) func getEmptyBuf() -> UnsafeMutablePointer<WorkBuf> {
        let l = withUnsafeMutablePointer(to: &pointee.workLock) { $0 }
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
        let l = withUnsafeMutablePointer(to: &pointee.workLock) { $0 }
        l.lock()
        b.pointee.next = pointee.empty
        pointee.empty = b
        l.unlock()
    }
    @inline(never) func putFullBuf(_ b: UnsafeMutablePointer<WorkBuf>) {
        let l = withUnsafeMutablePointer(to: &pointee.workLock) { $0 }
        l.lock()
        b.pointee.next = pointee.full
        pointee.full = b
        gort_store_relaxed(&pointee.nfull, pointee.nfull &+ 1)
        l.unlock()
    }
    @inline(never) func getFullBuf() -> UnsafeMutablePointer<WorkBuf>? {
        if gort_load_relaxed(&pointee.nfull) == 0 { return nil }
        let l = withUnsafeMutablePointer(to: &pointee.workLock) { $0 }
        l.lock()
        guard let b = pointee.full else { l.unlock(); return nil }
        pointee.full = b.pointee.next
        gort_store_relaxed(&pointee.nfull, pointee.nfull &- 1)
        l.unlock()
        b.pointee.next = nil
        return b
    }

    // ---- marking ------------------------------------------------------------------------------------------

    /// Sets `p`'s mark bit in bitmap `which`. True if this call set it (the caller then owns graying it).
    @inline(__always) func setMark(_ a: UnsafeMutablePointer<GCArena>, _ p: UInt, _ which: Int) -> Bool {
        let w = (p &>> 3) & GCArena.wordMask
        let mp = a.pointee.marks + (which &* GCArena.bitmapWords) + Int(w &>> 6)
        let bit: UInt64 = 1 &<< UInt64(w & 63)
        // Relaxed load first: most shades in a busy mark hit objects already marked.
        if gort_load_relaxed(mp) & bit != 0 { return false }
        // acq_rel: the marker that wins must see the object's initialized fields (published by the
        // allocating mutator before it made the object reachable) when it scans.
        return gort_fetch_or_acqrel(mp, bit) & bit == 0
    }

    @inline(__always) func isMarked(_ p: UInt, _ which: Int) -> Bool {
        guard let a = arena(p) else { return false }
        let w = (p &>> 3) & GCArena.wordMask
        return gort_load_relaxed(a.pointee.marks + which &* GCArena.bitmapWords + Int(w &>> 6)) & (1 &<< UInt64(w & 63)) != 0
    }

    /// Go: greyobject. Marks `p` (an object start, or 0) and queues it for scanning unless it is noscan.
    @inline(__always) func shade(_ p: UInt, _ gcw: UnsafeMutablePointer<GCWork>) {
        if p == 0 { return }
        guard let a = arena(p) else { badPointer(p) }
        if !setMark(a, p, gcw.pointee.bitmap) { return }
        guard let s = a.pointee.heapArena.gcSpan(at: p) else { badPointer(p) }
        gcw.pointee.markedBytes &+= UInt64(s.gcElemSize)
        if s.gcNoscan { return }
        // The object's size in words rides in the entry's top 16 bits (heap addresses fit in 48), so scan
        // does not look the span up a second time; 0 there (objects of 512 KiB or more): scan looks it up.
        let words = UInt(s.gcElemSize &>> 3)
        push(words < WorkBuf.sizeLimit ? p | words &<< WorkBuf.sizeShift : p, gcw)
    }

    @inline(never) func badPointer(_ p: UInt) -> Never {
        gcFatal("GoGC: found a reference to memory that is not a live object (a Ref used after its scope, or a corrupt field)")
    }

    @inline(__always) func push(_ p: UInt, _ gcw: UnsafeMutablePointer<GCWork>) {
        var b = gcw.pointee.buf
        if b == nil || b!.pointee.n == WorkBuf.capacity {
            if let full = b { putFullBuf(full) }
            b = getEmptyBuf()
            gcw.pointee.buf = b
        }
        b!.objs[b!.pointee.n] = p
        b!.pointee.n &+= 1
    }

    @inline(__always) func pop(_ gcw: UnsafeMutablePointer<GCWork>) -> UInt {
        if let b = gcw.pointee.buf, b.pointee.n > 0 {
            b.pointee.n &-= 1
            return b.objs[b.pointee.n]
        }
        return popSlow(gcw)
    }

    @inline(never) func popSlow(_ gcw: UnsafeMutablePointer<GCWork>) -> UInt {
        guard let f = getFullBuf() else { return 0 }
        if let old = gcw.pointee.buf { putEmptyBuf(old) }
        gcw.pointee.buf = f
        f.pointee.n -= 1
        return f.objs[f.pointee.n]
    }

    /// Hands the local buffer's objects to the global list (mutators at safepoints, workers going idle).
    func flush(_ gcw: UnsafeMutablePointer<GCWork>) {
        if let b = gcw.pointee.buf, b.pointee.n > 0 {
            putFullBuf(b)
            gcw.pointee.buf = nil
        }
        if gcw.pointee.markedBytes != 0 {
            gort_fetch_add_relaxed(&pointee.heapMarked, gcw.pointee.markedBytes)
            gcw.pointee.markedBytes = 0
        }
    }

    /// Go: gcWork.balance. When the global list is empty, publishes the older half of the local buffer (the
    /// bottom of a depth-first stack: siblings near the roots, the largest subgraphs), keeping the rest, so
    /// assists find work and this marker does not run dry while they hold it.
    func balance(_ gcw: UnsafeMutablePointer<GCWork>) {
        guard gort_load_relaxed(&pointee.nfull) == 0, let b = gcw.pointee.buf, b.pointee.n >= 2 else { return }
        let half = b.pointee.n / 2
        let nb = getEmptyBuf()
        nb.objs.update(from: b.objs, count: half)
        nb.pointee.n = half
        b.objs.update(from: b.objs + half, count: b.pointee.n - half)
        b.pointee.n -= half
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
            guard let s = a.pointee.heapArena.gcSpan(at: p) else { badPointer(p) }
            words = Int(s.gcElemSize &>> 3)
        }
        gcw.pointee.scanWork &+= words
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
    @discardableResult
    func drain(_ gcw: UnsafeMutablePointer<GCWork>, budget: Int) -> Int {
        let start = gcw.pointee.scanWork
        var ring: (UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &ring) { raw in
            let q = raw.baseAddress!.assumingMemoryBound(to: UInt.self)
            let size = 8
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
                scan(e & WorkBuf.addressMask, gcw, knownWords: Int(e &>> WorkBuf.sizeShift))
            }
            return gcw.pointee.scanWork &- start
        }
    }
}
