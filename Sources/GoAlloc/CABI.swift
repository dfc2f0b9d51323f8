// The C allocation ABI over the default heap: malloc, free, calloc, realloc, reallocarray, posix_memalign,
// aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size. libGoMalloc.so's C names (GoMallocExports)
// forward here. These live in GoAlloc, not GoMalloc, so the fast paths inline into them (Swift inlines across
// modules only for @inlinable code).
//
// C semantics: 16-byte alignment for requests of 16 bytes or more (8 below); malloc(0) returns a unique
// pointer; failure returns NULL with gort_set_errno(ENOMEM); calloc checks n * size for overflow; posix_memalign returns
// EINVAL for an alignment that is not a power of two multiple of sizeof(void *); free(NULL) does nothing;
// realloc(p, 0) frees p and returns NULL (glibc's behaviour). Invalid and double frees abort with one line
// naming the call and the pointer (Free.swift).
import CGoRuntime

/// malloc's fast path: TLS cache -> size -> span class (gort_malloc_class, indexed by the size itself) -> the
/// cached span's allocCache. Every miss is a tail call, so the fast path needs no stack frame. A thread without a
/// cache has the empty MCache, whose spans are all empty (Sentinels.swift): it misses like a cache whose span ran
/// out, and cMallocRefill sorts it out.
@inline(__always)
func cMalloc(_ size: UInt, align: UInt, zero: Bool) -> UnsafeMutableRawPointer? {
    let c = threadCacheOrEmpty()
    if size <= UInt(maxSmallSize) && align <= 16 {
        let spc = Int(gort_malloc_class_table()[Int(size)])
        let s = c.allocSlot(spc).pointee
        let cache = s.pointee.allocCache
        if cache == 0 { return cMallocRefill(size, c, spc, align: align, zero: zero) }
        let v = s.take(cache)
        gort_prefetchw(UnsafeRawPointer(bitPattern: v &+ UInt(c.prefetchStride(spc).pointee)))
        if zero { c.pointee.heap.zeroSmall(v, spc &>> 1) }
        return UnsafeMutableRawPointer(bitPattern: v)
    }
    return cMallocSlow(size, align: align, zero: zero)
}

@inline(never)
func cMallocRefill(_ size: UInt, _ c: UnsafeMutablePointer<MCache>, _ spc: Int, align: UInt,
                   zero: Bool) -> UnsafeMutableRawPointer? {
    if c == emptyCacheAddress { return cMallocSlow(size, align: align, zero: zero) }
    let v = c.nextFree(spc)
    if zero && v != 0 { c.pointee.heap.zeroSmall(v, spc &>> 1) }
    return cResult(v)
}

/// A slow path's address as C's result: NULL with ENOMEM for 0.
@inline(__always)
func cResult(_ v: UInt) -> UnsafeMutableRawPointer? {
    if v == 0 { gort_set_errno(ENOMEM); return nil }
    return UnsafeMutableRawPointer(bitPattern: v)
}

@inline(never)
func cMallocSlow(_ size: UInt, align: UInt, zero: Bool) -> UnsafeMutableRawPointer? {
    if let c = currentThreadCache() { return cMallocIn(c, size, align: align, zero: zero) }
    if let h = youngHeap() { return youngMalloc(h, size, align: align, zero: zero) }
    guard let c = makeThreadCache() else { gort_set_errno(ENOMEM); return nil }
    return cMallocIn(c, size, align: align, zero: zero)
}

@inline(__always)
func cMallocIn(_ c: UnsafeMutablePointer<MCache>, _ size: UInt, align: UInt, zero: Bool) -> UnsafeMutableRawPointer? {
    cResult(c.pointee.heap.malloc(c, size, align: align, noscan: true, cAligned: true, zero: zero))
}

// Young threads. A thread gets its own MCache only after `youngThreadOps` mallocs and frees; before that it
// allocates from a cache the heap shares among such threads (one of `youngCacheCount` YoungCaches, MHeap.young,
// taken round robin at the thread's first young malloc), under that cache's lock, and frees without a cache.
// Several, so that threads started together do not write to objects on one cache line (`falseshare`'s two
// threads ran 4-6 % slower when their first 256 calls shared one cache) nor wait for one lock. A private cache
// holds a span of every class the thread touched, so a process with a thousand threads that each allocate a few
// dozen objects would keep a thousand sets of mostly empty spans
// (40 objects on each of 1,000 threads: 190 MB resident against glibc's 32 MB); shared, those objects pack into
// the same spans, as glibc's arenas and tcmalloc's central lists pack them. A thread that goes on allocating
// pays the lock for its first few hundred calls, a few microseconds once. A thread whose cache went back at
// thread exit allocates there too, instead of making a new cache in its last destructors. The shared cache
// hands each span it ran through back to MCentral, as Go's caches do (MCache.refill): threads that have since
// got caches of their own free into those spans, and MCentral's spans are swept by the background pass.

