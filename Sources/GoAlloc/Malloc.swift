// GoAlloc: Go's memory allocator in Swift. Go: malloc.go.
//
// Allocating a small object (<= 32 KiB) goes up a hierarchy of caches, as in Go:
//   1. Round the size up to one of 67 size classes; the span class adds a scan/noscan bit.
//   2. MCache.alloc[spanclass] is this thread's span of that class. Its allocCache word has a 1 for every free
//      slot of the word it reserved (MSpan.swift); count-trailing-zeros finds one and clearing the bit is all
//      the bookkeeping. No lock, no atomic RMW, about 20 instructions: the fast path.
//   3. Cache word empty: MSpan.nextFreeSlow reserves the next word with free slots. Span exhausted: MCache.refill looks behind the cursor for freed slots, else keeps the span among the
//      cache's retained spans (RetainedSpans.swift; GC heaps return it to its MCentral) and takes a retained
//      span with room, or else a span with free objects from the MCentral (lock-free SpanSets).
//   4. MCentral empty: MCentral.grow asks MHeap for pages (MHeap.lock), which takes them from the free-page
//      bitmaps, or maps a new 64 MiB arena from the OS. A heap growing into fresh pages has the background
//      thread fault in the next window of them ahead of use (Prefault.swift; not in Go).
// Large objects (> 32 KiB) are spans of their own, straight from MHeap.
//
// Freeing (Go has no free; Free.swift has our design): the pointer finds its span through the arena index in
// O(1); the thread whose MCache holds that span clears the object's bit; any other thread sets a bit in the
// span's freeBits with one atomic OR, and the span's next holder sweeps those bits in. Full spans that gain frees
// come back through MCentral's unswept sets; empty spans go back to MHeap; free pages go back to the OS through
// the scavenger (Scavenger.swift).
//
// Metadata (MSpan, MCache, bitmaps, arenas' headers) comes from FixAlloc and direct mmaps, never from malloc;
// nothing reachable from malloc uses classes, arrays, strings, existentials or unspecialized generics, so the
// allocator can be the process's malloc (libGoMalloc.so). Build mode: this module is always compiled with -O
// (Package.swift); wrapping arithmetic (&+) on hot paths avoids overflow checks.
//
// Two builds of these sources: the GoAlloc module (a regular Swift library for GoSched, GoGC, gort and tests), and
// libGoMalloc.so, which compiles them again as Embedded Swift (Sources/GoMalloc), so the drop-in malloc brings no
// Swift runtime into the process. Hence libc comes from CGoRuntime's header, not `import Glibc`.

/// Where large objects begin.
@inline(__always) func isSmall(_ size: UInt) -> Bool { size <= UInt(maxSmallSize) }

extension UnsafeMutablePointer where Pointee == MHeap {
    /// Go: mallocgc, without the GC. Allocates `size` bytes aligned to `align` (a power of two) from cache `c`.
    /// `cAligned`: C's rule, 16-byte alignment for sizes >= 16. Returns 0 when out of memory.
    /// The memory is zeroed only if `zero` (calloc); otherwise it holds whatever was there.
    @inline(__always)
    func malloc(_ c: UnsafeMutablePointer<MCache>, _ size: UInt, align: UInt, noscan: Bool, cAligned: Bool, zero: Bool) -> UInt {
        if size <= UInt(maxSmallSize) && align <= 16 {
            let sc = sizeToClass(size, cAligned: cAligned)
            let v = c.allocSmall(sc, noscan: noscan)
            if zero && v != 0 { zeroSmall(v, sc) }
            return v
        }
        return mallocSlow(c, size, align: align, noscan: noscan, zero: zero)
    }

    @inline(never)
    func zeroSmall(_ v: UInt, _ sc: Int) {
        UnsafeMutableRawPointer(bitPattern: v)!.initializeMemory(as: UInt8.self, repeating: 0, count: sizeClassSize(sc))
    }

    /// Aligned small objects and large objects.
    @inline(never)
    func mallocSlow(_ c: UnsafeMutablePointer<MCache>, _ size: UInt, align: UInt, noscan: Bool, zero: Bool) -> UInt {
        if needsNoCache(size, align: align) { return mallocLargeChecked(size, align: align, noscan: noscan, zero: zero) }
        // Small and at most page-aligned from here. A small class whose size is a multiple of `align` gives
        // aligned objects: spans start on page boundaries and objects sit at multiples of the size.
        // Power-of-two classes exist up to 8 KiB.
        let need = max(size, 1)
        let rounded = (need + align - 1) & ~(align - 1)
        var sc = rounded <= UInt(maxSmallSize) ? sizeToClass(rounded, cAligned: true) : 0
        while sc != 0 && UInt(sizeClassSize(sc)) % align != 0 {
            sc = sc + 1 < numSizeClasses ? sc + 1 : 0
        }
        if sc != 0 {
            let v = c.allocSmall(sc, noscan: noscan)
            if zero && v != 0 { zeroSmall(v, sc) }
            return v
        }
        return mallocLarge(need, align: align, noscan: noscan, zero: zero)
    }