/// Mallocs and frees a thread makes before it gets an MCache of its own.
let youngThreadOps: UInt32 = 256
/// Caches young threads share (MHeap.young).
let youngCacheCount = 4
/// gort_tls_young_ops: the count in the low 16 bits; then the thread's YoungCache index + 1 (0: none yet), 3 bits.
let youngCountMask: UInt32 = 0xffff
let youngSlotShift: UInt32 = 16
/// Set in gort_tls_young_ops while the thread holds its YoungCache's lock. A malloc made inside that one must not wait
/// for the lock its own thread holds, so it makes the thread's own cache instead; and the heap does not start
/// its background thread there (MHeap.allocSpan) but sets `youngStartScavenger`, and youngMalloc starts it
/// after unlocking: pthread_create takes glibc's TLS lock, which a thread in dlopen holds while it mallocs.
let youngInside: UInt32 = 1 << 31
let youngStartScavenger: UInt32 = 1 << 30

/// The default heap if this thread (which has no MCache) is still young, counting the call; nil once its
/// budget is spent, or inside the thread's own young malloc.
@inline(__always)
func youngHeap() -> UnsafeMutablePointer<MHeap>? {
    let n = gort_tls_get_young_ops()
    if n & youngInside != 0 { return nil }
    if gort_tls_get_cache_released() == 0 {
        if n & youngCountMask >= youngThreadOps { return nil }
        gort_tls_set_young_ops(n &+ 1)
    }
    return defaultHeap()
}

/// A young thread's malloc, from the shared cache under its lock; a request that needs no cache (large or
/// page-aligned: its own span) without the lock, so one young thread's calloc of a gigabyte does not hold up
/// every other young thread.
@inline(never)
func youngMalloc(_ h: UnsafeMutablePointer<MHeap>, _ size: UInt, align: UInt, zero: Bool) -> UnsafeMutableRawPointer? {
    if h.needsNoCache(size, align: align) { return cResult(h.mallocLargeChecked(size, align: align, noscan: true, zero: zero)) }
    var slot = gort_tls_get_young_ops() >> youngSlotShift & 7
    if slot == 0 {
        slot = UInt32(truncatingIfNeeded: gort_fetch_add_relaxed(&h.pointee.youngNext, 1) % UInt64(youngCacheCount)) + 1
        gort_tls_set_young_ops(gort_tls_get_young_ops() | slot << youngSlotShift)
    }
    let y = h.youngCache(Int(slot) - 1)
    y.pointee.lock.lock()
    gort_tls_set_young_ops(gort_tls_get_young_ops() | youngInside)
    if y.pointee.cache == nil {
        y.pointee.cache = h.allocCache()
        y.pointee.cache?.pointee.ownerTid = MCache.sharedOwner
    }
    var v: UInt = 0
    if let c = y.pointee.cache { v = h.malloc(c, size, align: align, noscan: true, cAligned: true, zero: zero) }
    y.pointee.mallocs &+= 1
    let ops = gort_tls_get_young_ops()
    gort_tls_set_young_ops(ops & ~(youngInside | youngStartScavenger))
    y.pointee.lock.unlock()
    if ops & youngStartScavenger != 0 { h.startBackgroundScavenger() }
    return cResult(v)
}

/// A thread just left the young threads (makeThreadCache). For each YoungCache: if no young malloc came since
/// the previous thread left, its young threads look done for now, and its current spans whose objects have all
/// been freed go back to MCentral, so their pages serve the threads that go on allocating. (prodcons: the producer's
/// first 256 blocks, which the consumer has freed by the time it leaves, pinned 30 spans of 30 classes, 288 KiB,
/// for the rest of the run.) Skipped while young threads are at work (young mallocs in between, or another
/// thread holding its lock): they would only take new spans again (5,000 threads started 100 at a time, each
/// making 400 calls, lost 8 % when every leaving thread handed the spans back).
@inline(never)
func releaseEmptyYoungSpans(_ h: UnsafeMutablePointer<MHeap>) {
    for i in 0..<youngCacheCount {
        let y = h.youngCache(i)
        guard y.pointee.lock.tryLock() else { continue }
        if y.pointee.mallocs == y.pointee.mallocsAtGraduation { y.pointee.cache?.releaseEmptyCurrentSpans() }
        y.pointee.mallocsAtGraduation = y.pointee.mallocs
        y.pointee.lock.unlock()
    }
}