    /// Whether mallocSlow serves this request with a span of its own, without touching any cache.
    @inline(__always)
    func needsNoCache(_ size: UInt, align: UInt) -> Bool {
        align > UInt(pageSize) || max(size, 1) > UInt(maxSmallSize)
    }

    /// mallocLarge, after refusing requests no machine here could back (more than RAM + swap, as glibc's mmap
    /// would find) before any arena metadata is mapped for them.
    func mallocLargeChecked(_ size: UInt, align: UInt, noscan: Bool, zero: Bool) -> UInt {
        if size > pointee.maxRequestBytes || align > pointee.maxRequestBytes { return 0 }
        return mallocLarge(max(size, 1), align: align, noscan: noscan, zero: zero)
    }

    /// Go: largeAlloc. A span of its own, aligned to `align` (page-aligned at least).
    @inline(never)
    func mallocLarge(_ size: UInt, align: UInt, noscan: Bool, zero: Bool) -> UInt {
        let npages = Int((size + UInt(pageSize) - 1) >> UInt(pageShift))
        let alignPages = max(1, Int(align >> UInt(pageShift)))
        guard let s = allocSpan(npages: npages, spanclass: SpanClass(sizeclass: 0, noscan: noscan), alignPages: alignPages)
        else { return 0 }
        s.pointee.allocBits[0] |= 1
        s.pointee.allocCount = 1
        s.pointee.freeindex = 64
        s.pointee.allocCache = 0
        let v = s.pointee.startAddr
        if zero && s.pointee.needzero != 0 {
            UnsafeMutableRawPointer(bitPattern: v)!.initializeMemory(as: UInt8.self, repeating: 0, count: Int(size))
        }
        return v
    }

    /// Grows large object `p` in place to at least `size` bytes, when the pages right after its span are free
    /// and in the same arena (realloc; Go has no realloc). The caller owns the live object, so no other thread
    /// reads its span's size fields meanwhile. False if it cannot.
    func growLargeInPlace(_ p: UInt, to size: UInt) -> Bool {
        guard size <= pointee.maxRequestBytes, let s = spanOf(p), s.pointee.spanclass.sizeclass == 0,
              s.pointee.startAddr == p else { return false }
        let extra = Int((size + UInt(pageSize) - 1) >> UInt(pageShift)) - Int(s.pointee.npages)
        if extra <= 0 { return false }
        let base = p &+ (s.pointee.npages << UInt(pageShift))
        guard let a = pointee.index.arena(of: base), pointee.index.arena(of: base &+ UInt(extra << pageShift) &- 1) == a
        else { return false }
        pointee.lock.lock()
        defer { pointee.lock.unlock() }
        if PageBitmap.count(a.pageBits(.free), a.pageIndex(base), extra) != extra { return false }
        markPagesAllocatedLocked(base, extra)
        setSpansLocked(base, extra, s)
        s.pointee.npages += UInt(extra)
        s.pointee.elemsize = s.pointee.npages << UInt(pageShift)
        s.pointee.limit = p &+ s.pointee.elemsize
        pointee.stats.inusePages += extra
        pointee.stats.largeAllocBytes += UInt64(extra << pageShift)
        if pointee.config.checkInvariants { checkInvariantsAmortizedLocked() }
        return true
    }

    /// Bytes usable at `p` (Go has no such call; C's malloc_usable_size). Fatal if `p` is not a live object.
    func usableSize(_ p: UInt, call: StaticString) -> UInt {
        guard let s = spanOf(p), p >= s.pointee.startAddr, p < s.pointee.limit else {
            fatal("pointer not allocated by this heap", call: call, pointer: p)
        }
        let idx = s.objIndex(p)
        if s.pointee.startAddr &+ idx &* s.pointee.elemsize != p {
            fatal("pointer is not the start of an allocated object", call: call, pointer: p)
        }
        return s.pointee.elemsize
    }

    /// Whether `p` is the start of an object this heap handed out (allocated now or not). No side effects.
    func owns(_ p: UInt) -> Bool {
        guard let s = spanOf(p), p >= s.pointee.startAddr, p < s.pointee.limit else { return false }
        return s.pointee.startAddr &+ s.objIndex(p) &* s.pointee.elemsize == p
    }
}