/// free's fast path (MCache.free). NULL needs no test of its own: no arena covers address 0, so it takes the
/// slow path, which returns. Nor does a thread without a cache: the empty MCache finds no arena for any address
/// (Sentinels.swift), and MCache.freeMiss sends it to cFreeNoCache.
@inline(__always)
func cFree(_ p: UnsafeMutableRawPointer?, call: StaticString) {
    threadCacheOrEmpty().free(UInt(bitPattern: p), call: call)
}

/// free on a thread that has no cache yet: a young thread (see youngHeap) frees without one; past its budget
/// the thread gets one, as its malloc would, so its frees take the fast path from now on. A thread that only
/// frees what others allocate (a consumer) would otherwise pay for every free on the cacheless path: a span
/// lookup from scratch and a locked add on the heap's shared counters (session 5: prodcons' consumer, 88
/// instructions and a contended line per free). A thread whose cache already went back at thread exit, or one
/// that cannot get a cache, frees through the heap without one.
@inline(never)
func cFreeNoCache(_ p: UnsafeMutableRawPointer?, call: StaticString) {
    guard let p = p else { return }
    guard let h = asPointer(gort_load_acquire(&defaultHeapWord), to: MHeap.self), UInt(bitPattern: h) > 1 else {
        fatal("pointer not allocated by this heap (no heap yet)", call: call, pointer: UInt(bitPattern: p))
    }
    if gort_tls_get_cache_released() == 0 && youngHeap() == nil, let c = makeThreadCache() {
        return c.free(UInt(bitPattern: p), call: call)
    }
    h.free(nil, UInt(bitPattern: p), call: call)
}

@_cdecl("gomalloc_malloc")
public func gomalloc_malloc(_ size: Int) -> UnsafeMutableRawPointer? { gomallocSwiftMalloc(size) }

@_cdecl("gomalloc_free")
public func gomalloc_free(_ p: UnsafeMutableRawPointer?) { gomallocSwiftFree(p) }

// The targets of libGoMalloc.so's `malloc` and `free` (one-jump trampolines in GoMallocExports), without the
// @_cdecl thunk in between. They have Swift's calling convention under a fixed symbol name; for these signatures
// (one integer or pointer argument, a pointer or no result, no self or error register) it passes and returns in
// the same registers as the C convention and preserves the same ones, so a C caller can land in them directly.
// @inline(never): one body each (the @_cdecl functions above call them), so the optimizer cannot merge copies
// into a shared body behind extra jumps.
@inline(never) @_silgen_name("gomalloc_swift_malloc")
public func gomallocSwiftMalloc(_ size: Int) -> UnsafeMutableRawPointer? {
    cMalloc(UInt(bitPattern: size), align: 16, zero: false)
}

@inline(never) @_silgen_name("gomalloc_swift_free")
public func gomallocSwiftFree(_ p: UnsafeMutableRawPointer?) {
    cFree(p, call: "free")
}

@_cdecl("gomalloc_calloc")
public func gomalloc_calloc(_ n: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    let (total, overflow) = UInt(bitPattern: n).multipliedReportingOverflow(by: UInt(bitPattern: size))
    if overflow { gort_set_errno(ENOMEM); return nil }
    return cMalloc(total, align: 16, zero: true)
}

@_cdecl("gomalloc_realloc")
public func gomalloc_realloc(_ p: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    cRealloc(p, UInt(bitPattern: size), call: "realloc")
}

@_cdecl("gomalloc_reallocarray")
public func gomalloc_reallocarray(_ p: UnsafeMutableRawPointer?, _ n: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    let (total, overflow) = UInt(bitPattern: n).multipliedReportingOverflow(by: UInt(bitPattern: size))
    if overflow { gort_set_errno(ENOMEM); return nil }
    return cRealloc(p, total, call: "reallocarray")
}

func cRealloc(_ p: UnsafeMutableRawPointer?, _ size: UInt, call: StaticString) -> UnsafeMutableRawPointer? {
    guard let p = p else { return cMalloc(size, align: 16, zero: false) }
    let c = currentThreadCache()
    guard let h = c?.pointee.heap ?? asPointer(gort_load_acquire(&defaultHeapWord), to: MHeap.self),
          UInt(bitPattern: h) > 1 else {
        fatal("pointer not allocated by this heap (no heap yet)", call: call, pointer: UInt(bitPattern: p))
    }
    if size == 0 {
        h.free(c, UInt(bitPattern: p), call: call)
        return nil
    }
    let old = h.usableSize(UInt(bitPattern: p), call: call)
    // Stay in place if the object still fits and would not waste more than half of it.
    if size <= old && (size >= old / 2 || old <= 16) { return p }
    // A large object grows over free pages behind it when it can.
    if size > old && old > UInt(maxSmallSize) && h.growLargeInPlace(UInt(bitPattern: p), to: size) { return p }
    // Moving a growing large object: leave it a quarter more room, so a buffer grown by small appends is copied
    // O(log n) times, not once per page (small objects get the same effect from their size classes).
    let want = size > old && size > UInt(maxSmallSize) && size < UInt.max / 2 ? size + size / 4 : size
    var q = cMalloc(want, align: 16, zero: false)
    if q == nil && want != size {
        let e = gort_errno()
        q = cMalloc(size, align: 16, zero: false)
        if q != nil { gort_set_errno(e) }  // success: errno as the caller left it
    }
    guard let q else { return nil }
    q.copyMemory(from: p, byteCount: Int(min(old, size)))
    h.free(currentThreadCache(), UInt(bitPattern: p), call: call)
    return q
}

@inline(__always) func isPowerOfTwo(_ x: UInt) -> Bool { x != 0 && x & (x - 1) == 0 }

/// The aligned calls: at least 16 bytes, so the 8-byte class (8-aligned slots) never serves an alignment of 16.
@inline(__always)
func cMallocAligned(_ size: UInt, _ align: UInt) -> UnsafeMutableRawPointer? {
    cMalloc(max(size, 16), align: align, zero: false)
}

@_cdecl("gomalloc_posix_memalign")
public func gomalloc_posix_memalign(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ align: Int, _ size: Int) -> Int32 {
    let a = UInt(bitPattern: align)
    if !isPowerOfTwo(a) || a % UInt(MemoryLayout<UnsafeRawPointer>.size) != 0 { return EINVAL }
    guard let p = cMallocAligned(UInt(bitPattern: size), max(a, 16)) else { return ENOMEM }
    out.pointee = p
    return 0
}

@_cdecl("gomalloc_aligned_alloc")
public func gomalloc_aligned_alloc(_ align: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    let a = UInt(bitPattern: align)
    if !isPowerOfTwo(a) { gort_set_errno(EINVAL); return nil }
    return cMallocAligned(UInt(bitPattern: size), max(a, 16))
}

@_cdecl("gomalloc_memalign")
public func gomalloc_memalign(_ align: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    // As glibc: an alignment above 2^63 (no power of two to round up to) is EINVAL, others round up to a power of
    // two, and one that cannot be met fails with ENOMEM. Unsigned from the start: size_t alignments of 2^63 and
    // more are negative as Int (max(align, 16) once turned them into 16).
    var a = UInt(bitPattern: align)
    if a > UInt(1) << 63 { gort_set_errno(EINVAL); return nil }
    if a > UInt(1) << 40 { gort_set_errno(ENOMEM); return nil }
    a = max(a, 16)
    if !isPowerOfTwo(a) { a = UInt(1) << UInt(64 - (a - 1).leadingZeroBitCount) }  // glibc rounds up
    return cMallocAligned(UInt(bitPattern: size), a)
}

/// valloc and pvalloc align to the OS page (4 KiB), not the heap's 8 KiB page.
let osPageSize: UInt = 4096

@_cdecl("gomalloc_valloc")
public func gomalloc_valloc(_ size: Int) -> UnsafeMutableRawPointer? {
    cMalloc(UInt(bitPattern: size), align: osPageSize, zero: false)
}

@_cdecl("gomalloc_pvalloc")
public func gomalloc_pvalloc(_ size: Int) -> UnsafeMutableRawPointer? {
    let s = UInt(bitPattern: size)
    if s > UInt.max - osPageSize { gort_set_errno(ENOMEM); return nil }
    return cMalloc(max(osPageSize, (s + osPageSize - 1) & ~(osPageSize - 1)), align: osPageSize, zero: false)
}

@_cdecl("gomalloc_malloc_usable_size")
public func gomalloc_malloc_usable_size(_ p: UnsafeMutableRawPointer?) -> Int {
    guard let p = p, let h = asPointer(gort_load_acquire(&defaultHeapWord), to: MHeap.self), UInt(bitPattern: h) > 1
    else { return 0 }
    return Int(h.usableSize(UInt(bitPattern: p), call: "malloc_usable_size"))
}

/// glibc's malloc_trim: return free memory to the OS. Returns 1 if any was released.
@_cdecl("gomalloc_malloc_trim")
public func gomalloc_malloc_trim(_ pad: Int) -> Int32 {
    guard let h = asPointer(gort_load_acquire(&defaultHeapWord), to: MHeap.self), UInt(bitPattern: h) > 1 else { return 0 }
    return h.releaseMemory() > 0 ? 1 : 0
}
